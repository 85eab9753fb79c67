"""User story: every edit can be undone and redone, with LabelImg's keys plus Ctrl+Z / Ctrl+Shift+Z."""

from PySide6.QtCore import Qt

from app_helpers import draw_box


def test_undo_redo_create_move_relabel_difficult_delete(window, image_folder, answers, qtbot):
    window.open_folder(image_folder)
    answers.labels = ["implant", "crown"]
    draw_box(window, 20, 20, 80, 80)
    document = window.session.document
    window.canvas.set_selected(0)
    window.move_selected(5, 0)
    window.edit_label(0)
    window.toggle_difficult()
    window.delete_box()
    assert document.boxes == ()
    steps = []
    while document.can_undo:
        window.actions["undo"].trigger()
        steps.append([(b.label, b.xmin, b.difficult) for b in document.boxes])
    assert steps == [[("crown", 25, True)], [("crown", 25, False)], [("implant", 25, False)],
                     [("implant", 20, False)], []]
    assert not window.session.dirty
    for _ in steps:
        window.actions["redo"].trigger()
    assert document.boxes == ()


def test_keyboard_shortcuts_reach_the_window(window, image_folder, answers, qtbot):
    window.open_folder(image_folder)
    answers.labels = ["implant"]
    draw_box(window, 20, 20, 80, 80)
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.session.document.boxes == ()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(window.session.document.boxes) == 1
    window.canvas.set_selected(0)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.session.document.boxes[0].xmin == 30  # Shift+arrow: ten pixels


def test_edit_label_action_relabels_the_selected_box(window, image_folder, answers):
    window.open_folder(image_folder)
    answers.labels = ["implant", "implant", "crown"]
    draw_box(window, 20, 20, 80, 80)
    draw_box(window, 100, 20, 180, 80)
    window.canvas.set_selected(1)
    window.actions["edit_label"].trigger()
    assert [b.label for b in window.session.document.boxes] == ["implant", "crown"]


def test_letter_keys_draw_and_navigate_as_in_labelimg(window, image_folder, answers, qtbot):
    window.open_folder(image_folder)
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_W)
    assert window.canvas.mode() == "create"
    qtbot.keyClick(window.canvas, Qt.Key.Key_D)
    assert window.session.image_path.name == "img2.tif"
    qtbot.keyClick(window.canvas, Qt.Key.Key_A)
    assert window.session.image_path.name == "img1.png"
    qtbot.keyClick(window.canvas, Qt.Key.Key_Space)
    assert window.session.document.verified
