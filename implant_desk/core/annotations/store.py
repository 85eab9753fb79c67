"""Finding, loading and saving the annotation of one image in a save folder, in any format.

The save folder may be apart from the images (LabelImg's "change save dir"); it defaults to the image's folder.
An image's file is ``<image stem>.xml`` (VOC), ``.txt`` (YOLO, with ``classes.txt`` beside it) or ``.json``
(CreateML). Where several exist (the user switched format) the most recently written one is the current one.

Saving never loses anything (docs/adr/0002-atomic-saves.md):
- the write is atomic (``core.atomic``);
- a file that changed on disk since it was loaded is not overwritten: ``load_annotation`` records a stamp
  (content hash) of every candidate file, ``save_annotation`` compares and raises AnnotationConflictError,
  and the caller asks the user before saving again with ``overwrite_changed=True``;
- an existing file that cannot be parsed is never overwritten, even then;
- the comparison and the write happen under the save folder's lock (``core.folder_lock``), so of two saves
  at once the second sees the first one's file; orphan temporaries of killed saves are removed then;
- a write-protected file is not replaced, and a failed YOLO save adds nothing to ``classes.txt``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Sequence

from implant_desk.core.annotations import createml, voc, yolo
from implant_desk.core.annotations.document import AnnotationDocument
from implant_desk.core.annotations.model import ImageAnnotation
from implant_desk.core.annotations.sanitize import clean_boxes
from implant_desk.core.atomic import atomic_write_bytes, remove_orphan_temporaries
from implant_desk.core.errors import AnnotationFileError, SaveError
from implant_desk.core.folder_lock import folder_lock

FORMATS = ("voc", "yolo", "createml")
SUFFIXES = {"voc": voc.XML_SUFFIX, "yolo": yolo.TXT_SUFFIX, "createml": createml.JSON_SUFFIX}

# What each annotation file held when it was loaded or saved: path -> content hash, None when absent.
DiskStamps = Mapping[Path, "str | None"]


class AnnotationConflictError(SaveError):
    """The annotation file changed on disk since it was loaded; the caller must ask before overwriting."""


@dataclass
class LoadedAnnotation:
    annotation: ImageAnnotation
    path: Path
    fmt: str
    warnings: list[str] = field(default_factory=list)
    # Pass to save_annotation(expected_on_disk=...) so a change made by someone else is noticed.
    on_disk: dict[Path, str | None] = field(default_factory=dict)


def annotation_path_for(image_path: str | os.PathLike, save_dir: str | os.PathLike | None, fmt: str) -> Path:
    image_path = Path(image_path)
    folder = Path(save_dir) if save_dir is not None else image_path.parent
    return folder / (image_path.stem + SUFFIXES[_check_format(fmt)])


def _stamp(data: bytes) -> str:
    """The stamp of a file holding ``data``."""
    import hashlib  # loads OpenSSL: when the first annotation is read, not at the window's start-up

    return hashlib.sha256(data).hexdigest()


def file_stamp(path: str | os.PathLike) -> str | None:
    """A hash of the file's bytes, or None when there is no file."""
    try:
        with open(path, "rb") as handle:
            return _stamp(handle.read())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnnotationFileError(path, f"cannot be read ({exc.strerror or exc})") from exc


def disk_stamps(image_path: str | os.PathLike, save_dir: str | os.PathLike | None) -> dict[Path, str | None]:
    """The stamp of every file the image's annotation could be in."""
    paths = (annotation_path_for(image_path, save_dir, fmt) for fmt in FORMATS)
    return {path: file_stamp(path) for path in paths}


def find_annotation(image_path: str | os.PathLike, save_dir: str | os.PathLike | None) -> tuple[str, Path] | None:
    """The format and file holding the image's annotation: the newest when several formats exist."""
    found = []
    for order, fmt in enumerate(FORMATS):
        path = annotation_path_for(image_path, save_dir, fmt)
        try:
            found.append((path.stat().st_mtime_ns, -order, fmt, path))
        except OSError:
            continue
    if not found:
        return None
    _, _, fmt, path = max(found)
    return fmt, path


def load_annotation(
    image_path: str | os.PathLike,
    save_dir: str | os.PathLike | None,
    image_size: tuple[int, int] | tuple[int, int, int],
) -> LoadedAnnotation | None:
    """The image's annotation, or None when it has none. ``image_size`` is (width, height[, depth]).

    Raises AnnotationFileError for a file that cannot be read; such a file is never overwritten by a save."""
    image_path = Path(image_path)
    located = find_annotation(image_path, save_dir)
    if located is None:
        return None
    fmt, path = located
    # Stamped before reading: if the file changes in between, the next save sees a conflict, never the reverse.
    on_disk = disk_stamps(image_path, save_dir)
    warnings: list[str] = []
    if fmt == "voc":
        annotation = _fit_to_image(voc.read_voc(path, warnings), image_size, warnings)
    elif fmt == "yolo":
        classes_path = yolo.classes_path_for(path)
        if not classes_path.exists():
            raise AnnotationFileError(path, f"there is no {yolo.CLASSES_FILENAME} beside it to name its classes")
        annotation = yolo.read_yolo(path, image_size, yolo.read_classes(classes_path), warnings, image_path.name)
    else:
        found = createml.read_createml(path, image_path.name, image_size, warnings)
        annotation = found if found is not None else _blank(image_path, image_size)
    return LoadedAnnotation(annotation, path, fmt, warnings, on_disk)


