"""The model card (``card.json``): what a model is, what it saw and how well it did, as one torch-free type.

The registry, the predictor, the CLI and the GUI all read and write cards through ``ModelCard``; reading a
card and checking weights against it live here once, so every caller gives the same answers and messages.
A card written by a newer version may carry keys this one does not know: they are kept and written back
unchanged, so importing or publishing such a card loses nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from implant_desk.core.atomic import atomic_write_text
from implant_desk.core.errors import ModelFileError
from implant_desk.core.models.spec import ModelSpec

WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "card.json"
CARD_FORMAT = "implant-desk-model-card/1"
MAX_CARD_BYTES = 1_000_000  # a card is a small JSON; anything larger is not one
WEIGHTS_DTYPES = ("float32", "float16")
GENERATED_WARNING = "Trained on generated images only: for demonstration, not for diagnosis."


@dataclass(frozen=True)
class ModelCard:
    """Card conventions: ``training_data`` holds ``dataset.summarize()`` (images, fixtures, patients per split,
    file-list hash); ``training`` holds ``hyperparameters``, ``duration_s`` and ``device``; ``metrics`` holds
    ``metrics.Evaluation.to_dict()``; ``imported_from`` the export file and version a registry import read."""

    spec: ModelSpec
    weights_sha256: str = ""
    weights_dtype: str = "float32"
    graphs: dict[str, str] = field(default_factory=dict)  # ONNX graphs beside the weights: file name -> sha256
    version: str | None = None
    parent_version: str | None = None
    created: str = ""
    intended_use: str = ("Demonstration and research only, not for diagnosis. System names describe implant "
                         "designs, not commercial brands.")
    training_data: dict = field(default_factory=dict)  # what it saw, licence, seeds or data summary
    licence: str = "Apache-2.0"
    metrics: dict = field(default_factory=dict)  # held-out figures (implant_desk.core.learning.metrics Evaluation)
    training: dict = field(default_factory=dict)  # hyper-parameters, duration, device
    notes: list[str] = field(default_factory=list)
    imported_from: dict | None = None
    unknown: dict = field(default_factory=dict)  # keys of a newer card (nested ones too), written back unchanged

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes

    @property
    def real_film_figures(self) -> dict:
        """Its held-out figures on real radiographs (metrics.Evaluation.to_dict()); {} when never measured on any.
        Against labels checked box by box where the card has them (``real_films_audited``, with its ``truth``):
        noisy labels would credit finds on teeth labelled implant."""
        for key in ("real_films_audited", "real_films"):
            if key in self.metrics:
                return dict(self.metrics[key])
        held_out = (self.training_data.get("splits") or {}).get(self.metrics.get("split", ""), {})
        return dict(self.metrics) if held_out.get("real_images") else {}

    @property
    def systems_learnt_from_real_films(self) -> tuple[str, ...]:
        """The systems it was trained on with real radiographs labelled with them; the others it learnt from
        generated images only, and it does not name them on a real film."""
        counts = self.training_data.get("real_fixtures_per_system") or {}
        return tuple(system for system in self.spec.classes if counts.get(system, 0) > 0)

    @property
    def parts_learnt_from_real_films(self) -> bool:
        """Whether it was trained on thirds labelled on real radiographs; if not, its thirds (learnt from generated
        images) do not move or add fixtures on a real film."""
        return bool(self.training_data.get("real_parts"))

    def to_dict(self) -> dict:
        known = {"format": CARD_FORMAT, "version": self.version, "parent_version": self.parent_version,
                 "created": self.created, "classes": list(self.spec.classes), "spec": self.spec.to_dict(),
                 "weights": {"file": WEIGHTS_NAME, "sha256": self.weights_sha256, "dtype": self.weights_dtype},
                 "intended_use": self.intended_use, "training_data": self.training_data, "licence": self.licence,
                 "metrics": self.metrics, "training": self.training, "notes": list(self.notes)}
        if self.graphs:
            known["graphs"] = dict(self.graphs)
        if self.imported_from is not None:
            known["imported_from"] = self.imported_from
        return _merged(known, self.unknown)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelCard":
        """Raises ValueError, KeyError, TypeError or AttributeError for what is not a card of this format."""
        if data.get("format") != CARD_FORMAT:
            raise ValueError(f"unknown card format {data.get('format')!r}")
        weights = data["weights"]
        if weights.get("dtype") not in WEIGHTS_DTYPES:
            raise ValueError(f"unsupported weights dtype {weights.get('dtype')!r}")
        imported_from = data.get("imported_from")
        card = cls(
            spec=ModelSpec.from_dict(data["spec"]), weights_sha256=str(weights["sha256"]),
            weights_dtype=weights["dtype"], graphs={str(k): str(v) for k, v in (data.get("graphs") or {}).items()},
            version=_text_or_none(data.get("version")),
            parent_version=_text_or_none(data.get("parent_version")), created=str(data.get("created") or ""),
            intended_use=str(data.get("intended_use", "")), training_data=dict(data.get("training_data") or {}),
            licence=str(data.get("licence", "")), metrics=dict(data.get("metrics") or {}),
            training=dict(data.get("training") or {}), notes=[str(n) for n in data.get("notes") or []],
            imported_from=None if imported_from is None else dict(imported_from),
        )
        return replace(card, unknown=_unknown(data, card.to_dict()))


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _unknown(data: dict, known: dict) -> dict:
    """What ``data`` holds beyond the keys of ``known``, looking into the dicts both hold (e.g. ``spec``)."""
    extra = {}
    for key, value in data.items():
        if key not in known:
            extra[key] = value
        elif isinstance(value, dict) and isinstance(known[key], dict):
            nested = _unknown(value, known[key])
            if nested:
                extra[key] = nested
    return extra


def _merged(known: dict, extra: dict) -> dict:
    merged = dict(known)
    for key, value in extra.items():
        merged[key] = _merged(merged[key], value) if isinstance(merged.get(key), dict) else value
    return merged


def _read_json(path: Path) -> object:
    try:
        if path.stat().st_size > MAX_CARD_BYTES:
            raise ModelFileError(path, "the model card is too large to be a model card")
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(path, "the model card is missing: this folder does not hold a model") from exc
    except OSError as exc:
        raise ModelFileError(path, f"the model card cannot be read ({exc.strerror or exc})") from exc
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting without end
        raise ModelFileError(path, f"the model card is damaged ({type(exc).__name__}: {exc})") from None


def read_card(folder: str | Path) -> ModelCard:
    """The card of a model folder (fast, no torch: lists and registry views); does not check the weights."""
    path = Path(folder) / CARD_NAME
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("format") != CARD_FORMAT:
        raise ModelFileError(path, "this is not an implant_desk model card")
    if not isinstance(data.get("weights"), dict) or not data["weights"].get("sha256"):
        raise ModelFileError(path, "the model card does not say which weights belong to it")
    try:
        return ModelCard.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OverflowError, RecursionError) as exc:
        # any value of any type can sit anywhere in a hand-edited or hostile card
        raise ModelFileError(path, f"the model card is damaged or not a model card ({exc!r:.200})") from None


def card_warning(card: ModelCard | None) -> str:
    """The plain warning line shown wherever the model answers (the Identify panel, its report, ``predict``):
    generated-only training data says so; otherwise the card's intended use."""
    if card is None:
        return "This model has no card: where its data came from is unknown. Not for diagnosis."
    real = card.real_film_figures
    if real.get("ap50") is not None:
        named = ("" if card.systems_learnt_from_real_films else
                 "; it learnt its systems and their design from generated images and does not name them on a real "
                 "film, where the design it reads is unchecked" if card.spec.attributes else
                 "; it learnt its systems from generated images and does not name them on a real film")
        checked = ", labels checked box by box" if real.get("truth") else ""
        return (f"Finds implants on real films (AP50 {real['ap50']:.2f}, {real.get('false_per_image') or 0:.2f} "
                f"false finds per image on {real.get('images', 0)} held-out real images{checked}){named}. Not for "
                "diagnosis.")
    seen = (json.dumps(card.training_data) + " " + " ".join(card.notes)).lower()
    if "generated" in seen or "synthetic" in seen:
        return GENERATED_WARNING
    return card.intended_use


