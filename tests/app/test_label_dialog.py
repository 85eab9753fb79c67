"""The label dialog itself: typing filters the list, a click picks, Enter accepts, an empty label does not."""

from PySide6.QtCore import Qt

from implant_desk.app.dialogs.label_dialog import LabelDialog


def test_label_dialog_filters_picks_and_accepts(qtbot):
    dialog = LabelDialog(["implant", "crown", "apical:groove"], "implant")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.edit.clear()
    qtbot.keyClicks(dialog.edit, "ap")
    visible = [dialog.list.item(r).text() for r in range(dialog.list.count()) if not dialog.list.item(r).isHidden()]
    assert visible == ["apical:groove"]
    dialog.list.itemClicked.emit(dialog.list.item(2))
    with qtbot.waitSignal(dialog.accepted, timeout=30_000):
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    assert dialog.label() == "apical:groove"


def test_empty_label_is_not_accepted(qtbot):
    dialog = LabelDialog(["implant"], "")
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.assertNotEmitted(dialog.accepted):
        qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)


def test_words_filter_in_any_order_and_long_design_names_fit(qtbot):
    names = ["tapered-V-bone-level-external-hex-flat-apex", "tapered-V-bone-level",
             "straight-V-bone-level-external-hex", "apical:groove+hole-oval+apex-round"]
    dialog = LabelDialog(names, "")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.edit, "HEX tapered")
    visible = [dialog.list.item(r).text() for r in range(dialog.list.count()) if not dialog.list.item(r).isHidden()]
    assert visible == ["tapered-V-bone-level-external-hex-flat-apex"]
    widest = max(dialog.list.fontMetrics().horizontalAdvance(name) for name in names)
    assert dialog.list.viewport().width() >= widest  # the whole name shows, not its first half
