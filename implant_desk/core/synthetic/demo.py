"""The demo folder: generated radiographs made once and kept in the user's data folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from implant_desk.core.catalogue.systems import ImplantSystem
from implant_desk.core.paths import user_data_dir
from implant_desk.core.synthetic.generator import generate_series
from implant_desk.core.synthetic.writer import TRUTH_FILE, write_dataset

DEMO_IMAGES = 40  # about 12 patients of 2 to 5 visits each
DEMO_SEED = 2024
DEMO_FOLDER = "demo"


def make_demo_folder(systems: list[ImplantSystem]) -> Path:
    """The demo folder of fixtures of ``systems`` (those the model that will name them knows), made on first use.
    It is built in a temporary folder and renamed into place, so a crash or a second process never leaves a
    half-made demo that would be mistaken for a finished one."""
    data = user_data_dir()
    folder = data / DEMO_FOLDER
    if (folder / TRUTH_FILE).is_file():
        return folder
    data.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".demo-", dir=data))
    try:
        write_dataset(building, generate_series(DEMO_IMAGES, DEMO_SEED, systems), "dicom", DEMO_SEED, systems,
                      final_folder=folder)
        if folder.exists() and not (folder / TRUTH_FILE).is_file():
            shutil.rmtree(folder)  # a folder left by something else, without the finished marker
        building.rename(folder)
    except OSError:
        if not (folder / TRUTH_FILE).is_file():  # another process finished first: its folder is as good
            raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return folder
