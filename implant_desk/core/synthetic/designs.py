"""Random implant designs: every design attribute drawn on its own, for teaching a model to read attributes.

A model that learns attributes from the catalogue's systems alone learns their combinations: shown a design it
never trained on, it reads the attributes of the trained system it resembles (``benchmarks/bench_design.py``:
never-trained systems reached the top 3 in a third of fixtures). Fixtures of random designs break those ties,
since each attribute varies independently of the others. A catalogue system whose design is to stay unseen
(``avoid``) is never drawn, so the systems held out of training remain truly unseen.
"""

from __future__ import annotations

import numpy as np

from implant_desk.core.catalogue.systems import (APEXES, BODIES, CONNECTIONS, CORONALS, HOLES, THREADS,
                                                 ImplantSystem)

PITCHES_MM = {"fine": (0.6, 0.7), "regular": (0.8, 0.9, 1.0, 1.1), "coarse": (1.2, 1.25, 1.5)}


def random_designs(count: int, seed: int, avoid: list[ImplantSystem] = ()) -> list[ImplantSystem]:
    """``count`` designs named ``random-design-NNN``, each attribute drawn uniformly, none with the design of a
    system in ``avoid``; deterministic from ``seed``."""
    rng = np.random.default_rng(seed)

    def pick(values):
        return values[int(rng.integers(len(values)))]

    avoided = [system.attributes() for system in avoid]
    designs: list[ImplantSystem] = []
    while len(designs) < count:
        pitch = pick(PITCHES_MM[pick(tuple(PITCHES_MM))])
        diameter = round(float(rng.uniform(3.3, 4.3)), 1)
        design = ImplantSystem(
            name=f"random-design-{len(designs) + 1:03d}", body=pick(BODIES), thread=pick(THREADS), pitch_mm=pitch,
            coronal=pick(CORONALS), microthreads=bool(rng.integers(2)), apical_groove=bool(rng.integers(2)),
            apical_hole=pick(HOLES), apex=pick(APEXES), diameter_mm=(diameter, diameter + 1.0), length_mm=(8.0, 13.0),
            connection=pick(CONNECTIONS))
        if design.attributes() not in avoided:
            designs.append(design)
    return designs
