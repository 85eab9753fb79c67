"""Pascal VOC XML exactly as LabelImg 1.8.6 writes and reads it.

Writing reproduces LabelImg's bytes: its writer builds the tree in a fixed order and pretty-prints it with
lxml (two spaces per level, which it then turns into tabs), UTF-8 without an XML declaration. Coordinates
follow its rules: a corner below 1 becomes 1 (a Faster R-CNN habit it kept), every coordinate is truncated to an
integer, and ``truncated`` is 1 for a box touching the image's right/bottom edge or starting at 1. LabelImg's
reader (``PascalVocReader``) swallows any exception and shows no boxes, so the layout is kept to the letter.

Reading is more forgiving (float coordinates, corners in either order, boxes outside the image are clamped with a
warning) but never lossy in silence: what we do not model is kept and written back, namely
- child elements of ``<annotation>`` and ``<object>`` we do not know, as XML text in ``extra``, written after
  ``<segmented>`` and after ``<bndbox>`` respectively; a non-default ``<source>`` or ``<segmented>`` is kept the
  same way and written in its own place;
- attributes we do not know on ``<annotation>`` or ``<object>``, as one empty element of the same name in
  ``extra`` (``<object occluded="1"/>``), since a VOC object never contains an ``<object>``.
A file we cannot make sense of raises AnnotationFileError rather than losing boxes on the next save.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from typing import Callable

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.safe_xml import (
    element_to_text,
    limit_problem,
    parse_xml_bytes,
    read_xml_file,
    text_to_element,
)
from implant_desk.core.annotations.sanitize import check_finite, clean_boxes, file_number, file_size
from implant_desk.core.atomic import atomic_write_bytes
from implant_desk.core.errors import AnnotationFileError

XML_SUFFIX = ".xml"
DEFAULT_DATABASE = "Unknown"
_ANNOTATION_KNOWN = ("folder", "filename", "path", "size", "object")
_OBJECT_KNOWN = ("name", "pose", "truncated", "difficult", "bndbox")
# Elements written in their own slot when a file carried a non-default one (see module docstring).
_SLOTTED = ("source", "segmented")
_SIZE_DEFAULTS = (("width", 0), ("height", 0), ("depth", 1))
# XML 1.0 cannot hold these characters at all; a label containing one cannot be saved as VOC.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---- reading ---------------------------------------------------------------------------------------------------
def read_voc(path: str | os.PathLike, warnings: list[str] | None = None) -> ImageAnnotation:
    """Read a VOC file; clamping and dropped boxes are appended to ``warnings`` when a list is given."""
    return _annotation_from_root(read_xml_file(path), path, warnings if warnings is not None else [])


def voc_from_bytes(
    data: bytes, path: str | os.PathLike = "<memory>", warnings: list[str] | None = None
) -> ImageAnnotation:
    return _annotation_from_root(parse_xml_bytes(data, path), path, warnings if warnings is not None else [])


def _annotation_from_root(root: ET.Element, path: str | os.PathLike, warnings: list[str]) -> ImageAnnotation:
    if root.tag != "annotation":
        raise AnnotationFileError(path, f"this XML is not a Pascal VOC annotation (its root is <{root.tag}>)")
    known: dict[str, ET.Element] = {}
    objects: list[ET.Element] = []
    extra: list[str] = []
    unknown_attributes = {k: v for k, v in root.attrib.items() if k != "verified"}
    if unknown_attributes:
        extra.append(element_to_text(ET.Element("annotation", unknown_attributes)))
    for child in root:
        if child.tag == "object":
            objects.append(child)
        elif child.tag in _ANNOTATION_KNOWN and child.tag not in known:
            known[child.tag] = child
        elif child.tag in _SLOTTED and _is_default(child):
            continue
        else:
            extra.append(_extra_text(child))
    size = known.get("size")
    width, height, depth = (_number(size, tag, path, default, file_size) for tag, default in _SIZE_DEFAULTS)
    boxes = [_box_from_object(obj, number, path) for number, obj in enumerate(objects, start=1)]
    return ImageAnnotation(
        filename=_text(known.get("filename")),
        width=int(width),
        height=int(height),
        depth=int(depth),
        boxes=clean_boxes(boxes, width, height, warnings),
        verified=root.get("verified") == "yes",
        folder=_text(known.get("folder")),
        path=_text(known.get("path")),
        extra=tuple(extra),
    )


def _box_from_object(obj: ET.Element, number: int, path: str | os.PathLike) -> Box:
    bndbox = obj.find("bndbox")
    if bndbox is None:
        raise AnnotationFileError(path, f"object {number} has no <bndbox>, so its box cannot be read")
    extra: list[str] = []
    if obj.attrib:
        extra.append(element_to_text(ET.Element("object", dict(obj.attrib))))
    seen: set[str] = set()
    for child in obj:
        if child.tag in _OBJECT_KNOWN and child.tag not in seen:
            seen.add(child.tag)
        else:
            extra.append(_extra_text(child))
    pose = obj.find("pose")
    return Box(
        label=_text(obj.find("name")),
        xmin=_number(bndbox, "xmin", path),
        ymin=_number(bndbox, "ymin", path),
        xmax=_number(bndbox, "xmax", path),
        ymax=_number(bndbox, "ymax", path),
        difficult=bool(_number(obj, "difficult", path, default=0)),
        truncated=bool(_number(obj, "truncated", path, default=0)),
        pose=_text(pose) if pose is not None else "Unspecified",
        extra=tuple(extra),
    )


def _extra_text(element: ET.Element) -> str:
    """An unknown element as kept in ``extra``, without the file's indentation (we indent it when writing)."""
    for node in element.iter():
        if len(node) and not (node.text or "").strip():
            node.text = None
        for child in node:
            if not (child.tail or "").strip():
                child.tail = None
    return element_to_text(element)


