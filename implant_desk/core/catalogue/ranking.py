"""Every system of the catalogue ranked by the design read on one fixture (numpy only).

Method: naive Bayes over the design attributes (``ATTRIBUTES``), uniform prior over the catalogue. The model
reads each attribute as a distribution over its values; a system whose catalogue value is ``v`` gets, for that
attribute, the likelihood ``max(p(v), floor)``. The floor says a misread is possible: one attribute read wrong
divides a system's score by at most ``1 / floor`` instead of ruling it out, so the true system stays near the top
when the rest of its design agrees. Attributes are treated as independent given the system (they are read from
different thirds, or are different features of one third); attributes not read count for no system. A system
whose catalogue leaves an attribute blank gets the mean floored likelihood over the attribute's values: what an
unknown value is worth under a uniform prior, neither the reward of an agreeing value nor the cost of a
disagreeing one.

For the systems the classifier was trained on, its own probabilities over them (``direct``) join as a tempered
product of experts: the system's score is multiplied by ``max(d * n, floor) ** direct_weight``, ``d * n`` being the
classifier's probability against that of a classifier that knows nothing (uniform over its ``n`` systems).
Systems it never saw get the factor 1: a closed-set classifier shown an unseen system puts its mass on a trained
neighbour, and the exponent keeps that confidence (at most a factor ``n ** direct_weight``) from outweighing
attributes that read the unseen system right (each disagreeing attribute costs that neighbour up to
``1 / floor``). The classifier's probabilities are floored too: it cannot rule a trained system out either.

The floor (0.1) comes from ``benchmarks/bench_ranking.py`` on the shipped catalogue of 24 generic designs (9
attributes, 12 counted as trained, a simulated classifier right on 95 % of trained systems that names the nearest
trained one for the others), with simulated readers right on 90 % of each attribute: a floor of 0.05, under which an
overconfident misread costs more than the classifier can make up, left overconfident trained top-1 at 0.944 against
0.958. The direct weight (1) comes from a trained design model's own readings (``benchmarks/bench_design.py``: 12
systems and 36 random designs trained, validation images of new patients from all 24), which are less even than the
simulation's (body and apex read right about half the time, the apical hole 95 %) while its classifier names 98 % of
the trained systems' fixtures: weight 1 ranks them first in 0.976 of the fixtures against 0.878 at weight 0.5, and
puts the never-trained systems in the top 3 in 0.885 against 0.869. Weights of 1.5 and more let the closed-set
classifier outvote attributes read right (never-trained top-3 0.80, then 0.75).

A user's correction (``corrected``) makes one attribute certain; the ranking marks it (``set_by_user``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from implant_desk.core.catalogue.systems import ATTRIBUTES

DEFAULT_FLOOR = 0.1
DEFAULT_DIRECT_WEIGHT = 1.0
TRAINING, CATALOGUE = "training", "catalogue"  # where a candidate is known from
SUM_TOLERANCE = 0.02  # a distribution read from a network sums to 1 up to rounding


class Design(Protocol):
    """What ranking needs of a system (``ImplantSystem`` is one): its name and its value of each attribute,
    None or empty where the catalogue leaves it blank."""

    @property
    def name(self) -> str: ...

    def attributes(self) -> Mapping[str, str | None]: ...


@dataclass(frozen=True)
class Readings:
    """The design read on one fixture: attribute -> value -> probability. An attribute absent was not read;
    ``set_by_user`` names the attributes a user set (certain). Validated and normalised on construction."""

    probabilities: Mapping[str, Mapping[str, float]]
    set_by_user: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        checked = {attribute: _distribution(attribute, values) for attribute, values in self.probabilities.items()}
        unread = set(self.set_by_user) - set(checked)
        if unread:
            raise ValueError(f"set by the user but not read: {', '.join(sorted(unread))}")
        object.__setattr__(self, "probabilities", checked)
        object.__setattr__(self, "set_by_user", frozenset(self.set_by_user))

    def most_probable(self, attribute: str) -> tuple[str, float]:
        """The value read for ``attribute`` and its probability."""
        distribution = self.probabilities[attribute]
        value = max(distribution, key=distribution.__getitem__)
        return value, distribution[value]


def corrected(readings: Readings | Mapping[str, Mapping[str, float]], attribute: str, value: str) -> Readings:
    """``readings`` with ``attribute`` set by the user to ``value`` (probability 1), for re-ranking after a click."""
    readings = _as_readings(readings)
    return Readings({**readings.probabilities, attribute: {value: 1.0}}, readings.set_by_user | {attribute})


@dataclass(frozen=True)
class AttributeCheck:
    """One attribute of one candidate: the value read, its probability, and the candidate's catalogue value."""

    attribute: str
    read: str
    probability: float
    system_value: str
    set_by_user: bool


