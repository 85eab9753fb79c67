"""Property-based tests of every annotation reader and writer, and of the PNG check (Hypothesis).

Any input gives a document or a project error (never another exception); write then read gives the same
boxes; NaN and infinities are refused by every writer. A few seconds per format; the longer, seeded search is
``benchmarks/fuzz_formats.py``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from implant_desk.core.annotations import coco, createml, voc, yolo
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.imaging.png_check import check_png

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text a hostile file might hold where a number belongs. No subnormals: a library loaded earlier in the suite
# (compiled with -ffast-math) flushes them to zero, which Hypothesis refuses to generate under.
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False).map(repr),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "NaN", "Infinity", "", " ", "0x10", "1_0", "١٢"]),
)
LABELS = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s)


def readable_or_project_error(read, *args) -> None:
    try:
        read(*args)
    except ImplantDeskError:
        pass


@st.composite
def voc_texts(draw) -> bytes:
    numbers = [draw(NUMBERS) for _ in range(7)]
    obj = (f"<object><name>{draw(st.sampled_from(['a', '', '&amp;']))}</name><difficult>{numbers[6]}</difficult>"
           f"<bndbox><xmin>{numbers[2]}</xmin><ymin>{numbers[3]}</ymin><xmax>{numbers[4]}</xmax>"
           f"<ymax>{numbers[5]}</ymax></bndbox></object>")
    text = (f'<?xml version="1.0" encoding="{draw(st.sampled_from(["utf-8", "foo", "latin-1", "utf-16"]))}"?>'
            f"<annotation><size><width>{numbers[0]}</width><height>{numbers[1]}</height></size>{obj}</annotation>")
    data = text.encode("utf-8")
    cut = draw(st.integers(0, len(data)))
    return data if draw(st.booleans()) else data[:cut]


@FAST
@given(st.one_of(voc_texts(), st.binary(max_size=300)))
def test_voc_reader_gives_a_document_or_a_project_error(data):
    readable_or_project_error(voc.voc_from_bytes, data)


@st.composite
def annotations(draw) -> ImageAnnotation:
    width, height = draw(st.integers(20, 5000)), draw(st.integers(20, 5000))
    boxes = []
    for _ in range(draw(st.integers(0, 5))):
        x0, y0 = draw(st.integers(1, width - 2)), draw(st.integers(1, height - 2))
        x1, y1 = draw(st.integers(x0 + 1, width - 1)), draw(st.integers(y0 + 1, height - 1))
        boxes.append(Box(draw(LABELS), x0, y0, x1, y1, difficult=draw(st.booleans())))
    return ImageAnnotation("a.png", width, height, 1, boxes, verified=draw(st.booleans()))


@FAST
@given(annotations())
def test_voc_write_then_read_gives_the_same_boxes(annotation):
    back = voc.voc_from_bytes(voc.voc_to_bytes(annotation))
    assert [(b.label, b.xmin, b.ymin, b.xmax, b.ymax, b.difficult) for b in back.boxes] == [
        (b.label, b.xmin, b.ymin, b.xmax, b.ymax, b.difficult) for b in annotation.boxes]
    assert back.verified == annotation.verified


@FAST
@given(st.lists(st.tuples(st.integers(-2, 3), NUMBERS, NUMBERS, NUMBERS, NUMBERS), max_size=4),
       st.binary(max_size=80))
def test_yolo_reader_gives_a_document_or_a_project_error(tmp_path_factory, lines, noise):
    path = tmp_path_factory.mktemp("yolo") / "a.txt"
    path.write_bytes("".join(" ".join(map(str, line)) + "\n" for line in lines).encode() + noise)
    readable_or_project_error(yolo.read_yolo, path, (640, 480), ["a", "b"])


@FAST
@given(annotations())
def test_yolo_write_then_read_gives_the_same_boxes(tmp_path_factory, annotation):
    path = tmp_path_factory.mktemp("yolo") / "a.txt"
    classes = yolo.merge_classes([], (b.label for b in annotation.boxes))
    path.write_text(yolo.yolo_to_string(annotation, classes), encoding="utf-8")
    back = yolo.read_yolo(path, (annotation.width, annotation.height), classes)
    assert [b.label for b in back.boxes] == [b.label for b in annotation.boxes]
    for got, want in zip(back.boxes, annotation.boxes):
        assert (got.xmin, got.ymin, got.xmax, got.ymax) == pytest.approx(
            (want.xmin, want.ymin, want.xmax, want.ymax), abs=1e-5 * max(annotation.width, annotation.height))


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False, allow_subnormal=False),
              st.integers(-(10**30), 10**30), st.text(max_size=5)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.sampled_from(["image", "annotations", "label", "coordinates", "x",
                                                                "y", "width", "height", "images", "categories",
                                                                "id", "name", "file_name", "image_id",
                                                                "category_id", "bbox", "iscrowd"]), children,
                                               max_size=5)),
    max_leaves=25)


def json_bytes(value, constant: str) -> bytes:
    return json.dumps(value).replace("0.5", constant).encode()


@FAST
@given(JSON_VALUES, st.sampled_from(["0.5", "NaN", "Infinity", "1e400", "-1e999"]))
def test_createml_and_coco_readers_give_a_document_or_a_project_error(tmp_path_factory, value, constant):
    path = tmp_path_factory.mktemp("json") / "a.json"
    path.write_bytes(json_bytes(value, constant))
    readable_or_project_error(createml.read_createml_entries, path)
    readable_or_project_error(coco.read_coco, path)


@FAST
@given(annotations())
def test_createml_and_coco_write_then_read_give_the_same_boxes(tmp_path_factory, annotation):
    folder = tmp_path_factory.mktemp("json")
    createml.write_createml(folder / "a.json", annotation)
    entries = createml.read_createml_entries(folder / "a.json")
    back = createml.annotation_from_entry(entries[0], (annotation.width, annotation.height), "a.json", [])
    assert back.boxes == [Box(b.label, b.xmin, b.ymin, b.xmax, b.ymax) for b in annotation.boxes]
    coco.write_coco(folder / "coco.json", [annotation])
    assert coco.read_coco(folder / "coco.json").images["a.png"].boxes == annotation.boxes


@FAST
@given(annotations(), st.sampled_from([math.nan, math.inf, -math.inf]), st.integers(0, 3))
def test_every_writer_refuses_nan_and_infinities(annotation, value, corner):
    box = Box("a", 1, 1, 5, 5)
    bad = box.__class__(**{**box.__dict__, ("xmin", "ymin", "xmax", "ymax")[corner]: value})
    annotation.boxes.append(bad)
    for write in (voc.voc_to_bytes, lambda a: yolo.yolo_to_string(a, ["a", *(b.label for b in a.boxes)]),
                  createml.createml_to_bytes, lambda a: coco.coco_to_dict([a])):
        with pytest.raises(ValueError):
            write(annotation)


@pytest.fixture(scope="module")
def png16() -> bytes:
    imagecodecs = pytest.importorskip("imagecodecs")
    return imagecodecs.png_encode(np.random.default_rng(0).integers(0, 65535, (9, 11, 3), dtype=np.uint16))


@FAST
@given(st.data())
def test_a_png_that_passes_the_check_always_decodes(png16, data):
    import imagecodecs

    damaged = bytearray(png16)
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    damaged = bytes(damaged[: data.draw(st.integers(0, len(damaged)))])
    try:
        check_png(damaged)
    except ValueError:
        return
    imagecodecs.png_decode(damaged)