def _fit_to_image(
    annotation: ImageAnnotation, image_size: tuple[int, int] | tuple[int, int, int], warnings: list[str]
) -> ImageAnnotation:
    """A VOC file without a size borrows the image's, and its boxes are clamped to it."""
    width, height = image_size[0], image_size[1]
    if annotation.width > 0 and annotation.height > 0:
        if (annotation.width, annotation.height) != (width, height):
            warnings.append(
                f"the file says the image is {annotation.width}x{annotation.height} pixels, "
                f"but it is {width}x{height}; the boxes may not sit where they were drawn"
            )
        return annotation
    return replace(annotation, width=width, height=height, boxes=clean_boxes(annotation.boxes, width, height, warnings))


def _blank(image_path: Path, image_size: tuple[int, int] | tuple[int, int, int]) -> ImageAnnotation:
    depth = image_size[2] if len(image_size) > 2 else 1
    return ImageAnnotation(image_path.name, image_size[0], image_size[1], depth)


def save_annotation(
    annotation: ImageAnnotation,
    image_path: str | os.PathLike,
    save_dir: str | os.PathLike | None,
    fmt: str,
    classes: Sequence[str] = (),
    expected_on_disk: DiskStamps | None = None,
    overwrite_changed: bool = False,
) -> dict[Path, str | None]:
    """Atomically save ``annotation`` as ``fmt``; returns the new stamps to pass to the next save.

    ``expected_on_disk`` is ``LoadedAnnotation.on_disk`` (None: the image had no annotation file). ``classes`` is
    the class order a new ``classes.txt`` starts with (YOLO); an existing one only ever grows.
    Raises AnnotationConflictError when the file changed since then (unless ``overwrite_changed``),
    AnnotationFileError when the existing file cannot be parsed, SaveError when the write fails."""
    image_path = Path(image_path)
    target = annotation_path_for(image_path, save_dir, fmt)
    annotation = with_image_identity(annotation, image_path)
    # Locked from the comparison to the write, so a save made in between is seen, never overwritten.
    with folder_lock(target.parent):
        remove_orphan_temporaries(target.parent, SUFFIXES.values())
        current = file_stamp(target)
        expected = (expected_on_disk or {}).get(target)
        if current != expected:
            if not overwrite_changed:
                raise AnnotationConflictError(target, _conflict_reason(expected, current))
            if current is not None:
                _ensure_parseable(target, fmt, annotation)
        data = _write(annotation, target, fmt, classes)
    stamps = dict(expected_on_disk or disk_stamps(image_path, save_dir))
    stamps[target] = _stamp(data)
    return stamps


def save_document(
    document: AnnotationDocument,
    template: ImageAnnotation,
    image_path: str | os.PathLike,
    save_dir: str | os.PathLike | None,
    fmt: str,
    classes: Sequence[str] = (),
    expected_on_disk: DiskStamps | None = None,
    overwrite_changed: bool = False,
) -> dict[Path, str | None]:
    """Save the document's boxes and verified flag over ``template`` (size, names, extras); mark the document
    saved only once the file is safely on disk, so a failed save leaves it dirty."""
    state = document.state
    annotation = replace(template, boxes=list(state.boxes), verified=state.verified)
    stamps = save_annotation(annotation, image_path, save_dir, fmt, classes, expected_on_disk, overwrite_changed)
    document.mark_saved(state)
    return stamps


def with_image_identity(annotation: ImageAnnotation, image_path: Path) -> ImageAnnotation:
    """Fill the names LabelImg writes (folder name, file name, image path) where the annotation lacks them."""
    return replace(
        annotation,
        folder=annotation.folder or image_path.parent.name,
        filename=annotation.filename or image_path.name,
        path=annotation.path or str(image_path),
    )


def _conflict_reason(expected: str | None, current: str | None) -> str:
    if expected is None:
        return "appeared on disk after the image was opened; it was not overwritten"
    if current is None:
        return "was deleted by someone else after the image was opened"
    return "was changed by someone else after the image was opened; it was not overwritten"


def _ensure_parseable(target: Path, fmt: str, annotation: ImageAnnotation) -> None:
    try:
        if fmt == "voc":
            voc.read_voc(target)
        elif fmt == "yolo":
            yolo.read_yolo(target, (annotation.width, annotation.height), yolo.classes_beside(target))
        else:
            createml.read_createml_entries(target)
    except AnnotationFileError as exc:
        raise AnnotationFileError(
            target, f"cannot be read ({exc.reason}), so it is left as it is and was not overwritten"
        ) from exc


def _write(annotation: ImageAnnotation, target: Path, fmt: str, classes: Sequence[str]) -> bytes:
    """Serialise and atomically write the annotation (YOLO: with its ``classes.txt``); returns the bytes."""
    try:
        if fmt == "voc":
            data = voc.voc_to_bytes(annotation)
        elif fmt == "yolo":
            classes_on_disk = yolo.classes_for_save(target, annotation, classes)
            data = yolo.yolo_to_string(annotation, classes_on_disk).encode("utf-8")
        else:
            existing = createml.read_createml_entries(target) if target.exists() else []
            data = createml.createml_to_bytes(annotation, existing)
    except ValueError as exc:
        raise SaveError(target, f"cannot be saved: {exc}; the previous file is unchanged") from exc
    if fmt == "yolo":
        yolo.write_with_classes(target, data, classes_on_disk)
    else:
        atomic_write_bytes(target, data)
    return data


def _check_format(fmt: str) -> str:
    if fmt not in SUFFIXES:
        raise ValueError(f"unknown annotation format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return fmt
