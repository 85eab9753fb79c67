"""ONNX graphs beside the weights: written by save_model, checked by hash, run by the predictor on the CPU with
the torch networks' results; anything wrong with them falls back to torch, never to a wrong answer."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
import torch

from implant_desk.core.models.card import ModelCard, read_card, sha256_file
from implant_desk.core.models.graphs import CLASSIFIER_GRAPH, DETECTOR_GRAPH, load_graphs
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.predictor import Predictor
from implant_desk.core.models.spec import ModelSpec
from implant_desk.core.models.weights import save_model

from tiny_radiographs import one_torch_thread  # noqa: F401 (autouse fixture)

SPEC = ModelSpec(classes=("a", "b", "c"), det_size=64, crop_size=(32, 16), min_fixture_score=0.0)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model")
    torch.manual_seed(0)
    network = ImplantIdentifier(SPEC, pretrained=False).eval()
    card = save_model(folder, network, ModelCard(spec=SPEC, version="3"))
    return folder, network, card


def test_save_model_writes_both_graphs_and_their_hashes_into_the_card(saved):
    folder, _, card = saved
    assert set(card.graphs) == {DETECTOR_GRAPH, CLASSIFIER_GRAPH}
    assert all(card.graphs[name] == sha256_file(folder / name) for name in card.graphs)
    assert read_card(folder).graphs == card.graphs


def test_the_graphs_compute_what_the_torch_networks_compute_at_any_film_size(saved):
    folder, network, card = saved
    graphs = load_graphs(folder, card.graphs, threads=1)
    rng = np.random.default_rng(0)
    for height, width in ((64, 64), (96, 160)):  # the detector is exported for any size, not the example's
        image = rng.standard_normal((1, 1, height, width)).astype(np.float32)
        with torch.inference_mode():
            expected = network.detector(torch.from_numpy(image)).numpy()
        np.testing.assert_allclose(graphs.detect(image), expected, atol=1e-4)
    crops = rng.standard_normal((5, 1, 32, 16)).astype(np.float32)
    with torch.inference_mode():
        expected = network.classifier(torch.from_numpy(crops)).numpy()
    np.testing.assert_allclose(graphs.classify(crops), expected, atol=1e-4)


def test_a_cpu_predictor_runs_the_graphs_and_finds_what_the_torch_one_finds(saved):
    folder, network, card = saved
    from_folder = Predictor.from_folder(folder, "cpu")
    assert from_folder.runtime == "ONNX Runtime"
    torch_only = Predictor.from_network(network, "cpu", card)
    image = np.random.default_rng(1).integers(0, 255, (90, 70), dtype=np.uint8)
    ours, reference = from_folder.identify(image, 0.0), torch_only.identify(image, 0.0)
    assert len(ours) == len(reference) > 0
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a.box, b.box, atol=0.05)
        assert a.score == pytest.approx(b.score, abs=1e-4)
        assert [s for s, _ in a.candidates] == [s for s, _ in b.candidates]


def test_an_altered_graph_is_not_run_and_the_torch_networks_answer(saved, tmp_path, caplog):
    folder, _, card = saved
    for name in (*card.graphs, "card.json", "model.safetensors"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    damaged = bytearray((tmp_path / DETECTOR_GRAPH).read_bytes())
    damaged[-10] ^= 0xFF
    (tmp_path / DETECTOR_GRAPH).write_bytes(bytes(damaged))
    with caplog.at_level(logging.WARNING):
        predictor = Predictor.from_folder(tmp_path, "cpu")
    assert predictor.runtime == "PyTorch"
    assert "sha256 differs" in caplog.text
    assert isinstance(predictor.identify(np.zeros((80, 60), np.uint8), 0.0), list)


def test_no_graphs_without_onnxruntime_or_in_an_older_card(saved, monkeypatch):
    folder, _, card = saved
    assert load_graphs(folder, {}, threads=1) is None  # a card written before graphs existed
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert load_graphs(folder, card.graphs, threads=1) is None


NO_TORCH_UNTIL_EXPLAINED = """
import sys
import numpy as np
from implant_desk.core.imaging.radiograph import DisplayWindow, Radiograph
from implant_desk.core.models.predictor import Predictor

predictor = Predictor.from_folder(sys.argv[1], "auto", threads=1)
pixels = np.random.default_rng(1).integers(0, 255, (90, 70), dtype=np.uint8)
film = Radiograph(path="a.png", format="PNG", pixels=pixels, bits=8, photometric="MONOCHROME2",
                  window=DisplayWindow(128, 256), spacing_mm=None, spacing_source="unknown")
fixtures = predictor.predict(film, 0.0, measure=False)
answered_without_torch = "torch" not in sys.modules
explained = predictor.explained(film, fixtures)
print(predictor.runtime, len(fixtures), answered_without_torch, all(f.explanation is not None for f in explained))
"""


def test_a_cpu_predictor_answers_without_importing_torch_and_loads_it_to_explain(saved):
    folder, _, _ = saved
    out = subprocess.run([sys.executable, "-c", NO_TORCH_UNTIL_EXPLAINED, str(folder)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    runtime, found, answered_without_torch, explained = out.stdout.rsplit(maxsplit=3)
    assert runtime == "ONNX Runtime" and int(found) > 0
    assert answered_without_torch == "True" and explained == "True"
