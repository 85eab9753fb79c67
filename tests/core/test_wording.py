"""Counts read as words: one fixture, two fixtures."""

from implant_desk.core.wording import counted


def test_one_is_singular_and_every_other_count_plural():
    assert counted(1, "fixture") == "1 fixture"
    assert counted(0, "fixture") == "0 fixtures" and counted(2, "image") == "2 images"
    assert counted(1, "box", "boxes") == "1 box" and counted(3, "box", "boxes") == "3 boxes"
