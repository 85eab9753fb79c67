"""User story: LabelImg's single-class and default-label modes label new boxes without asking."""

from app_helpers import draw_box


def test_single_class_mode_repeats_the_first_label(window, image_folder, answers):
    window.open_folder(image_folder)
    window.label_picker.single_class.setChecked(True)
    answers.labels = ["implant"]
    draw_box(window, 10, 10, 60, 60)
    draw_box(window, 100, 10, 160, 60)
    assert [b.label for b in window.session.document.boxes] == ["implant", "implant"]
    assert answers.asked == ["label"]
    assert window.actions["single_class"].isChecked() and window.settings.single_class


def test_default_label_mode_and_picking_a_label_for_the_selected_box(window, image_folder, answers):
    window.open_folder(image_folder)
    window.label_picker.default_label.setText("fixture")
    window.label_picker.use_default.setChecked(True)
    draw_box(window, 10, 10, 60, 60)
    assert [b.label for b in window.session.document.boxes] == ["fixture"] and answers.asked == []
    window.canvas.set_selected(0)
    window.label_picker.labelChosen.emit("apical")  # double-click in the label list
    assert window.session.document.boxes[0].label == "apical"
