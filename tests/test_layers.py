"""The core never imports Qt or the app layer (checked in a fresh interpreter)."""

import json
import pkgutil
import subprocess
import sys

import implant_desk.core

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "implant_desk.app")


def test_core_modules_import_without_qt():
    names = [m.name for m in pkgutil.walk_packages(implant_desk.core.__path__, "implant_desk.core.")]
    assert len(names) > 3
    script = (
        "import importlib, json, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        "or m.startswith('implant_desk.app'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    leaked = json.loads(out.stdout.strip().splitlines()[-1])
    assert leaked == [], f"core pulled in GUI modules: {leaked}"
