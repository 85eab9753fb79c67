"""Annotation files (Pascal VOC as LabelImg writes it, YOLO, CreateML, COCO) and the per-image document."""

from implant_desk.core.annotations.model import Box, ImageAnnotation

__all__ = ["Box", "ImageAnnotation"]
