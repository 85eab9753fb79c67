"""The heat maps' colouring: a 0..1 map becomes an RGBA array the canvas draws over a fixture.

Its own module because it needs numpy, which the window does not import before its first paint: the canvas
imports this when it is given the first heat map.
"""

from __future__ import annotations

import numpy as np

# Anchor colours of matplotlib's "inferno" (dark purple -> orange -> pale yellow), interpolated below.
_INFERNO_ANCHORS = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float32,
)


def jet_lut() -> np.ndarray:
    """256x3 uint8 'jet' table: blue -> cyan -> yellow -> red, the classic saliency look."""
    t = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    channels = [np.clip(1.5 - np.abs(4 * t - offset), 0, 1) for offset in (3, 2, 1)]
    return (np.stack(channels, axis=1) * 255 + 0.5).astype(np.uint8)


def inferno_lut() -> np.ndarray:
    """256x3 uint8 'inferno' table, perceptually ordered and readable in grey print."""
    positions = np.linspace(0.0, 1.0, len(_INFERNO_ANCHORS))
    t = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(t, positions, _INFERNO_ANCHORS[:, c]) for c in range(3)]
    return (np.stack(channels, axis=1) + 0.5).astype(np.uint8)


COLORMAPS = {"jet": jet_lut, "inferno": inferno_lut}


def heatmap_rgba(heatmap: np.ndarray, colormap: str = "jet") -> np.ndarray:
    """Colour a 0..1 heat map as a contiguous HxWx4 uint8 RGBA array.

    Alpha rises with the heat so cold areas leave the radiograph visible; the canvas applies the user's
    opacity on top. NaNs count as cold.
    """
    heat = np.nan_to_num(np.asarray(heatmap, dtype=np.float32), nan=0.0)
    if heat.ndim != 2:
        raise ValueError(f"a heat map must be 2-D, got shape {heat.shape}")
    heat = np.clip(heat, 0.0, 1.0)
    index = (heat * 255 + 0.5).astype(np.uint8)
    rgba = np.empty(heat.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = COLORMAPS[colormap]()[index]
    rgba[..., 3] = (np.clip(heat * 1.5, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    return rgba