def write_card(folder: str | Path, card: ModelCard) -> None:
    atomic_write_text(Path(folder) / CARD_NAME, json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_weights_digest(weights_path: str | Path, actual_sha256: str, card: ModelCard) -> None:
    if actual_sha256 != card.weights_sha256:
        raise ModelFileError(weights_path, "the weights do not match their card (sha256 differs): the file was "
                             "changed or damaged, or the card belongs to another model")


def check_safetensors_layout(path: str | Path) -> None:
    """Refuse a weights file that is not safetensors (a pickle renamed, say) without loading its tensors:
    safetensors reads the header (the tensors' names, types and byte ranges) and checks it covers the file."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(path, framework="numpy"):
            pass
    except OSError as exc:
        raise ModelFileError(path, f"the model weights cannot be read ({exc.strerror or exc})") from exc
    except SafetensorError:
        raise ModelFileError(path, "the weights are not a safetensors file (a pickle or other format is never "
                                   "loaded)") from None


def verify_weights(folder: str | Path, card: ModelCard) -> None:
    """Raise ModelFileError unless the weights file in ``folder`` is the one the card names (sha256)."""
    path = Path(folder) / WEIGHTS_NAME
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise ModelFileError(path, "the model weights are missing or cannot be read") from exc
    check_weights_digest(path, actual, card)
