"""Counts in words, the same in the window and on the command line: "1 fixture", "2 fixtures"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str = "") -> str:
    """``count`` and the noun, singular for exactly one (``plural`` when adding "s" is wrong: "boxes")."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
