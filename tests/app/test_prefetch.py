"""User story: pressing D shows the next radiograph from memory; it was decoded while the user worked."""

import threading

from implant_desk.app import launch
from implant_desk.app.main_window import MainWindow
from implant_desk.app.prefetch import Prefetcher
from implant_desk.app.settings import Settings


def test_next_image_comes_from_the_background_prefetch(qtbot, image_folder, answers):
    loads = []

    def counting_loader(path):
        loads.append((path.name, threading.current_thread() is threading.main_thread()))
        return launch.load_image(path)

    window = MainWindow(Settings(), counting_loader)
    qtbot.addWidget(window)
    window.open_folder(image_folder)
    window.prefetcher.wait()
    assert ("img2.tif", False) in loads and window.prefetcher.is_cached(image_folder / "img2.tif")
    window.actions["next_image"].trigger()
    assert window.session.image_path.name == "img2.tif"
    assert [name for name, on_gui_thread in loads if on_gui_thread] == ["img1.png"]  # only the first was waited for
    window.prefetcher.wait()


def test_when_loaded_calls_back_once_the_image_is_in_memory(qtbot, image_folder):
    prefetcher = Prefetcher(launch.load_image)
    calls = []
    film = image_folder / "img2.tif"
    prefetcher.when_loaded(film, lambda: calls.append(prefetcher.is_cached(film)))
    qtbot.waitUntil(lambda: calls == [True])  # decoded on the pool, called back on the GUI thread
    prefetcher.when_loaded(film, lambda: calls.append("cached"))
    assert calls == [True, "cached"]  # already in memory: at once
    prefetcher.wait()
