"""Hostile XML is refused with AnnotationFileError, never expanded, without touching the network or other files."""

from __future__ import annotations

import socket

import pytest

from implant_desk.core.annotations.safe_xml import MAX_XML_BYTES
from implant_desk.core.annotations.voc import read_voc
from implant_desk.core.errors import AnnotationFileError

pytestmark = pytest.mark.timeout(120)  # a hang fails the test instead of stalling the suite (not a speed bound)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the XML parser tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def write(tmp_path, text: str):
    path = tmp_path / "hostile.xml"
    path.write_text(text, encoding="utf-8")
    return path


def test_external_file_entity_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("patient list")
    path = write(
        tmp_path,
        f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<annotation><filename>&x;</filename></annotation>",
    )
    with pytest.raises(AnnotationFileError, match="DTD") as caught:
        read_voc(path)
    assert "patient list" not in str(caught.value)


def test_external_url_entity_and_dtd_are_refused(tmp_path):
    path = write(
        tmp_path,
        '<!DOCTYPE annotation SYSTEM "http://example.com/evil.dtd">'
        '<annotation><filename>a</filename></annotation>',
    )
    with pytest.raises(AnnotationFileError, match="DTD"):
        read_voc(path)


def test_billion_laughs_is_refused(tmp_path):
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    path = write(tmp_path, f'<!DOCTYPE a [<!ENTITY l0 "lol">{entities}]><annotation><filename>&l9;</filename></annotation>')
    with pytest.raises(AnnotationFileError):
        read_voc(path)


def test_deep_nesting_is_refused(tmp_path):
    depth = 200_000
    path = write(tmp_path, "<annotation>" + "<a>" * depth + "</a>" * depth + "</annotation>")
    with pytest.raises(AnnotationFileError, match="nested"):
        read_voc(path)


def test_a_100_mb_file_is_refused_without_reading_it(tmp_path, monkeypatch):
    path = tmp_path / "huge.xml"
    with open(path, "wb") as handle:  # sparse: 100 MB on paper, nothing on disk
        handle.write(b"<annotation>")
        handle.truncate(100 * 1024 * 1024)
    assert path.stat().st_size > MAX_XML_BYTES
    with pytest.raises(AnnotationFileError, match="too large"):
        read_voc(path)


def test_a_missing_file_is_an_annotation_file_error(tmp_path):
    with pytest.raises(AnnotationFileError, match="cannot be read"):
        read_voc(tmp_path / "nothing.xml")


def test_a_flood_of_empty_elements_is_refused_well_under_a_second(tmp_path):
    import time

    from implant_desk.core.annotations.safe_xml import MAX_XML_ELEMENTS

    for count in (4_000_000, MAX_XML_ELEMENTS * 2 - 10):  # the second passes the "<" count, not the parser's
        path = write(tmp_path, "<annotation>" + "<a/>" * count + "</annotation>")
        start = time.perf_counter()
        with pytest.raises(AnnotationFileError, match="elements"):
            read_voc(path)
        assert time.perf_counter() - start < 5.0  # 0.3 s idle; parsing the flood took 24 s (the bound: benchmarks)


def test_the_voc_writer_refuses_what_the_reader_would_refuse():
    from implant_desk.core.annotations.model import Box, ImageAnnotation
    from implant_desk.core.annotations.voc import voc_from_bytes, voc_to_bytes

    boxes = [Box("Implant", 1 + i % 900, 1, 20 + i % 900, 30) for i in range(13_000)]
    with pytest.raises(ValueError, match="do not fit in one VOC file"):
        voc_to_bytes(ImageAnnotation("a.png", 1000, 1000, 1, boxes))
    fits = voc_to_bytes(ImageAnnotation("a.png", 1000, 1000, 1, boxes[:10_000]))
    assert len(voc_from_bytes(fits).boxes) == 10_000
