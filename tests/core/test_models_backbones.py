"""The ImageNet EfficientNet-Lite0 weights map completely onto timm's model, offline."""

from __future__ import annotations

import timm
import torch

from implant_desk.core.models.backbones import lite0_state_dict, make_lite0, normalize_uint8, rename_key, weights_path


def test_mapping_covers_every_parameter_with_the_right_shape():
    source = torch.load(weights_path(), map_location="cpu", weights_only=True)
    mapped = lite0_state_dict()
    target = timm.create_model("efficientnet_lite0", pretrained=False).state_dict()
    assert set(mapped) == set(target)
    assert len(mapped) == len(source)  # nothing dropped, nothing merged
    for key, tensor in source.items():
        assert torch.equal(mapped[rename_key(key)], tensor)
        assert target[rename_key(key)].shape == tensor.shape


def test_known_renames():
    assert rename_key("_conv_stem.weight") == "conv_stem.weight"
    assert rename_key("_blocks.0._depthwise_conv.weight") == "blocks.0.0.conv_dw.weight"
    assert rename_key("_blocks.7._expand_conv.weight") == "blocks.3.2.conv_pw.weight"
    assert rename_key("_blocks.15._project_conv.weight") == "blocks.6.0.conv_pwl.weight"
    assert rename_key("_bn1.running_var") == "bn2.running_var"


def test_pretrained_network_is_not_random_and_grey_stem_equals_three_channels():
    colour = timm.create_model("efficientnet_lite0", pretrained=False)
    colour.load_state_dict(lite0_state_dict())
    grey = make_lite0(num_classes=1000, pretrained=True, grey=True)
    colour.eval()
    grey.eval()
    pixels = torch.randint(0, 256, (2, 1, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        expected = colour(normalize_uint8(pixels.expand(-1, 3, -1, -1)))
        actual = grey(normalize_uint8(pixels))
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)
    # ImageNet statistics, not the defaults of a fresh network.
    assert not torch.allclose(grey.bn2.running_var, torch.ones_like(grey.bn2.running_var))


def test_input_scaling():
    assert normalize_uint8(torch.tensor([0, 127, 255], dtype=torch.uint8)).tolist() == [-127 / 128, 0.0, 1.0]
