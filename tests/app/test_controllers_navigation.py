"""File navigation and filters, without a display."""

from pathlib import Path

from implant_desk.app.controllers.navigation import FileItem, FileNavigator, scan_folder
from implant_desk.core.annotations.folder import ANNOTATED, NOT_ANNOTATED, UNREADABLE, VERIFIED


def _navigator(statuses):
    return FileNavigator([FileItem(Path(f"/x/img{i}.png"), status) for i, status in enumerate(statuses)])


def test_next_and_previous_walk_the_filtered_list():
    nav = _navigator([NOT_ANNOTATED, ANNOTATED, NOT_ANNOTATED, VERIFIED, NOT_ANNOTATED])
    nav.current = 0
    assert nav.next_index(1) == 1
    nav.set_filters(status=NOT_ANNOTATED)
    assert nav.visible == [0, 2, 4]
    assert nav.next_index(1) == 2
    nav.current = 3  # the current image itself is filtered out: its neighbours are still found
    assert nav.next_index(1) == 4 and nav.next_index(-1) == 2
    nav.current = 4
    assert nav.next_index(1) == -1


def test_label_filter_uses_labels_learnt_from_annotations():
    nav = _navigator([ANNOTATED, ANNOTATED, NOT_ANNOTATED])
    nav.update(0, labels=frozenset({"fixture"}))
    nav.update(1, labels=frozenset({"apical"}))
    nav.set_filters(label="fixture")
    assert nav.visible == [0]
    assert nav.known_labels() == ["apical", "fixture"]


def test_unreadable_status_and_removal_keep_the_current_image_sensible():
    nav = _navigator([NOT_ANNOTATED] * 3)
    nav.current = 1
    nav.update(1, status=UNREADABLE, problem="truncated")
    assert nav.current_item.problem == "truncated"
    nav.remove(1)
    assert nav.current == 1 and nav.current_item.path.name == "img2.png"
    nav.remove(1)
    assert nav.current == 0


def test_ten_thousand_files_filter_quickly(tmp_path):
    nav = FileNavigator([FileItem(Path(f"/x/{i}.png"), ANNOTATED if i % 3 else NOT_ANNOTATED) for i in range(10_000)])
    nav.set_filters(status=NOT_ANNOTATED)
    assert len(nav.visible) == 3334


def test_scan_folder_reads_statuses(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_bytes(b"")
    (tmp_path / "b.xml").write_text('<annotation verified="yes"><filename>b.png</filename></annotation>')
    items = scan_folder(tmp_path)
    assert [(i.path.name, i.status) for i in items] == [("a.png", NOT_ANNOTATED), ("b.png", VERIFIED)]
