"""Part labels state design attributes: ``attributes_from_part_label`` reads back what ``part_label`` writes."""

from __future__ import annotations

from implant_desk.core.catalogue import PART_NAMES, load_systems
from implant_desk.core.catalogue.systems import attributes_from_part_label

STATED = {"coronal": {"coronal", "microthreads", "connection"}, "middle": {"body", "thread", "pitch"},
          "apical": {"apical_groove", "apical_hole", "apex"}}


def test_every_catalogue_part_label_reads_back_as_its_system_s_design():
    for system in load_systems():
        for part in PART_NAMES:
            read = attributes_from_part_label(system.part_label(part))
            assert set(read) == STATED[part]
            assert read == {name: system.attributes()[name] for name in read}


def test_a_lab_s_own_wording_teaches_what_it_can():
    assert attributes_from_part_label("middle:tapered") == {"body": "tapered"}
    assert attributes_from_part_label("middle:tapered+V") == {"body": "tapered", "thread": "V"}  # before the pitch
    assert attributes_from_part_label("apical:hole-round+sharp") == {"apical_hole": "round"}
    assert attributes_from_part_label("coronal:bone-level+tissue-level") == {}  # contradicts itself: nothing
    assert attributes_from_part_label("coronal:tissue-level+external-hex") == {"coronal": "tissue-level",
                                                                              "connection": "external"}
    assert attributes_from_part_label("implant") == {} and attributes_from_part_label("middle:") == {}