def _is_default(element: ET.Element) -> bool:
    """True for the ``<source>`` and ``<segmented>`` LabelImg itself writes, which need not be kept."""
    if element.attrib:
        return False
    if element.tag == "segmented":
        return len(element) == 0 and (element.text or "").strip() == "0"
    children = list(element)
    return (
        len(children) == 1
        and children[0].tag == "database"
        and not children[0].attrib
        and len(children[0]) == 0
        and children[0].text == DEFAULT_DATABASE
    )


def _text(element: ET.Element | None) -> str:
    return "" if element is None or element.text is None else element.text


def _number(
    parent: ET.Element | None,
    tag: str,
    path: str | os.PathLike,
    default: float | None = None,
    read: Callable[[str, str | os.PathLike, str], float] = file_number,
) -> float:
    element = None if parent is None else parent.find(tag)
    if element is None or not (element.text or "").strip():
        if default is None:
            raise AnnotationFileError(path, f"a box has no <{tag}> value")
        return default
    return read(element.text, path, f"<{tag}>")


# ---- writing ---------------------------------------------------------------------------------------------------
def write_voc(path: str | os.PathLike, annotation: ImageAnnotation) -> None:
    """Atomically write ``annotation`` in LabelImg's layout (raises SaveError, or ValueError if unwritable)."""
    atomic_write_bytes(path, voc_to_bytes(annotation))


def voc_to_bytes(annotation: ImageAnnotation) -> bytes:
    return voc_to_string(annotation).encode("utf-8")


def voc_to_string(annotation: ImageAnnotation) -> str:
    """The file LabelImg 1.8.6 would write for this annotation (raises ValueError for text XML cannot hold)."""
    check_finite(annotation)
    root = _annotation_element(annotation)
    lines: list[str] = []
    _serialise(root, 0, lines)
    text = "".join(lines) + "\n"
    problem = limit_problem(len(text.encode("utf-8")), sum(1 for _ in root.iter()))
    if problem:  # our own reader would refuse the file
        raise ValueError(f"{len(annotation.boxes):,} boxes do not fit in one VOC file: {problem}")
    return text


def labelimg_corners(box: Box) -> tuple[int, int, int, int]:
    """The integer corners LabelImg writes for a box (its ``convert_points_to_bnd_box``)."""
    return int(max(box.xmin, 1)), int(max(box.ymin, 1)), int(box.xmax), int(box.ymax)


