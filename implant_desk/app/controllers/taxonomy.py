"""The implant taxonomy the label picker offers: implant systems, and their design parts (coronal, middle, apical)
with attributes, e.g. ``middle:tapered+V``.

It is the same table the generated radiographs and the models use (``implant_desk/resources/implant_systems.csv``,
read by ``core.catalogue.systems``), so labels typed here match what the models learn. The shipped table is never
written; a lab edits its own copy in ``user_config_dir()/implant_systems.csv``, which wins when present. A damaged
lab copy is reported and the shipped table used instead.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.errors import SaveError
from implant_desk.core.paths import user_config_dir
from implant_desk.core.catalogue.systems import (
    PART_NAMES, ImplantSystem, SystemsFileError, default_systems_path, load_systems)

LAB_FILE = "implant_systems.csv"


@dataclass(frozen=True)
class Taxonomy:
    systems: tuple[ImplantSystem, ...]
    source: Path

    def labels(self) -> list[str]:
        """Every system, then every distinct design-part label."""
        parts = [s.part_label(part) for part in PART_NAMES for s in self.systems]
        return [s.name for s in self.systems] + list(dict.fromkeys(parts))

    def describe(self, label: str) -> str:
        """One line for a tooltip: a system's design, or which third a part label describes."""
        for system in self.systems:
            if system.name == label:
                return (f"Implant system: {system.body} body, {system.thread} thread ({system.pitch_mm:g} mm pitch), "
                        f"{system.coronal}, apex {system.apex}, "
                        f"{system.diameter_mm[0]:g}-{system.diameter_mm[1]:g} mm wide, "
                        f"{system.length_mm[0]:g}-{system.length_mm[1]:g} mm long")
        part = label.split(":", 1)[0]
        if part in PART_NAMES and ":" in label:
            owners = [s.name for s in self.systems if s.part_label(part) == label]
            return f"Design of the {part} third ({', '.join(owners)})"
        return ""


def lab_taxonomy_path() -> Path:
    return user_config_dir() / LAB_FILE


def load_taxonomy() -> tuple[Taxonomy, str | None]:
    """The lab's table when it has one, else the shipped one; plus a message when the lab's copy is damaged."""
    lab = lab_taxonomy_path()
    if lab.exists():
        try:
            return Taxonomy(tuple(load_systems(lab)), lab), None
        except SystemsFileError as error:
            shipped = Taxonomy(tuple(load_systems()), default_systems_path())
            return shipped, f"{error}; using the built-in implant systems instead"
    return Taxonomy(tuple(load_systems()), default_systems_path()), None


def ensure_lab_copy() -> Path:
    """The lab's editable copy, created from the shipped table on first use (raises SaveError if it cannot be)."""
    path = lab_taxonomy_path()
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(default_systems_path(), path)
        except OSError as exc:
            raise SaveError(path, f"the implant systems table could not be copied here ({exc.strerror or exc})") from exc
    return path
