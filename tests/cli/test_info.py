"""``implant-desk info FILE... [--json]``: one record per readable file, ``path: reason`` per unreadable one."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from implant_desk.cli import main

KEYS = {"path", "format", "width", "height", "bits", "photometric", "frames", "spacing_mm", "spacing_source",
        "patient_id"}


@pytest.fixture()
def png16(tmp_path):
    path = tmp_path / "bitewing 16 bit.png"
    Image.fromarray(np.arange(30 * 40, dtype=np.uint16).reshape(30, 40) * 50).save(path, dpi=(508, 508))
    return path


def test_json_lines_have_exactly_the_agreed_keys(shared_data, png16, capsys):
    dicom = shared_data / "dicom" / "CT_small.dcm"
    assert main(["info", "--json", str(dicom), str(png16)]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert err == ""
    assert [set(r) for r in records] == [KEYS, KEYS]
    ct, png = records
    assert ct == {"path": str(dicom), "format": "DICOM", "width": 128, "height": 128, "bits": 16,
                  "photometric": "MONOCHROME2", "frames": 1, "spacing_mm": [0.661468, 0.661468],
                  "spacing_source": "PixelSpacing", "patient_id": "1CT1"}
    assert png["spacing_mm"] == pytest.approx([0.05, 0.05], rel=1e-4)
    assert (png["format"], png["bits"], png["patient_id"]) == ("PNG", 16, None)


def test_unreadable_file_is_one_stderr_line_and_exit_status_1(shared_data, png16, tmp_path, capsys):
    empty = tmp_path / "empty.dcm"
    empty.touch()
    report = shared_data / "dicom" / "reportsi.dcm"
    assert main(["info", "--json", str(empty), str(png16), str(report)]) == 1
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and json.loads(out)["path"] == str(png16)
    assert err.splitlines() == [f"{empty}: the file is empty (0 bytes)",
                                f"{report}: this file holds no image (it is a DICOM Basic Text SR)"]


def test_human_readable_output_names_every_field(shared_data, capsys):
    assert main(["info", str(shared_data / "dicom" / "RG1_J2KI.dcm")]) == 0
    out = capsys.readouterr().out
    for key in KEYS - {"path"}:
        assert key in out
    assert "MONOCHROME1" in out and "9RG1" in out


def test_info_runs_without_importing_torch_or_qt(png16):
    script = ("import sys; from implant_desk.cli import main; rc = main(['info', sys.argv[1]]); "
              "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'PySide6', 'shiboken6', 'cv2')); "
              "print(rc, bad)")
    out = subprocess.run([sys.executable, "-c", script, str(png16)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "0 []"
