"""Reading and writing the annotations of a whole folder in any format (``implant-desk convert``, COCO import).

A source is a folder of VOC XML, YOLO txt (with ``classes.txt``), CreateML JSON, a COCO JSON file, or a dataset
root holding ``images/`` and ``labels/`` (the YOLO/Roboflow layout). YOLO and CreateML do not store the image
size, so those images are looked up (header only) in the images folder.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from implant_desk.core.annotations import coco, createml, voc, yolo
from implant_desk.core.annotations.folder import scan_image_folder
from implant_desk.core.annotations.model import ImageAnnotation
from implant_desk.core.annotations.proposals import read_proposals
from implant_desk.core.annotations.store import SUFFIXES, with_image_identity
from implant_desk.core.errors import AnnotationFileError, ImplantDeskError
from implant_desk.core.imaging.loading import image_size

OUTPUT_FORMATS = ("voc", "yolo", "createml", "coco")
COCO_FILENAME = "annotations.json"
# EXIF orientations 5-8 turn the image a quarter, swapping width and height (LabelImg applies them).


@dataclass
class FolderAnnotations:
    fmt: str
    annotations: list[ImageAnnotation] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)  # YOLO/COCO: the source's order; otherwise sorted
    warnings: list[str] = field(default_factory=list)
    problems: list[AnnotationFileError] = field(default_factory=list)  # files that could not be read


def locate_source(src: str | os.PathLike, images_dir: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(annotations folder or COCO file, images folder) for a source as the user names it."""
    src = Path(src)
    if src.is_file():
        return src, Path(images_dir) if images_dir else src.parent
    if not src.is_dir():
        raise AnnotationFileError(src, "no such file or folder")
    if (src / "labels").is_dir() and (src / "images").is_dir():
        return src / "labels", Path(images_dir) if images_dir else src / "images"
    if images_dir:
        return src, Path(images_dir)
    sibling = src.parent / "images"
    return src, sibling if src.name == "labels" and sibling.is_dir() else src


def detect_format(annotations: Path) -> str:
    if annotations.is_file():
        if annotations.suffix.lower() == ".json" and coco.is_coco_file(annotations):
            return "coco"
        raise AnnotationFileError(annotations, "is not a COCO JSON file; name a folder of annotations instead")
    found = set()
    for entry in os.scandir(annotations):
        suffix = os.path.splitext(entry.name)[1].lower()
        if not entry.is_file():
            continue
        if suffix == voc.XML_SUFFIX:
            found.add("voc")
        elif suffix == yolo.TXT_SUFFIX and entry.name != yolo.CLASSES_FILENAME:
            found.add("yolo")
        elif suffix == createml.JSON_SUFFIX and not coco.is_coco_file(entry.path):
            found.add("createml")
        elif suffix == createml.JSON_SUFFIX and coco.holds_coco(entry.path):
            found.add("coco")
    if not found:
        raise AnnotationFileError(annotations, "holds no VOC, YOLO, CreateML or COCO annotation files")
    if len(found) > 1:
        formats = ", ".join(sorted(found))
        raise AnnotationFileError(annotations, f"holds several formats ({formats}); convert one at a time")
    return found.pop()


def read_folder(src: str | os.PathLike, images_dir: str | os.PathLike | None = None) -> FolderAnnotations:
    """Every annotation a source holds; unreadable files are listed in ``problems``, not raised."""
    annotations_path, images = locate_source(src, images_dir)
    fmt = detect_format(annotations_path)
    result = FolderAnnotations(fmt)
    if fmt == "coco":
        dataset = coco.read_coco(annotations_path, result.warnings)
        result.annotations = list(dataset.images.values())
        # Exports often declare a category no box uses (Roboflow's supercategory as id 0): not a class.
        used = {box.label for annotation in result.annotations for box in annotation.boxes}
        result.classes = [name for name in dataset.categories if name in used]
        return result
    image_by_stem = _images_by_stem(images)
    if fmt == "yolo":
        classes_path = annotations_path / yolo.CLASSES_FILENAME
        if not classes_path.exists():
            raise AnnotationFileError(
                annotations_path, f"holds YOLO files but no {yolo.CLASSES_FILENAME} naming their classes"
            )
        result.classes = yolo.read_classes(classes_path)
    for path in _files_of_format(annotations_path, fmt):
        warnings: list[str] = []
        try:
            result.annotations.extend(_read_one(path, fmt, image_by_stem, result.classes, warnings))
        except ImplantDeskError as exc:
            result.problems.append(exc if isinstance(exc, AnnotationFileError) else AnnotationFileError(path, str(exc)))
        result.warnings.extend(f"{path.name}: {w}" for w in warnings)
    if fmt != "yolo":
        result.classes = _labels_sorted(result.annotations)
    return result


