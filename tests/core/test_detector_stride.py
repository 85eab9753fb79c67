"""The detector's output grid: stride 8, or 4 where implants stand side by side and thin (panoramics)."""

import pytest
import torch

from implant_desk.core.models.decoding import decode
from implant_desk.core.models.detector import FixtureDetector, make_targets
from implant_desk.core.models.identifier import ImplantIdentifier
from implant_desk.core.models.spec import ModelSpec


@pytest.mark.parametrize("stride", [8, 4])
def test_targets_decode_back_to_the_boxes_they_were_made_from(stride):
    boxes = [torch.tensor([[40.0, 20.0, 52.0, 100.0], [56.0, 22.0, 68.0, 104.0]])]  # two thin neighbours
    shape = (128 // stride, 128 // stride)
    targets = make_targets(boxes, shape, stride)
    # A perfect output: the heat map as logits, the learnt edge distances where they are defined.
    heat = targets["heat"].clamp(1e-4, 1 - 1e-4)
    output = torch.cat([torch.logit(heat)[:, None], targets["distances"]], dim=1)
    found, scores = decode(output[0].numpy(), 0.5, stride)
    assert len(found) == 2
    assert sorted(found[:, 0].tolist()) == pytest.approx([40.0, 56.0], abs=stride / 2 + 1)


def test_a_stride_4_model_reads_the_finer_map():
    network = ImplantIdentifier(ModelSpec(classes=("a",), det_stride=4), pretrained=False)
    assert network.detector(torch.zeros(1, 1, 64, 96)).shape == (1, 5, 16, 24)
    assert ImplantIdentifier(ModelSpec(classes=("a",)), pretrained=False).detector(torch.zeros(1, 1, 64, 96)).shape == (1, 5, 8, 12)
    with pytest.raises(ValueError):
        FixtureDetector(pretrained=False, stride=2)
