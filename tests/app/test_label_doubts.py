"""User story: a prosthodontist boxes a root-filled tooth as "Implant"; the box list marks it for a second look
(little metal along its middle), and marking it difficult clears the mark."""

from app_helpers import draw_box
from training_folders import FIXTURE, TOOTH, write_audit_film

from implant_desk.app.controllers.label_doubts import LabelDoubts
from implant_desk.core.annotations.model import Box
from implant_desk.core.imaging.loading import load_radiograph


def test_the_box_list_marks_an_implant_box_without_metal_until_it_is_marked_difficult(window, tmp_path, answers):
    write_audit_film(tmp_path / "film.png")
    window.open_folder(tmp_path)
    answers.labels = ["Implant", "Implant"]
    draw_box(window, *FIXTURE)
    draw_box(window, *TOOTH)
    fixture_item, tooth_item = window.boxes.table.item(0, 0), window.boxes.table.item(1, 0)
    assert fixture_item.toolTip() == "" and fixture_item.icon().isNull()
    assert "root-filled tooth" in tooth_item.toolTip() and not tooth_item.icon().isNull()
    window.boxes.table.selectRow(1)
    assert window.statusBar().currentMessage().startswith("Box 2: Only ")
    window.boxes.table.item(1, 1).setCheckState(window.boxes.table.item(1, 1).checkState().Checked)
    assert window.session.document.boxes[1].difficult
    assert window.boxes.table.item(1, 0).toolTip() == ""


def test_only_implant_labels_without_a_system_are_checked_and_the_image_is_read_once(tmp_path, monkeypatch):
    from implant_desk.core.models import preprocess

    write_audit_film(tmp_path / "film.png")
    radiograph = load_radiograph(tmp_path / "film.png")
    reads = []
    monkeypatch.setattr(preprocess, "grey8", lambda r, grey8=preprocess.grey8: reads.append(r) or grey8(r))
    doubts = LabelDoubts()
    boxes = [Box("Implant", *TOOTH), Box("Fillings", *TOOTH), Box("tapered-V-bone-level", *TOOTH),
             Box("fixture", *FIXTURE)]
    assert list(doubts.doubted(boxes, radiograph)) == [0]
    assert list(doubts.doubted(boxes[::-1], radiograph)) == [3] and len(reads) == 1  # every edit: not read again
    assert doubts.doubted(boxes, None) == {} and doubts.doubted(boxes[1:3], radiograph) == {}
