"""Where the catalogue lives: the table shipped with the app, and the lab's own copy, which wins.

The shipped table (``implant_desk/resources/implant_systems.csv``) is never written. A lab edits its copy in
``user_config_dir()/implant_systems.csv``, made from the shipped one on first use; when that copy is damaged, the
shipped table is used and the problem reported, so a typo never leaves the label picker or the CLI without
systems. The CLI (``implant-desk catalogue``) and the window's label picker both read it through ``load_catalogue``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.catalogue.systems import (
    COLUMNS, OPTIONAL_COLUMNS, ImplantSystem, SystemsFileError, default_systems_path, differing_attributes,
    load_systems, parse_row)
from implant_desk.core.errors import SaveError
from implant_desk.core.paths import user_config_dir

LAB_FILE = "implant_systems.csv"


@dataclass(frozen=True)
class Catalogue:
    systems: tuple[ImplantSystem, ...]
    source: Path
    problem: str | None = None  # why the lab's copy is not the one in use

    def named(self, names: Iterable[str]) -> list[ImplantSystem]:
        """The systems called ``names``, in that order: how images are generated for a model that knows only
        some systems (pass its card's classes). An unknown name is an error, never silently dropped."""
        by_name = {system.name: system for system in self.systems}
        names = list(names)
        unknown = [name for name in names if name not in by_name]
        if unknown:
            raise SystemsFileError(self.source, f"no implant system is named {', '.join(unknown)}")
        return [by_name[name] for name in names]

    def nearest(self, system: ImplantSystem) -> list[tuple[ImplantSystem, list[str]]]:
        """The other systems, those differing from ``system`` in the fewest design attributes first."""
        others = [(other, differing_attributes(system, other)) for other in self.systems if other.name != system.name]
        return sorted(others, key=lambda pair: len(pair[1]))


def shipped_catalogue() -> Catalogue:
    return Catalogue(tuple(load_systems()), default_systems_path())


def lab_catalogue_path() -> Path:
    return user_config_dir() / LAB_FILE


def catalogue_in_use_path() -> Path:
    """The lab's copy when there is one, else the shipped table (whether or not the lab's copy is valid)."""
    lab = lab_catalogue_path()
    return lab if lab.exists() else default_systems_path()


def load_catalogue() -> Catalogue:
    """The lab's copy when it has one, else the shipped table; a damaged lab copy gives the shipped table with
    ``problem`` saying why."""
    lab = lab_catalogue_path()
    if not lab.exists():
        return shipped_catalogue()
    try:
        return Catalogue(tuple(load_systems(lab)), lab)
    except SystemsFileError as error:
        return Catalogue(shipped_catalogue().systems, default_systems_path(),
                         f"{error}; using the built-in implant systems instead")


def ensure_lab_copy() -> Path:
    """The lab's editable copy, created from the shipped table on first use (raises SaveError if it cannot be)."""
    path = lab_catalogue_path()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            reason = f"the implant systems table could not be copied here ({exc.strerror or exc})"
            raise SaveError(path, reason) from exc
        atomic_write_bytes(path, default_systems_path().read_bytes())
    return path


def add_system(path: Path, cells: dict[str, str]) -> ImplantSystem:
    """Validate one system (column -> text) as a row of ``path`` and append it atomically. Refused when the
    file is damaged, when the name is taken, or when an existing system has exactly the same design attributes
    (a film could never tell the two apart). Columns the file lacks are added; the lab's own columns are kept."""
    systems = load_systems(path)
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    system = parse_row(path, len(rows) + 2, cells)  # the line it will have: after the header and every row
    for other in systems:
        if other.name == system.name:
            raise SystemsFileError(path, f"a system named {system.name} is already in the catalogue")
        if not differing_attributes(system, other):
            raise SystemsFileError(path, f"{system.name} has exactly the design attributes of {other.name}: a film "
                                         "could not tell them apart")
    header = list(reader.fieldnames or [])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header + [c for c in (*COLUMNS, *OPTIONAL_COLUMNS) if c not in header],
                            lineterminator="\r\n" if "\r\n" in text else "\n")
    writer.writeheader()
    writer.writerows([*rows, system.cells()])
    atomic_write_text(path, out.getvalue(), encoding="utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    return system
