"""Re-create the annotation window screenshots in this folder (run under a display, e.g. ``xvfb-run -a``).

    xvfb-run -a python docs/screenshots/take_screenshots.py [OUT_DIR]

Generates six DICOM radiographs with the synthetic generator (seeded), adds a damaged file, opens the window
on them and grabs each view with QWidget.grab(). Nothing outside a temporary folder is written except the PNGs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPLANT_DESK_HOME"] = str(Path(tmp) / "home")
        from implant_desk.app.controllers.display import HIGH_CONTRAST
        from implant_desk.app.dialogs.label_dialog import LabelDialog
        from implant_desk.app.launch import load_image
        from implant_desk.app.main_window import MainWindow
        from implant_desk.app.settings import Settings
        from implant_desk.core.synthetic.generator import generate_series
        from implant_desk.core.catalogue.systems import load_systems
        from implant_desk.core.synthetic.writer import write_dataset

        folder = Path(tmp) / "radiographs"
        systems = load_systems()
        write_dataset(folder, generate_series(6, 7, systems), "dicom", 7, systems)
        (folder / "image_0003.xml").unlink()  # one not annotated yet
        (folder / "image_0004b.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 20)  # a damaged file

        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow(Settings(), load_image)
        window.resize(1400, 860)
        window.show()
        window.load_taxonomy()
        window.open_folder(folder)
        boxes = window.session.document.boxes
        widest = max(range(len(boxes)), key=lambda i: boxes[i].width)  # a fixture fully inside the image
        window.canvas.set_selected(widest)
        window.boxes.set_selected(widest)
        app.processEvents()

        def shot(name: str, widget=None) -> None:
            for _ in range(3):
                app.processEvents()
            (widget or window).grab().save(str(out / name))
            print(out / name)

        shot("annotate-window.png")
        window.apply_preset(HIGH_CONTRAST)
        window.display.invert.setChecked(True)
        shot("display-inverted-high-contrast.png")
        window.display.invert.setChecked(False)
        window.display.clahe.setChecked(True)
        shot("display-clahe.png")
        window.display.clahe.setChecked(False)
        window.apply_preset("From the file")

        window.canvas.set_mode("ruler")
        fixture = boxes[widest]
        geometry = window.canvas.geometry_snapshot()
        start = QPointF(*geometry.to_screen((fixture.xmin + fixture.xmax) / 2, fixture.ymin))
        end = QPointF(*geometry.to_screen((fixture.xmin + fixture.xmax) / 2, fixture.ymax))
        drag(window.canvas.viewport(), start, end)
        shot("ruler.png")
        window.canvas.set_mode("edit")

        window.show_image(window.navigator.index_of(folder / "image_0004b.dcm"))
        shot("damaged-file.png")
        window.files.status_filter.setCurrentText("not annotated")
        shot("file-filter-not-annotated.png")
        window.files.status_filter.setCurrentText("All")

        dialog = LabelDialog(window.labels.choices(), window.labels.choices()[0], window)
        dialog.resize(360, 420)
        dialog.show()
        shot("label-dialog.png", dialog)
        dialog.close()
        window.close()


def drag(widget, start: QPointF, end: QPointF) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QMouseEvent

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    for kind, point, button, buttons in ((QEvent.Type.MouseButtonPress, start, left, left),
                                         (QEvent.Type.MouseMove, (start + end) / 2, none, left),
                                         (QEvent.Type.MouseMove, end, none, left),
                                         (QEvent.Type.MouseButtonRelease, end, left, none)):
        QApplication.sendEvent(widget, QMouseEvent(kind, point, widget.mapToGlobal(point), button, buttons,
                                                   Qt.KeyboardModifier.NoModifier))


if __name__ == "__main__":
    main()
