"""README's commands are the ones CI runs."""

import re

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _code_block_after(text: str, marker: str) -> str:
    tail = text[text.index(marker):]
    return re.search(r"```sh\n(.+?)\n```", tail, re.S).group(1).strip()


def test_ci_runs_readmes_test_command():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    test_command = _code_block_after(readme, "run the whole suite").split("&&")[-1].strip()
    assert "pytest" in test_command
    ci_script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci_script


def test_readme_install_commands_pin_the_local_torch():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for marker in ("built-in demo", "run the whole suite"):
        assert "pip install torch==2.14.1 torchvision==0.29.1" in _code_block_after(readme, marker)
