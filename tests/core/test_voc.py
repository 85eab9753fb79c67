"""Pascal VOC as LabelImg 1.8.6 writes and reads it.

The ground truth is ``../shared/data/labelimg/written-by-labelimg/`` (LabelImg 1.8.6, MIT, github
HumanSignal/labelImg): XML its own writer produced. Two LabelImg behaviours are re-stated here from its
``libs/pascal_voc_io.py`` and ``libs/labelFile.py`` so our output can be checked against them without Qt:
its reader's element paths and number rules, and its writer (ElementTree tree, lxml pretty print).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.voc import read_voc, voc_from_bytes, voc_to_bytes, voc_to_string, write_voc
from implant_desk.core.errors import AnnotationFileError

LABELIMG_DIR = "labelimg/written-by-labelimg"


def labelimg_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / LABELIMG_DIR).rglob("*.xml"))


def labelimg_reader(data: bytes) -> tuple[list[tuple[str, int, int, int, int, bool]], bool]:
    """What LabelImg's PascalVocReader gets from a file: (label, xmin, ymin, xmax, ymax, difficult), verified."""
    root = ElementTree.fromstring(data)
    shapes = []
    for obj in root.findall("object"):
        bndbox = obj.find("bndbox")
        corners = [int(float(bndbox.find(tag).text)) for tag in ("xmin", "ymin", "xmax", "ymax")]
        difficult = bool(int(obj.find("difficult").text)) if obj.find("difficult") is not None else False
        shapes.append((obj.find("name").text, *corners, difficult))
    assert root.find("filename").text is not None  # LabelImg's reader fails on a file without it
    return shapes, root.attrib.get("verified") == "yes"


def labelimg_writer(annotation: ImageAnnotation) -> bytes:
    """The bytes LabelImg 1.8.6's PascalVocWriter writes for the same annotation."""
    etree = pytest.importorskip("lxml.etree")
    top = ElementTree.Element("annotation")
    if annotation.verified:
        top.set("verified", "yes")
    for tag, text in (("folder", annotation.folder), ("filename", annotation.filename), ("path", annotation.path)):
        ElementTree.SubElement(top, tag).text = text
    ElementTree.SubElement(ElementTree.SubElement(top, "source"), "database").text = "Unknown"
    size = ElementTree.SubElement(top, "size")
    for tag, value in (("width", annotation.width), ("height", annotation.height), ("depth", annotation.depth)):
        ElementTree.SubElement(size, tag).text = str(value)
    ElementTree.SubElement(top, "segmented").text = "0"
    for box in annotation.boxes:
        xmin, ymin = int(max(box.xmin, 1)), int(max(box.ymin, 1))  # convert_points_to_bnd_box
        xmax, ymax = int(box.xmax), int(box.ymax)
        obj = ElementTree.SubElement(top, "object")
        ElementTree.SubElement(obj, "name").text = box.label
        ElementTree.SubElement(obj, "pose").text = "Unspecified"
        edge = ymax == annotation.height or ymin == 1 or xmax == annotation.width or xmin == 1
        ElementTree.SubElement(obj, "truncated").text = "1" if edge else "0"
        ElementTree.SubElement(obj, "difficult").text = str(bool(box.difficult) & 1)
        bndbox = ElementTree.SubElement(obj, "bndbox")
        for tag, value in (("xmin", xmin), ("ymin", ymin), ("xmax", xmax), ("ymax", ymax)):
            ElementTree.SubElement(bndbox, tag).text = str(value)
    rough = ElementTree.tostring(top, "utf8")
    pretty = etree.tostring(etree.fromstring(rough), pretty_print=True, encoding="utf-8")
    return pretty.replace(b"  ", b"\t")


def annotation(*boxes: Box, verified: bool = False, **fields) -> ImageAnnotation:
    values = dict(filename="scan.png", width=640, height=480, depth=1, folder="scans", path="/data/scans/scan.png")
    values.update(fields)
    return ImageAnnotation(boxes=list(boxes), verified=verified, **values)


# ---- LabelImg's own files ------------------------------------------------------------------------------------
def test_labelimg_files_read_back_with_exactly_their_boxes(shared_data):
    files = labelimg_files(shared_data)
    assert len(files) == 6
    for path in files:
        warnings: list[str] = []
        ours = read_voc(path, warnings)
        shapes, verified = labelimg_reader(path.read_bytes())
        assert [(b.label, b.xmin, b.ymin, b.xmax, b.ymax, b.difficult) for b in ours.boxes] == shapes, path.name
        assert ours.verified == verified
        assert warnings == []


def test_demo_file_flags(shared_data):
    demo = read_voc(shared_data / LABELIMG_DIR / "demo.xml")
    assert demo.verified
    assert [b.difficult for b in demo.boxes] == [False, True]
    assert (demo.filename, demo.folder, demo.path, demo.width, demo.height, demo.depth) == (
        "demo.jpg", "demo", "demo/demo.jpg", 576, 324, 3,
    )


def test_writing_labelimg_files_back_is_byte_identical(shared_data):
    for path in labelimg_files(shared_data):
        assert voc_to_bytes(read_voc(path)) == path.read_bytes(), path.name


def test_our_writer_matches_labelimg_writer_for_new_annotations():
    boxes = [
        Box("Implant", 10.7, 20.2, 100.9, 200.5),
        Box("Straumann BLX 4.0×10 mm", 0.0, 0.4, 639.6, 480.0, difficult=True),  # touches every edge
        Box("crown & <bridge> \"quoted\" 'apos'", 5, 6, 7.5, 8.9),
        Box("インプラント", 1, 1, 2, 2),
        Box("", 50, 60, 70, 80),
    ]
    for verified in (False, True):
        ours = annotation(*boxes, verified=verified, filename="ß 1.png", folder="", path="C:\\x\\ß 1.png")
        assert voc_to_bytes(ours) == labelimg_writer(ours)


