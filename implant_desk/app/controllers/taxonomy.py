"""The implant taxonomy the label picker offers: implant systems, and their design parts (coronal, middle, apical)
with attributes, e.g. ``middle:tapered+V+pitch-regular``.

It is the catalogue the generated radiographs and the models use (``core.catalogue``: the lab's copy when it
has one, else the shipped table), so labels typed here match what the models learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from implant_desk.core.catalogue.store import load_catalogue
from implant_desk.core.catalogue.systems import PART_NAMES, ImplantSystem


@dataclass(frozen=True)
class Taxonomy:
    systems: tuple[ImplantSystem, ...]
    source: Path

    def labels(self) -> list[str]:
        """Every system in the catalogue's order, then the design-part labels by third, sorted so that alike
        designs sit together (``apical:groove+hole-none+...`` before ``apical:groove+hole-oval+...``)."""
        parts = [label for part in PART_NAMES for label in sorted({s.part_label(part) for s in self.systems})]
        return [s.name for s in self.systems] + parts

    def describe(self, label: str) -> str:
        """One line for a tooltip: a system's design, or which third a part label describes."""
        for system in self.systems:
            if system.name == label:
                hole = "no apical hole" if system.apical_hole == "none" else f"{system.apical_hole} apical hole"
                return (f"Implant system {system.name}: {system.body} body, {system.thread} thread "
                        f"({system.pitch_mm:g} mm pitch), {system.coronal}"
                        f"{' with microthreads' if system.microthreads else ''}, {system.connection} connection, "
                        f"{system.apex} apex, {hole}{', apical groove' if system.apical_groove else ''}; "
                        f"{system.diameter_mm[0]:g}-{system.diameter_mm[1]:g} mm wide, "
                        f"{system.length_mm[0]:g}-{system.length_mm[1]:g} mm long")
        part = label.split(":", 1)[0]
        if part in PART_NAMES and ":" in label:
            owners = [s.name for s in self.systems if s.part_label(part) == label]
            return f"Design of the {part} third ({', '.join(owners)})"
        return ""


def load_taxonomy() -> tuple[Taxonomy, str | None]:
    """The catalogue in use; plus a message when the lab's copy is damaged (the shipped table is used)."""
    catalogue = load_catalogue()
    return Taxonomy(catalogue.systems, catalogue.source), catalogue.problem