def reviewed_only(folder: FolderAnnotations, annotations_path: Path) -> FolderAnnotations:
    """The annotations of the images a person has reviewed: verified (LabelImg's flag), or for YOLO, which has
    no such flag, marked reviewed in the image's proposals file (docs/adr/0011-proposals.md)."""
    if folder.fmt == "coco":
        raise AnnotationFileError(annotations_path, "COCO keeps no reviewed mark; convert the reviewed set from the "
                                                    "folder the window saved in")
    if folder.fmt == "yolo":
        def reviewed(annotation: ImageAnnotation) -> bool:
            try:
                proposals = read_proposals(annotation.filename, annotations_path)
            except AnnotationFileError:
                return False
            return proposals is not None and proposals.reviewed
    else:
        def reviewed(annotation: ImageAnnotation) -> bool:
            return annotation.verified
    kept = [a for a in folder.annotations if reviewed(a)]
    return replace(folder, annotations=kept, classes=folder.classes if folder.fmt == "yolo" else _labels_sorted(kept))


def _files_of_format(folder: Path, fmt: str) -> list[Path]:
    return sorted(
        Path(entry.path)
        for entry in os.scandir(folder)
        if os.path.splitext(entry.name)[1].lower() == SUFFIXES[fmt]
        and entry.name != yolo.CLASSES_FILENAME
        and entry.is_file()
        and (fmt != "createml" or not coco.is_coco_file(entry.path))
    )


def _read_one(
    path: Path, fmt: str, image_by_stem: dict[str, Path], classes: Sequence[str], warnings: list[str]
) -> list[ImageAnnotation]:
    if fmt == "voc":
        annotation = voc.read_voc(path, warnings)
        return [annotation if annotation.filename else replace(annotation, filename=path.stem)]
    if fmt == "yolo":
        image = _image_for(path, image_by_stem)
        annotation = yolo.read_yolo(path, image_size(image), classes, warnings, image.name)
        return [with_image_identity(annotation, image)]
    annotations = []
    for entry in createml.read_createml_entries(path):
        image = _image_for(Path(entry["image"]), image_by_stem)
        annotation = createml.annotation_from_entry(entry, image_size(image), path, warnings)
        annotations.append(with_image_identity(annotation, image))
    return annotations


def _images_by_stem(images: Path) -> dict[str, Path]:
    """The images of a folder by stem; annotation files beside them are not images."""
    if not images.is_dir():
        return {}
    return {entry.path.stem: entry.path for entry in scan_image_folder(images)}


def _image_for(annotation_path: Path, image_by_stem: dict[str, Path]) -> Path:
    image = image_by_stem.get(annotation_path.stem)
    if image is None:
        raise AnnotationFileError(annotation_path, "its image was not found, so the boxes cannot be sized")
    return image


def _labels_sorted(annotations: Sequence[ImageAnnotation]) -> list[str]:
    """VOC and CreateML keep no class order; sorting makes class ids independent of file order."""
    return sorted({box.label for annotation in annotations for box in annotation.boxes})


def output_path(out: Path, annotation: ImageAnnotation, fmt: str) -> Path:
    return out / (Path(annotation.filename).stem + SUFFIXES[fmt])


def write_folder(folder: FolderAnnotations, out: str | os.PathLike, fmt: str) -> list[Path]:
    """Write every annotation into ``out`` as ``fmt``; refuses to replace files already there."""
    out = Path(out)
    targets = [out / COCO_FILENAME] if fmt == "coco" else [output_path(out, a, fmt) for a in folder.annotations]
    if out.exists() and not out.is_dir():
        raise AnnotationFileError(out, "is a file, not a folder; name a folder to write into")
    clash = next((target for target in targets if target.exists()), None)
    if clash is not None:
        raise AnnotationFileError(clash, "already exists; choose an empty output folder so nothing is overwritten")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_all(folder, targets, fmt)
    except BaseException:
        if created:  # a failed run leaves no half-written (or empty) output folder behind
            for path in [*targets, out / yolo.CLASSES_FILENAME]:
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                out.rmdir()
        raise
    return targets


def _write_all(folder: FolderAnnotations, targets: list[Path], fmt: str) -> None:
    if fmt == "coco":
        coco.write_coco(targets[0], folder.annotations, folder.classes)
        return
    for annotation, target in zip(folder.annotations, targets):
        if fmt == "voc":
            voc.write_voc(target, annotation)
        elif fmt == "yolo":
            yolo.write_yolo(target, annotation, folder.classes)
        else:
            createml.write_createml(target, annotation)
