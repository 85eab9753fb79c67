"""Annotated folders -> training samples with a patient id each, and patient-level splits.

A patient's radiographs look alike (same anatomy, same implants), so an image of a patient in training and
another in validation would make the figures look better than they are. Every split here keeps a patient on
one side only (checked, not hoped), as the seed studies require.

Where the patient comes from, per image, first that applies:
1. the DICOM PatientID (header only, pixels are not decoded);
2. ``patients.csv`` (columns ``file, patient``) in the data folder, ``file`` relative to it or a bare name;
3. the first sub-folder under the data folder (one sub-folder per patient);
4. a Roboflow export's file name (``0026_jpg.rf.52fac...jpg``): the part before ``_jpg`` names the source
   radiograph, which its augmented copies share, so it is grouped as a patient;
5. nothing: the image is its own patient, and a warning says the split is then per image.

Labels (implant_desk.core.learning.labels): implant systems become the model's classes; implants whose system the
data does not say train the detector only; other findings are left out. Design parts (coronal, middle, apical
thirds) are kept apart from the fixtures, for a model that finds them: in the image's own annotation, or, for
generated images, in their ``parts/`` folder (the generator keeps them there so LabelImg shows fixtures only).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import warnings as _warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from implant_desk.core.annotations.folder import (ANNOTATED, PROPOSED, VERIFIED, annotation_folder,
                                                  scan_image_folder)
from implant_desk.core.annotations.model import ImageAnnotation
from implant_desk.core.annotations.store import load_annotation
from implant_desk.core.errors import FileProblem, ImplantDeskError
from implant_desk.core.imaging import loading as imaging
from implant_desk.core.annotations.model import Box
from implant_desk.core.learning.labels import IMPLANT, PART, SYSTEM, LabelRoles
from implant_desk.core.learning.metrics import TrueFixture
from implant_desk.core.synthetic.writer import GENERATOR, PARTS_FOLDER, TRUTH_FILE
from implant_desk.core.wording import counted

PATIENTS_CSV = "patients.csv"
MIN_FIXTURES_PER_SYSTEM = 5
_DICOM_SUFFIXES = (".dcm", ".dicom", ".dic", "")  # "": sensor exports often lack a suffix
# Roboflow names each augmented copy <source>_<suffix>.rf.<hash>.<suffix>.
_ROBOFLOW_COPY = re.compile(r"^(?P<source>.+?)_(?:jpe?g|png|bmp|tiff?|dcm)\.rf\.[0-9a-f]{8,}$", re.IGNORECASE)
SOURCE_NAME = "file name (Roboflow source)"


class DatasetError(ImplantDeskError):
    """The folders cannot make a dataset (no annotated image, too few patients for the split asked)."""


@dataclass(frozen=True)
class Sample:
    image_path: Path
    annotation: ImageAnnotation
    patient_id: str
    # The image's path relative to its data folder (POSIX): what the file-list hash is made of, so the
    # hash does not change when a lab moves or copies its data folder.
    name: str = ""
    generated: bool = False  # one of implant_desk's generated radiographs (its folder's truth.json says so)
    # Box labels that mean an implant whose system is not given: it teaches the detector, not the classifier.
    implant_labels: frozenset[str] = frozenset()
    parts: tuple[Box, ...] = ()  # the fixtures' design parts, labelled "coronal:...", "middle:...", "apical:..."

    @property
    def systems(self) -> list[str]:
        """The named systems of its fixtures (implants without a system left out)."""
        return [box.label for box in self.annotation.boxes if box.label not in self.implant_labels]

    def truth(self) -> list[TrueFixture]:
        """Every fixture's box, system (None: an implant whose system the data does not say) and difficult
        flag."""
        return [TrueFixture((b.xmin, b.ymin, b.xmax, b.ymax), None if b.label in self.implant_labels else b.label,
                            b.difficult) for b in self.annotation.boxes]


@dataclass
class Dataset:
    samples: list[Sample]
    classes: list[str]
    warnings: list[str] = field(default_factory=list)
    # How each patient id was found: {"dicom": n, "patients.csv": n, "sub-folder": n, "image": n}.
    patient_sources: dict[str, int] = field(default_factory=dict)
    # Images under the folders without an annotation file (material for self-supervised pre-training).
    unannotated: list[Path] = field(default_factory=list)
    patient_rules: list[PatientRule] = field(default_factory=list, repr=False)
    # Boxes left out of the fixtures, by label: design parts and other findings (fillings, caries, teeth).
    ignored_labels: dict[str, int] = field(default_factory=dict)
    implant_labels: dict[str, int] = field(default_factory=dict)  # labels taken for implants without a system
    # Pre-annotated images nobody has reviewed yet: left out, so only a person's boxes teach the model.
    unreviewed: list[Path] = field(default_factory=list)

    @property
    def patients(self) -> set[str]:
        return {s.patient_id for s in self.samples}

    def patient_of(self, image: Path) -> str:
        """The patient of any image under the data folders, by the rules its annotated images followed (a
        DICOM header is read only here, so listing unannotated images stays cheap)."""
        for rule in self.patient_rules:
            if image.is_relative_to(rule.root):
                header = read_dicom_header(image) if image.suffix.lower() in _DICOM_SUFFIXES else None
                return rule.patient(image.relative_to(rule.root).as_posix(), header)[0]
        raise ValueError(f"{image} is not under the data folders")

    @property
    def fixtures(self) -> int:
        return sum(len(s.annotation.boxes) for s in self.samples)


@dataclass(frozen=True)
class Split:
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    seed: int

    def parts(self) -> dict[str, list[Sample]]:
        return {"train": self.train, "val": self.val, "test": self.test}


# --- loading -----------------------------------------------------------------------------------------


def read_dicom_header(path: str | os.PathLike):
    """The DICOM header without pixel data, or None when the file is not DICOM."""
    import pydicom  # lazily: only folders with DICOM files pay for it
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError):
        return None


def read_patient_id(path: str | os.PathLike) -> str | None:
    """The DICOM PatientID (stripped), or None when the file is not DICOM or carries none."""
    header = read_dicom_header(path) if Path(path).suffix.lower() in _DICOM_SUFFIXES else None
    return _patient_of(header)


def _patient_of(header) -> str | None:
    value = str(getattr(header, "PatientID", "") or "").strip() if header is not None else ""
    return value or None


def image_size(path: Path, header=None) -> tuple[int, int]:
    """(width, height) in the image's displayed orientation; a DICOM header already read answers for free."""
    if header is not None and "Rows" in header and "Columns" in header:
        return int(header.Columns), int(header.Rows)
    width, height, _ = imaging.image_size(path)
    return width, height


