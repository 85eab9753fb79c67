"""torch's extension module loaded through libc before torch's import (models.torch_libraries)."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the preload is done on Linux only")

PROBE = """
import sys
from pathlib import Path
from implant_desk.core.models.torch_libraries import preload_torch_libraries
first = preload_torch_libraries()
mapped = any(Path(line.split()[-1]).name.startswith("_C.") for line in open("/proc/self/maps") if "/torch/" in line)
import torch
print(first, mapped, "torch" in sys.modules, float(torch.ones(2).sum()), preload_torch_libraries())
"""


def test_the_extension_is_mapped_before_the_import_which_then_works_and_a_second_call_does_nothing():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["True", "True", "True", "2.0", "False"]
