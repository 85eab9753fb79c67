"""The folder's images in order, the current one, and the status/label filters of the file list.

Plain Python over a list of ``FileItem`` so a 10,000-file folder filters in milliseconds and tests need no
display. Statuses follow ``scan_image_folder``; "unreadable" is learnt when an image fails to open.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.annotations.folder import NOT_ANNOTATED, scan_image_folder


@dataclass
class FileItem:
    path: Path
    status: str = NOT_ANNOTATED
    problem: str = ""  # why the image or its annotation cannot be used, in words
    labels: frozenset[str] | None = None  # None: not read yet
    pending: int = 0  # proposed boxes waiting for a decision
    uncertainty: float | None = None  # from pre-annotation; None: never pre-annotated
    has_annotation_file: bool = False  # when the folder was read (a proposed image may have one too)


def scan_folder(folder: Path, save_dir: Path | None = None) -> list[FileItem]:
    return [FileItem(entry.path, entry.status, pending=entry.pending, uncertainty=entry.uncertainty,
                     has_annotation_file=entry.annotation_path is not None)
            for entry in scan_image_folder(folder, save_dir)]


class FileNavigator:
    def __init__(self, items: list[FileItem] | None = None):
        self.status_filter: str = ""  # "" = all
        self.label_filter: str = ""
        self.set_items(items or [])

    def set_items(self, items: list[FileItem]) -> None:
        """A new folder: no current image, filters kept."""
        self.items = list(items)
        self._index = {item.path: i for i, item in enumerate(self.items)}
        self.current = -1
        self.refilter()

    # ---- reading --------------------------------------------------------------------------------------------
    @property
    def current_item(self) -> FileItem | None:
        return self.items[self.current] if 0 <= self.current < len(self.items) else None

    def index_of(self, path: Path) -> int:
        return self._index.get(Path(path), -1)

    def known_labels(self) -> list[str]:
        return sorted({label for item in self.items if item.labels for label in item.labels})

    # ---- moving ---------------------------------------------------------------------------------------------
    def next_index(self, step: int) -> int:
        """The neighbour in the filtered list (the current image may itself be filtered out); -1 at an end."""
        # ``visible`` is sorted, so bisect finds the neighbours whether or not the current image is visible.
        if step > 0:
            position = bisect_right(self.visible, self.current) + step - 1
        else:
            position = bisect_left(self.visible, self.current) + step
        return self.visible[position] if 0 <= position < len(self.visible) else -1

    def previous_in_folder(self) -> FileItem | None:
        """The image before the current one in folder order (LabelImg's "copy previous boxes" source)."""
        return self.items[self.current - 1] if self.current > 0 else None

    # ---- changing ---------------------------------------------------------------------------------------------
    def set_filters(self, status: str = "", label: str = "") -> None:
        self.status_filter, self.label_filter = status, label
        self.refilter()

    def refilter(self) -> None:
        self.visible = [i for i, item in enumerate(self.items) if self._passes(item)]

    def update(self, index: int, *, status: str | None = None, problem: str | None = None,
               labels: frozenset[str] | None = None, pending: int | None = None) -> None:
        item = self.items[index]
        if pending is not None:
            item.pending = pending
        if status is not None:
            item.status = status
        if problem is not None:
            item.problem = problem
        if labels is not None:
            item.labels = labels

    def remove(self, index: int) -> None:
        del self.items[index]
        self._index = {item.path: i for i, item in enumerate(self.items)}
        if self.current >= len(self.items) or self.current > index:
            self.current -= 1
        elif self.current == index:
            self.current = min(index, len(self.items) - 1)
        self.refilter()

    def _passes(self, item: FileItem) -> bool:
        if self.status_filter and item.status != self.status_filter:
            return False
        if self.label_filter and (item.labels is None or self.label_filter not in item.labels):
            return False
        return True