def _read_patients_csv(folder: Path) -> dict[str, str]:
    """file -> patient from ``patients.csv`` (header row optional); keys as written and as bare names."""
    path = folder / PATIENTS_CSV
    if not path.is_file():
        return {}
    table: dict[str, str] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for row in csv.reader(handle):
                if len(row) < 2 or not row[0].strip() or not row[1].strip():
                    continue
                file, patient = row[0].strip(), row[1].strip()
                if (file.lower(), patient.lower()) == ("file", "patient"):
                    continue
                table[file.replace("\\", "/")] = patient
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FileProblem(path, f"the patient list cannot be read ({exc})") from exc
    return table


@dataclass(frozen=True)
class PatientRule:
    """How one data folder names its patients (see the module docstring)."""

    root: Path
    by_file: dict[str, str]  # from patients.csv
    sub_folders: bool  # one sub-folder per patient

    def patient(self, relative: str, header) -> tuple[str, str]:
        """(patient id, where it came from) for an image at ``relative`` (POSIX) under the root."""
        patient = _patient_of(header)
        if patient is not None:
            return patient, "dicom"
        patient = self.by_file.get(relative) or self.by_file.get(relative.rsplit("/", 1)[-1])
        if patient is not None:
            return patient, PATIENTS_CSV
        if self.sub_folders and "/" in relative:
            # Folder-derived ids are prefixed with the data folder so two labs' "patient1" stay two patients.
            return f"{self.root.name}/{relative.split('/', 1)[0]}", "sub-folder"
        folder, _, file = relative.rpartition("/")
        copy = _ROBOFLOW_COPY.match(file.rsplit(".", 1)[0])
        if copy is not None:
            return f"{self.root.name}/{folder + '/' if folder else ''}{copy['source']}", SOURCE_NAME
        return f"{self.root.name}/{relative}", "image"


