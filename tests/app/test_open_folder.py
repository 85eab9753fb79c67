"""User story: a dentist opens a folder of radiographs and sees the files, their status and the first image."""

import threading
from pathlib import Path

from PySide6.QtCore import Qt

from implant_desk.app.launch import load_image, on_screen, open_from_command_line, parse_args
from implant_desk.app.settings import Settings


def test_open_folder_lists_images_with_status_and_shows_the_first(window, image_folder, qtbot):
    (image_folder / "img3.xml").write_text('<annotation verified="yes"><filename>img3.png</filename></annotation>')
    window.open_folder(image_folder)
    model = window.files.model
    names = [model.index(row).data() for row in range(model.rowCount())]
    assert names == ["img1.png", "img2.tif", "img2b_damaged.png", "img3.png"]
    assert [item.status for item in window.navigator.items][3] == "verified"
    assert window.session.image_path == image_folder / "img1.png"
    assert window.radiograph is not None and window.radiograph.pixels.dtype.name == "uint16"
    window.canvas.cursorMoved.emit(10.4, 20.7)  # the pixel under the mouse
    assert "x 10  y 21 px" in window.cursor_label.text()
    assert f"value {window.radiograph.pixels[20, 10]}" in window.cursor_label.text()


def test_command_line_opens_a_file_with_classes_and_save_folder_and_identifies_it(window, image_folder, tmp_path,
                                                                                  fake_model, qtbot):
    classes = tmp_path / "predefined_classes.txt"
    classes.write_text("dog\nperson\ncat\n")  # LabelImg's own file, as is
    save_dir = tmp_path / "labels"
    save_dir.mkdir()
    with qtbot.waitSignal(window.identify_panel.worker.explained, timeout=60_000):
        open_from_command_line(window, parse_args([str(image_folder / "img3.png"), str(classes), str(save_dir)]))
    assert window.session.image_path == image_folder / "img3.png"
    assert window.labels.classes[:3] == ["dog", "person", "cat"]
    assert window.session.save_dir == save_dir
    # One film on the command line (a double-clicked .dcm): its answer comes without asking, then its heat maps.
    assert fake_model.calls == 1 and window.identify_panel.controller.radiograph is window.radiograph
    qtbot.waitUntil(lambda: window.identify_panel.controller.fixtures[0].explanation is not None)


def test_a_film_on_the_command_line_is_decoded_while_the_window_answers(window, image_folder, fake_model, qtbot):
    on_gui_thread = []

    def loader(path):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return load_image(path)

    window.prefetcher.loader = loader
    film = image_folder / "img3.png"
    on_screen(window, parse_args([str(film)]))  # the launch calls this once the window is painted
    assert window.session.image_path is None  # not yet: the film (and its codecs' imports) is read on a thread
    qtbot.waitUntil(lambda: window.identify_panel.controller.has_result, timeout=60_000)
    assert window.session.image_path == film and fake_model.calls == 1  # then shown and identified, as before
    assert on_gui_thread and not any(on_gui_thread)


def test_a_folder_on_the_command_line_is_not_identified_unasked(window, image_folder, fake_model):
    open_from_command_line(window, parse_args([str(image_folder)]))
    window.identify_panel.worker.wait()
    assert window.radiograph is not None and fake_model.calls == 0


def test_no_arguments_reopens_the_last_folder(window, image_folder):
    window.settings.last_folder = str(image_folder)
    window.settings.last_file = str(image_folder / "img2.tif")
    open_from_command_line(window, parse_args([]))
    assert window.session.image_path == Path(image_folder / "img2.tif")


def test_settings_remember_the_folder_on_close(window, image_folder):
    window.open_folder(image_folder)
    window.close()
    assert Settings.load().last_folder == str(image_folder)


def test_label_picker_offers_the_implant_taxonomy(window):
    window.load_taxonomy()
    offered = [window.label_picker.list.item(row).text() for row in range(window.label_picker.list.count())]
    assert any(label.startswith("middle:") for label in offered)
    assert window.label_picker.list.item(0).toolTip().startswith("Implant system")


def test_panels_and_tools_have_a_place(window):
    from PySide6.QtWidgets import QDockWidget

    panel = QDockWidget("Identify")
    window.add_panel(panel)
    assert window.dockWidgetArea(panel) == window.dockWidgetArea(window.display)
    assert window.tools_menu() is window.tools_menu()
    assert window.tools_menu().title() == "&Tools"


def test_a_missing_folder_on_the_command_line_opens_nothing(window, tmp_path):
    open_from_command_line(window, parse_args([str(tmp_path / "nowhere")]))
    assert window.session.document is None and window.navigator.items == []


def test_typing_a_name_in_the_files_list_opens_that_image(window, image_folder, qtbot):
    """Type-ahead (Roboflow names start with digits; letters are LabelImg's shortcuts) and the arrow keys move
    the list: the canvas shows the image the list selects."""
    for number, name in ((26, "img1.png"), (31, "img2.tif"), (32, "img3.png")):
        (image_folder / name).rename(image_folder / f"{number:04d}_jpg{Path(name).suffix}")
    window.open_folder(image_folder)
    view = window.files.view
    view.setFocus()
    qtbot.keyClicks(view, "0031")
    assert view.currentIndex().data() == "0031_jpg.tif" and window.session.image_path.name == "0031_jpg.tif"
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().data() == "0032_jpg.png" and window.session.image_path.name == "0032_jpg.png"
    assert window.radiograph.path == str(image_folder / "0032_jpg.png")


def test_the_list_goes_back_to_the_open_image_when_the_user_stays_on_it(window, image_folder, answers, qtbot):
    from implant_desk.app.dialogs import ask

    from app_helpers import draw_box

    window.open_folder(image_folder)
    window.actions["auto_save"].setChecked(False)
    answers.labels = ["implant"]
    draw_box(window, 30, 30, 90, 120)
    answers.unsaved = [ask.CANCEL]  # "stay on this image"
    window.files.view.setFocus()
    qtbot.keyClick(window.files.view, Qt.Key.Key_Down)
    assert window.session.image_path.name == "img1.png"
    qtbot.waitUntil(lambda: window.files.view.currentIndex().data() == "img1.png", timeout=30_000)
    window.save()
