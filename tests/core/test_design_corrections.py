"""A user's correction of the design read (issue 12): the part labels it writes, and the rule that on a real film
only systems learnt from real films are named, which holds after the ranking changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from implant_desk.core.catalogue import ATTRIBUTES, PART_NAMES, design_part_label, load_systems
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.predictor import Predictor
from implant_desk.core.models.spec import ModelSpec

from tiny_radiographs import one_torch_thread  # noqa: F401 (autouse fixture)

CATALOGUE = {system.name: system for system in load_systems()}
TRAINED = tuple(CATALOGUE)[:2]
SPEC = ModelSpec.reading_design(TRAINED, {name: values for name, (_, values) in ATTRIBUTES.items()}, det_size=64,
                                crop_size=(32, 16), min_fixture_score=0.0)


def test_the_part_label_of_a_design_read_is_the_one_of_the_system_with_that_design():
    system = CATALOGUE[tuple(CATALOGUE)[3]]
    for part in PART_NAMES:
        assert design_part_label(part, system.attributes()) == system.part_label(part)
    read = {**system.attributes(), "connection": "external", "microthreads": "no", "apical_groove": "yes"}
    assert design_part_label("coronal", read) == f"coronal:{system.coronal}+no-microthreads+external-hex"
    assert design_part_label("apical", read).startswith("apical:groove+")
    with pytest.raises(KeyError):
        design_part_label("middle", {"body": "tapered"})
    with pytest.raises(ValueError, match="unknown part"):
        design_part_label("crown", read)


def _set_design(fixture, system: str):
    for name, value in CATALOGUE[system].attributes().items():
        fixture = fixture.with_attribute(name, value, threshold=0.0)
    assert fixture.candidates[0][0] == system
    return fixture


@pytest.fixture
def predictor() -> Predictor:
    torch.manual_seed(0)
    predictor = Predictor.from_network(ImplantIdentifier(SPEC, pretrained=False))
    predictor.real_systems = frozenset({TRAINED[0]})  # as a card that lists it learnt from real films
    return predictor


def test_on_a_real_film_a_correction_names_a_system_only_if_the_model_learnt_it_from_real_films(predictor):
    image = np.random.default_rng(1).integers(0, 255, (96, 80), dtype=np.uint8)
    fixture = predictor.identify(image, threshold=0.0, generated_film=False)[0]
    real = _set_design(fixture, TRAINED[0])
    assert real.nameable and real.system == TRAINED[0]
    catalogue_only = tuple(CATALOGUE)[-1]
    unnamed = _set_design(real, catalogue_only)
    assert not unnamed.nameable and unnamed.system is None  # known from the catalogue: never named on a real film
    assert _set_design(unnamed, TRAINED[0]).nameable
    generated = predictor.identify(image, threshold=0.0, generated_film=True)[0]
    assert _set_design(generated, catalogue_only).system == catalogue_only
