"""Proposed boxes: what a model predicted on an image, kept beside the user's annotations, never mixed with them.

One JSON file per image in a hidden folder of the annotation folder, ``.implant-desk/proposals/<stem>.json``
(docs/adr/0011-proposals.md). LabelImg reads only ``<stem>.xml`` beside the images, YOLO tools only ``*.txt``
(and ``labels/``), CreateML and COCO readers only the files they are given: none of them looks into a hidden
sub-folder, so a proposal never reaches a training set until a person accepts it, which copies it into the
annotation file as an ordinary box.

Each proposal keeps its box, ranked system candidates, fixture score, model version, the label accepting it
writes, and its state (proposed, accepted, rejected). The file also holds the image's uncertainty (what "which
image next" orders by) and, for YOLO folders, the reviewed mark: YOLO has no place for LabelImg's ``verified``
flag, so it lives here; VOC and CreateML keep it in their own file, which stays the one that counts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.annotations.model import Box
from implant_desk.core.atomic import atomic_write_text, remove_orphan_temporaries
from implant_desk.core.errors import AnnotationFileError
from implant_desk.core.folder_lock import folder_lock

PROPOSED, ACCEPTED, REJECTED = "proposed", "accepted", "rejected"
PROPOSAL_STATES = (PROPOSED, ACCEPTED, REJECTED)
PROPOSALS_DIR = Path(".implant-desk") / "proposals"
SUFFIX = ".json"
FILE_KIND = "implant-desk proposals"
FILE_VERSION = 1
MAX_FILE_BYTES = 1_000_000  # a few hundred proposals at most; a larger file is not ours


@dataclass(frozen=True)
class Proposal:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    label: str  # what accepting it writes: the claimed system, else "implant"
    candidates: tuple[tuple[str, float], ...] = ()  # (system, probability), best first
    score: float = 0.0  # the detector's fixture score
    model: str = ""  # the model version that proposed it
    state: str = PROPOSED

    @property
    def pending(self) -> bool:
        return self.state == PROPOSED

    def as_box(self, label: str | None = None) -> Box:
        x1, y1, x2, y2 = self.box
        return Box(label or self.label, x1, y1, x2, y2)

    def caption(self) -> str:
        """How the canvas and the review panel name it: system, confidence, model version."""
        confidence = f" {self.candidates[0][1]:.0%}" if self.candidates and self.label == self.candidates[0][0] else ""
        return f"{self.label}{confidence} (fixture {self.score:.2f}, model {self.model or '?'})"


@dataclass(frozen=True)
class ImageProposals:
    image: str  # the image's file name
    proposals: tuple[Proposal, ...] = ()
    model: str = ""
    uncertainty: float = 0.0  # 0 (the model is sure) .. 1: how much reviewing this image would teach it
    reviewed: bool = False  # the reviewed mark for formats without a verified flag (YOLO)

    @property
    def pending(self) -> int:
        return sum(p.pending for p in self.proposals)

    @property
    def decided(self) -> bool:
        """A person has acted on it: a proposal accepted or rejected, or the image marked reviewed."""
        return self.reviewed or any(not p.pending for p in self.proposals)


def proposals_folder(annotation_folder: str | os.PathLike) -> Path:
    return Path(annotation_folder) / PROPOSALS_DIR


def proposals_path(image_path: str | os.PathLike, save_dir: str | os.PathLike | None) -> Path:
    """The image's proposals file: in the annotation folder (``save_dir``, else beside the image)."""
    image_path = Path(image_path)
    folder = Path(save_dir) if save_dir is not None else image_path.parent
    return proposals_folder(folder) / (image_path.stem + SUFFIX)


def proposal_stems(annotation_folder: str | os.PathLike) -> set[str]:
    """The stems of the images that have a proposals file (one ``scandir``; none when there is no folder)."""
    try:
        entries = os.scandir(proposals_folder(annotation_folder))
    except OSError:
        return set()
    with entries:
        return {entry.name[: -len(SUFFIX)] for entry in entries if entry.name.endswith(SUFFIX)
                and not entry.name.startswith(".")}


