"""User story: a LabelImg user opens folders LabelImg wrote (VOC beside the images; YOLO in a save folder).

Files from ``../shared/data`` (LabelImg 1.8.6, MIT; dental-xray: Roboflow "dental-uispo/-bhjcu" v2, CC BY 4.0),
copied into tmp_path first: the window must show their boxes and leave files it did not edit byte-identical.
"""

import shutil


def test_labelimg_voc_folder_opens_and_is_left_untouched(window, shared_data, tmp_path):
    folder = tmp_path / "dental"
    shutil.copytree(shared_data / "labelimg" / "written-by-labelimg" / "dental", folder)
    before = {p.name: p.read_bytes() for p in folder.glob("*.xml")}
    window.open_folder(folder)
    assert len(window.navigator.items) == len(before)
    for _ in before:
        assert window.session.document is not None and window.session.document.boxes
        window.actions["next_image"].trigger()
    assert {p.name: p.read_bytes() for p in folder.glob("*.xml")} == before


def test_yolo_labels_in_a_save_folder(window, shared_data, tmp_path):
    source = shared_data / "dental-xray"
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    shutil.copy(source / "labels" / "classes.txt", labels)
    for image in sorted((source / "images").iterdir())[:3]:
        shutil.copy(image, images)
        shutil.copy(source / "labels" / f"{image.stem}.txt", labels)
    window.session.save_dir = labels
    window.open_folder(images)
    assert all(item.status == "annotated" for item in window.navigator.items)
    names = {"Cavity", "Fillings", "Impacted Tooth", "Implant"}
    assert window.session.document.boxes and {b.label for b in window.session.document.boxes} <= names


def test_the_yolo_layout_shows_its_boxes_and_fine_tune_reads_the_same(window, tmp_path):
    """Ultralytics' images/ beside labels/ (here split into train/): no save folder to choose, the editor shows
    the boxes, and the fine-tune dialog is pointed at the same folder and reads the same annotations."""
    from implant_desk.app.finetune import current_folder
    from implant_desk.app.finetune.controller import make_plan
    from implant_desk.core.annotations.folder_io import read_folder, write_folder

    from training_folders import write_training_folder

    source = write_training_folder(tmp_path / "voc", patients=4)
    images, labels = tmp_path / "data" / "images" / "train", tmp_path / "data" / "labels" / "train"
    shutil.copytree(source, images, ignore=shutil.ignore_patterns("*.xml"))
    write_folder(read_folder(source), labels, "yolo")
    window.open_folder(images)
    assert window.session.save_dir == labels
    assert {item.status for item in window.navigator.items} == {"annotated"}
    assert len(window.session.document.boxes) == 2
    assert current_folder(window) == (images, None)
    assert make_plan(images).describe.startswith("8 images, 16 fixtures")
