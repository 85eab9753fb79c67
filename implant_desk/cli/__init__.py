"""``implant-desk``: the GUI by default (LabelImg's command line), or a sub-command.

Each sub-command is a module here with ``HELP``, ``configure(parser)`` and ``run(args) -> int``. Modules are
imported only when their command runs, so ``implant-desk info`` never pays for torch or Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from implant_desk import __version__
from implant_desk.core.errors import ImplantDeskError

COMMAND_NAMES = ("info", "convert", "synth", "demo", "predict", "review", "train", "evaluate", "audit", "models",
                 "catalogue")


def available_commands() -> list[str]:
    return [name for name in COMMAND_NAMES if importlib.util.find_spec(f"implant_desk.cli.{name}") is not None]


def _usage() -> str:
    lines = [
        "usage: implant-desk [IMAGE_DIR_OR_FILE] [CLASS_FILE] [SAVE_DIR]   open the annotation window",
        "       implant-desk COMMAND [options]                             run a command (COMMAND --help)",
        "",
        "commands:",
    ]
    for name in available_commands():
        module = importlib.import_module(f"implant_desk.cli.{name}")
        lines.append(f"  {name:<10} {module.HELP}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_usage())
        return 0
    if argv and argv[0] == "--version":
        print(f"implant-desk {__version__}")
        return 0
    if argv and argv[0] in available_commands():
        return run_command(argv[0], argv[1:])
    from implant_desk.app.launch import launch

    return launch(argv)


def os_error_text(error: OSError) -> str:
    """``<path>: <reason>`` on one line, as the project's own errors read."""
    reason = error.strerror or str(error)
    return f"{error.filename}: {reason}" if error.filename else reason


def run_command(name: str, argv: list[str]) -> int:
    module = importlib.import_module(f"implant_desk.cli.{name}")
    parser = argparse.ArgumentParser(prog=f"implant-desk {name}", description=module.HELP)
    module.configure(parser)
    args = parser.parse_args(argv)
    try:
        return int(module.run(args) or 0)
    except ImplantDeskError as error:
        print(f"implant-desk {name}: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # permissions, a file where a folder belongs, a read-only disk: the user's to fix
        print(f"implant-desk {name}: {os_error_text(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"implant-desk {name}: interrupted", file=sys.stderr)
        return 130
