"""The exception types that cross the core's boundary.

Every failure a user can cause with a file (damaged, unsupported, hostile) surfaces as one of these, with a
message that names the file and says what is wrong in plain words. The GUI shows ``str(error)``; the CLI
prints it and exits non-zero. Codec tracebacks never reach the user.
"""

from __future__ import annotations

import os


class ImplantDeskError(Exception):
    """Base of every expected, user-facing failure."""


class FileProblem(ImplantDeskError):
    """A file could not be used. ``str()`` is ``"<path>: <reason>"``."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnreadableImageError(FileProblem):
    """An image file cannot be opened as a radiograph (damaged, truncated, unsupported, not an image)."""


class AnnotationFileError(FileProblem):
    """An annotation file cannot be read (malformed, hostile, too large) or must not be overwritten."""


class SaveError(FileProblem):
    """An atomic save failed; the previous file on disk is untouched."""


class ModelFileError(FileProblem):
    """A model file or card is missing, corrupt, tampered with, or does not match its card."""
