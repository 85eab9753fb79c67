"""The implant systems a fixture can be, described by design (never by brand): the catalogue a lab edits, its
attribute vocabulary, and the ranking of systems by the attributes read on a film."""

from implant_desk.core.catalogue.store import Catalogue, load_catalogue, shipped_catalogue
from implant_desk.core.catalogue.systems import (
    ATTRIBUTES, PART_NAMES, ImplantSystem, SystemsFileError, default_systems_path, design_part_label, load_systems, zone_of)

__all__ = ["ATTRIBUTES", "PART_NAMES", "Catalogue", "ImplantSystem", "SystemsFileError", "default_systems_path",
           "design_part_label", "load_catalogue", "load_systems", "shipped_catalogue", "zone_of"]
