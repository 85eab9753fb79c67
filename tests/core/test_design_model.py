"""A model that reads the design (issue 12): the detector also finds the coronal, middle and apical thirds, the
classifier also reads each design attribute. Its spec, networks, graphs, training batches and losses, and what
the predictor gives back; a model that names systems only works as before."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.catalogue import ATTRIBUTES, load_systems
from implant_desk.core.learning import fit as fitting
from implant_desk.core.learning.config import TrainingConfig, TrainingError
from implant_desk.core.learning.dataset import Sample
from implant_desk.core.learning.network import build_network
from implant_desk.core.models.card import ModelCard
from implant_desk.core.models.decoding import CHANNELS_PER_KIND, PART_KINDS
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.predictor import Predictor
from implant_desk.core.models.spec import ARCHITECTURE, DESIGN_ARCHITECTURE, ModelSpec
from implant_desk.core.models.weights import save_model

from tiny_radiographs import TINY_SPEC, one_torch_thread, write_samples  # noqa: F401 (autouse fixture)

SYSTEMS = tuple(system.name for system in load_systems()[:2])
VOCABULARY = {name: values for name, (_, values) in ATTRIBUTES.items()}
DESIGN_SPEC = ModelSpec.reading_design(SYSTEMS, VOCABULARY, det_size=64, crop_size=(32, 16), min_fixture_score=0.0)


def test_a_design_spec_round_trips_through_the_card_and_plain_specs_keep_their_architecture():
    assert DESIGN_SPEC.architecture == DESIGN_ARCHITECTURE and DESIGN_SPEC.parts
    stored = json.loads(json.dumps(DESIGN_SPEC.to_dict()))
    assert list(stored["attributes"]) == list(VOCABULARY)
    assert ModelSpec.from_dict(stored) == DESIGN_SPEC
    assert ModelSpec(("a", "b")).architecture == ARCHITECTURE
    with pytest.raises(ValueError, match="not supported"):  # parts under the old architecture's name
        ModelSpec.from_dict({**stored, "architecture": ARCHITECTURE})


def test_the_networks_output_the_parts_and_the_attribute_values():
    network = ImplantIdentifier(DESIGN_SPEC, pretrained=False).eval()
    with torch.inference_mode():
        maps, logits = network(torch.zeros(1, 1, 64, 96), torch.zeros(3, 1, 32, 16))
    stride = DESIGN_SPEC.det_stride
    assert maps.shape == (1, CHANNELS_PER_KIND * (1 + len(PART_KINDS)), 64 // stride, 96 // stride)
    assert logits.shape == (3, len(SYSTEMS) + sum(len(values) for values in VOCABULARY.values()))


def test_a_model_that_names_systems_only_seeds_one_that_reads_the_design(tmp_path):
    torch.manual_seed(0)
    plain_spec = ModelSpec(SYSTEMS, det_size=64, crop_size=(32, 16))
    parent = ImplantIdentifier(plain_spec, pretrained=False).eval()
    save_model(tmp_path, parent, ModelCard(spec=plain_spec, version="1"))
    child = build_network(DESIGN_SPEC, TrainingConfig(pretrained=False, seed=1), tmp_path)
    assert torch.equal(child.detector.out.weight, parent.detector.out.weight)
    assert torch.equal(child.classifier.fc.weight, parent.classifier.fc.weight)
    assert child.detector.parts_out is not None and child.classifier.attributes is not None


def _design_samples(folder) -> list[Sample]:
    """Tiny films whose fixtures are named after catalogue systems and cut into thirds; the last has no parts."""
    samples = []
    for index, tiny in enumerate(write_samples(folder, 3, seed=5)):
        boxes = [Box(SYSTEMS[k % 2], b.xmin, b.ymin, b.xmax, b.ymax) for k, b in enumerate(tiny.annotation.boxes)]
        parts = []
        for box in boxes if index < 2 else ():
            third = (box.ymax - box.ymin) / 3
            parts += [Box(f"{kind}:x", box.xmin, box.ymin + k * third, box.xmax, box.ymin + (k + 1) * third)
                      for k, kind in enumerate(PART_KINDS)]
        annotation = ImageAnnotation(tiny.image_path.name, 80, 96, 1, boxes)
        samples.append(Sample(tiny.image_path, annotation, tiny.patient_id, tiny.image_path.name, parts=tuple(parts)))
    return samples


def test_training_batches_carry_the_parts_and_the_catalogue_attributes_of_each_fixture(tmp_path):
    samples = _design_samples(tmp_path)
    prepared = fitting.prepare_images(samples, DESIGN_SPEC)
    truth = fitting.design_truth(DESIGN_SPEC)
    for sample, image in zip(samples, prepared):
        assert image.attributes.tolist() == [list(truth[b.label]) for b in sample.annotation.boxes]
        assert [len(boxes) for boxes in image.part_boxes] == ([len(sample.annotation.boxes)] * 3 if sample.parts else [])
    assert truth[SYSTEMS[0]] != truth[SYSTEMS[1]] and min(min(v) for v in truth.values()) >= 0

    torch.manual_seed(0)
    batch = fitting._make_batch(prepared, DESIGN_SPEC, fitting._Augmenters(), np.random.default_rng(0))
    assert batch.parts[2] is None  # no part truth: teaches nothing about parts
    assert all(len(parts) == 3 for parts in batch.parts[:2])
    assert batch.attributes.shape == (len(batch.labels), len(VOCABULARY))
    named = batch.labels.tolist()
    assert batch.attributes.tolist() == [list(truth[SYSTEMS[label]]) for label in named]

    network = ImplantIdentifier(DESIGN_SPEC, pretrained=False).train()
    config = TrainingConfig(pretrained=False)
    output, logits = network(torch.randn(3, 1, 64, 64), torch.randn(len(named), 1, 32, 16))
    with_parts = fitting._detection_loss(output, batch, DESIGN_SPEC, "cpu")
    fixtures_only = fitting._detection_loss(output, batch, TINY_SPEC, "cpu")
    assert torch.isfinite(with_parts) and with_parts > fixtures_only
    loss = fitting._classification_loss(logits, batch, DESIGN_SPEC, config, None, "cpu")
    loss.backward()
    assert network.classifier.attributes.weight.grad.abs().sum() > 0


def test_a_lab_s_part_labels_teach_the_attributes_of_implants_it_does_not_name(tmp_path):
    system = load_systems()[0]
    samples = _design_samples(tmp_path)
    sample = samples[0]
    box = sample.annotation.boxes[0]
    third = (box.ymax - box.ymin) / 3
    parts = tuple(Box(system.part_label(kind), box.xmin, box.ymin + k * third, box.xmax, box.ymin + (k + 1) * third)
                  for k, kind in enumerate(PART_KINDS))
    unnamed = ImageAnnotation(sample.annotation.filename, 80, 96, 1, [Box("implant", box.xmin, box.ymin, box.xmax,
                                                                          box.ymax)])
    prepared = fitting.prepare_images([Sample(sample.image_path, unnamed, "P", "x", parts=parts,
                                              implant_labels=frozenset({"implant"}))], DESIGN_SPEC)[0]
    stated = [values.index(system.attributes()[name]) for name, values in DESIGN_SPEC.attributes]  # pitch too
    assert prepared.labels.tolist() == [-1] and prepared.attributes.tolist() == [stated]
    batch = fitting._make_batch([prepared], DESIGN_SPEC, None, np.random.default_rng(0))
    assert batch.crops.shape[0] == 1 and batch.labels.tolist() == [-1]  # cropped to teach attributes only


def test_the_predictor_reads_the_design_with_the_graphs_as_with_torch(tmp_path):
    torch.manual_seed(0)
    network = ImplantIdentifier(DESIGN_SPEC, pretrained=False).eval()
    save_model(tmp_path, network, ModelCard(spec=DESIGN_SPEC, version="1"))
    image = np.random.default_rng(0).integers(0, 255, (96, 80), dtype=np.uint8)
    graphs, eager = Predictor.from_folder(tmp_path, "cpu"), Predictor.from_network(network)
    assert graphs.runtime == "ONNX Runtime"
    fixtures = graphs.identify(image)
    assert fixtures and _close(fixtures, eager.identify(image))
    read = fixtures[0].attributes
    assert list(read) == list(VOCABULARY)
    assert all(abs(sum(values.values()) - 1) < 1e-4 and set(values) == set(VOCABULARY[name])
               for name, values in read.items())
    design = fixtures[0].to_json()["attributes"]
    assert set(design) == set(VOCABULARY) and all(0 < d["p"] <= 1 for d in design.values())
    parts = [part for fixture in fixtures for part in fixture.parts]
    assert parts and {part.name for part in parts} <= set(PART_KINDS)
    assert all(len(f.to_json()["parts"]) == len(f.parts) for f in fixtures)
    ranked = fixtures[0].ranking.candidates
    assert len(ranked) == len(load_systems()) and abs(sum(c.probability for c in ranked) - 1) < 1e-6
    assert [name for name, _ in fixtures[0].candidates] == [c.system.name for c in ranked[:3]]
    plain = Predictor.from_network(ImplantIdentifier(TINY_SPEC, pretrained=False)).identify(image)
    assert all(not f.parts and f.ranking is None and f.to_json()["attributes"] == {} for f in plain)


def test_a_corrected_attribute_ranks_the_design_again():
    torch.manual_seed(0)
    predictor = Predictor.from_network(ImplantIdentifier(DESIGN_SPEC, pretrained=False))
    image = np.random.default_rng(1).integers(0, 255, (96, 80), dtype=np.uint8)
    fixture = predictor.identify(image, threshold=0.0)[0]
    catalogue = load_systems()
    target = catalogue[-1]
    for name, value in target.attributes().items():
        fixture = fixture.with_attribute(name, value, threshold=0.0)
    assert fixture.candidates[0][0] == target.name  # every attribute set as it reads: that design first
    assert fixture.known_from_catalogue(target.name) == (target.name not in SYSTEMS)
    assert set(fixture.ranking.readings.set_by_user) == set(target.attributes())


def _close(a, b) -> bool:
    return len(a) == len(b) and all(np.allclose(x.box, y.box, atol=0.05) and abs(x.score - y.score) < 1e-4
                                    for x, y in zip(a, b))


def test_parts_that_score_under_the_floor_together_make_no_fixture(monkeypatch):
    """A lone third scores a third of its own score: under the card's floor it is not shown as a fixture."""
    from dataclasses import replace as replaced

    from implant_desk.core.models import predictor as predicting
    from implant_desk.core.models.parts import AssembledFixture, PartDetection

    spec = replaced(DESIGN_SPEC, min_fixture_score=0.5)
    predictor = Predictor.from_network(ImplantIdentifier(spec, pretrained=False))
    lone = PartDetection("apical", (10.0, 60.0, 20.0, 80.0), 0.9)
    monkeypatch.setattr(predicting, "assemble_fixtures", lambda *a, **k: [
        AssembledFixture((30.0, 10.0, 40.0, 80.0), 0.8, (), False, 0),
        AssembledFixture((10.0, 60.0, 20.0, 80.0), 0.3, (lone,), True, None)])
    image = np.zeros((96, 80), np.uint8)
    assert [f.score for f in predictor.find(image)] == [0.8]
    assert [f.score for f in predictor.find(image, min_score=0.05)] == [0.8, 0.3]  # evaluation ranks every one


