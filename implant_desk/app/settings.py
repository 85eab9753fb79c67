"""The window's remembered choices, as one JSON file in ``user_config_dir()`` (see docs/adr/0003).

Plain JSON rather than QSettings: tests and the CLI read it without Qt, ``IMPLANT_DESK_HOME`` isolates it, and
a lab can read or copy it by hand. Saves go through the atomic writer; a damaged file is set aside, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from implant_desk.core.atomic import atomic_write_text
from implant_desk.core.errors import SaveError
from implant_desk.core.paths import user_config_dir

SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    last_folder: str = ""
    last_file: str = ""
    save_dir: str = ""
    class_file: str = ""
    save_format: str = "voc"
    auto_save: bool = True
    auto_save_interval_s: int = 30
    single_class: bool = False
    use_default_label: bool = False
    default_label: str = ""
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState()
    review_order: str = "uncertainty"  # which image next: uncertainty, random or file (core.review.order)

    @classmethod
    def path(cls) -> Path:
        return user_config_dir() / SETTINGS_FILE

    @classmethod
    def load(cls) -> "Settings":
        """The saved settings; defaults when the file is missing or damaged (a damaged file is kept aside)."""
        path = cls.path()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError):
            path.replace(path.with_suffix(".damaged.json"))
            return cls()
        known = {f.name for f in fields(cls)}
        settings = cls()
        for name, value in raw.items() if isinstance(raw, dict) else ():
            if name in known and isinstance(value, type(getattr(settings, name))):
                setattr(settings, name, value)
        return settings

    def save(self) -> bool:
        """Write atomically; settings are a convenience, so a failure is swallowed and reported as False."""
        path = self.path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, json.dumps(asdict(self), indent=2))
        except (OSError, SaveError):
            return False
        return True