def _image_folders(root: Path) -> Iterable[Path]:
    """The data folder and every sub-folder below it (hidden ones skipped), in a stable order."""
    for folder, subfolders, _ in os.walk(root, onerror=_raise):  # an unreadable folder is said, not skipped
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        yield Path(folder)


def _raise(error: OSError) -> None:
    raise error


def load_dataset(folders: Sequence[str | os.PathLike], only: Sequence[str] | None = None, *,
                 annotation_dir: str | os.PathLike | None = None, roles: LabelRoles = LabelRoles()) -> Dataset:
    """Every annotated image under ``folders``: annotations (VOC, YOLO or CreateML) where
    ``annotation_folder`` says, as the editor finds them (beside the images, or the YOLO layout's ``labels/``).
    ``only``: keep boxes with these labels (the
    other boxes are dropped; their images stay, as negatives). ``roles``: which labels are implants without a
    system, design parts or other findings (those two are dropped from the fixtures and counted).

    ``annotation_dir``: a separate annotation folder (LabelImg's "Change Save Dir"). It is flat, one file per
    image stem, so the annotations of every image under every folder are looked up there (and only there); an
    image whose stem another image shares is skipped with a warning, as the file cannot say whose boxes it holds.

    A damaged annotation file is skipped with a warning, never rewritten."""
    samples: list[Sample] = []
    notes: list[str] = []
    unannotated: list[Path] = []
    unreviewed: list[Path] = []
    rules: list[PatientRule] = []
    sources: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    implants: Counter[str] = Counter()
    generated_folders: dict[Path, bool] = {}
    roots = [Path(f) for f in folders]
    for root in roots:
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
    annotations = Path(annotation_dir) if annotation_dir is not None else None
    found_per_root = [[loaded for folder in _image_folders(root)
                       for loaded in _load_folder(root, folder, annotations, notes, unannotated, unreviewed)] for root in roots]
    if annotations is not None:
        found_per_root = _one_image_per_stem(found_per_root, annotations, notes)
    for root, found in zip(roots, found_per_root):
        # Sub-folders name patients only when the images are spread over several of them (not one "images/").
        rule = PatientRule(root, _read_patients_csv(root),
                           len({name.split("/", 1)[0] for name, *_ in found if "/" in name}) >= 2)
        rules.append(rule)
        for relative, image, annotation, header in found:
            if only is not None:
                annotation = replace(annotation, boxes=[b for b in annotation.boxes if b.label in only])
            role_of = {label: roles.role(label) for label in {b.label for b in annotation.boxes}}
            ignored.update(b.label for b in annotation.boxes if role_of[b.label] not in (SYSTEM, IMPLANT))
            implants.update(b.label for b in annotation.boxes if role_of[b.label] == IMPLANT)
            parts = tuple(b for b in annotation.boxes if role_of[b.label] == PART)
            annotation = replace(annotation, boxes=[b for b in annotation.boxes if role_of[b.label] in (SYSTEM, IMPLANT)])
            patient, source = rule.patient(relative, header)
            if image.parent not in generated_folders:
                generated_folders[image.parent] = _holds_generated_images(image.parent)
            if generated_folders[image.parent] and not parts:
                parts = _generated_parts(image, annotation, notes)
            samples.append(Sample(image, annotation, patient, f"{root.name}/{relative}", generated_folders[image.parent],
                                  frozenset(label for label, role in role_of.items() if role == IMPLANT), parts))
            sources[source] += 1
    if not samples:
        where = ", ".join(str(f) for f in folders) + (f" (annotations in {annotations})" if annotations else "")
        raise DatasetError("no annotated image found in " + where)
    classes = sorted({label for s in samples for label in s.systems})
    return Dataset(samples, classes, notes, dict(sources), unannotated, rules, dict(ignored), dict(implants),
                   unreviewed)