def test_training_reads_the_designs_its_data_names_random_ones_too(tmp_path, monkeypatch):
    """A design model also trains on random designs, which no catalogue holds: the training step takes their
    designs from the data (``TrainingData.designs``), so their fixtures teach the attributes where their part labels
    do not state them (here: parts labelled with their zone alone; in generated films, a fixture cut by the edge)."""
    from implant_desk.core.learning.dataset import Dataset, Split
    from implant_desk.core.learning.orchestrator import TrainingData, train
    from implant_desk.core.synthetic.designs import random_designs

    designs = random_designs(2, seed=7)
    renamed = [replace(s, annotation=replace(s.annotation, boxes=[replace(b, label=designs[k % 2].name)
                                                                  for k, b in enumerate(s.annotation.boxes)]))
               for s in _design_samples(tmp_path)]
    data = TrainingData(Dataset(renamed, list(SYSTEMS)), Split(renamed[:2], renamed[2:], [], seed=0), {}, [],
                        designs=designs)
    seen = []

    def stop_at_fit(network, train_images, val_images, *args, **kwargs):
        seen.extend(train_images)
        raise StopIteration

    monkeypatch.setattr(fitting, "fit", stop_at_fit)
    with pytest.raises(StopIteration):
        train(data, DESIGN_SPEC, TrainingConfig(pretrained=False, checkpoint_path=str(tmp_path / "checkpoint.pt")))
    truth = fitting.design_truth(DESIGN_SPEC, designs)
    assert [image.attributes.tolist() for image in seen] == [
        [list(truth[b.label]) for b in sample.annotation.boxes] for sample in renamed[:2]]
    assert min(min(values) for values in truth.values()) >= 0


