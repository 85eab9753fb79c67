"""Renders implant-desk.svg to implant-desk.png (256 px) with Qt's SVG renderer: ``python render_icon.py``."""

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZE = 256

if __name__ == "__main__":
    app = QGuiApplication(sys.argv[:1])
    here = Path(__file__).resolve().parent
    renderer = QSvgRenderer(str(here / "implant-desk.svg"))
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if not image.save(str(here / "implant-desk.png")):
        sys.exit("could not write implant-desk.png")
