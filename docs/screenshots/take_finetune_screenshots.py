"""Re-create ``finetune-before.png``, ``-during``, ``-after`` and ``-confusion``: Tools > Fine-tune on
generated radiographs, before the start, while a short real run trains, and at the end.

    xvfb-run -a python docs/screenshots/take_finetune_screenshots.py [--images 40] [--epochs 5] [--out DIR]

A short run from the shipped model (version 1), so the pictures take minutes on a laptop CPU; the figures it
shows are what that short run reached, not what a full run reaches. Nothing outside a temporary folder is
written except the PNGs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

HERE = Path(__file__).resolve().parent


def wait_until(app: QApplication, condition, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the dialog did not get there in time")
        app.processEvents()
        time.sleep(0.05)
    app.processEvents()


def activate_shipped_model() -> None:
    """The shipped model is version 1 (read-only); activating it makes the comparison show it by number."""
    from implant_desk.core.registry import DEFAULT_VERSION, Registry

    Registry().activate(DEFAULT_VERSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["IMPLANT_DESK_HOME"] = str(Path(tmp) / "home")
        app = QApplication.instance() or QApplication([])
        from implant_desk.app.finetune.controller import FinetuneOptions
        from implant_desk.app.finetune.dialog import FinetuneDialog
        from implant_desk.app.finetune.session import FINISHED
        from implant_desk.core.registry import model_systems
        from implant_desk.core.synthetic import generate_series, write_dataset

        folder = Path(tmp) / "lab"
        systems = model_systems()  # fine-tuned from the shipped model, on the systems it names
        write_dataset(folder, generate_series(args.images, args.seed, systems), "dicom", args.seed, systems)
        activate_shipped_model()
        options = FinetuneOptions(epochs=args.epochs, patience=0, device="cpu", fit_overrides={"head_epochs": 2})
        dialog = FinetuneDialog(folder, options=options)
        dialog.show()
        wait_until(app, lambda: dialog.plan is not None, 120)
        dialog.grab().save(str(args.out / "finetune-before.png"))
        dialog.start()
        wait_until(app, lambda: dialog.final is not None or (
            len(dialog.session.progress.epoch_loss) >= min(3, args.epochs - 1) and dialog.session.progress.step >= 1), 3600)
        if dialog.final is None:
            dialog.grab().save(str(args.out / "finetune-during.png"))
        wait_until(app, lambda: dialog.final is not None, 3600)
        if dialog.state != FINISHED:
            raise SystemExit(f"the run did not finish: {dialog.final}")
        dialog.grab().save(str(args.out / "finetune-after.png"))
        dialog.result_tabs.setCurrentIndex(1)
        app.processEvents()
        dialog.grab().save(str(args.out / "finetune-confusion.png"))


if __name__ == "__main__":
    main()
