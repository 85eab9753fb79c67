"""Listing an image folder with each image's annotation status, fast enough for 10,000 files.

Two ``os.scandir`` calls (images, save folder) and, per annotated image, one read of the first few hundred bytes
to see whether LabelImg's ``verified="yes"`` is on ``<annotation>`` (or ``"verified": true`` in CreateML):
no image is decoded and no XML is parsed. "unreadable" is not decided here; opening an image finds it lazily.

An image with a proposals file (``core.annotations.proposals``) that is not verified yet is "proposed": a model
pre-annotated it and a person has still to review it. Only those images' small JSON files are read. In a YOLO
folder the proposals file holds the verified (reviewed) mark, since YOLO's own files have no place for it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.annotations.proposals import SUFFIX as PROPOSALS_SUFFIX
from implant_desk.core.annotations.proposals import ProposalsSummary, proposal_stems, proposals_folder, read_summary
from implant_desk.core.annotations.store import FORMATS, SUFFIXES
from implant_desk.core.errors import AnnotationFileError, FileProblem
from implant_desk.core.imaging.loading import IMAGE_SUFFIXES

NOT_ANNOTATED = "not annotated"
ANNOTATED = "annotated"
VERIFIED = "verified"
PROPOSED = "proposed"
UNREADABLE = "unreadable"
STATUSES = (NOT_ANNOTATED, PROPOSED, ANNOTATED, VERIFIED, UNREADABLE)

_SNIFF_BYTES = 512
_VOC_VERIFIED = re.compile(rb"<annotation\b[^>]*\bverified\s*=\s*[\"']yes[\"']")
_CREATEML_VERIFIED = re.compile(rb"\"verified\"\s*:\s*true")
_DICOM_MAGIC_OFFSET = 128


@dataclass(frozen=True)
class FileEntry:
    path: Path
    status: str
    annotation_path: Path | None = None
    pending: int = 0  # proposed boxes waiting for a decision
    uncertainty: float | None = None  # from the proposals file; None: never pre-annotated


def annotation_folder(image_folder: str | os.PathLike, save_dir: str | os.PathLike | None = None) -> Path | None:
    """Where the annotations of the images in ``image_folder`` are, for the editor and for training alike: the
    save folder the user chose; else, in the YOLO layout of Ultralytics and Roboflow, the ``labels`` folder that
    mirrors the path's last ``images`` folder (``data/images`` -> ``data/labels``, ``data/images/train`` ->
    ``data/labels/train``) when it exists; else None: beside the images."""
    if save_dir is not None:
        return Path(save_dir)
    parts = Path(image_folder).parts
    for depth in range(len(parts) - 1, -1, -1):
        if parts[depth].lower() == "images":
            labels = Path(*parts[:depth], "labels", *parts[depth + 1:])
            return labels if labels.is_dir() else None
    return None


def scan_image_folder(folder: str | os.PathLike, save_dir: str | os.PathLike | None = None) -> list[FileEntry]:
    """The images of ``folder`` in natural order ("img2" before "img10"), each with its status.

    Raises FileProblem when the folder cannot be listed; a missing save folder just means nothing is annotated."""
    folder = Path(folder)
    save_folder = Path(save_dir) if save_dir is not None else folder
    # Names (str) until the end: building 10,000 Paths from full strings would cost more than the listing.
    names = sorted(_image_names(folder), key=natural_key)
    annotations = _annotation_files(save_folder)
    proposed = proposal_stems(save_folder)
    proposals_dir = str(proposals_folder(save_folder))
    return [_entry(folder, name, save_folder, annotations, proposed, proposals_dir) for name in names]


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple:
    """Sort key comparing digit runs as numbers and letters without case, as LabelImg's file list does."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _DIGITS.split(name))


def _image_names(folder: Path) -> list[str]:
    names = []
    try:
        entries = os.scandir(folder)
    except OSError as exc:
        raise FileProblem(folder, f"this folder cannot be opened ({exc.strerror or exc})") from exc
    with entries:
        for entry in entries:
            if entry.name.startswith("."):
                continue
            suffix = os.path.splitext(entry.name)[1].lower()
            if suffix in IMAGE_SUFFIXES or (not suffix and _is_dicom_without_suffix(entry)):
                if entry.is_file():
                    names.append(entry.name)
    return names


def _is_dicom_without_suffix(entry: os.DirEntry) -> bool:
    """Sensor software often exports DICOM without a suffix: "DICM" at byte 128 says so."""
    try:
        with open(entry.path, "rb") as handle:
            handle.seek(_DICOM_MAGIC_OFFSET)
            return handle.read(4) == b"DICM"
    except OSError:
        return False


def _annotation_files(save_folder: Path) -> dict[str, dict[str, str]]:
    """stem -> {format: file name} for the annotation files in the save folder."""
    format_of = {suffix: fmt for fmt, suffix in SUFFIXES.items()}
    found: dict[str, dict[str, str]] = {}
    try:
        entries = os.scandir(save_folder)
    except OSError:  # a save folder that does not exist yet holds no annotations
        return found
    with entries:
        for entry in entries:
            stem, suffix = os.path.splitext(entry.name)
            fmt = format_of.get(suffix)
            if fmt is not None:
                found.setdefault(stem, {})[fmt] = entry.name
    return found


def _entry(folder: Path, name: str, save_folder: Path, annotations: dict[str, dict[str, str]],
           proposed: set[str], proposals_dir: str) -> FileEntry:
    stem = os.path.splitext(name)[0]
    proposals = _proposals(os.path.join(proposals_dir, stem + PROPOSALS_SUFFIX)) if stem in proposed else None
    candidates = annotations.get(stem)
    annotation_path, verified = None, False
    if candidates:
        fmt, annotation_name = _newest(save_folder, candidates)
        annotation_path = save_folder / annotation_name
        verified = proposals is not None and proposals.reviewed if fmt == "yolo" else _is_verified(fmt, annotation_path)
    if proposals is None:
        status = VERIFIED if verified else ANNOTATED if annotation_path else NOT_ANNOTATED
        return FileEntry(folder / name, status, annotation_path)
    if verified:  # a verified image's review is over: what is left pending is not waiting for anyone
        return FileEntry(folder / name, VERIFIED, annotation_path, 0, proposals.uncertainty)
    return FileEntry(folder / name, PROPOSED, annotation_path, proposals.pending, proposals.uncertainty)


def _proposals(path: str) -> ProposalsSummary | None:
    """A damaged proposals file lists the image as if it had none; opening the image says what is wrong."""
    try:
        return read_summary(path)
    except AnnotationFileError:
        return None


def _newest(save_folder: Path, candidates: dict[str, str]) -> tuple[str, str]:
    """The same choice as ``store.find_annotation``: the newest file, VOC first on a tie."""
    if len(candidates) == 1:
        return next(iter(candidates.items()))

    def age(fmt: str) -> tuple[int, int]:
        try:
            return os.stat(save_folder / candidates[fmt]).st_mtime_ns, -FORMATS.index(fmt)
        except OSError:
            return -1, 0

    fmt = max(candidates, key=age)
    return fmt, candidates[fmt]


def _is_verified(fmt: str, path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return False
    pattern = _VOC_VERIFIED if fmt == "voc" else _CREATEML_VERIFIED
    return pattern.search(head) is not None
