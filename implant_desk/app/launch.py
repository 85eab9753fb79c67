"""``implant-desk [IMAGE_DIR_OR_FILE] [CLASS_FILE] [SAVE_DIR]``: LabelImg's command line, opening the window.

The window is painted before the folder is read and before numpy or any image codec is imported, so it appears
fast; then the model loads in the background (on the CPU as ONNX graphs, without torch) while a film named on the
command line is decoded on another thread, so the window answers meanwhile. Launched on one film (a file manager's
double click on a .dcm), the app identifies it at once: the dentist at the chair wants that answer.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from implant_desk.core.imaging.radiograph import Radiograph

# Set (to anything), the app prints when its window is on screen and when the first answer is: how
# benchmarks/bench_startup.py times a launch from outside, a packaged build's included.
STARTUP_REPORT = "IMPLANT_DESK_STARTUP_REPORT"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="implant-desk", description="Open the annotation window.")
    parser.add_argument("image", nargs="?", help="an image folder, or one image (opens its folder at it)")
    parser.add_argument("class_file", nargs="?", help="a classes file (LabelImg's predefined_classes.txt)")
    parser.add_argument("save_dir", nargs="?", help="where annotations are saved (default: beside the images)")
    return parser.parse_args(argv)


def load_image(path: Path) -> Radiograph:
    from implant_desk.core.imaging.loading import load_radiograph  # codecs are imported when the first image opens

    return load_radiograph(path)


def launch(argv: list[str]) -> int:
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from implant_desk.app.main_window import MainWindow
    from implant_desk.app.settings import Settings
    from implant_desk.app.widgets import after_first_paint

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("implant_desk")
    settings = Settings.load()
    window = MainWindow(settings, load_image)
    window.show()
    after_first_paint(window, lambda: on_screen(window, args))
    return app.exec()


def on_screen(window, args: argparse.Namespace) -> None:
    """The window is painted: open what the command line names. One image is decoded on the prefetcher's thread
    first (with its codecs' imports, about half a second on 2 cores), so the window answers meanwhile."""
    if os.environ.get(STARTUP_REPORT):
        report_startup(window)
    window.identify_panel.preload()  # in the background: an identification will come
    image = Path(args.image) if args.image else None
    if image is None or not image.is_file():
        open_from_command_line(window, args)
        return
    window.canvas.set_message(f"Opening {image.name}…")
    window.prefetcher.when_loaded(image, lambda: open_from_command_line(window, args))


def report_startup(window) -> None:
    """Print ``window <time>`` now and ``answer <time>`` once the Identify panel holds its first result (times in
    seconds since the epoch, so that a process outside can subtract the moment it launched the app)."""
    print(f"window {time.time()}", flush=True)
    panel = window.identify_panel

    def answered() -> None:
        print(f"answer {time.time()}", flush=True)
        panel.resultShown.disconnect(answered)

    panel.resultShown.connect(answered)


def open_from_command_line(window, args: argparse.Namespace) -> None:
    """Apply the command line (or reopen the last folder) once the window is on screen."""
    window.load_taxonomy()
    settings = window.settings
    if args.save_dir:
        window.session.save_dir = Path(args.save_dir)
        settings.save_dir = args.save_dir
    class_file = args.class_file or settings.class_file
    if class_file and Path(class_file).is_file():
        window.load_classes(Path(class_file))
    target = args.image or settings.last_folder
    if target and Path(target).exists():
        opened = window.open_path(Path(target))
        if opened and args.image and Path(args.image).is_file():
            window.identify_panel.identify_in_view()
    else:
        missing = f"{args.image} does not exist.\n\n" if args.image else ""
        window.canvas.set_message(f"{missing}Open a folder of radiographs (Ctrl+U) or one image (Ctrl+O).")
