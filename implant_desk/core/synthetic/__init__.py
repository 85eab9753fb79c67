"""Generated periapical radiographs with exact ground truth (systems, boxes, parts, sizes, patients).

Pure numpy/OpenCV and deterministic from a seed: ``generate_series(count, seed, load_systems())`` yields
``SyntheticImage`` objects; ``write_dataset`` writes them with VOC files and ``truth.json``; the demo folder comes
from ``make_demo_folder(systems)``. Implant systems are rows of the catalogue (``implant_desk.core.catalogue``).
"""

from __future__ import annotations

from implant_desk.core.synthetic.demo import make_demo_folder
from implant_desk.core.synthetic.generator import FixtureTruth, PartTruth, SyntheticImage, generate_series
from implant_desk.core.catalogue import ImplantSystem, SystemsFileError, load_systems
from implant_desk.core.synthetic.writer import FORMATS, write_dataset

__all__ = ["FORMATS", "FixtureTruth", "ImplantSystem", "PartTruth", "SyntheticImage", "SystemsFileError",
           "generate_series", "load_systems", "make_demo_folder", "write_dataset"]
