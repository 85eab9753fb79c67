"""Every model a lab trains, kept as a numbered version it can compare, activate, roll back to, export.

Layout under ``user_data_dir()/models``::

    v2/ card.json model.safetensors      one folder per version (implant_desk.core.models.weights layout),
        detector.onnx classifier.onnx    with the same networks as ONNX graphs where the card lists them
    v3/ ...
    active.json                          {"active": "3", "previous": ["1", "2"]}, written atomically

Version 1 is the model shipped in the repository (``models/default``): listed, activatable, never changed
or deleted. A new version is built in a hidden staging folder inside the registry, then renamed into place
in one step, so a crash or a cancelled run never leaves a half-written version behind.

Each version holds its ``ModelCard`` (``implant_desk.core.models.card``, where the card conventions are).

Nothing here imports torch: listing versions reads JSON cards only. Weights and graphs are checked against the
sha256 in their card on import; loading (``models.weights``, ``models.graphs``) checks again. No file from a
registry or an export is ever executed or unpickled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from implant_desk.core.atomic import atomic_write_bytes, atomic_write_text
from implant_desk.core.catalogue import ImplantSystem, shipped_catalogue
from implant_desk.core.errors import ImplantDeskError, ModelFileError
from implant_desk.core.models.card import (
    CARD_NAME,
    MAX_CARD_BYTES,
    WEIGHTS_NAME,
    ModelCard,
    check_safetensors_layout,
    read_card,
    sha256_file,
    verify_weights,
    write_card,
)
from implant_desk.core.models.graphs import CLASSIFIER_GRAPH, DETECTOR_GRAPH
from implant_desk.core.paths import REPO_MODELS_DIR, user_data_dir

DEFAULT_VERSION = "1"
DEFAULT_MODEL_DIR = REPO_MODELS_DIR / "default"
EXPORT_SUFFIX = ".idmodel"
ACTIVE_FILE = "active.json"
_MAX_WEIGHTS_BYTES = 2_000_000_000
_GRAPHS = {DETECTOR_GRAPH, CLASSIFIER_GRAPH}
_STAGING_PREFIX = ".staging-"
_STALE_STAGING_S = 24 * 3600


class RegistryError(ImplantDeskError):
    """A registry request that cannot be done (unknown version, deleting the active one, ...)."""


@dataclass(frozen=True)
class ModelVersion:
    version: str
    folder: Path
    card: ModelCard
    read_only: bool = False


def normalise_version(version: str | int) -> str:
    """ "v3", "3" and 3 name the same version."""
    text = str(version).strip().lower()
    text = text[1:] if text.startswith("v") else text
    if not text.isdigit() or int(text) < 1:
        raise RegistryError(f"{version!r} is not a model version (expected a number such as 2 or v2)")
    return str(int(text))


class Registry:
    def __init__(self, root: str | os.PathLike | None = None, default_dir: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else user_data_dir() / "models"
        self.default_dir = Path(default_dir) if default_dir is not None else DEFAULT_MODEL_DIR

    # --- reading ---------------------------------------------------------------------------------

    def versions(self) -> list[ModelVersion]:
        """Every version, oldest first; folders that hold no readable model are left out (``unreadable``)."""
        return self._scan()[0]

    def unreadable(self) -> list[ModelFileError]:
        """Why each version folder that ``versions`` leaves out cannot be used (a damaged or hostile card)."""
        return self._scan()[1]

    def _scan(self) -> tuple[list[ModelVersion], list[ModelFileError]]:
        found, problems = [], []
        candidates = [(DEFAULT_VERSION, self.default_dir, True)] if (self.default_dir / CARD_NAME).is_file() else []
        if self.root.is_dir():
            for entry in self.root.iterdir():
                number = entry.name[1:]
                if entry.is_dir() and entry.name.startswith("v") and number.isdigit() and int(number) > int(DEFAULT_VERSION):
                    candidates.append((str(int(number)), entry, False))
        for version, folder, read_only in candidates:
            try:
                found.append(ModelVersion(version, folder, read_card(folder), read_only))
            except ModelFileError as problem:
                problems.append(problem)
        return sorted(found, key=lambda v: int(v.version)), problems

    def get(self, version: str | int) -> ModelVersion:
        """A version by number, or "active"."""
        if str(version).strip().lower() == "active":
            active = self.active()
            if active is None:
                raise RegistryError("there is no model yet: train one or install the default model")
            return active
        wanted = normalise_version(version)
        for candidate in self.versions():
            if candidate.version == wanted:
                return candidate
        raise RegistryError(f"there is no model version {wanted}; known: {self._known()}")

    def _known(self) -> str:
        return ", ".join(v.version for v in self.versions()) or "none"

    def _state(self) -> dict:
        try:
            state = json.loads((self.root / ACTIVE_FILE).read_text(encoding="utf-8"))
            return state if isinstance(state, dict) else {}
        except (OSError, ValueError):
            return {}

    def active(self) -> ModelVersion | None:
        """The version in use: the one last activated, else the shipped default, else the newest."""
        versions = {v.version: v for v in self.versions()}
        chosen = str(self._state().get("active", ""))
        if chosen in versions:
            return versions[chosen]
        return versions.get(DEFAULT_VERSION) or (list(versions.values())[-1] if versions else None)

    # --- changing --------------------------------------------------------------------------------

    def _write_state(self, active: str, previous: list[str]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        state = {"active": active, "previous": previous[-50:]}
        atomic_write_text(self.root / ACTIVE_FILE, json.dumps(state, indent=2) + "\n")

    def activate(self, version: str | int) -> ModelVersion:
        chosen = self.get(version)
        current = self.active()
        previous = [str(v) for v in self._state().get("previous", [])]
        if current is not None and current.version != chosen.version:
            previous.append(current.version)
        self._write_state(chosen.version, previous)
        return chosen

    def rollback(self) -> ModelVersion:
        """Go back to the version that was active before the current one (deleted ones are skipped)."""
        known = {v.version for v in self.versions()}
        previous = [str(v) for v in self._state().get("previous", [])]
        while previous:
            candidate = previous.pop()
            if candidate in known:
                self._write_state(candidate, previous)
                return self.get(candidate)
        raise RegistryError("there is no earlier active model to go back to")

    def delete(self, version: str | int) -> None:
        """Remove a trained version; never the active one, never the shipped default."""
        chosen = self.get(version)
        if chosen.read_only:
            raise RegistryError(f"version {chosen.version} is the model that came with the app; it cannot be deleted")
        active = self.active()
        if active is not None and active.version == chosen.version:
            raise RegistryError(f"version {chosen.version} is the active model; activate another one before deleting it")
        # Rename first so the version disappears in one step, then remove the files at leisure.
        doomed = self.root / f"{_STAGING_PREFIX}deleted-v{chosen.version}-{os.getpid()}"
        try:
            os.rename(chosen.folder, doomed)
        except OSError as exc:
            raise RegistryError(f"version {chosen.version} could not be deleted ({exc.strerror or exc})") from exc
        shutil.rmtree(doomed, ignore_errors=True)

    @contextlib.contextmanager
    def staging(self) -> Iterator[Path]:
        """A fresh folder inside the registry to build a model in; removed afterwards unless published."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep_stale_staging()
        folder = Path(tempfile.mkdtemp(prefix=_STAGING_PREFIX, dir=self.root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _sweep_stale_staging(self) -> None:
        """Remove what a killed run left behind (a hard cancel can stop one mid-save); only old leftovers, so a
        build running in another process right now is never touched."""
        cutoff = time.time() - _STALE_STAGING_S
        for entry in self.root.glob(f"{_STAGING_PREFIX}*"):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)

    def publish(self, staged: str | os.PathLike) -> ModelVersion:
        """Make the model in ``staged`` (a folder from ``staging()``) the next version, atomically.

        The card's ``version`` is set to the new number; the weights must match the card."""
        staged = Path(staged)
        if staged.parent.resolve() != self.root.resolve():
            raise ValueError("publish() takes a folder made by staging(), so the final rename stays on one disk")
        card = read_card(staged)
        verify_weights(staged, card)
        number = max([int(DEFAULT_VERSION)] + [int(v.version) for v in self.versions()]) + 1
        while True:
            card = replace(card, version=str(number))
            write_card(staged, card)
            target = self.root / f"v{number}"
            try:
                os.rename(staged, target)  # fails when another run took this number first: take the next
            except OSError:
                if not target.exists():
                    raise
                number += 1
                continue
            return ModelVersion(str(number), target, card)

    # --- exchange --------------------------------------------------------------------------------

    def export(self, version: str | int, destination: str | os.PathLike) -> Path:
        """One file (a zip of card, weights and, where the version has them, its graphs) that another
        installation can import; with the graphs it predicts on the CPU at once, without torch."""
        chosen = self.get(version)
        verify_weights(chosen.folder, chosen.card)
        graphs = sorted(name for name in chosen.card.graphs if (chosen.folder / name).is_file())
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / f"implant-desk-model-v{chosen.version}{EXPORT_SUFFIX}"
        with tempfile.SpooledTemporaryFile(max_size=64 << 20) as buffer:
            with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
                archive.write(chosen.folder / CARD_NAME, CARD_NAME)
                archive.write(chosen.folder / WEIGHTS_NAME, WEIGHTS_NAME)
                for name in graphs if set(graphs) == _GRAPHS else ():
                    archive.write(chosen.folder / name, name)
            buffer.seek(0)
            atomic_write_bytes(destination, buffer.read())
        return destination

    def import_file(self, source: str | os.PathLike) -> ModelVersion:
        """Add an exported model as a new version after checking its card and the hashes of its weights and
        graphs. An archive without graphs (an older export) gives a version whose card lists none: it runs
        in torch."""
        source = Path(source)
        try:
            archive = zipfile.ZipFile(source)
        except (OSError, zipfile.BadZipFile) as exc:
            raise ModelFileError(source, "is not an exported implant_desk model (not a readable zip file)") from exc
        with archive, self.staging() as staged:
            members = {info.filename: info for info in archive.infolist()}
            names = set(members)
            if names - _GRAPHS != {CARD_NAME, WEIGHTS_NAME} or names & _GRAPHS not in (set(), _GRAPHS):
                raise ModelFileError(source, f"an exported model holds exactly {CARD_NAME} and {WEIGHTS_NAME}, "
                                     f"and optionally {DETECTOR_GRAPH} with {CLASSIFIER_GRAPH}; "
                                     f"this file holds {', '.join(sorted(members)) or 'nothing'}")
            for name in members:
                limit = MAX_CARD_BYTES if name == CARD_NAME else _MAX_WEIGHTS_BYTES
                _extract_capped(archive, members[name], staged / name, limit, source)
            try:
                card = read_card(staged)
                verify_weights(staged, card)
                check_safetensors_layout(staged / WEIGHTS_NAME)  # refused now, not when it is first loaded
            except ModelFileError as exc:
                raise ModelFileError(source, exc.reason) from exc
            graphs = {name: card.graphs.get(name) for name in names & _GRAPHS}
            if any(sha256_file(staged / name) != digest for name, digest in graphs.items()):
                raise ModelFileError(source, "its ONNX graphs do not match their card (sha256 differs): the file "
                                     "was changed or damaged")
            write_card(staged, replace(card, graphs=graphs,
                                       imported_from={"file": source.name, "version": card.version}))
            return self.publish(staged)


def model_folder(version: str | None = None) -> Path:
    """The folder of a version ("3", "v3"), of "default", or (None) of the active model."""
    registry = Registry()
    if version is None:
        return registry.get("active").folder
    return registry.get(DEFAULT_VERSION if str(version).strip().lower() == "default" else version).folder


def model_systems(folder: Path = DEFAULT_MODEL_DIR) -> list[ImplantSystem]:
    """The shipped catalogue's systems that the model in ``folder`` names (its card's classes), in its order.
    Whatever generates images for that model to name (the demo folder, the shipped model's training, benchmarks)
    draws from these alone: a fixture of a system the model does not know is one it can never name right."""
    return shipped_catalogue().named(read_card(folder).classes)


def _extract_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int, source: Path) -> None:
    """Copy one member out, refusing more than ``limit`` bytes whatever the header claims (zip bombs)."""
    if info.file_size > limit:
        raise ModelFileError(source, f"{info.filename} is too large for a model file")
    written = 0
    try:
        with archive.open(info) as reader, open(target, "wb") as writer:
            for chunk in iter(lambda: reader.read(1 << 20), b""):
                written += len(chunk)
                if written > limit:
                    raise ModelFileError(source, f"{info.filename} is too large for a model file")
                writer.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelFileError(source, f"{info.filename} cannot be read from the file ({exc})") from exc


