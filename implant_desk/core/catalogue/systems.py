"""Implant systems as data: one CSV row per system, named after its design, never after a brand.

The columns are the design categories of the implant-design study (coronal, middle and apical thirds).
Adding a system is adding a row; ``read_systems`` validates every cell so a typo is reported in words, with
its line. ``connection`` and ``reference`` came later: a file without them still loads (internal, no reference).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from implant_desk.core.errors import FileProblem

BODIES = ("straight", "tapered")
THREADS = ("V", "square", "buttress", "reverse-buttress")
CORONALS = ("bone-level", "tissue-level")
CONNECTIONS = ("internal", "external")  # external: a hex boss stands on the platform
HOLES = ("none", "round", "oval")
APEXES = ("flat", "round", "pointed")
COLUMNS = ("name", "body", "thread", "pitch_mm", "coronal", "microthreads", "apical_groove", "apical_hole",
           "apex", "diameter_min_mm", "diameter_max_mm", "length_min_mm", "length_max_mm")
# Columns a file may lack, with the value of a missing or empty cell; written after COLUMNS.
OPTIONAL_COLUMNS = {"connection": "internal", "reference": ""}
PART_NAMES = ("coronal", "middle", "apical")
PITCHES = ("fine", "regular", "coarse")  # thread pitch as read on a film: under 0.8 mm, 0.8-1.1 mm, over 1.1 mm
# Two systems of a catalogue should differ in at least this many attributes, so that one attribute misread on a
# film cannot make them look identical (``close_pairs`` lists those that do not).
MIN_DIFFERENCES = 2

# The design attributes a film shows, per third of the fixture (the implant-design study's zones): what the model
# reads and what a catalogue system is ranked by. Name -> (zone, values).
ATTRIBUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    "coronal": ("coronal", CORONALS),
    "microthreads": ("coronal", ("yes", "no")),
    "connection": ("coronal", CONNECTIONS),
    "body": ("middle", BODIES),
    "thread": ("middle", THREADS),
    "pitch": ("middle", PITCHES),
    "apex": ("apical", APEXES),
    "apical_hole": ("apical", HOLES),
    "apical_groove": ("apical", ("yes", "no")),
}


def zone_of(attribute: str) -> str | None:
    """The third (``PART_NAMES``) a design attribute is read in; None for an attribute this version does not know."""
    known = ATTRIBUTES.get(attribute)
    return known[0] if known else None


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
    connection: str = "internal"
    reference: str = ""  # where the design is described: free text or a link

    def attributes(self) -> dict[str, str]:
        """The system's value of every design attribute (``ATTRIBUTES``), as the model reads them."""
        yes_no = {True: "yes", False: "no"}
        return {"coronal": self.coronal, "microthreads": yes_no[self.microthreads], "connection": self.connection,
                "body": self.body, "thread": self.thread, "pitch": pitch_class(self.pitch_mm), "apex": self.apex,
                "apical_hole": self.apical_hole, "apical_groove": yes_no[self.apical_groove]}

    def part_label(self, part: str) -> str:
        """The design attributes of one third, e.g. ``middle:tapered+V+pitch-regular``, used as the part box's
        label."""
        return design_part_label(part, self.attributes())

    def to_json(self) -> dict:
        """Every field, and the design attributes as read on a film (truth.json, ``catalogue list --json``)."""
        return {**asdict(self), "attributes": self.attributes()}

    def cells(self) -> dict[str, str]:
        """The system as a CSV row (every column), as ``parse_row`` reads it back."""
        yes_no = {True: "yes", False: "no"}
        return {"name": self.name, "body": self.body, "thread": self.thread, "pitch_mm": f"{self.pitch_mm:g}",
                "coronal": self.coronal, "microthreads": yes_no[self.microthreads],
                "apical_groove": yes_no[self.apical_groove], "apical_hole": self.apical_hole, "apex": self.apex,
                "diameter_min_mm": f"{self.diameter_mm[0]:g}", "diameter_max_mm": f"{self.diameter_mm[1]:g}",
                "length_min_mm": f"{self.length_mm[0]:g}", "length_max_mm": f"{self.length_mm[1]:g}",
                "connection": self.connection, "reference": self.reference}


def design_part_label(part: str, design: Mapping[str, str]) -> str:
    """The label of one third's box from design attribute values (``ATTRIBUTES`` names -> values, as a system
    has them or as read on a film), e.g. ``middle:tapered+V+pitch-regular``: the label picker's part labels and
    what Accept writes. Raises KeyError when a value of that third is missing."""
    if part == "coronal":
        microthreads = "microthreads" if design["microthreads"] == "yes" else "no-microthreads"
        hex_boss = "+external-hex" if design["connection"] == "external" else ""
        return f"coronal:{design['coronal']}+{microthreads}{hex_boss}"
    if part == "middle":
        return f"middle:{design['body']}+{design['thread']}+pitch-{design['pitch']}"
    if part == "apical":
        groove = "groove" if design["apical_groove"] == "yes" else "no-groove"
        return f"apical:{groove}+hole-{design['apical_hole']}+apex-{design['apex']}"
    raise ValueError(f"unknown part {part!r}")


