"""Implant systems as data: one CSV row per system, named after its design, never after a brand.

The columns are the design categories of the implant-design study (coronal, middle and apical thirds).
Adding a system is adding a row; ``load_systems`` validates every cell so a typo is reported in words.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from implant_desk.core.errors import FileProblem

BODIES = ("straight", "tapered")
THREADS = ("V", "square", "buttress", "reverse-buttress")
CORONALS = ("bone-level", "tissue-level")
HOLES = ("none", "round", "oval")
APEXES = ("flat", "round", "pointed")
COLUMNS = ("name", "body", "thread", "pitch_mm", "coronal", "microthreads", "apical_groove", "apical_hole",
           "apex", "diameter_min_mm", "diameter_max_mm", "length_min_mm", "length_max_mm")
PART_NAMES = ("coronal", "middle", "apical")
PITCHES = ("fine", "regular", "coarse")  # thread pitch as read on a film: under 0.8 mm, 0.8-1.1 mm, over 1.1 mm

# The design attributes a film shows, per third of the fixture (the implant-design study's zones): what the model
# reads and what a catalogue system is ranked by. Name -> (zone, values).
ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "coronal": ("coronal", CORONALS),
    "microthreads": ("coronal", ("yes", "no")),
    "body": ("middle", BODIES),
    "thread": ("middle", THREADS),
    "pitch": ("middle", PITCHES),
    "apex": ("apical", APEXES),
    "apical_hole": ("apical", HOLES),
    "apical_groove": ("apical", ("yes", "no")),
}


def pitch_class(pitch_mm: float) -> str:
    return "fine" if pitch_mm < 0.8 else "regular" if pitch_mm <= 1.1 else "coarse"


class SystemsFileError(FileProblem):
    """The implant systems file is missing, malformed or has an impossible value."""


@dataclass(frozen=True)
class ImplantSystem:
    name: str
    body: str
    thread: str
    pitch_mm: float
    coronal: str
    microthreads: bool
    apical_groove: bool
    apical_hole: str
    apex: str
    diameter_mm: tuple[float, float]
    length_mm: tuple[float, float]

    def attributes(self) -> dict[str, str]:
        """The system's value of every design attribute (``ATTRIBUTES``), as the model reads them."""
        yes_no = {True: "yes", False: "no"}
        return {"coronal": self.coronal, "microthreads": yes_no[self.microthreads], "body": self.body,
                "thread": self.thread, "pitch": pitch_class(self.pitch_mm), "apex": self.apex,
                "apical_hole": self.apical_hole, "apical_groove": yes_no[self.apical_groove]}

    def part_label(self, part: str) -> str:
        """The design attributes of one third, e.g. ``middle:tapered+V``, used as the part box's label."""
        if part == "coronal":
            return f"coronal:{self.coronal}+{'microthreads' if self.microthreads else 'no-microthreads'}"
        if part == "middle":
            return f"middle:{self.body}+{self.thread}"
        if part == "apical":
            groove = "groove" if self.apical_groove else "no-groove"
            return f"apical:{groove}+hole-{self.apical_hole}+apex-{self.apex}"
        raise ValueError(f"unknown part {part!r}")


def default_systems_path() -> Path:
    return Path(str(resources.files("implant_desk") / "resources" / "implant_systems.csv"))


def load_systems(path: str | Path | None = None) -> list[ImplantSystem]:
    path = Path(path) if path is not None else default_systems_path()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SystemsFileError(path, f"the implant systems file lacks the column(s) {', '.join(missing)}")
            rows = [row for row in reader if any((value or "").strip() for value in row.values())]
    except OSError as exc:
        raise SystemsFileError(path, f"cannot read the implant systems file ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SystemsFileError(path, f"the implant systems file is not a readable CSV table ({exc})") from exc
    systems = [_parse_row(path, number, row) for number, row in enumerate(rows, start=2)]
    names = [s.name for s in systems]
    if len(systems) < 2:
        raise SystemsFileError(path, "at least two implant systems are needed to tell them apart")
    if len(set(names)) != len(names):
        raise SystemsFileError(path, "two implant systems have the same name")
    return systems


def _parse_row(path: Path, line: int, row: dict[str, str]) -> ImplantSystem:
    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    def choice(column: str, allowed: tuple[str, ...]) -> str:
        value = cell(column)
        if value not in allowed:
            raise SystemsFileError(path, f"line {line}: {column} is {value!r}, expected one of {', '.join(allowed)}")
        return value

    def number(column: str, low: float, high: float) -> float:
        try:
            value = float(cell(column))
        except ValueError:
            raise SystemsFileError(path, f"line {line}: {column} must be a number, not {cell(column)!r}") from None
        if not low <= value <= high:
            raise SystemsFileError(path, f"line {line}: {column} = {value:g} is outside {low:g}-{high:g}")
        return value

    name = cell("name")
    if not name or any(ch.isspace() for ch in name):
        raise SystemsFileError(path, f"line {line}: a system needs a name without spaces (it becomes a box label)")
    diameter = (number("diameter_min_mm", 2.5, 7.0), number("diameter_max_mm", 2.5, 7.0))
    length = (number("length_min_mm", 5.0, 18.0), number("length_max_mm", 5.0, 18.0))
    if diameter[0] > diameter[1] or length[0] > length[1]:
        raise SystemsFileError(path, f"line {line}: a minimum is larger than its maximum")
    return ImplantSystem(
        name=name, body=choice("body", BODIES), thread=choice("thread", THREADS),
        pitch_mm=number("pitch_mm", 0.4, 2.0), coronal=choice("coronal", CORONALS),
        microthreads=choice("microthreads", ("yes", "no")) == "yes",
        apical_groove=choice("apical_groove", ("yes", "no")) == "yes",
        apical_hole=choice("apical_hole", HOLES), apex=choice("apex", APEXES),
        diameter_mm=diameter, length_mm=length,
    )