def test_a_design_model_can_keep_its_parent_s_fixture_detector_and_learn_only_the_thirds_and_the_design(tmp_path):
    """``keep_fixture_detector``: the child finds fixtures exactly as its parent (real-film figures included),
    while its part layer and its classifier learn; frozen BatchNorm statistics stay the parent's too."""
    torch.manual_seed(0)
    plain_spec = ModelSpec(SYSTEMS, det_size=64, crop_size=(32, 16))
    save_model(tmp_path / "parent", ImplantIdentifier(plain_spec, pretrained=False).eval(),
               ModelCard(spec=plain_spec, version="1"))
    config = TrainingConfig(pretrained=False, epochs=1, head_epochs=0, freeze_depth=0, batch_size=2,
                            keep_fixture_detector=True, device="cpu")
    child = build_network(DESIGN_SPEC, config, tmp_path / "parent")
    before = {k: v.clone() for k, v in child.state_dict().items()}
    fitting.fit(child, fitting.prepare_images(_design_samples(tmp_path), DESIGN_SPEC), [], config)
    after = child.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(("detector.parts_out.", "classifier.")) for k in changed)
    assert any(k.startswith("detector.parts_out.") for k in changed)
    assert any(k.startswith("classifier.attributes.") for k in changed)
    with pytest.raises(TrainingError, match="parent model whose detector fits"):
        build_network(DESIGN_SPEC, config)  # no parent: nothing to keep
    with pytest.raises(TrainingError, match="parent model whose detector fits"):
        build_network(replace(DESIGN_SPEC, det_stride=4), config, tmp_path / "parent")  # another detector


