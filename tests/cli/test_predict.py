"""``implant-desk predict``: one JSON line per image, overlays, clear errors."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from implant_desk.cli import main
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.card import ModelCard
from implant_desk.core.models.weights import save_model
from implant_desk.core.models.spec import ModelSpec

SPEC = ModelSpec(classes=("a", "b"), det_size=64, crop_size=(32, 16), min_fixture_score=0.05)
FIXTURE_KEYS = {"box", "score", "identified", "system", "status", "candidates", "uncertain", "length_mm", "diameter_mm",
                "attributes", "parts", "box_from_parts"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def model_dir(tmp_path):
    torch.manual_seed(0)
    network = ImplantIdentifier(SPEC, pretrained=False)
    with torch.no_grad():
        network.detector.out.bias[0] = 4.0  # random weights that still report fixtures
    # As a lab's model fine-tuned on its real films labelled with these systems.
    seen = {"real_fixtures_per_system": {system: 20 for system in SPEC.classes}}
    save_model(tmp_path / "model", network, ModelCard(spec=SPEC, version="9", training_data=seen))
    return tmp_path / "model"


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("one.png", "two.png"):
        pixels = rng.normal(12000, 1500, (90, 70)).clip(0, 65535).astype(np.uint16)
        pixels[20:70, 25:40] = 50000
        cv2.imwrite(str(folder / name), pixels)
    return folder


def test_json_lines_follow_the_documented_shape(model_dir, images, tmp_path, capsys):
    overlays = tmp_path / "overlays"
    code = main(["predict", str(images / "one.png"), str(images / "two.png"), "--model", str(model_dir), "--json",
                 "--overlay", str(overlays), "--device", "cpu"])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line, name in zip(lines, ("one.png", "two.png")):
        record = json.loads(line)
        assert set(record) == {"path", "model", "note", "ms", "fixtures"}
        assert record["path"].endswith(name) and record["model"] == "9" and record["ms"] > 0
        assert record["note"] == ModelCard.intended_use  # the card's own: "... not for diagnosis ..."
        assert record["fixtures"]
        for fixture in record["fixtures"]:
            assert set(fixture) == FIXTURE_KEYS
            x1, y1, x2, y2 = fixture["box"]
            assert 0 <= x1 < x2 <= 70 and 0 <= y1 < y2 <= 90  # the image's own pixels
            assert set(fixture["candidates"][0]) == {"system", "p"}
            assert sum(c["p"] for c in fixture["candidates"]) <= 1 + 1e-3
            assert fixture["length_mm"] is None or isinstance(fixture["length_mm"], float)
    assert sorted(p.name for p in overlays.iterdir()) == ["one.overlay.png", "two.overlay.png"]
    assert cv2.imread(str(overlays / "one.overlay.png")).shape == (90, 70, 3)


def test_a_model_of_generated_designs_finds_implants_on_a_real_film_but_names_no_system(model_dir, images, capsys):
    from implant_desk.core.models.weights import load_model

    generated_only = load_model(model_dir).card
    save_model(model_dir, load_model(model_dir).network, replace(generated_only, training_data={}))
    assert main(["predict", str(images / "one.png"), "--model", str(model_dir), "--json", "--device", "cpu"]) == 0
    fixtures = json.loads(capsys.readouterr().out)["fixtures"]
    assert fixtures and all(not f["identified"] and f["system"] is None and f["candidates"] == [] for f in fixtures)
    assert {f["status"] for f in fixtures} == {"implant found; system not identified by this model"}


def test_a_folder_is_read_and_a_bad_file_is_reported_without_stopping(model_dir, images, capsys):
    (images / "broken.png").write_bytes(b"not an image")
    code = main(["predict", str(images), "--model", str(model_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.png" in captured.err
    assert "one.png" in captured.out and "two.png" in captured.out and "fixture" in captured.out


@pytest.mark.parametrize("extra, message", [(["--threshold", "1.5"], "between 0 and 1"),
                                            (["--model", "no-such-version"], "")])
def test_bad_options_are_clear_errors(model_dir, images, capsys, extra, message):
    arguments = ["predict", str(images / "one.png"), *extra]
    if "--model" not in extra:
        arguments += ["--model", str(model_dir)]
    assert main(arguments) == 1
    err = capsys.readouterr().err
    assert err.startswith("implant-desk predict:") and message in err


def test_an_absent_device_is_a_clear_error(model_dir, images, capsys):
    if torch.cuda.is_available():
        pytest.skip("CUDA is present here")
    assert main(["predict", str(images / "one.png"), "--model", str(model_dir), "--device", "cuda"]) == 1
    assert "not available" in capsys.readouterr().err


def test_the_text_says_what_the_card_says_the_model_is_for_and_counts_in_words(model_dir, images, capsys):
    from implant_desk.core.models.weights import load_model

    generated_only = replace(load_model(model_dir).card, training_data={"source": "generated radiographs"})
    save_model(model_dir, load_model(model_dir).network, generated_only)
    assert main(["predict", str(images / "one.png"), "--model", str(model_dir), "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "model 9: Trained on generated images only: for demonstration, not for diagnosis."
    assert "fixture(s)" not in lines[1] and ("1 fixture (" in lines[1] or " fixtures (" in lines[1])


def test_the_text_marks_the_candidates_known_from_the_catalogue_only(tmp_path, capsys):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from implant_desk.core.catalogue import ATTRIBUTES, load_systems
    from implant_desk.core.imaging.radiograph import GENERATED_BY

    trained = tuple(system.name for system in load_systems()[:2])
    spec = ModelSpec.reading_design(trained, {name: values for name, (_, values) in ATTRIBUTES.items()}, det_size=64,
                                    crop_size=(32, 16), min_fixture_score=0.05)
    torch.manual_seed(0)
    network = ImplantIdentifier(spec, pretrained=False)
    with torch.no_grad():
        network.detector.out.bias[0] = 4.0  # random weights that still report fixtures
    save_model(tmp_path / "model", network, ModelCard(spec=spec, version="12"))
    film = np.random.default_rng(0).normal(12000, 1500, (90, 70)).clip(0, 65535).astype(np.uint16)
    info = PngInfo()
    info.add_text("Software", GENERATED_BY)  # a generated film: the systems learnt from generated images are named
    Image.fromarray(film).save(tmp_path / "generated.png", pnginfo=info)
    assert main(["predict", str(tmp_path / "generated.png"), "--model", str(tmp_path / "model"), "--device", "cpu"]) == 0
    fixtures = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  1. ")]
    candidates = re.findall(r"([\w-]+) \d+%( \(catalogue only\))?", fixtures[0])
    assert len(candidates) == 3
    assert all(bool(marked) == (system not in trained) for system, marked in candidates), fixtures[0]
    assert any(marked for _, marked in candidates)  # 2 trained of 24


def test_every_option_of_predict_is_explained(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "where the model runs" in capsys.readouterr().out


def test_overlay_labels_stay_inside_the_image_at_every_edge():
    from implant_desk.cli.predict import label_origin

    text, image = (120, 14), (300, 200)
    assert label_origin((50, 80), text, image) == (50, 76)  # above the box, where there is room
    x, y = label_origin((250, 2), text, image)  # a fixture in the top-right corner
    assert y - text[1] >= 0 and x + text[0] < image[0]
    assert label_origin((0, 199), text, image)[1] <= 199
