"""Parsing annotation XML that may be hostile: bounded size, no DTD, no entities, bounded depth.

An annotation file can come from anywhere (a colleague's USB stick, a dataset download). The parser must never
fetch a URL, read another file, expand an entity bomb or recurse without end, and it must answer quickly, so:
the size is checked with ``stat`` before a byte is read, DTDs (and with them every entity) are refused by
defusedxml, and the nesting depth is counted while parsing so a deep document is abandoned early.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from io import BytesIO

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from implant_desk.core.errors import AnnotationFileError

# A LabelImg file with 10,000 boxes is about 2.5 MB and 100,000 elements; anything far beyond that is not an
# annotation file. Both limits bind our VOC writer too (``limit_problem``), so we never write what we refuse.
MAX_XML_BYTES = 16 * 1024 * 1024
# Parsing costs ~2.5 us per element: this bounds a refusal to about 0.3 s (16 MB of "<a/>" took 24 s).
MAX_XML_ELEMENTS = 120_000
# VOC needs 4 levels (annotation/object/bndbox/xmin); tools that add attributes nest a few more.
MAX_XML_DEPTH = 32


def read_xml_file(path: str | os.PathLike) -> ET.Element:
    """Parse the XML file at ``path`` safely; raise AnnotationFileError saying what is wrong."""
    return parse_xml_bytes(read_limited(path, MAX_XML_BYTES, "XML"), path)


def read_limited(path: str | os.PathLike, max_bytes: int, kind: str) -> bytes:
    """The file's bytes, refusing before reading when it is larger than ``max_bytes``."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise AnnotationFileError(
                path,
                f"this {kind} file is {size / 1e6:.0f} MB, far too large for an annotation file; it was not opened",
            )
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise AnnotationFileError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:  # grew between stat and read
        raise AnnotationFileError(path, f"this {kind} file is too large for an annotation file; it was not opened")
    return data


def limit_problem(byte_count: int, element_count: int) -> str | None:
    """Why XML of this size is too large for an annotation file, or None when it is within the limits."""
    if byte_count > MAX_XML_BYTES:
        return f"the XML is too large for an annotation file ({byte_count / 1e6:.0f} MB, over {MAX_XML_BYTES / 1e6:.0f} MB)"
    if element_count > MAX_XML_ELEMENTS:
        return f"the XML is too large for an annotation file (over {MAX_XML_ELEMENTS:,} elements)"
    return None


def parse_xml_bytes(data: bytes, path: str | os.PathLike = "<memory>") -> ET.Element:
    # An element has one or two "<": counting them (10 ms for 16 MB) refuses a flood before parsing it. The
    # margin lets a deep nest of few elements reach the parser, which says that it is nested too deep.
    problem = limit_problem(len(data), MAX_XML_ELEMENTS + 1 if data.count(b"<") > 4 * MAX_XML_ELEMENTS else 0)
    if problem:
        raise AnnotationFileError(path, f"{problem}; it was not opened")
    depth = elements = 0
    root: ET.Element | None = None
    try:
        # forbid_dtd also rules out every entity declaration, external or internal (billion laughs).
        for event, element in iterparse(
            BytesIO(data), events=("start", "end"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        ):
            if event == "start":
                depth += 1
                elements += 1
                if elements > MAX_XML_ELEMENTS:
                    raise AnnotationFileError(path, f"{limit_problem(0, elements)}; it was not opened")
                if root is None:
                    root = element
                if depth > MAX_XML_DEPTH:
                    raise AnnotationFileError(
                        path, f"the XML is nested more than {MAX_XML_DEPTH} levels deep; it is not an annotation file"
                    )
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise AnnotationFileError(
            path, f"the XML declares a DTD or entities, which annotation files never need; refused for safety ({exc})"
        ) from exc
    except ET.ParseError as exc:
        raise AnnotationFileError(path, f"the XML is damaged or incomplete ({exc})") from exc
    except LookupError as exc:  # <?xml encoding="..."?> naming an encoding Python does not know
        raise AnnotationFileError(path, f"the XML declares an encoding that does not exist ({exc})") from exc
    if root is None:  # pragma: no cover - expat reports an empty document as a ParseError
        raise AnnotationFileError(path, "the file holds no XML")
    return root


def element_to_text(element: ET.Element) -> str:
    """An element as standalone XML text (its tail dropped), the form kept in ``extra`` fields."""
    tail, element.tail = element.tail, None
    try:
        return ET.tostring(element, encoding="unicode")
    finally:
        element.tail = tail


def text_to_element(text: str) -> ET.Element:
    return parse_xml_bytes(text.encode("utf-8"))

