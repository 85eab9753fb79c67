"""The Identify panel (issue 5): implant systems on the current image, a folder report, accept as boxes."""

from __future__ import annotations

from implant_desk.app.identify.panel import IdentifyPanel, install_identify_panel

__all__ = ["IdentifyPanel", "install_identify_panel"]
