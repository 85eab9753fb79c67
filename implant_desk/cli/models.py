"""``implant-desk models``: the model versions in the registry (list, show, compare, activate, export...)."""

from __future__ import annotations

import argparse
import json
import sys

from implant_desk.core.registry import ModelVersion, Registry, compare, normalise_version
from implant_desk.core.wording import counted

HELP = "list, show, compare, activate, roll back, delete, export and import model versions"


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every version, the active one marked with *")
    listing.add_argument("--json", action="store_true", help="one JSON object per version per line")
    show = actions.add_parser("show", help="a version's card")
    show.add_argument("version", nargs="?", default="active")
    show.add_argument("--json", action="store_true", help="print the card as JSON")
    both = actions.add_parser("compare", help="two versions side by side")
    both.add_argument("first")
    both.add_argument("second")
    actions.add_parser("activate", help="use this version from now on").add_argument("version")
    actions.add_parser("rollback", help="go back to the version active before the current one")
    actions.add_parser("delete", help="remove a version (never the active one)").add_argument("version")
    export = actions.add_parser("export", help="write a version to one file another installation can import")
    export.add_argument("version")
    export.add_argument("destination", help="file or folder")
    actions.add_parser("import", help="add an exported model file as a new version").add_argument("file")


def _line(version: ModelVersion, active: ModelVersion | None) -> str:
    marker = "*" if active is not None and active.version == version.version else " "
    card = version.card
    figures = "  ".join(f"{name} {card.metrics[name]:.3f}" for name in ("top1", "ap50")
                        if isinstance(card.metrics.get(name), float))
    origin = "shipped, read-only" if version.read_only else f"from v{card.parent_version}" if card.parent_version else ""
    return f"{marker} v{version.version:<4} {card.created[:19]:<19}  {', '.join(card.classes)}  {figures}  {origin}".rstrip()


def _card_text(version: ModelVersion) -> str:
    card = version.card
    lines = [f"version {version.version}" + (" (shipped with the app, read-only)" if version.read_only else ""),
             f"folder: {version.folder}", f"created: {card.created}", f"parent version: {card.parent_version}",
             f"systems: {', '.join(card.classes)}"]
    if card.spec.attributes:
        lines.append(_design_line(card))
    if card.intended_use:
        lines.append(f"intended use: {card.intended_use}")
    for title, value in (("training data", card.training_data), ("training", card.training), ("metrics", card.metrics)):
        if value:
            lines.append(f"{title}: {json.dumps(value, indent=2)}")
    lines.extend(f"note: {note}" for note in card.notes)
    return "\n".join(lines)


def _design_line(card) -> str:
    """What a model that reads the design does beyond the systems it was trained on (with the catalogue in use)."""
    from implant_desk.core.catalogue import load_catalogue

    others = [system for system in load_catalogue().systems if system.name not in card.classes]
    read = ", ".join(name for name, _ in card.spec.attributes)
    return (f"design: reads {read}; ranks the catalogue's {counted(len(others), 'other system')} by design "
            "(known from the catalogue only, never trained on)")


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def run(args: argparse.Namespace) -> int:
    registry = Registry()
    if args.action == "list":
        active = registry.active()
        versions = registry.versions()
        for version in versions:
            if args.json:
                card = version.card
                print(json.dumps({"version": version.version, "active": active is not None and active.version == version.version,
                                  "read_only": version.read_only, "created": card.created,
                                  "parent_version": card.parent_version, "classes": list(card.classes),
                                  "metrics": {k: card.metrics.get(k) for k in ("top1", "top3", "ap50", "map")}}))
            else:
                print(_line(version, active))
        for problem in registry.unreadable():
            print(f"warning: skipped {problem}", file=sys.stderr)
        if not versions and not args.json:
            print("no model yet: run `implant-desk train DATA` or install the default model")
    elif args.action == "show":
        version = registry.get(args.version)
        print(json.dumps(version.card.to_dict(), indent=2, ensure_ascii=False) if args.json else _card_text(version))
    elif args.action == "compare":
        rows = compare(registry.get(args.first), registry.get(args.second))
        width = max(len(what) for what, _, _ in rows)
        for what, a, b in rows:
            print(f"{what:<{width}}  {_cell(a):>20}  {_cell(b):>20}")
    elif args.action == "activate":
        print(f"active model: v{registry.activate(args.version).version}")
    elif args.action == "rollback":
        print(f"active model: v{registry.rollback().version}")
    elif args.action == "delete":
        registry.delete(args.version)
        print(f"deleted v{normalise_version(args.version)}")
    elif args.action == "export":
        print(registry.export(args.version, args.destination))
    elif args.action == "import":
        print(f"imported as v{registry.import_file(args.file).version}")
    return 0
