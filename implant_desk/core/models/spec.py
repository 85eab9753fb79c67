"""What a model is, as plain data: stored in the card, enough to rebuild the network before loading weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

ARCHITECTURE = "centernet-ltrb-lite0+lite0-crop/2"
# The same networks reading the design: the detector also finds the fixture's thirds, the classifier also reads
# each design attribute (issue 12). A version that knows only ARCHITECTURE refuses such a model in words.
DESIGN_ARCHITECTURE = "centernet-ltrb-lite0+lite0-crop+parts+attributes/3"


@dataclass(frozen=True)
class ModelSpec:
    """A fixture detector on the whole image plus a system classifier on each fixture crop.

    ``det_size``: the detector sees the image scaled so its longer side is this many pixels.
    ``crop_size``: (height, width) of the upright fixture crop the classifier sees.
    ``crop_margin``: the crop extends the box by this fraction of its size on every side (context helps).
    ``det_stride``: the detector's output grid in input pixels: 8, or 4 for films where implants stand side by
    side and thin (panoramics).
    ``view_size``: the span (image pixels) of the panoramic crops the model learnt from, which it saw at
    ``det_size``; a full panoramic is seen at that same scale, whole, instead of being shrunk until its fixtures
    are a few pixels wide (models.predictor.detection_side). 0: every image is scaled to ``det_size``.
    ``temperature``: the classifier's logits are divided by it before the softmax (temperature scaling, fitted
    on the validation patients), so that a confidence of 0.8 is right about 4 times in 5.
    ``attributes``: the design attributes the classifier reads, each with its values, in the order of its outputs
    (``core.catalogue.ATTRIBUTES``); empty for a model that names its systems only.
    ``parts``: the detector also finds the coronal, middle and apical thirds of each fixture.
    ``flip_test``: the detector also sees the film mirrored left to right and the two views' maps are averaged
    (CenterNet's flip test): steadier centres and edges on real films, for a second detector pass.
    """

    classes: tuple[str, ...]
    det_size: int = 256
    crop_size: tuple[int, int] = (192, 96)
    crop_margin: float = 0.08
    min_fixture_score: float = 0.3
    det_stride: int = 8
    view_size: int = 0
    temperature: float = 1.0
    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    parts: bool = False
    flip_test: bool = False
    architecture: str = ARCHITECTURE
    preprocessing: str = field(default=(
        "grey; robust auto window (display.auto_window) to 8 bit, MONOCHROME1 inverted so metal is white; "
        "(x-127)/128"))

    def __post_init__(self) -> None:
        if not self.classes:
            raise ValueError("a model needs at least one implant system")
        if len(set(self.classes)) != len(self.classes):
            raise ValueError(f"duplicate system names in {self.classes}")
        expected = DESIGN_ARCHITECTURE if self.attributes or self.parts else ARCHITECTURE
        if self.architecture != expected:
            raise ValueError(f"model architecture {self.architecture!r} is not supported by this version "
                             f"(it reads {ARCHITECTURE!r} and {DESIGN_ARCHITECTURE!r})")
        if any(len(values) < 2 for _, values in self.attributes):
            raise ValueError("a design attribute needs at least two values")
        if self.det_size % 32:
            raise ValueError("det_size must be a multiple of 32")
        if self.det_stride not in (4, 8):
            raise ValueError("det_stride must be 4 or 8")
        if self.view_size < 0 or not self.temperature > 0:
            raise ValueError("view_size must be 0 or more and temperature above 0")

    @classmethod
    def reading_design(cls, classes, attributes: dict[str, tuple[str, ...]], **fields) -> "ModelSpec":
        """A spec whose networks read ``attributes`` (name -> values) and find the parts."""
        return cls(tuple(classes), attributes=tuple((name, tuple(values)) for name, values in attributes.items()),
                   parts=True, architecture=DESIGN_ARCHITECTURE, **fields)

    @property
    def attribute_sizes(self) -> tuple[int, ...]:
        return tuple(len(values) for _, values in self.attributes)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["crop_size"] = list(self.crop_size)
        if self.attributes or self.parts:
            data["attributes"] = {name: list(values) for name, values in self.attributes}
        else:  # a model that names its systems only: its card as before the design (it round-trips unchanged)
            del data["attributes"], data["parts"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "ModelSpec":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["classes"] = tuple(str(c) for c in known["classes"])
        if "crop_size" in known:
            known["crop_size"] = tuple(int(v) for v in known["crop_size"])
        if "attributes" in known:
            known["attributes"] = tuple((str(name), tuple(str(v) for v in values))
                                        for name, values in dict(known["attributes"]).items())
        return cls(**known)