def read_proposals(image_path: str | os.PathLike, save_dir: str | os.PathLike | None) -> ImageProposals | None:
    """The image's proposals, or None when it has none. AnnotationFileError for a file that cannot be read."""
    return read_proposals_file(proposals_path(image_path, save_dir))


def read_proposals_file(path: str | os.PathLike) -> ImageProposals | None:
    path = Path(path)
    try:
        data = _read_bytes(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise AnnotationFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise AnnotationFileError(path, str(exc)) from exc
    try:
        return _from_json(json.loads(data.decode("utf-8")))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise AnnotationFileError(path, f"is not a readable proposals file ({exc})") from exc


@dataclass(frozen=True)
class ProposalsSummary:
    """What the file list needs of a proposals file, read without building every proposal."""

    pending: int
    uncertainty: float
    reviewed: bool


def read_summary(path: str | os.PathLike) -> ProposalsSummary | None:
    """The listing's view of a proposals file (None when absent); AnnotationFileError for one it cannot read.
    A string path is cheaper here: the listing calls it for thousands of files."""
    try:
        data = json.loads(_read_bytes(path))
        if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
            raise ValueError(f"it does not say it is an {FILE_KIND} file")
        pending = sum(item.get("state", PROPOSED) == PROPOSED for item in data["proposals"])
        return ProposalsSummary(pending, float(data.get("uncertainty", 0.0)), bool(data.get("reviewed", False)))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise AnnotationFileError(path, f"is not a readable proposals file ({exc})") from exc


def _read_bytes(path: str | os.PathLike) -> bytes:
    """The whole file, refusing one too large to be ours before reading it (ValueError)."""
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > MAX_FILE_BYTES:
            raise ValueError("is too large to be a proposals file")
        return handle.read()


def write_proposals(image_path: str | os.PathLike, save_dir: str | os.PathLike | None,
                    proposals: ImageProposals) -> Path:
    """Atomically write the image's proposals file (under the folder's save lock); returns its path."""
    path = proposals_path(image_path, save_dir)
    text = json.dumps(_to_json(proposals), indent=1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnnotationFileError(path.parent, f"cannot be created ({exc.strerror or exc}); nothing was saved") from exc
    with folder_lock(path.parent):
        remove_orphan_temporaries(path.parent, (SUFFIX,))
        atomic_write_text(path, text)
    return path


def _to_json(value: ImageProposals) -> dict:
    return {
        "kind": FILE_KIND, "version": FILE_VERSION, "image": value.image, "model": value.model,
        "uncertainty": round(value.uncertainty, 4), "reviewed": value.reviewed,
        "proposals": [{"box": [round(v, 1) for v in p.box], "label": p.label, "state": p.state,
                       "score": round(p.score, 4), "model": p.model,
                       "candidates": [[system, round(prob, 4)] for system, prob in p.candidates]}
                      for p in value.proposals],
    }


def _from_json(data: dict) -> ImageProposals:
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise ValueError(f"it does not say it is an {FILE_KIND} file")
    if data.get("version") != FILE_VERSION:
        raise ValueError(f"version {data.get('version')!r} is not {FILE_VERSION}")
    proposals = []
    for item in data["proposals"]:
        x1, y1, x2, y2 = (float(v) for v in item["box"])
        state = item.get("state", PROPOSED)
        if state not in PROPOSAL_STATES or not x2 > x1 or not y2 > y1:
            raise ValueError(f"a proposal has state {state!r} or an empty box")
        proposals.append(Proposal((x1, y1, x2, y2), str(item["label"]),
                                  tuple((str(s), float(p)) for s, p in item.get("candidates", ())),
                                  float(item.get("score", 0.0)), str(item.get("model", "")), state))
    return ImageProposals(str(data.get("image", "")), tuple(proposals), str(data.get("model", "")),
                          float(data.get("uncertainty", 0.0)), bool(data.get("reviewed", False)))