@dataclass(frozen=True)
class Candidate:
    system: Design
    probability: float
    known_from: str  # TRAINING (the classifier learnt it) or CATALOGUE (known by its design only)
    readings: Readings = field(repr=False, compare=False)

    @cached_property
    def agree(self) -> tuple[AttributeCheck, ...]:
        """The attributes read as the catalogue describes the system."""
        return tuple(check for check in self._checks if check.read == check.system_value)

    @cached_property
    def disagree(self) -> tuple[AttributeCheck, ...]:
        """The attributes read otherwise. Attributes not read, or blank in the catalogue, are in neither list."""
        return tuple(check for check in self._checks if check.read != check.system_value)

    @cached_property
    def _checks(self) -> list[AttributeCheck]:
        own = self.system.attributes()
        return [AttributeCheck(attribute, *self.readings.most_probable(attribute), own[attribute],
                               attribute in self.readings.set_by_user)
                for attribute in self.readings.probabilities if own.get(attribute)]


@dataclass(frozen=True)
class Ranking:
    readings: Readings
    candidates: tuple[Candidate, ...]  # every catalogue system, best first, probabilities summing to 1

    def position(self, name: str) -> int:
        """0 for the best candidate."""
        return next(i for i, candidate in enumerate(self.candidates) if candidate.system.name == name)


def rank_systems(readings: Readings | Mapping[str, Mapping[str, float]], systems: Sequence[Design], *,
                 direct: Mapping[str, float] | None = None, trained: Collection[str] | None = None,
                 floor: float = DEFAULT_FLOOR, direct_weight: float = DEFAULT_DIRECT_WEIGHT) -> Ranking:
    """Rank ``systems`` by ``readings`` and, for the ``trained`` ones (default: those in ``direct``), by the
    classifier's ``direct`` probabilities over them. See the module's docstring for the method."""
    readings = _as_readings(readings)
    if not systems:
        raise ValueError("the catalogue has no systems to rank")
    if not 0.0 < floor < 1.0 or direct_weight < 0.0:
        raise ValueError("the floor must lie between 0 and 1 and the direct weight must not be negative")
    names = [system.name for system in systems]
    trained = set(trained if trained is not None else (direct or {}))
    if trained - set(names):
        raise ValueError(f"trained on systems not in the catalogue: {_listed(trained - set(names))}")

    designs = [system.attributes() for system in systems]
    log_score = [0.0] * len(systems)  # plain floats: a numpy element costs more than the addition
    for attribute, distribution in readings.probabilities.items():
        allowed = ATTRIBUTES[attribute][1]
        likelihood = {value: max(distribution.get(value, 0.0), floor) for value in allowed}
        log_likelihood = {value: math.log(p) for value, p in likelihood.items()}
        blank = math.log(sum(likelihood.values()) / len(allowed))  # a blank catalogue cell: neutral
        for index, (system, design) in enumerate(zip(systems, designs)):
            value = design.get(attribute)
            if value and value not in log_likelihood:
                raise ValueError(f"system {system.name} has the {attribute} {value!r}, "
                                 f"expected one of {', '.join(allowed)}")
            log_score[index] += log_likelihood[value] if value else blank
    log_score = np.array(log_score)
    if direct is not None and trained:
        log_score += direct_weight * _direct_log_ratio(direct, trained, names, floor)
    probabilities = np.exp(log_score - log_score.max())
    probabilities /= probabilities.sum()
    candidates = tuple(
        Candidate(systems[index], float(probabilities[index]), TRAINING if names[index] in trained else CATALOGUE,
                  readings)
        for index in np.argsort(-probabilities, kind="stable"))
    return Ranking(readings, candidates)


def _as_readings(readings: Readings | Mapping[str, Mapping[str, float]]) -> Readings:
    return readings if isinstance(readings, Readings) else Readings(readings)


def _listed(names: set[str], most: int = 5) -> str:
    shown = sorted(names)[:most]
    return ", ".join(shown) + (f" and {len(names) - most} more" if len(names) > most else "")


def _distribution(attribute: str, probabilities: Mapping[str, float]) -> dict[str, float]:
    if attribute not in ATTRIBUTES:
        raise ValueError(f"unknown design attribute {attribute!r}; expected one of {', '.join(ATTRIBUTES)}")
    allowed = ATTRIBUTES[attribute][1]
    for value, probability in probabilities.items():
        if value not in allowed:
            raise ValueError(f"{attribute} has no value {value!r}; expected one of {', '.join(allowed)}")
        if not (math.isfinite(probability) and probability >= 0.0):
            raise ValueError(f"the probability of {attribute} = {value} is {probability}, not a probability")
    return _normalised(f"the probabilities of {attribute}", probabilities)


def _normalised(what: str, probabilities: Mapping[str, float]) -> dict[str, float]:
    total = sum(probabilities.values())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(f"{what} sum to {total:.3f}, not 1")
    return {key: float(p) / total for key, p in probabilities.items()}


def _direct_log_ratio(direct: Mapping[str, float], trained: set[str], names: list[str], floor: float) -> np.ndarray:
    """Per system, log of the classifier's probability against a uniform one over the trained systems (floored);
    0 for systems it was not trained on."""
    strays = set(direct) - trained
    if strays:
        raise ValueError(f"direct scores for systems not trained on: {_listed(strays)}")
    for name, probability in direct.items():
        if not (math.isfinite(probability) and probability >= 0.0):
            raise ValueError(f"the direct score of {name} is {probability}, not a probability")
    direct = _normalised("the direct scores", direct)
    return np.array([math.log(max(direct.get(name, 0.0) * len(trained), floor)) if name in trained else 0.0
                     for name in names])
