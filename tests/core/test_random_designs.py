"""Random designs vary each attribute on its own and never take a held-out system's design."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from implant_desk.core.catalogue import ATTRIBUTES, load_systems
from implant_desk.core.synthetic import generate_series
from implant_desk.core.synthetic.designs import random_designs

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from train_default_model import design_systems  # noqa: E402


def test_random_designs_cover_every_value_avoid_held_out_systems_and_repeat_from_their_seed():
    held_out = load_systems()[::2]
    designs = random_designs(120, seed=3, avoid=held_out)
    assert len({d.name for d in designs}) == 120 and designs == random_designs(120, seed=3, avoid=held_out)
    assert not {tuple(d.attributes().items()) for d in designs} & {tuple(s.attributes().items()) for s in held_out}
    for name, (_, values) in ATTRIBUTES.items():
        seen = Counter(d.attributes()[name] for d in designs)
        assert set(seen) == set(values) and min(seen.values()) >= 120 / len(values) / 3, name


def test_the_generator_draws_random_designs_like_catalogue_systems():
    designs = random_designs(4, seed=1)
    image = next(iter(generate_series(1, 2, designs)))
    assert image.fixtures and {f.system for f in image.fixtures} <= {d.name for d in designs}
    assert all(len(f.parts) == 3 for f in image.fixtures if not f.truncated)


def test_a_design_model_names_every_other_catalogue_system_and_ranks_the_rest():
    catalogue = load_systems()
    named, held_out, randoms = design_systems(catalogue, 10, seed=4)
    names = sorted(s.name for s in catalogue)
    assert [s.name for s in named] == names[::2] and [s.name for s in held_out] == names[1::2]
    assert len(named) >= 12 and len(randoms) == 10
    assert not {tuple(d.attributes().items()) for d in randoms} & {tuple(s.attributes().items()) for s in held_out}
