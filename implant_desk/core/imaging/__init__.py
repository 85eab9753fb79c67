"""Radiographs from files: the format readers (DICOM, TIFF/PNG/JPEG/BMP), their sanity checks, and
windowing to 8 bit for display and models. ``loading.load_radiograph`` is the entry point."""
