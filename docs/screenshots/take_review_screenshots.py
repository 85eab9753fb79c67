"""Re-create the review screenshots (issue 13) in this folder (run under a display, e.g. ``xvfb-run -a``).

    xvfb-run -a python docs/screenshots/take_review_screenshots.py [OUT_DIR]

Generates fourteen DICOM radiographs (seeded), keeps eight annotated by hand (two verified), pre-annotates the
other six with the shipped model (the code behind Tools > Review > Pre-annotate folder and
``implant-desk predict --propose``), opens the most uncertain image, accepts one proposal and moves to the next,
then grabs the window, and the fine-tune dialog's plan. Nothing outside a temporary folder is written but PNGs.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPLANT_DESK_HOME"] = str(Path(tmp) / "home")
        from implant_desk.app.finetune import open_finetune
        from implant_desk.app.launch import load_image
        from implant_desk.app.main_window import MainWindow
        from implant_desk.app.settings import Settings
        from implant_desk.core.annotations import voc
        from implant_desk.core.models.predictor import Predictor
        from implant_desk.core.registry import model_systems
        from implant_desk.core.review.propose import propose_folder
        from implant_desk.core.synthetic.generator import generate_series
        from implant_desk.core.synthetic.writer import write_dataset

        folder = Path(tmp) / "radiographs"
        systems = model_systems()  # the shipped model pre-annotates them
        write_dataset(folder, generate_series(14, 5, systems), "dicom", 5, systems)
        for xml in sorted(folder.glob("image_*.xml"))[8:]:
            xml.unlink()  # not annotated yet
        for xml in sorted(folder.glob("image_*.xml"))[:2]:
            annotation = voc.read_voc(xml)
            annotation.verified = True
            voc.write_voc(xml, annotation)
        propose_folder(Predictor.from_folder(REPO / "models" / "default", "cpu"), folder)

        app = QApplication.instance() or QApplication(sys.argv[:1])
        window = MainWindow(Settings(), load_image)
        window.resize(1400, 860)
        window.show()
        window.load_taxonomy()
        window.open_folder(folder)
        window.review.actions["next_to_review"].trigger()  # Shift+D: the most uncertain image
        window.review.actions["accept_proposal"].trigger()  # Y
        window.review.actions["next_proposal"].trigger()  # N

        def shot(name: str, widget=None) -> None:
            for _ in range(5):
                app.processEvents()
            (widget or window).grab().save(str(out / name))
            print(out / name)

        shot("review-proposals.png")
        window.files.status_filter.setCurrentText("proposed")
        shot("review-filter-proposed.png")
        window.files.status_filter.setCurrentIndex(0)
        window.actions["save"].trigger()
        dialog = open_finetune(window)
        dialog.retrain_every.setValue(10)
        for _ in range(200):
            app.processEvents()
            if dialog.plan is not None:
                break
            QApplication.instance().thread().msleep(50)
        shot("review-finetune-plan.png", dialog)
        window.session.document.mark_saved()
        dialog.close()
        window.close()


if __name__ == "__main__":
    main()
