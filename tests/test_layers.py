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


# The folders of core/ depend one way: the catalogue of systems under all; files -> annotations -> generated data;
# models -> learning. A lower part never imports a higher one, not even inside a function.
LOWER_NEVER_IMPORTS = {
    "catalogue": ("imaging", "annotations", "synthetic", "models", "learning", "reports", "registry", "review"),
    "imaging": ("annotations", "synthetic", "models", "learning", "reports", "registry"),
    "annotations": ("synthetic", "models", "learning", "reports", "registry"),
    "synthetic": ("models", "learning", "reports", "registry"),
    "models": ("synthetic", "learning", "reports", "registry"),
    "registry": ("learning", "reports"),
}


def _imported_core_parts(path) -> set[str]:
    import ast

    parts = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            if name.startswith("implant_desk.core."):
                parts.add(name.split(".")[2])
    return parts


def test_the_parts_of_core_depend_one_way():
    from pathlib import Path

    core = Path(implant_desk.core.__path__[0])
    broken = []
    for part, forbidden in LOWER_NEVER_IMPORTS.items():
        files = [core / f"{part}.py"] if (core / f"{part}.py").exists() else sorted((core / part).rglob("*.py"))
        assert files, part
        for file in files:
            broken += [f"{file.relative_to(core)} imports core.{p}" for p in _imported_core_parts(file) & set(forbidden)]
    assert broken == []
