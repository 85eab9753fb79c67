"""Window/level presets and slider ranges, in the radiograph's native units (display only, pixels untouched)."""

from __future__ import annotations

from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph

FROM_FILE = "From the file"
AUTO = "Auto"
FULL_RANGE = "Full range"
HIGH_CONTRAST = "High contrast"
PRESETS = (FROM_FILE, AUTO, FULL_RANGE, HIGH_CONTRAST)


def value_range(radiograph: Radiograph) -> tuple[float, float]:
    """The range the sliders span: what the stored bit depth can hold, widened to the data if it exceeds it."""
    pixels = radiograph.pixels
    low, high = float(pixels.min()), float(pixels.max())
    if pixels.dtype.kind in "ui":
        stored_max = float(2 ** max(1, radiograph.bits) - 1)
        low, high = min(low, 0.0), max(high, stored_max)
    return low, max(high, low + 1.0)


def preset_window(name: str, radiograph: Radiograph) -> DisplayWindow:
    if name == FROM_FILE:
        return radiograph.window
    if name == FULL_RANGE:
        low, high = float(radiograph.pixels.min()), float(radiograph.pixels.max())
        return DisplayWindow((low + high) / 2, max(high - low, 1.0))
    from implant_desk.core.imaging.windowing import auto_window

    auto = auto_window(radiograph.pixels)
    if name == AUTO:
        return auto
    if name == HIGH_CONTRAST:
        return DisplayWindow(auto.center, max(auto.width / 2, 1.0))
    raise ValueError(f"unknown window preset {name!r}")


def pixel_readout(radiograph: Radiograph, x: float, y: float) -> str:
    """Status-bar text for the image point under the cursor: px, mm when spacing is known, native value."""
    col, row = int(x), int(y)
    if not (0 <= col < radiograph.width and 0 <= row < radiograph.height):
        return ""
    text = f"x {x:.0f}  y {y:.0f} px"
    if radiograph.spacing_mm:
        row_mm, col_mm = radiograph.spacing_mm
        text += f"  ({x * col_mm:.2f}, {y * row_mm:.2f} mm)"
    value = radiograph.pixels[row, col]
    shown = "/".join(str(v) for v in value.tolist()) if radiograph.is_color else str(value.item())
    return f"{text}  value {shown}"


def ruler_text(x1: float, y1: float, x2: float, y2: float, spacing_mm: tuple[float, float] | None) -> str:
    length_px = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    if not spacing_mm:
        return f"Distance {length_px:.1f} px (pixel spacing unknown, so no mm)"
    row_mm, col_mm = spacing_mm
    length_mm = (((x2 - x1) * col_mm) ** 2 + ((y2 - y1) * row_mm) ** 2) ** 0.5
    return f"Distance {length_mm:.2f} mm ({length_px:.1f} px)"
