"""Plain data exchanged by every annotation codec, the document, the canvas and the datasets.

Coordinates are image pixels in the VOC convention LabelImg uses: ``xmin, ymin`` is the top-left corner and
``xmax, ymax`` the bottom-right, in the image's own (EXIF-oriented) pixel grid. They are floats in memory
(the canvas drags by sub-pixels) and written as integers by the VOC codec, exactly as LabelImg does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Box:
    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: bool = False
    truncated: bool = False
    pose: str = "Unspecified"
    # Child elements of <object> that we do not model, serialised as XML text, written back unchanged.
    extra: tuple[str, ...] = ()

    @property
    def width(self) -> float:
        return self.xmax - self.xmin

    @property
    def height(self) -> float:
        return self.ymax - self.ymin

    def moved(self, dx: float, dy: float) -> "Box":
        return replace(self, xmin=self.xmin + dx, xmax=self.xmax + dx, ymin=self.ymin + dy, ymax=self.ymax + dy)

    def with_label(self, label: str) -> "Box":
        return replace(self, label=label)


@dataclass
class ImageAnnotation:
    """Everything one annotation file says about one image."""

    filename: str
    width: int
    height: int
    depth: int = 1
    boxes: list[Box] = field(default_factory=list)
    verified: bool = False
    folder: str = ""
    path: str = ""
    # Child elements of <annotation> that we do not model, serialised as XML text, written back unchanged.
    extra: tuple[str, ...] = ()
