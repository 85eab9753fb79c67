"""User story: Ctrl+R sends annotations to a folder apart from the images, as in LabelImg."""

from app_helpers import draw_box


def test_change_save_folder(window, image_folder, tmp_path, answers, monkeypatch):
    labels = tmp_path / "labels"
    labels.mkdir()
    window.open_folder(image_folder)
    answers.labels = ["implant", "crown"]
    draw_box(window, 10, 10, 60, 60)
    window.set_save_dir(labels)  # the work so far is auto-saved where it belonged
    assert (image_folder / "img1.xml").exists()
    assert window.session.image_path.name == "img1.png" and window.session.document.boxes == ()
    assert window.navigator.items[0].status == "not annotated"  # statuses now come from the new folder
    draw_box(window, 20, 20, 90, 90)
    window.actions["save"].trigger()
    assert (labels / "img1.xml").exists() and "crown" in (labels / "img1.xml").read_text()
    assert window.settings.save_dir == str(labels)
