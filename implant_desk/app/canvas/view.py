"""Pure geometry of the canvas view: zoom, scroll and the image <-> screen transform.

Kept free of widgets so the zoom and fit arithmetic is tested directly. Screen coordinates are viewport
pixels; image coordinates are floats in image pixels (x right, y down).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_ZOOM = 0.01
MAX_ZOOM = 32.0
ZOOM_STEP = 1.25


def clamp_zoom(zoom: float) -> float:
    return min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))


@dataclass
class ViewGeometry:
    """Where the image sits in the viewport: ``screen = image * zoom - scroll + centring margin``."""

    image_width: int = 0
    image_height: int = 0
    viewport_width: int = 1
    viewport_height: int = 1
    zoom: float = 1.0
    scroll_x: int = 0
    scroll_y: int = 0

    @property
    def content_width(self) -> float:
        return self.image_width * self.zoom

    @property
    def content_height(self) -> float:
        return self.image_height * self.zoom

    @property
    def margin_x(self) -> float:
        """An image narrower than the viewport is centred rather than stuck to the left edge."""
        return max(0.0, (self.viewport_width - self.content_width) / 2)

    @property
    def margin_y(self) -> float:
        return max(0.0, (self.viewport_height - self.content_height) / 2)

    def to_screen(self, x: float, y: float) -> tuple[float, float]:
        return (x * self.zoom - self.scroll_x + self.margin_x, y * self.zoom - self.scroll_y + self.margin_y)

    def to_image(self, sx: float, sy: float) -> tuple[float, float]:
        return ((sx + self.scroll_x - self.margin_x) / self.zoom, (sy + self.scroll_y - self.margin_y) / self.zoom)

    def clamp_to_image(self, x: float, y: float) -> tuple[float, float]:
        return (min(max(x, 0.0), float(self.image_width)), min(max(y, 0.0), float(self.image_height)))

    def visible_image_rect(self) -> tuple[float, float, float, float]:
        """The part of the image inside the viewport, as (x1, y1, x2, y2) image px clamped to the image."""
        x1, y1 = self.clamp_to_image(*self.to_image(0, 0))
        x2, y2 = self.clamp_to_image(*self.to_image(self.viewport_width, self.viewport_height))
        return x1, y1, x2, y2

    def fit_window_zoom(self) -> float:
        if not self.image_width or not self.image_height:
            return 1.0
        return clamp_zoom(min(self.viewport_width / self.image_width, self.viewport_height / self.image_height))

    def fit_width_zoom(self, scrollbar_extent: int = 0) -> float:
        """Zoom that fills the width; when the height then overflows, leave room for the vertical scrollbar."""
        if not self.image_width:
            return 1.0
        zoom = self.viewport_width / self.image_width
        if self.image_height * zoom > self.viewport_height and scrollbar_extent:
            zoom = (self.viewport_width - scrollbar_extent) / self.image_width
        return clamp_zoom(zoom)