def test_labelimg_reader_gets_our_boxes():
    ours = annotation(Box("Nobel Active", 12.9, 30.0, 99.99, 120.5, difficult=True), Box("Cavity", 3, 4, 5, 6))
    shapes, verified = labelimg_reader(voc_to_bytes(ours))
    assert shapes == [("Nobel Active", 12, 30, 99, 120, True), ("Cavity", 3, 4, 5, 6, False)]
    assert verified is False


def test_labels_keep_double_spaces_that_labelimg_would_turn_into_tabs():
    written = voc_to_string(annotation(Box("Bone  level", 10, 10, 20, 20)))
    assert "<name>Bone  level</name>" in written
    assert voc_from_bytes(written.encode()).boxes[0].label == "Bone  level"


# ---- reading other tools' files ------------------------------------------------------------------------------
def voc_xml(objects: str, size: str = "<size><width>100</width><height>50</height><depth>1</depth></size>") -> bytes:
    return f"<annotation><filename>a.png</filename>{size}{objects}</annotation>".encode()


def obj(xmin, ymin, xmax, ymax, name="tooth", more: str = "") -> str:
    box = f"<xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax>"
    return f"<object><name>{name}</name><bndbox>{box}</bndbox>{more}</object>"


def test_float_coordinates_and_swapped_corners_are_read():
    read = voc_from_bytes(voc_xml(obj("10.5", "20.25", "30.75", "40") + obj(30, 40, 10, 20)))
    assert [(b.xmin, b.ymin, b.xmax, b.ymax) for b in read.boxes] == [(10.5, 20.25, 30.75, 40.0), (10, 20, 30, 40)]


def test_boxes_outside_the_image_are_clamped_with_a_warning():
    warnings: list[str] = []
    read = voc_from_bytes(voc_xml(obj(-5, 10, 120, 60)), warnings=warnings)
    assert [(b.xmin, b.ymin, b.xmax, b.ymax) for b in read.boxes] == [(0, 10, 100, 50)]
    assert len(warnings) == 1 and "clamped" in warnings[0]


def test_zero_area_boxes_are_dropped_with_a_warning():
    warnings: list[str] = []
    read = voc_from_bytes(voc_xml(obj(10, 10, 10, 30) + obj(10, 10, 20, 30) + obj(150, 10, 160, 20)), warnings=warnings)
    assert len(read.boxes) == 1
    assert sum("dropped" in w for w in warnings) == 2


def test_unicode_labels_and_flags():
    read = voc_from_bytes(
        voc_xml(obj(1, 2, 3, 4, name="Zahn ß ✓", more="<difficult>1</difficult><truncated>1</truncated><pose>Left</pose>"))
    )
    box = read.boxes[0]
    assert (box.label, box.difficult, box.truncated, box.pose) == ("Zahn ß ✓", True, True, "Left")


def test_unknown_elements_and_attributes_survive_a_round_trip():
    source = (
        '<annotation verified="yes" tool="cvat">'
        "<folder>f</folder><filename>a.png</filename>"
        "<source><database>The VOC2007 Database</database><image>flickr</image></source>"
        "<owner><name>Clinic A</name></owner>"
        "<size><width>100</width><height>50</height><depth>3</depth></size><segmented>1</segmented>"
        '<object occluded="1"><name>implant</name><pose>Unspecified</pose><truncated>0</truncated>'
        "<difficult>0</difficult><bndbox><xmin>5</xmin><ymin>6</ymin><xmax>7</xmax><ymax>8</ymax></bndbox>"
        '<attributes><attribute name="system">BLX</attribute></attributes></object>'
        "</annotation>"
    ).encode()
    first = voc_from_bytes(source)
    written = voc_to_bytes(first)
    again = voc_from_bytes(written)
    assert again.boxes == first.boxes
    assert sorted(again.extra) == sorted(first.extra)
    assert voc_to_bytes(again) == written
    root = ElementTree.fromstring(written)
    assert root.attrib == {"tool": "cvat", "verified": "yes"}
    assert root.find("source/image").text == "flickr"
    assert root.find("owner/name").text == "Clinic A"
    assert root.find("segmented").text == "1"
    assert [child.tag for child in root][:7] == ["folder", "filename", "source", "size", "segmented", "owner", "object"]
    assert root.find("object").attrib == {"occluded": "1"}
    assert root.find("object/attributes/attribute").text == "BLX"
    assert b"\t\t<attributes>\n\t\t\t<attribute" in written  # re-indented like the rest


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"<notvoc/>", "not a Pascal VOC"),
        (voc_xml("<object><name>x</name></object>"), "no <bndbox>"),
        (voc_xml(obj("ten", 1, 2, 3)), "not a number"),
        (voc_xml(obj(1, 2, 3, "")), "no <ymax>"),
        (b"<annotation><filename>a</filename>", "damaged"),
        (b"", "damaged"),
    ],
)
def test_files_we_cannot_make_sense_of_are_refused(data, reason):
    with pytest.raises(AnnotationFileError, match=reason):
        voc_from_bytes(data, "bad.xml")


def test_write_voc_is_atomic_and_reads_back(tmp_path):
    target = tmp_path / "scan.xml"
    original = annotation(Box("Implant", 10, 20, 30, 40, difficult=True), verified=True)
    write_voc(target, original)
    assert read_voc(target) == original
    assert [p.name for p in tmp_path.iterdir()] == ["scan.xml"]


def test_text_xml_cannot_hold_is_refused_before_writing():
    with pytest.raises(ValueError, match="control character"):
        voc_to_bytes(annotation(Box("bad\x00label", 1, 2, 3, 4)))
