"""The open image's annotation: loading it, saving it, and the auto-save policy. No Qt.

Policy (issue 4): saves are atomic and refuse to overwrite a file changed on disk since it was loaded (the
store); a failed save leaves the document dirty and is reported once until a save succeeds again; an
annotation file that could not be read is never overwritten (saving that image is refused with the reason);
switching format or save folder takes effect at the next save.

Proposed boxes (issue 13) come from the image's proposals file and go back to it on save, after the annotation
file, with their decisions and the reviewed mark. A proposals file that cannot be read is left untouched.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from implant_desk.core.annotations import proposals as proposal_files
from implant_desk.core.annotations import store
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.errors import AnnotationFileError, ImplantDeskError, SaveError

_log = logging.getLogger(__name__)


class AnnotationSession:
    def __init__(self, save_format: str = "voc", save_dir: Path | None = None):
        self.save_format = save_format if save_format in store.FORMATS else store.FORMATS[0]
        self.save_dir: Path | None = save_dir  # None: next to each image, as LabelImg does
        self.image_path: Path | None = None
        self.document: AnnotationDocument | None = None
        self.blocked_reason = ""  # set when the annotation on disk is unreadable: it must not be overwritten
        self.last_error = ""  # why the last save failed; empty after a successful one
        self.warnings: list[str] = []  # what loading repaired or noticed (e.g. boxes clamped to the image)
        self._template: ImageAnnotation | None = None  # size, names and unmodelled XML written back on save
        self._on_disk: dict[Path, str | None] | None = None
        self._proposals: proposal_files.ImageProposals | None = None  # as read; None: none, or unreadable
        self._proposals_unreadable = False
        self._failure_reported = False

    # ---- opening ----------------------------------------------------------------------------------------------
    def open(self, image_path: Path, width: int, height: int, depth: int) -> None:
        """Load the image's annotation in whichever format exists. A corrupt one blocks saving (see module doc)."""
        self.image_path = Path(image_path)
        self.blocked_reason, self.warnings, self._on_disk = "", [], None
        self._failure_reported, self.last_error = False, ""
        self._template = ImageAnnotation(self.image_path.name, width, height, depth)
        # Before anything can fail: the previous image's boxes must never be shown (or saved) as this one's.
        self.document = AnnotationDocument()
        try:
            loaded = store.load_annotation(self.image_path, self.save_dir, (width, height, depth))
        except Exception as error:  # noqa: BLE001 - whatever the reader failed on, the file must not be overwritten
            reason = str(error)
            if not isinstance(error, ImplantDeskError):
                _log.exception("reading the annotation of %s failed unexpectedly", self.image_path)
                reason = f"its annotation file cannot be read ({type(error).__name__}: {error})"
            self.blocked_reason = f"{reason}. It is left untouched; fix or remove it to save this image."
            loaded = None
        if loaded is not None:
            self._template, self._on_disk, self.warnings = loaded.annotation, loaded.on_disk, loaded.warnings
        self._proposals, self._proposals_unreadable = None, False
        try:
            self._proposals = proposal_files.read_proposals(self.image_path, self.save_dir)
        except ImplantDeskError as error:
            self._proposals_unreadable = True
            self.warnings.append(f"{error}; its proposed boxes are not shown and the file is left untouched")
        proposals = self._proposals.proposals if self._proposals else ()
        # YOLO files have no verified flag: the proposals file keeps the reviewed mark for them.
        reviewed = bool(self._proposals and self._proposals.reviewed and loaded is not None and loaded.fmt == "yolo")
        self.document = AnnotationDocument(self._template.boxes, self._template.verified or reviewed, proposals)

    def close(self) -> None:
        self.image_path, self.document, self._template, self._on_disk, self.blocked_reason = None, None, None, None, ""
        self._proposals, self._proposals_unreadable = None, False

    @property
    def loaded_labels(self) -> list[str]:
        return [box.label for box in self._template.boxes] if self._template else []

    @property
    def dirty(self) -> bool:
        return self.document is not None and self.document.dirty

    def state_text(self) -> str:
        """What the status bar says about the open annotation."""
        if self.document is None:
            return ""
        if self.blocked_reason:
            state = "annotation file unreadable: not saved"
        elif self.document.dirty:
            state = "unsaved changes" + (" (save failed)" if self.last_error else "")
        else:
            state = ""
        return f"{state}  verified".strip() if self.document.verified else state

    def boxes_of(self, image_path: Path, width: int, height: int, depth: int) -> tuple[Box, ...]:
        """Another image's saved boxes (for "copy previous boxes"); empty when it has none or they are unreadable."""
        try:
            loaded = store.load_annotation(Path(image_path), self.save_dir, (width, height, depth))
        except ImplantDeskError:
            return ()
        return tuple(loaded.annotation.boxes) if loaded else ()

    # ---- saving -----------------------------------------------------------------------------------------------
    def save(self, classes: list[str], overwrite_changed: bool = False) -> Path:
        """Write the annotation now; raises AnnotationConflictError (file changed on disk: ask, then call again
        with ``overwrite_changed``), AnnotationFileError or SaveError, each with a message for the user."""
        if self.document is None or self.image_path is None or self._template is None:
            raise SaveError(self.image_path or "", "no image is open")
        try:
            if self.blocked_reason:
                raise AnnotationFileError(self.image_path, self.blocked_reason)
            state = self.document.state
            self._on_disk = store.save_document(self.document, self._template, self.image_path, self.save_dir,
                                                self.save_format, classes, self._on_disk, overwrite_changed)
            self._save_proposals(state)
        except ImplantDeskError as error:
            self.last_error = str(error)
            raise
        self._failure_reported, self.last_error = False, ""
        return store.annotation_path_for(self.image_path, self.save_dir, self.save_format)

    def _save_proposals(self, state) -> None:
        """The decisions and the reviewed mark, into the proposals file: only an image that has one, or a YOLO
        image marked reviewed (its only place for the mark)."""
        if self._proposals_unreadable:
            return
        if self._proposals is None and not (state.verified and self.save_format == "yolo"):
            return
        current = self._proposals or proposal_files.ImageProposals(self.image_path.name)
        updated = replace(current, proposals=state.proposals, reviewed=state.verified)
        if updated != self._proposals:
            proposal_files.write_proposals(self.image_path, self.save_dir, updated)
            self._proposals = updated

    def autosave(self, classes: list[str]) -> str | None:
        """Save if there is unsaved work. Returns a message to show the user on the FIRST failure in a row only;
        the document stays dirty, so nothing is lost and the next attempt retries."""
        if not self.dirty:
            return None
        try:
            self.save(classes)
        except ImplantDeskError as error:
            if self._failure_reported:
                return None
            self._failure_reported = True
            return f"Auto-save failed: {error}\nYour changes are kept in the window; they are not saved yet."
        return None

    # ---- options ------------------------------------------------------------------------------------------------
    def cycle_format(self) -> str:
        formats = store.FORMATS
        self.save_format = formats[(formats.index(self.save_format) + 1) % len(formats)]
        return self.save_format