def _annotation_element(annotation: ImageAnnotation) -> ET.Element:
    extras = [text_to_element(text) for text in annotation.extra]
    attribute_holder = _take(extras, "annotation", empty_only=True)
    root = ET.Element("annotation", attribute_holder.attrib if attribute_holder is not None else {})
    if annotation.verified:
        root.set("verified", "yes")
    _leaf(root, "folder", annotation.folder)
    _leaf(root, "filename", annotation.filename)
    if annotation.path:
        _leaf(root, "path", annotation.path)
    source = _take(extras, "source")
    if source is None:
        source = ET.Element("source")
        _leaf(source, "database", DEFAULT_DATABASE)
    root.append(source)
    size = ET.SubElement(root, "size")
    _leaf(size, "width", str(annotation.width))
    _leaf(size, "height", str(annotation.height))
    _leaf(size, "depth", str(annotation.depth))
    segmented = _take(extras, "segmented")
    if segmented is None:
        segmented = ET.Element("segmented")
        segmented.text = "0"
    root.append(segmented)
    root.extend(extras)
    for box in annotation.boxes:
        root.append(_object_element(box, annotation.width, annotation.height))
    return root


def _object_element(box: Box, width: int, height: int) -> ET.Element:
    extras = [text_to_element(text) for text in box.extra]
    attribute_holder = _take(extras, "object", empty_only=True)
    obj = ET.Element("object", attribute_holder.attrib if attribute_holder is not None else {})
    xmin, ymin, xmax, ymax = labelimg_corners(box)
    touches_edge = ymax == height or ymin == 1 or xmax == width or xmin == 1
    _leaf(obj, "name", box.label)
    _leaf(obj, "pose", box.pose)
    _leaf(obj, "truncated", "1" if box.truncated or touches_edge else "0")
    _leaf(obj, "difficult", "1" if box.difficult else "0")
    bndbox = ET.SubElement(obj, "bndbox")
    for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
        _leaf(bndbox, tag, str(value))
    obj.extend(extras)
    return obj


def _take(elements: list[ET.Element], tag: str, empty_only: bool = False) -> ET.Element | None:
    for index, element in enumerate(elements):
        if element.tag == tag and not (empty_only and (len(element) or element.text)):
            return elements.pop(index)
    return None


def _leaf(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


# ---- lxml's pretty printer, reproduced (LabelImg's bytes come from it) --------------------------------------------
def _serialise(element: ET.Element, level: int, out: list[str]) -> None:
    indent = "\t" * level
    if _is_namespaced(element):
        # Rare foreign extras with namespaces: let ElementTree declare the prefixes, unindented.
        out.append(indent + element_to_text(element))
        return
    start = element.tag + "".join(f' {name}="{_escape_attribute(value)}"' for name, value in element.attrib.items())
    children = list(element)
    if not children and not element.text:
        out.append(f"{indent}<{start}/>")
    elif not children:
        out.append(f"{indent}<{start}>{_escape_text(element.text)}</{element.tag}>")
    elif _has_mixed_content(element):
        # lxml leaves mixed content as it is; so do we.
        out.append(indent + element_to_text(element))
    else:
        out.append(f"{indent}<{start}>\n")
        for child in children:
            _serialise(child, level + 1, out)
            out.append("\n")
        out.append(f"{indent}</{element.tag}>")


def _is_namespaced(element: ET.Element) -> bool:
    return any(name.startswith("{") for name in (element.tag, *element.attrib))


def _has_mixed_content(element: ET.Element) -> bool:
    return bool((element.text or "").strip()) or any((child.tail or "").strip() for child in element)


def _escape_text(text: str) -> str:
    _check_xml_chars(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(value: str) -> str:
    _check_xml_chars(value)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _check_xml_chars(text: str) -> None:
    match = _XML_ILLEGAL.search(text)
    if match:
        raise ValueError(f"the text {text!r} contains a control character ({match.group()!r}) that XML cannot hold")
