"""Opening a file the app wrote (the folder report, the lab's implant taxonomy) in the user's own application.
No Qt: the window passes the function that opens a path and the one that asks, and shows the message returned.

Policy: the message always says where the file is; when the system opens nothing (no default application for
it, as on many fresh Linux desktops), the user is told so and offered the folder that holds the file instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def open_or_offer_folder(path: Path, what: str, open_path: Callable[[Path], bool],
                         ask_show_folder: Callable[[str], bool]) -> str:
    """Open ``path`` (``what`` names it for the user: "the report"); returns what happened, in words."""
    if open_path(path):
        return f"Opened {what}: {path}"
    question = (f"No application opened {what}, {path.name}: this computer has none set for its kind of file.\n\n"
                f"It is in {path.parent}. Show that folder?")
    if not ask_show_folder(question):
        return f"{what.capitalize()} was not opened; it is at {path}"
    if open_path(path.parent):
        return f"{what.capitalize()} is {path.name} in the folder just shown ({path.parent})"
    return f"Neither {what} nor its folder could be opened; it is at {path}"