def test_thirds_learnt_from_generated_films_do_not_move_or_add_fixtures_on_a_real_film(monkeypatch):
    """On a real film, a model whose thirds were learnt from generated images only keeps its detector's fixtures
    as they are and attaches the thirds that lie in them; one trained on thirds labelled on real films (card:
    ``real_parts``) assembles them there too, as on a generated film."""
    detections = {0: ([(30.0, 10.0, 40.0, 80.0), (50.0, 10.0, 60.0, 40.0)], [0.8, 0.2]),
                  1: ([(50.0, 10.0, 60.0, 22.0)], [0.9]), 2: ([(50.0, 22.0, 60.0, 34.0)], [0.9]),
                  3: ([(50.0, 34.0, 60.0, 46.0), (10.0, 60.0, 20.0, 80.0)], [0.9, 0.95])}

    def predictor_with(card):
        predictor = Predictor.from_network(ImplantIdentifier(DESIGN_SPEC, pretrained=False), card=card)
        monkeypatch.setattr(predictor, "_detector_maps", lambda image: (None, 1.0))
        monkeypatch.setattr(predictor, "_decoded", lambda image, maps, scale, kind, min_score: detections[kind])
        return predictor

    image = np.zeros((96, 80), np.uint8)
    generated_only = predictor_with(ModelCard(spec=DESIGN_SPEC))
    on_real = generated_only.find(image, min_score=0.05, generated_film=False)
    assert [(f.box, f.score, f.inferred) for f in on_real] == [(b, s, False) for b, s in zip(*detections[0])]
    assert [len(f.parts) for f in on_real] == [0, 3]
    on_generated = generated_only.find(image, min_score=0.05)
    assert len(on_generated) == 3 and on_generated[1].box != on_real[1].box  # moved to its thirds, a lone one added
    learnt_on_real = predictor_with(ModelCard(spec=DESIGN_SPEC, training_data={"real_parts": 9}))
    assert _close(learnt_on_real.find(image, min_score=0.05, generated_film=False), on_generated)
