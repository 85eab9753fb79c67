"""User story: a 10,000-file folder lists without building 10,000 widgets, and filters by status and label."""

from pathlib import Path

from implant_desk.app.controllers.navigation import FileItem


def test_ten_thousand_files_list_through_the_model(window, qtbot):
    statuses = ("not annotated", "annotated", "verified", "unreadable")
    window.navigator.set_items([FileItem(Path(f"/scans/scan{i:05d}.png"), statuses[i % 4]) for i in range(10_000)])
    window.files.model.reset()
    assert window.files.model.rowCount() == 10_000
    window.files.view.scrollToBottom()
    window.files.grab()  # only the rows on screen are asked for
    window.files.status_filter.setCurrentText("unreadable")
    model = window.files.model
    assert model.rowCount() == 2_500 and model.index(0).data() == "scan00003.png  (unreadable)"


def test_label_filter_finds_labels_of_unopened_files(window, image_folder, qtbot):
    (image_folder / "img3.xml").write_text(
        "<annotation><filename>img3.png</filename><size><width>300</width><height>200</height><depth>1</depth></size>"
        "<object><name>Straumann</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50</xmax><ymax>50</ymax></bndbox>"
        "</object></annotation>")
    window.open_folder(image_folder)
    qtbot.waitUntil(lambda: window.files.label_filter.findText("Straumann") >= 0, timeout=60_000)
    window.files.label_filter.setCurrentText("Straumann")
    model = window.files.model
    assert [model.index(row).data() for row in range(model.rowCount())] == ["img3.png"]


def test_the_two_filters_say_what_they_filter(window):
    assert window.files.status_filter.currentText() == "All statuses"
    assert window.files.label_filter.currentText() == "All labels"
    window.files.set_labels(["All statuses", "Straumann"])  # a label that reads like the other filter's
    window.files.label_filter.setCurrentIndex(1)
    assert window.navigator.label_filter == "All statuses"
