"""How ranking by design degrades as attributes are read less well, and how long one ranking takes.

Run: ``python benchmarks/bench_ranking.py [--systems CSV | --random N] [--fixtures K] [--seed S]``.
The catalogue is the one in use (the shipped CSV, or ``--systems``), or ``--random N`` designs drawn over
``ATTRIBUTES``, any two differing in at least 2 attributes. Half the systems (drawn with the seed) count as trained.

Simulated fixtures, ``K`` per system: each attribute is read right with probability ``a`` (0.7, 0.8, 0.9, 0.95),
otherwise as one of the other values at random. Two readers: a calibrated one gives the value it read probability
``a``, an overconfident one (as networks trained with cross-entropy often are) 0.98; the other values share the
rest in proportions drawn at random. A blank catalogue value is read as a random value. The simulated classifier
knows the trained systems only: on a trained system it names the right one with probability ``b`` (else another
trained system), on a never-trained one the trained system nearest by design (fewest attributes apart); the name
it gives gets probability ``b``, the other trained systems share the rest. Printed per floor and direct weight,
one table per reader: top-1 and top-3 for trained and never-trained systems, the same fixtures for every setting.
Then the time per ranking on a 24-system and a 1000-system catalogue (median of repeated calls). The ranking's
defaults come from this table on the shipped 24-design catalogue: see ``implant_desk/core/catalogue/ranking.py``.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from dataclasses import dataclass

import numpy as np

from implant_desk.core.catalogue import ATTRIBUTES, load_systems
from implant_desk.core.catalogue.ranking import DEFAULT_DIRECT_WEIGHT, DEFAULT_FLOOR, rank_systems

ACCURACIES = (0.7, 0.8, 0.9, 0.95)
READERS = {"calibrated": None, "overconfident": 0.98}  # the probability given to the value read (None: a)
# each parameter varied around the defaults
SETTINGS = sorted({(floor, DEFAULT_DIRECT_WEIGHT) for floor in (0.01, 0.05, 0.1, 0.2)}
                  | {(DEFAULT_FLOOR, weight) for weight in (0.0, 0.25, 0.5, 1.0)})


@dataclass(frozen=True)
class RandomDesign:
    name: str
    values: dict[str, str]

    def attributes(self) -> dict[str, str]:
        return self.values


def random_catalogue(count: int, rng: np.random.Generator, min_apart: int) -> list[RandomDesign]:
    designs: list[RandomDesign] = []
    for _ in range(200 * count):
        values = {attribute: str(rng.choice(allowed)) for attribute, (_, allowed) in ATTRIBUTES.items()}
        if all(apart(values, d.values) >= min_apart for d in designs):
            designs.append(RandomDesign(f"design-{len(designs) + 1}", values))
            if len(designs) == count:
                return designs
    raise SystemExit(f"could not draw {count} designs at least {min_apart} attributes apart")


def apart(a: dict[str, str | None], b: dict[str, str | None]) -> int:
    return sum(a.get(attribute) != b.get(attribute) for attribute in ATTRIBUTES)


def simulated_readings(design: dict[str, str | None], accuracy: float, confidence: float | None,
                       rng: np.random.Generator) -> dict:
    confidence = accuracy if confidence is None else confidence
    readings = {}
    for attribute, (_, allowed) in ATTRIBUTES.items():
        true = design.get(attribute) or str(rng.choice(allowed))
        read = true if rng.random() < accuracy else str(rng.choice([v for v in allowed if v != true]))
        others = [value for value in allowed if value != read]
        rest = dict(zip(others, (1.0 - confidence) * rng.dirichlet(np.ones(len(others)))))
        readings[attribute] = {value: confidence if value == read else float(rest[value]) for value in allowed}
    return readings


def simulated_classifier(true: str, designs: dict[str, dict], trained: list[str], accuracy: float,
                         rng: np.random.Generator) -> dict[str, float]:
    if true in trained:
        others = [name for name in trained if name != true]
        named = true if rng.random() < accuracy or not others else str(rng.choice(others))
    else:
        distance = {name: apart(designs[true], designs[name]) for name in trained}
        nearest = min(distance.values())
        named = str(rng.choice([name for name in trained if distance[name] == nearest]))
    if len(trained) == 1:
        return {named: 1.0}
    rest = (1.0 - accuracy) / (len(trained) - 1)
    return {name: accuracy if name == named else rest for name in trained}


def degradation(systems, per_system: int, classifier_accuracy: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    names = [system.name for system in systems]
    designs = {system.name: system.attributes() for system in systems}
    trained = sorted(rng.choice(names, size=max(len(names) // 2, 1), replace=False).tolist(), key=names.index)
    print(f"{len(systems)} systems, {len(trained)} trained; classifier accuracy on trained systems "
          f"{classifier_accuracy}; {per_system} simulated fixtures per system and reading accuracy")
    for reader, confidence in READERS.items():
        cases = []  # (accuracy, true name, readings, direct): the same fixtures for every setting
        for accuracy, name, _ in itertools.product(ACCURACIES, names, range(per_system)):
            cases.append((accuracy, name, simulated_readings(designs[name], accuracy, confidence, rng),
                          simulated_classifier(name, designs, trained, classifier_accuracy, rng)))
        header = (f"{reader + ' reader':<20} {'floor':>5} {'weight':>6} {'a':>5} | {'trained top-1':>13} "
                  f"{'top-3':>6} | {'unseen top-1':>12} {'top-3':>6}")
        print("\n" + header + "\n" + "-" * len(header))
        for floor, weight in SETTINGS:
            for accuracy in ACCURACIES:
                hits = {True: [], False: []}  # trained or not -> (top-1, top-3) per fixture
                for case_accuracy, name, readings, direct in cases:
                    if case_accuracy == accuracy:
                        position = rank_systems(readings, systems, direct=direct, trained=trained, floor=floor,
                                                direct_weight=weight).position(name)
                        hits[name in trained].append((position == 0, position < 3))
                marker = "  <- default" if (floor, weight) == (DEFAULT_FLOOR, DEFAULT_DIRECT_WEIGHT) else ""
                print(f"{'':<20} {floor:5.2f} {weight:6.2f} {accuracy:5.2f} | {_share(hits[True], 0):>13} "
                      f"{_share(hits[True], 1):>6} | {_share(hits[False], 0):>12} {_share(hits[False], 1):>6}{marker}")


def _share(hits: list[tuple[bool, bool]], column: int) -> str:
    return f"{statistics.mean(h[column] for h in hits):.3f}" if hits else "-"


def ranking_time(count: int, seed: int, repeats: int) -> None:
    rng = np.random.default_rng(seed)
    systems = random_catalogue(count, rng, min_apart=1)
    trained = [system.name for system in systems[: count // 2]]
    readings = simulated_readings(systems[0].values, 0.9, None, rng)
    direct = {name: 1.0 / len(trained) for name in trained}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        rank_systems(readings, systems, direct=direct, trained=trained)
        times.append(time.perf_counter() - start)
    print(f"rank {count:5d} systems: median {statistics.median(times) * 1e3:.3f} ms, "
          f"fastest {min(times) * 1e3:.3f} ms ({repeats} calls)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--systems", help="a catalogue CSV (default: the shipped one)")
    source.add_argument("--random", type=int, metavar="N", help="N random designs instead of a catalogue")
    parser.add_argument("--fixtures", type=int, default=40, help="simulated fixtures per system and accuracy")
    parser.add_argument("--classifier-accuracy", type=float, default=0.95)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.random:
        systems = random_catalogue(args.random, np.random.default_rng(args.seed), min_apart=2)
    else:
        systems = load_systems(args.systems)
    degradation(systems, args.fixtures, args.classifier_accuracy, args.seed)
    print()
    for count, repeats in ((24, 2000), (1000, 50)):
        ranking_time(count, args.seed, repeats)


if __name__ == "__main__":
    main()