def attributes_from_part_label(label: str) -> dict[str, str]:
    """The design attributes a part label states (the reverse of ``design_part_label``), e.g.
    ``middle:tapered+V+pitch-fine`` -> body tapered, thread V, pitch fine. Words it does not know, and attributes
    stated twice over, are left out, so a lab's own wording teaches what it can (``middle:tapered+V``, as labels
    were written before the pitch was, teaches body and thread). A coronal label without ``external-hex`` states an
    internal connection."""
    part, _, rest = label.partition(":")
    words = set(rest.split("+"))
    read: dict[str, str] = {}

    def one_of(attribute: str, words_for: dict[str, str]) -> None:
        found = [value for word, value in words_for.items() if word in words]
        if len(found) == 1:
            read[attribute] = found[0]

    if part == "coronal":
        one_of("coronal", {value: value for value in CORONALS})
        one_of("microthreads", {"microthreads": "yes", "no-microthreads": "no"})
        if read:
            read["connection"] = "external" if "external-hex" in words else "internal"
    elif part == "middle":
        one_of("body", {value: value for value in BODIES})
        one_of("thread", {value: value for value in THREADS})
        one_of("pitch", {f"pitch-{value}": value for value in PITCHES})
    elif part == "apical":
        one_of("apical_groove", {"groove": "yes", "no-groove": "no"})
        one_of("apical_hole", {f"hole-{value}": value for value in HOLES})
        one_of("apex", {f"apex-{value}": value for value in APEXES})
    return read


def differing_attributes(first: ImplantSystem, second: ImplantSystem) -> list[str]:
    """The attributes (``ATTRIBUTES`` order) in which two systems differ: what a film must show to tell them apart."""
    a, b = first.attributes(), second.attributes()
    return [name for name in ATTRIBUTES if a[name] != b[name]]


def close_pairs(systems: list[ImplantSystem]) -> list[tuple[ImplantSystem, ImplantSystem, list[str]]]:
    """The pairs of systems that differ in fewer than ``MIN_DIFFERENCES`` attributes, with those attributes."""
    pairs = [(a, b, differing_attributes(a, b)) for a, b in itertools.combinations(systems, 2)]
    return [(a, b, differ) for a, b, differ in pairs if len(differ) < MIN_DIFFERENCES]


def default_systems_path() -> Path:
    return Path(str(resources.files("implant_desk") / "resources" / "implant_systems.csv"))


def load_systems(path: str | Path | None = None) -> list[ImplantSystem]:
    """The systems of ``path`` (default: the shipped table); raises the file's first problem."""
    systems, problems = read_systems(path)
    if problems:
        raise problems[0]
    return systems


def read_systems(path: str | Path | None = None) -> tuple[list[ImplantSystem], list[SystemsFileError]]:
    """Every valid system of the file and every problem of its rows, each with its line (``catalogue check``
    lists them all). A file that cannot be read as a table at all raises instead."""
    path = Path(path) if path is not None else default_systems_path()
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise SystemsFileError(path, f"the implant systems file lacks the column(s) {', '.join(missing)}")
            rows = [(reader.line_num, row) for row in reader
                    if any((value or "").strip() for value in row.values() if isinstance(value, str))]
    except OSError as exc:
        raise SystemsFileError(path, f"cannot read the implant systems file ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SystemsFileError(path, f"the implant systems file is not a readable CSV table ({exc})") from exc
    systems, problems, lines = [], [], {}
    for line, row in rows:
        try:
            system = parse_row(path, line, row)
        except SystemsFileError as problem:
            problems.append(problem)
            continue
        if system.name in lines:
            problems.append(SystemsFileError(
                path, f"line {line}: {system.name} has the same name as the system on line {lines[system.name]}"))
            continue
        lines[system.name] = line
        systems.append(system)
    if len(rows) < 2:
        problems.append(SystemsFileError(path, "at least two implant systems are needed to tell them apart"))
    return systems, problems


def parse_row(path: Path, line: int, row: dict[str | None, str]) -> ImplantSystem:
    """One system from its cells (column -> text), or a SystemsFileError naming the line and the reason."""
    def cell(column: str) -> str:
        return (row.get(column) or "").strip()

    def choice(column: str, allowed: tuple[str, ...]) -> str:
        value = cell(column) or OPTIONAL_COLUMNS.get(column, "")
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

    if row.get(None):  # csv.DictReader puts the cells beyond the header under None
        raise SystemsFileError(path, f"line {line}: more cells than columns (a comma inside a cell needs quotes)")
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
        diameter_mm=diameter, length_mm=length, connection=choice("connection", CONNECTIONS),
        reference=cell("reference"),
    )