def compare(a: ModelVersion, b: ModelVersion) -> list[tuple[str, object, object]]:
    """Rows (what, a's value, b's value) for a side-by-side view: data, training, figures per system."""
    def summary(version: ModelVersion) -> dict:
        return version.card.training_data.get("splits") or {}

    def training(version: ModelVersion) -> dict:
        return version.card.training

    def metrics(version: ModelVersion) -> dict:
        return version.card.metrics

    rows: list[tuple[str, object, object]] = [
        ("version", a.version, b.version),
        ("created", a.card.created, b.card.created),
        ("parent version", a.card.parent_version, b.card.parent_version),
        ("systems", ", ".join(a.card.classes), ", ".join(b.card.classes)),
    ]
    for split in ("train", "val", "test"):
        for what in ("images", "fixtures", "patients"):
            rows.append((f"{split} {what}", summary(a).get(split, {}).get(what), summary(b).get(split, {}).get(what)))
    rows.append(("data hash", a.card.training_data.get("file_list_sha256"),
                 b.card.training_data.get("file_list_sha256")))
    for what in ("device", "duration_s"):
        rows.append((what, training(a).get(what), training(b).get(what)))
    params = sorted(set(training(a).get("hyperparameters") or {}) | set(training(b).get("hyperparameters") or {}))
    for name in params:
        rows.append((name, (training(a).get("hyperparameters") or {}).get(name),
                     (training(b).get("hyperparameters") or {}).get(name)))
    for name in ("top1", "top3", "ap50", "map"):
        rows.append((name, metrics(a).get(name), metrics(b).get(name)))
    systems = list(dict.fromkeys([*(metrics(a).get("per_class") or {}), *(metrics(b).get("per_class") or {})]))
    for system in systems:
        for what in ("sensitivity", "specificity", "accuracy", "mean_confidence"):
            rows.append((f"{system} {what}", ((metrics(a).get("per_class") or {}).get(system) or {}).get(what),
                         ((metrics(b).get("per_class") or {}).get(system) or {}).get(what)))
    return rows
