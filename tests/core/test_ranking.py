"""Ranking catalogue systems by the design read on a fixture: exact matches, misreads, systems never trained on,
a user's correction, what agrees and what does not, and bad input."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from implant_desk.core.catalogue import ATTRIBUTES, load_systems
from implant_desk.core.catalogue.ranking import CATALOGUE, TRAINING, Readings, corrected, rank_systems


@dataclass(frozen=True)
class Design:
    """A catalogue system known by its design only (ranking needs no more than this)."""

    name: str
    values: dict[str, str | None]

    def attributes(self) -> dict[str, str | None]:
        return self.values


BASE = {attribute: values[0] for attribute, (_, values) in ATTRIBUTES.items()}


def other_value(attribute: str, value: str, step: int = 1) -> str:
    values = ATTRIBUTES[attribute][1]
    return values[(values.index(value) + step) % len(values)]


def design(name: str, *changed: str, base: dict[str, str] = BASE, **values: str | None) -> Design:
    """``base`` with each attribute in ``changed`` moved to its next value and ``values`` set outright."""
    return Design(name, {**base, **{a: other_value(a, base[a]) for a in changed}, **values})


def read(values: dict[str, str | None], confidence: float = 0.9) -> dict[str, dict[str, float]]:
    """Each attribute read as ``values`` says with ``confidence``, the rest of the mass spread evenly."""
    readings = {}
    for attribute, value in values.items():
        allowed = ATTRIBUTES[attribute][1]
        rest = (1.0 - confidence) / (len(allowed) - 1)
        readings[attribute] = {v: confidence if v == value else rest for v in allowed}
    return readings


ATTRIBUTE_NAMES = list(ATTRIBUTES)
FIRST, SECOND, THIRD = ATTRIBUTE_NAMES[:3]


def test_an_exact_match_comes_first_with_every_system_ranked():
    systems = load_systems()
    for system in systems:
        ranking = rank_systems(read(system.attributes()), systems)
        assert ranking.candidates[0].system is system
        assert sorted(c.system.name for c in ranking.candidates) == sorted(s.name for s in systems)
        assert sum(c.probability for c in ranking.candidates) == pytest.approx(1.0)
        probabilities = [c.probability for c in ranking.candidates]
        assert probabilities == sorted(probabilities, reverse=True)


def test_one_misread_attribute_leaves_the_true_system_in_the_top_3():
    # the true system's nearest neighbours differ from it in 2 attributes, the others in 3 or more
    true = design("true")
    systems = [true, design("near-1", FIRST, SECOND), design("near-2", SECOND, THIRD),
               design("near-3", FIRST, THIRD), *(design(f"far-{a}", *ATTRIBUTE_NAMES[i:i + 3])
                                                 for i, a in enumerate(ATTRIBUTE_NAMES[3:-2], start=3))]
    for attribute in ATTRIBUTES:
        for step in range(1, len(ATTRIBUTES[attribute][1])):
            misread = {**true.values, attribute: other_value(attribute, true.values[attribute], step)}
            ranking = rank_systems(read(misread), systems)
            assert ranking.position("true") < 3, (attribute, step, [c.system.name for c in ranking.candidates])


def test_a_system_never_trained_on_whose_design_matches_outranks_a_trained_neighbour_the_classifier_is_sure_of():
    unseen = design("unseen")
    neighbour = design("trained-neighbour", FIRST, SECOND)  # two attributes apart
    trained = [neighbour, *(design(f"trained-{i}", FIRST, SECOND, THIRD) for i in range(11))]
    direct = {system.name: 0.01 for system in trained}
    direct[neighbour.name] = 1.0 - 0.01 * (len(trained) - 1)  # 0.89 among 12: 10.7 times a uniform guess
    ranking = rank_systems(read(unseen.values), [*trained, unseen], direct=direct)
    assert ranking.candidates[0].system is unseen
    assert ranking.candidates[0].known_from == CATALOGUE
    assert ranking.candidates[1].system is neighbour and ranking.candidates[1].known_from == TRAINING
    # One attribute apart, a classifier that sure outweighs that attribute (9 to 1 as read here): the unseen system
    # comes second, still among the candidates shown. The trade-off chosen on a trained model's readings.
    close = design("trained-neighbour", FIRST)
    ranking = rank_systems(read(unseen.values), [close, *trained[1:], unseen], direct=direct)
    assert [c.system.name for c in ranking.candidates[:2]] == ["trained-neighbour", "unseen"]
    # and the classifier still decides between trained systems the attributes cannot tell apart
    twin = design("trained-twin")
    ranking = rank_systems(read(twin.values), [twin, design("trained-other", base=twin.values)],
                           direct={"trained-twin": 0.2, "trained-other": 0.8})
    assert [c.system.name for c in ranking.candidates] == ["trained-other", "trained-twin"]


def test_a_correction_by_the_user_reorders_the_ranking_and_is_marked():
    first, second = design("first"), design("second", FIRST)
    readings = read(first.values)
    readings[FIRST] = {v: 0.0 for v in ATTRIBUTES[FIRST][1]} | {first.values[FIRST]: 0.6,
                                                                 second.values[FIRST]: 0.4}
    before = rank_systems(readings, [first, second])
    assert [c.system.name for c in before.candidates] == ["first", "second"]
    assert before.readings.set_by_user == frozenset()

    after = rank_systems(corrected(readings, FIRST, second.values[FIRST]), [first, second])
    assert [c.system.name for c in after.candidates] == ["second", "first"]
    assert after.readings.set_by_user == {FIRST}
    assert after.readings.most_probable(FIRST) == (second.values[FIRST], 1.0)
    check = next(c for c in after.candidates[0].agree if c.attribute == FIRST)
    assert check.set_by_user and check.probability == 1.0
    assert all(not c.set_by_user for c in after.candidates[0].agree if c.attribute != FIRST)
    # a second correction keeps the first one
    again = corrected(after.readings, SECOND, other_value(SECOND, first.values[SECOND]))
    assert again.set_by_user == {FIRST, SECOND}


def test_each_candidate_lists_the_attributes_that_agree_and_those_that_do_not():
    true = design("true")
    other = design("other", FIRST, SECOND)
    readings = read(true.values, confidence=0.8)
    del readings[THIRD]  # not read: in neither list
    ranking = rank_systems(readings, [true, other])
    best, runner_up = ranking.candidates
    assert best.system is true and best.disagree == ()
    assert {c.attribute for c in best.agree} == set(ATTRIBUTES) - {THIRD}
    assert {c.attribute for c in runner_up.agree} == set(ATTRIBUTES) - {FIRST, SECOND, THIRD}
    assert [(c.attribute, c.read, c.probability, c.system_value) for c in runner_up.disagree] == [
        (a, true.values[a], pytest.approx(0.8), other.values[a]) for a in (FIRST, SECOND)]


def test_a_blank_catalogue_value_is_neutral():
    agrees, blank, disagrees = design("agrees"), design("blank", **{FIRST: None}), design("disagrees", FIRST)
    ranking = rank_systems(read(agrees.values), [disagrees, blank, agrees])
    assert [c.system.name for c in ranking.candidates] == ["agrees", "blank", "disagrees"]
    assert FIRST not in {c.attribute for c in ranking.candidates[1].agree + ranking.candidates[1].disagree}
    assert rank_systems(read(agrees.values), [design("empty", **{FIRST: ""})]).candidates[0].probability == 1.0


def test_nothing_read_leaves_the_catalogue_uniform_and_the_classifier_decides_among_its_systems():
    systems = [design("a"), design("b", FIRST), design("c", SECOND)]
    assert [c.probability for c in rank_systems({}, systems).candidates] == pytest.approx([1 / 3] * 3)
    ranking = rank_systems({}, systems, direct={"b": 0.9, "c": 0.1})
    assert ranking.candidates[0].system.name == "b"
    assert {c.system.name: c.known_from for c in ranking.candidates} == {"a": CATALOGUE, "b": TRAINING,
                                                                         "c": TRAINING}


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: rank_systems({"colour": {"grey": 1.0}}, s), "unknown design attribute 'colour'"),
    (lambda s: rank_systems({FIRST: {"purple": 1.0}}, s), f"{FIRST} has no value 'purple'"),
    (lambda s: rank_systems(read(BASE), []), "the catalogue has no systems"),
    (lambda s: rank_systems({FIRST: {BASE[FIRST]: 0.5}}, s), f"the probabilities of {FIRST} sum to 0.500"),
    (lambda s: rank_systems({FIRST: {BASE[FIRST]: float("nan")}}, s), "not a probability"),
    (lambda s: rank_systems({}, s, direct={"nowhere": 1.0}), "trained on systems not in the catalogue: nowhere"),
    (lambda s: rank_systems({}, s, direct={"a": 1.0}, trained={"b"}), "direct scores for systems not trained on"),
    (lambda s: rank_systems({}, s, floor=0.0), "the floor must lie between 0 and 1"),
    (lambda s: rank_systems(read(BASE), [Design("odd", {**BASE, FIRST: "purple"})]),
     f"system odd has the {FIRST} 'purple'"),
    (lambda s: corrected({}, FIRST, "purple"), f"{FIRST} has no value 'purple'"),
    (lambda s: Readings({}, frozenset({FIRST})), f"set by the user but not read: {FIRST}"),
])
def test_bad_input_is_refused_in_words(call, message):
    with pytest.raises(ValueError, match=message):
        call([design("a"), design("b", FIRST)])
