"""Predictor: radiograph in, fixtures with ranked candidates, uncertainty, sizes and explanation out."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from implant_desk.core.models.device import DeviceUnavailableError, available_devices, resolve_device
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.locate import model_folder
from implant_desk.core.models.card import ModelCard
from implant_desk.core.models.weights import save_model
from implant_desk.core.models.predictor import FixturePrediction, Predictor
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph

from tiny_radiographs import draw, one_torch_thread  # noqa: F401 (autouse fixture)

SPEC = ModelSpec(classes=("a", "b", "c"), det_size=64, crop_size=(32, 16), min_fixture_score=0.05)


def _radiograph(spacing=(0.1, 0.1)) -> Radiograph:
    pixels, _ = draw(np.random.default_rng(0))
    return Radiograph(path="x.png", format="PNG", pixels=pixels, bits=16, photometric="MONOCHROME2",
                      window=DisplayWindow(32768, 65536), spacing_mm=spacing, spacing_source="test")


def _predictor(heat_bias: float) -> Predictor:
    """Random weights; the heat bias decides whether anything counts as a fixture."""
    torch.manual_seed(0)
    network = ImplantIdentifier(SPEC, pretrained=False)
    with torch.no_grad():
        network.detector.out.bias[0] = heat_bias
    return Predictor.from_network(network)


def test_fixtures_carry_ranked_candidates_that_sum_to_at_most_one():
    radiograph = _radiograph()
    fixtures = _predictor(4.0).predict(radiograph, threshold=0.5, measure=False)
    assert fixtures
    for fixture in fixtures:
        x1, y1, x2, y2 = fixture.box
        assert 0 <= x1 < x2 <= radiograph.width and 0 <= y1 < y2 <= radiograph.height
        probabilities = [p for _, p in fixture.candidates]
        assert probabilities == sorted(probabilities, reverse=True)
        assert len(fixture.candidates) == 3 and sum(probabilities) <= 1 + 1e-6
        assert {s for s, _ in fixture.candidates} == {"a", "b", "c"}
        assert fixture.uncertain == (probabilities[0] < 0.5)
        assert 0.05 <= fixture.score <= 1


def test_threshold_only_changes_what_is_claimed():
    fixture = FixturePrediction(box=(1, 2, 3, 4), score=0.9, candidates=(("a", 0.6), ("b", 0.3)), uncertain=False)
    assert fixture.system == "a"
    doubtful = fixture.with_threshold(0.7)
    assert doubtful.uncertain and doubtful.system is None and doubtful.candidates == fixture.candidates
    assert not doubtful.with_threshold(0.6).uncertain


def test_json_form_has_exactly_the_documented_keys():
    fixture = FixturePrediction(box=(1.04, 2, 3, 4), score=0.9, candidates=(("a", 0.6),), uncertain=False,
                                length_mm=None, diameter_mm=4.123)
    assert fixture.to_json() == {"box": [1.0, 2.0, 3.0, 4.0], "score": 0.9, "identified": True, "system": "a",
                                 "status": "", "candidates": [{"system": "a", "p": 0.6}],
                                 "uncertain": False, "length_mm": None, "diameter_mm": 4.12, "attributes": {},
                                 "parts": [], "box_from_parts": False}


def test_on_a_real_film_a_system_learnt_from_generated_images_only_is_not_named():
    """Finding an implant is not naming its system: the candidates of a generated design are not offered."""
    fixture = FixturePrediction(box=(1, 2, 3, 4), score=0.9, candidates=(("a", 0.92),), uncertain=False, nameable=False)
    assert not fixture.identified and fixture.system is None
    assert fixture.to_json()["identified"] is False and fixture.to_json()["candidates"] == []
    assert fixture.to_json()["status"] == "implant found; system not identified by this model"
    assert not fixture.with_threshold(0.1).identified


def _with_card(predictor: Predictor, real_fixtures: dict[str, int]) -> Predictor:
    card = ModelCard(spec=SPEC, training_data={"real_fixtures_per_system": real_fixtures})
    return Predictor.from_network(predictor.network, "cpu", card)


def test_a_predictor_names_systems_on_generated_films_and_only_those_learnt_from_real_films_on_real_ones():
    from dataclasses import replace

    real = _radiograph()
    generated = replace(real, generated=True)
    taught_nothing_real = _with_card(_predictor(4.0), {})
    assert all(f.nameable for f in taught_nothing_real.predict(generated, threshold=0.0, measure=False))
    found = taught_nothing_real.predict(real, threshold=0.0, measure=False)
    assert found and not any(f.nameable or f.identified for f in found)
    taught_all = _with_card(_predictor(4.0), {"a": 12, "b": 3, "c": 1})
    assert all(f.identified for f in taught_all.predict(real, threshold=0.0, measure=False))


def test_no_fixture_gives_an_empty_list():
    assert _predictor(-20.0).predict(_radiograph()) == []


def test_sizes_come_from_the_measurement_with_the_image_spacing(monkeypatch):
    import implant_desk.core.measure as measure

    calls = []

    def fake_measure(pixels, box, spacing_mm, *, inverted=False):
        calls.append((box, spacing_mm, inverted))
        known = spacing_mm is not None
        return type("M", (), {"length_mm": 10.0 if known else None, "diameter_mm": 4.0 if known else None})()

    monkeypatch.setattr(measure, "measure_fixture", fake_measure)
    predictor = _predictor(4.0)
    with_spacing = predictor.predict(_radiograph((0.1, 0.1)))
    assert with_spacing and all(f.length_mm == 10.0 and f.diameter_mm == 4.0 for f in with_spacing)
    assert [c[0] for c in calls] == [f.box for f in with_spacing] and calls[0][1] == (0.1, 0.1)
    without = predictor.predict(_radiograph(None))
    assert without and all(f.length_mm is None and f.diameter_mm is None for f in without)


def test_no_radiopaque_outline_leaves_sizes_unknown(monkeypatch):
    import implant_desk.core.measure as measure

    def nothing_found(*args, **kwargs):
        raise ValueError("nothing radiopaque")

    monkeypatch.setattr(measure, "measure_fixture", nothing_found)
    fixtures = _predictor(4.0).predict(_radiograph())
    assert fixtures and all(f.length_mm is None and f.measurement is None for f in fixtures)


def test_explanation_map_covers_the_fixture_crop():
    predictor = _predictor(4.0)
    radiograph = _radiograph()
    fixture = predictor.predict(radiograph, measure=False)[0]
    explanation = predictor.explain(radiograph, fixture)
    assert explanation.heat.shape == SPEC.crop_size
    assert explanation.heat.min() >= 0 and explanation.heat.max() <= 1
    rx1, ry1, rx2, ry2 = explanation.region
    x1, y1, x2, y2 = fixture.box
    assert rx1 <= x1 and ry1 <= y1 and rx2 >= x2 and ry2 >= y2
    explained = predictor.predict(radiograph, measure=False, explain=True)
    assert all(f.explanation is not None for f in explained)


def test_device_choice():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in available_devices()
    with pytest.raises(DeviceUnavailableError):
        resolve_device("tpu")
    for absent in {"cuda", "mps"} - set(available_devices()):
        with pytest.raises(DeviceUnavailableError, match="not available"):
            resolve_device(absent)


def test_predictor_loads_from_a_model_folder(tmp_path):
    torch.manual_seed(0)
    save_model(tmp_path / "m", ImplantIdentifier(SPEC, pretrained=False), ModelCard(spec=SPEC, version="5"))
    predictor = Predictor.from_folder(model_folder(str(tmp_path / "m")), device="cpu")
    assert predictor.name == "5" and predictor.card.classes == SPEC.classes
    assert isinstance(predictor.predict(_radiograph(), measure=False), list)


def test_default_model_finds_and_names_generated_fixtures():
    from implant_desk.core.paths import REPO_MODELS_DIR
    from implant_desk.core.registry import model_systems
    from implant_desk.core.synthetic import generate_series

    folder = REPO_MODELS_DIR / "default"
    if not (folder / "card.json").exists():
        pytest.skip("the default model has not been trained into models/default")
    predictor = Predictor.from_folder(folder, device="cpu")
    found = right = total = 0
    for image in generate_series(12, 99_999, model_systems(folder)):  # about 4 patients, a seed never trained on
        radiograph = Radiograph(path="g.png", format="PNG", pixels=image.pixels, bits=16, photometric="MONOCHROME2",
                                window=DisplayWindow(32768, 65536), spacing_mm=(image.spacing_mm,) * 2,
                                spacing_source="test")
        fixtures = predictor.predict(radiograph, threshold=0.0, measure=False)
        for truth in image.fixtures:
            total += 1
            best = max(fixtures, key=lambda f: _iou(f.box, truth.box), default=None)
            if best is not None and _iou(best.box, truth.box) >= 0.5:
                found += 1
                right += best.candidates[0][0] == truth.system
    # The card's held-out figures are the real measure (100 images); this checks the shipped file works: it finds
    # generated fixtures (15 vary a lot: at least half the card's held-out recall) and names those it finds.
    assert found >= 0.5 * predictor.card.metrics["recall"] * total and right >= 0.9 * found


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_a_full_panoramic_keeps_the_scale_the_model_learnt():
    from dataclasses import replace

    from implant_desk.core.models.predictor import LARGE_FILM_PX, detection_side

    spec = replace(SPEC, det_size=64, view_size=640)
    assert detection_side(1300, 1000, spec) == 64  # a periapical: scaled to the detector's input
    assert detection_side(640, 640, spec) == 64  # a panoramic crop, as the model learnt them
    assert LARGE_FILM_PX <= 2000
    assert detection_side(1500, 3000, spec) == 300  # a full panoramic: seen whole at the crops' scale
    assert detection_side(1500, 3000, replace(spec, view_size=0)) == 64


def test_boxes_on_a_full_panoramic_come_back_in_its_own_pixels():
    from dataclasses import replace

    predictor = _predictor(4.0)
    predictor.spec = replace(SPEC, view_size=1000)
    radiograph = _radiograph()
    film = replace(radiograph, pixels=np.tile(radiograph.pixels, (20, 26)))
    assert max(film.pixels.shape) >= 1800
    fixtures = predictor.predict(film, threshold=0.0, measure=False)
    assert fixtures
    assert all(0 <= f.box[0] < f.box[2] <= film.width and 0 <= f.box[1] < f.box[3] <= film.height for f in fixtures)


def test_with_the_flip_test_a_mirrored_film_gives_the_mirrored_maps():
    """The film and its mirror image are seen as one pair, so mirroring the film mirrors what is found exactly;
    without the flip test the random detector is no such thing."""
    from dataclasses import replace

    from implant_desk.core.models.decoding import unmirrored

    predictor = _predictor(0.0)
    film = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    plain, _ = predictor._detector_maps(film)
    assert not np.allclose(predictor._detector_maps(film[:, ::-1])[0], unmirrored(plain), atol=1e-4)
    predictor.spec = replace(SPEC, flip_test=True)
    maps, _ = predictor._detector_maps(film)
    np.testing.assert_allclose(predictor._detector_maps(np.ascontiguousarray(film[:, ::-1]))[0], unmirrored(maps),
                               atol=1e-4)
