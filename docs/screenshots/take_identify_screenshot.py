"""Re-create ``identify.png``: the annotation window with the Identify panel after identifying a generated image
(or, with ``--film``, a copy of a real radiograph, as ``identify-real.png``; with ``--unseen``, fixtures of the
catalogue's systems the model was never trained on, as ``identify-design.png`` for a model that reads the design).

    xvfb-run -a python docs/screenshots/take_identify_screenshot.py [--model DIR] [--out DIR]
    xvfb-run -a python docs/screenshots/take_identify_screenshot.py --film ../shared/data/dental-xray/images/X.jpg
    xvfb-run -a python docs/screenshots/take_identify_screenshot.py --model DESIGN_MODEL --unseen --size 1500x1000 \
        --correct thread=buttress --correct body=tapered

The model (default: the shipped ``models/default``, version 1; another one is published into a temporary
registry and activated) is loaded by the panel exactly as it loads the active model for a user. The image is
identified twice, so the time shown is that of a loaded model (the first run also pays for loading it). Nothing
outside a temporary folder is written except the PNG.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QScrollArea

HERE = Path(__file__).resolve().parent


def publish(model: Path) -> None:
    from implant_desk.core.registry import Registry

    registry = Registry()
    with registry.staging() as staged:
        for name in ("card.json", "model.safetensors", "detector.onnx", "classifier.onnx"):
            if (model / name).is_file():
                shutil.copy(model / name, staged / name)
        version = registry.publish(staged)
    registry.activate(version.version)


def wait_for(signal, timeout_ms: int = 120000) -> None:
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=HERE.parents[1] / "models" / "default")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--seed", type=int, default=31)
    parser.add_argument("--threshold", type=int, default=50, help="the panel's threshold in percent")
    parser.add_argument("--film", type=Path, help="a real radiograph to identify (copied; never written)")
    parser.add_argument("--size", default="1500x950", help="the window's size, e.g. 1280x800")
    parser.add_argument("--unseen", action="store_true",
                        help="fixtures of the catalogue's systems the model was never trained on (ranked by design)")
    parser.add_argument("--correct", action="append", default=[], metavar="ATTRIBUTE=VALUE",
                        help="set a design attribute of the fixture shown, as a user does in the panel")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPLANT_DESK_HOME"] = str(Path(tmp) / "home")
        app = QApplication.instance() or QApplication([])
        from implant_desk.app.launch import load_image
        from implant_desk.app.main_window import MainWindow
        from implant_desk.app.settings import Settings
        from implant_desk.core.catalogue import shipped_catalogue
        from implant_desk.core.models.card import read_card
        from implant_desk.core.registry import model_systems
        from implant_desk.core.synthetic import generate_series, write_dataset

        if args.model.resolve() != (HERE.parents[1] / "models" / "default").resolve():
            publish(args.model.resolve())  # the shipped default is version 1 of every registry already
        folder = Path(tmp) / "radiographs"
        if args.film:
            folder.mkdir()
            shutil.copy(args.film, folder / args.film.name)
        else:
            trained = read_card(args.model).classes
            systems = ([system for system in shipped_catalogue().systems if system.name not in trained]
                       if args.unseen else model_systems(args.model))  # else fixtures of systems the model names
            write_dataset(folder, generate_series(2, args.seed, systems), "dicom", args.seed, systems)
            for xml in folder.glob("*.xml"):
                xml.unlink()  # not annotated yet: the panel's boxes are the only ones on screen
        window = MainWindow(Settings(), load_image)
        window.resize(*(int(v) for v in args.size.split("x")))
        window.show()
        window.open_folder(folder)
        panel = window.identify_panel
        panel.show()
        panel.raise_()
        window.resizeDocks([panel], [400], Qt.Orientation.Horizontal)
        window.resizeDocks([panel], [820 if args.unseen else 620], Qt.Orientation.Vertical)  # room for the design
        for _ in range(5):
            app.processEvents()
        panel.threshold.setValue(args.threshold)
        for _ in range(2):  # the second run shows the time of a warm model, as every run after the first
            panel.identify()
            wait_for(panel.worker.finished)
            if panel.controller.heat_maps_pending:  # they follow the answer
                wait_for(panel.worker.explained)
        uncertain = [i for i, fixture in enumerate(panel.controller.fixtures) if fixture.uncertain]
        if uncertain and not args.unseen:  # its candidate bars say the most
            panel.fixture_list.setCurrentRow(uncertain[0])
        for correction in args.correct:
            panel.design.choose(*correction.split("=", 1))
        if panel.controller.heat_maps_pending:  # the map of the candidate a correction put first
            wait_for(panel.worker.explained)
        app.processEvents()
        window.canvas.fit_window()
        if args.unseen:  # scrolled to the fixture's candidates and design read, below the list
            panel.findChild(QScrollArea).verticalScrollBar().setValue(panel.details.y())
        for _ in range(5):
            app.processEvents()
        args.out.mkdir(parents=True, exist_ok=True)
        name = "identify-real.png" if args.film else "identify-design.png" if args.unseen else "identify.png"
        window.grab().save(str(args.out / name))
        panel.shutdown()
        window.session.document.mark_saved()
        window.close()
        print(f"wrote {args.out / name}: {panel.summary.text()}")


if __name__ == "__main__":
    main()