def _holds_generated_images(folder: Path) -> bool:
    """A folder that implant_desk's generator wrote (its truth.json names the generator)."""
    try:
        return json.loads((folder / TRUTH_FILE).read_text(encoding="utf-8")).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def _generated_parts(image: Path, annotation: ImageAnnotation, notes: list[str]) -> tuple[Box, ...]:
    """The design parts the generator wrote for ``image`` (none when the file is absent or damaged)."""
    path = image.parent / PARTS_FOLDER / f"{image.stem}.xml"
    if not path.is_file():
        return ()
    try:
        loaded = load_annotation(image, path.parent, (annotation.width, annotation.height))
        return tuple(loaded.annotation.boxes) if loaded is not None else ()
    except FileProblem as problem:
        notes.append(f"design parts skipped: {problem}")
        return ()


_Loaded = tuple[str, Path, ImageAnnotation, object]  # path relative to its data folder, image, annotation, header


def _load_folder(root: Path, folder: Path, annotation_dir: Path | None, notes: list[str],
                 unannotated: list[Path], unreviewed: list[Path]) -> Iterable[_Loaded]:
    """(path relative to root, image, annotation, DICOM header or None) for each annotated or verified image;
    the images without an annotation file are added to ``unannotated``, the pre-annotated images not reviewed
    yet to ``unreviewed`` (they are left out)."""
    save_dir = annotation_folder(folder, annotation_dir)
    for entry in scan_image_folder(folder, save_dir):
        if entry.annotation_path is None:
            unannotated.append(entry.path)
        if entry.status == PROPOSED:  # pre-annotated, not reviewed yet: its boxes are not a person's word yet
            unreviewed.append(entry.path)
        if entry.status not in (ANNOTATED, VERIFIED):
            continue
        image = entry.path
        header = read_dicom_header(image) if image.suffix.lower() in _DICOM_SUFFIXES else None
        try:
            if header is not None:
                _check_dicom_pixels(image)
            loaded = load_annotation(image, save_dir, image_size(image, header))
        except FileProblem as problem:
            notes.append(f"skipped: {problem}")
            continue
        if loaded is not None:
            notes.extend(f"{loaded.path}: {w}" for w in loaded.warnings)
            # Verified means reviewed, whichever file keeps the mark (YOLO's is in the proposals file).
            annotation = replace(loaded.annotation, verified=entry.status == VERIFIED)
            yield image.relative_to(root).as_posix(), image, annotation, header


def _check_dicom_pixels(image: Path) -> None:
    """A DICOM file cut short is skipped here with the others, not found when training decodes it (its header
    alone gives the size, so nothing else reads its pixels before then)."""
    from implant_desk.core.imaging.dicom import check_dicom  # lazily: only folders with DICOM files pay for it

    check_dicom(image)


