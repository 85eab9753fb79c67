"""Opening the report or the taxonomy: the user is told where the file is, and when nothing opens it, why."""

from __future__ import annotations

from pathlib import Path

from implant_desk.app.controllers.opening import open_or_offer_folder

REPORT = Path("/lab/xrays/implant_desk_report/report.pdf")


def _open(paths_that_open: set[Path], opened: list[Path]):
    return lambda path: opened.append(path) or path in paths_that_open


def test_an_opened_file_is_named_with_its_place():
    opened: list[Path] = []
    message = open_or_offer_folder(REPORT, "the report", _open({REPORT}, opened), lambda question: 1 / 0)
    assert message == f"Opened the report: {REPORT}" and opened == [REPORT]


def test_when_no_application_opens_it_the_user_is_told_and_offered_the_folder():
    questions, opened = [], []
    message = open_or_offer_folder(REPORT, "the report", _open({REPORT.parent}, opened),
                                   lambda question: questions.append(question) or True)
    assert "No application opened the report, report.pdf" in questions[0] and str(REPORT.parent) in questions[0]
    assert opened == [REPORT, REPORT.parent]
    assert message == f"The report is report.pdf in the folder just shown ({REPORT.parent})"


def test_declining_the_folder_or_failing_to_show_it_still_says_where_the_file_is():
    assert (open_or_offer_folder(REPORT, "the report", _open(set(), []), lambda question: False)
            == f"The report was not opened; it is at {REPORT}")
    assert (open_or_offer_folder(REPORT, "the implant taxonomy", _open(set(), []), lambda question: True)
            == f"Neither the implant taxonomy nor its folder could be opened; it is at {REPORT}")
