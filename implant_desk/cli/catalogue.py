"""``implant-desk catalogue list|show|add|check``: the implant systems, by design, that the app draws and ranks.

The catalogue in use is the lab's copy when there is one, else the table shipped with the app (``core.catalogue``);
``add`` writes the lab's copy (made from the shipped table on first use) or the file named by ``--catalogue``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from implant_desk.core.catalogue.store import (
    Catalogue, add_system, catalogue_in_use_path, ensure_lab_copy, lab_catalogue_path, load_catalogue)
from implant_desk.core.catalogue.systems import (
    APEXES, ATTRIBUTES, BODIES, CONNECTIONS, CORONALS, HOLES, MIN_DIFFERENCES, PART_NAMES, THREADS, ImplantSystem,
    close_pairs, load_systems, read_systems, zone_of)
from implant_desk.core.wording import counted

HELP = "list, show, add and check the implant systems (by design) that identification ranks"

# The options of ``add``, one per column: what the help says each takes (the parser checks it).
_ADD_OPTIONS = {
    "name": "a name without spaces, after the design (never a brand)", "body": f"one of {', '.join(BODIES)}",
    "thread": f"one of {', '.join(THREADS)}", "pitch_mm": "thread pitch in mm (0.4-2.0)",
    "coronal": f"one of {', '.join(CORONALS)}", "microthreads": "yes or no",
    "connection": f"one of {', '.join(CONNECTIONS)} (external: a hex boss on the platform)",
    "apical_groove": "yes or no", "apical_hole": f"one of {', '.join(HOLES)}", "apex": f"one of {', '.join(APEXES)}",
    "diameter_min_mm": "smallest diameter made, in mm", "diameter_max_mm": "largest diameter made, in mm",
    "length_min_mm": "shortest length made, in mm", "length_max_mm": "longest length made, in mm",
}
_NEAREST_SHOWN = 3


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="one line per system with its design attributes, and the file read")
    listing.add_argument("--json", action="store_true", help="the catalogue as one JSON object")
    show = actions.add_parser("show", help="every column of a system, its part labels and its nearest systems")
    show.add_argument("name")
    add = actions.add_parser("add", help="append a system to the lab's catalogue, checked as the file is")
    for column, text in _ADD_OPTIONS.items():
        add.add_argument(f"--{column.replace('_', '-')}", dest=column, required=True, help=text)
    add.add_argument("--reference", default="", help="where the design is described: free text or a link")
    check = actions.add_parser("check", help="check a catalogue file: every row, and pairs a film could confuse")
    check.add_argument("file", nargs="?", type=Path, help="default: the catalogue in use")
    for command in (listing, show, add):
        command.add_argument("--catalogue", type=Path, metavar="FILE",
                             help=f"this catalogue file instead of the one in use ({lab_catalogue_path()} when it "
                                  "exists, else the built-in table)")


def catalogue_in_use(path: Path | None = None) -> Catalogue:
    """``path`` when given, else the catalogue in use; a damaged lab copy is reported on stderr, and the built-in
    table used."""
    if path is not None:
        return Catalogue(tuple(load_systems(path)), path)
    catalogue = load_catalogue()
    if catalogue.problem:
        print(f"warning: {catalogue.problem}", file=sys.stderr)
    return catalogue


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        catalogue = catalogue_in_use(args.catalogue)
        if args.json:
            print(json.dumps({"catalogue": str(catalogue.source),
                              "systems": [system.to_json() for system in catalogue.systems]}, indent=1))
        else:
            print(f"catalogue: {catalogue.source} ({counted(len(catalogue.systems), 'implant system')})")
            width = max(len(system.name) for system in catalogue.systems)
            for system in catalogue.systems:
                print(f"{system.name:<{width}}  {_attributes_text(system)}")
    elif args.action == "show":
        catalogue = catalogue_in_use(args.catalogue)
        print(_system_text(catalogue, catalogue.named([args.name])[0]))
    elif args.action == "add":
        path = args.catalogue or ensure_lab_copy()
        cells = {column: getattr(args, column) for column in (*_ADD_OPTIONS, "reference")}
        system = add_system(path, cells)
        print(f"added {system.name} to {path}")
        for first, second, differ in close_pairs(list(load_systems(path))):
            if system.name in (first.name, second.name):
                other = second if first.name == system.name else first
                print(f"warning: {_too_close(system, other, differ)}", file=sys.stderr)
    elif args.action == "check":
        return _check(args.file or catalogue_in_use_path())
    return 0


def _check(path: Path) -> int:
    systems, problems = read_systems(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    pairs = close_pairs(systems)
    for first, second, differ in pairs:
        print(f"warning: {_too_close(first, second, differ)}", file=sys.stderr)
    warned = f"; {counted(len(pairs), 'pair')} of them a film could confuse" if pairs else ""
    print(f"{path}: {counted(len(systems), 'implant system')}, every row valid{warned}")
    return 0


def _too_close(first: ImplantSystem, second: ImplantSystem, differ: list[str]) -> str:
    what = f"only in {', '.join(differ)}" if differ else "in no design attribute"
    return (f"{first.name} and {second.name} differ {what} (fewer than {MIN_DIFFERENCES}): one attribute misread on "
            "a film makes them look the same")


def _token(attribute: str, value: str) -> str:
    """An attribute's value as a word that reads alone ("no-hole", "pointed-apex", "V-thread")."""
    if value in ("yes", "no"):
        return attribute.replace("apical_", "") if value == "yes" else f"no-{attribute.replace('apical_', '')}"
    if attribute == "apical_hole":
        return "no-hole" if value == "none" else f"{value}-hole"
    if attribute == "connection":
        return "external-hex" if value == "external" else "internal"
    return f"{value}-{attribute}" if attribute in ("thread", "pitch", "apex") else value


def _attributes_text(system: ImplantSystem) -> str:
    """The design attributes by third: ``bone-level microthreads internal | tapered V-thread ... | ...``."""
    values = system.attributes()
    return " | ".join(" ".join(_token(name, values[name]) for name in ATTRIBUTES if zone_of(name) == part)
                      for part in PART_NAMES)


def _system_text(catalogue: Catalogue, system: ImplantSystem) -> str:
    lines = [f"{column}: {value or '-'}" for column, value in system.cells().items()]
    lines.append(f"design attributes: {_attributes_text(system)}")
    lines.append(f"part labels: {', '.join(system.part_label(part) for part in PART_NAMES)}")
    nearest = catalogue.nearest(system)[:_NEAREST_SHOWN]
    if nearest:
        lines.append("nearest systems (the design attributes that differ):")
        lines += [f"  {other.name}: {', '.join(differ) or 'none'}" for other, differ in nearest]
    lines.append(f"catalogue: {catalogue.source}")
    return "\n".join(lines)