def _one_image_per_stem(found_per_root: list[list[_Loaded]], annotation_dir: Path,
                        notes: list[str]) -> list[list[_Loaded]]:
    """Drop the images that share their stem with another (``a/img1.png`` and ``b/img1.dcm``): in a flat
    annotation folder both would read ``img1.xml``, which holds the boxes of only one of them."""
    images_of: dict[str, list[Path]] = {}
    for found in found_per_root:
        for _, image, *_ in found:
            images_of.setdefault(image.stem, []).append(image)
    shared = {stem: images for stem, images in images_of.items() if len(images) > 1}
    for stem, images in sorted(shared.items()):
        notes.append(f"skipped: {', '.join(str(i) for i in images)}: they share one annotation file ({stem}.*) in "
                     f"{annotation_dir}, which cannot say whose boxes it holds; rename them, or keep their "
                     "annotations beside the images")
    return [[item for item in found if item[1].stem not in shared] for found in found_per_root]


# --- splits ------------------------------------------------------------------------------------------


def stratum(sample: Sample) -> str:
    """The system an image stands for in stratification: its most frequent one (ties: alphabetical)."""
    counts = Counter(sample.systems)
    if not counts:
        return ""
    return min(counts, key=lambda name: (-counts[name], name))


def _group_folds(samples: Sequence[Sample], n_splits: int, seed: int) -> list[tuple[list[int], list[int]]]:
    """Patient-grouped folds, stratified by system when the patients allow it (scikit-learn)."""
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    groups = [s.patient_id for s in samples]
    labels = [stratum(s) for s in samples]
    with _warnings.catch_warnings():
        # "The least populated class has only N members": stratification is then best effort, as intended.
        _warnings.simplefilter("ignore", UserWarning)
        folds = None
        if len(set(labels)) > 1:
            splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
            try:
                folds = list(splitter.split(samples, labels, groups))
            except ValueError:  # every system has fewer images than folds: no stratification is possible
                folds = None
        if folds is None:
            folds = list(GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(samples, groups=groups))
    return [(list(train), list(test)) for train, test in folds]


def _hold_out(samples: list[Sample], fraction: float, seed: int) -> tuple[list[Sample], list[Sample]]:
    """(rest, held out): about ``fraction`` of the patients held out, at least one when fraction > 0."""
    if fraction <= 0 or not samples:
        return list(samples), []
    patients = len({s.patient_id for s in samples})
    if patients < 2:
        raise DatasetError("at least two patients are needed to hold some out for validation or testing")
    n_splits = min(patients, max(2, round(1 / fraction)))
    rest, held = _group_folds(samples, n_splits, seed)[0]
    return [samples[i] for i in rest], [samples[i] for i in held]


def split_by_patient(dataset: Dataset | Sequence[Sample], val_fraction: float = 0.2, test_fraction: float = 0.2,
                     seed: int = 0) -> Split:
    """Train/validation/test with every patient on one side only; seeded, stratified by system."""
    samples = list(dataset.samples if isinstance(dataset, Dataset) else dataset)
    rest, test = _hold_out(samples, test_fraction, seed)
    # The validation share is of the whole set, so it is a larger share of what the test split left.
    remaining = 1.0 - test_fraction if test else 1.0
    train, val = _hold_out(rest, val_fraction / remaining if remaining > 0 else 0.0, seed)
    split = Split(train, val, test, seed)
    check_patients_disjoint(split.parts())
    return split


def patient_folds(dataset: Dataset | Sequence[Sample], k: int = 5, seed: int = 0) -> list[tuple[list[Sample], list[Sample]]]:
    """k (train, test) folds by patient (each patient tested exactly once), stratified by system."""
    samples = list(dataset.samples if isinstance(dataset, Dataset) else dataset)
    patients = len({s.patient_id for s in samples})
    if patients < k:
        raise DatasetError(f"{k}-fold cross-validation needs at least {k} patients; there are {patients}")
    folds = []
    for train_idx, test_idx in _group_folds(samples, k, seed):
        fold = ([samples[i] for i in train_idx], [samples[i] for i in test_idx])
        check_patients_disjoint({"train": fold[0], "test": fold[1]})
        folds.append(fold)
    return folds


