"""implant_desk: annotate, identify and fine-tune on dental radiographs."""

__version__ = "0.1.0"