def check_patients_disjoint(parts: Mapping[str, Sequence[Sample]]) -> None:
    """Raise AssertionError when one patient appears in two parts (a leak would inflate every figure)."""
    seen: dict[str, str] = {}
    for name, samples in parts.items():
        for patient in {s.patient_id for s in samples}:
            if patient in seen:
                raise AssertionError(f"patient {patient!r} is in both the {seen[patient]} and the {name} split")
            seen[patient] = name


# --- summaries ---------------------------------------------------------------------------------------


def file_list_hash(parts: Mapping[str, Sequence[Sample]]) -> str:
    """sha256 of which image is in which split, its size and its boxes: same hash, same training data."""
    lines = []
    for split_name, samples in parts.items():
        for s in samples:
            try:
                size = s.image_path.stat().st_size
            except OSError:
                size = -1
            boxes = ";".join(f"{b.label}:{b.xmin:g},{b.ymin:g},{b.xmax:g},{b.ymax:g}" for b in s.annotation.boxes)
            lines.append(f"{split_name}\t{s.name or s.image_path.name}\t{size}\t{s.patient_id}\t{boxes}")
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def summarize(parts: Mapping[str, Sequence[Sample]]) -> dict:
    """Images, fixtures, patients and fixtures per system in each split, plus the file-list hash (card data)."""
    splits = {}
    for name, samples in parts.items():
        systems = Counter(label for s in samples for label in s.systems)
        unnamed = sum(fixture.system is None for s in samples for fixture in s.truth())
        splits[name] = {"images": len(samples), "fixtures": sum(systems.values()) + unnamed,
                        "patients": len({s.patient_id for s in samples}), "systems": dict(sorted(systems.items())),
                        "implants_without_system": unnamed,
                        "real_images": sum(not s.generated for s in samples)}
    # What the model may name on a real film: the systems it learns from real radiographs labelled with them.
    real = Counter(label for s in parts.get("train", ()) if not s.generated for label in s.systems)
    # Whether its thirds may place fixtures on a real film: parts labelled on real radiographs.
    real_parts = sum(len(s.parts) for s in parts.get("train", ()) if not s.generated)
    return {"splits": splits, "file_list_sha256": file_list_hash(parts),
            "real_fixtures_per_system": dict(sorted(real.items())), "real_parts": real_parts}


def patient_warnings(dataset: Dataset) -> list[str]:
    """Said before a split: images without a patient id make the split per image."""
    alone = dataset.patient_sources.get("image", 0)
    if not alone:
        return []
    return [f"{counted(alone, 'image')} {'has' if alone == 1 else 'have'} no patient id (no DICOM PatientID, no "
            f"{PATIENTS_CSV}, not in a per-patient sub-folder): each counts as its own patient, so the split is per "
            "image and images of one patient may end up on both sides"]


_SPLIT_NAMES = {"val": "validation", "test": "test"}


def data_warnings(parts: Mapping[str, Sequence[Sample]], classes: Sequence[str]) -> list[str]:
    """What a user should know before training: systems with too few fixtures, splits that lack a system."""
    notes = []
    train = parts.get("train", ())
    train_counts = Counter(label for s in train for label in s.systems)
    for system in classes:
        if train_counts[system] < MIN_FIXTURES_PER_SYSTEM:
            count = train_counts[system]
            have = f"only {counted(count, 'fixture')}" if count else "no fixture"
            notes.append(f"{system}: {have} to learn from; at least "
                         f"{MIN_FIXTURES_PER_SYSTEM} are needed for the model to learn this system")
    for name, samples in parts.items():
        if name == "train" or not samples:
            continue
        present = {label for s in samples for label in s.systems}
        missing = [system for system in classes if system not in present]
        if missing:
            notes.append(f"the {_SPLIT_NAMES.get(name, name)} patients have no fixture of {', '.join(missing)}: the "
                         f"figures cannot judge {'this system' if len(missing) == 1 else 'these systems'} there")
    return notes
