"""packaging/linux/install.sh puts the app in the user's menu and makes it open .dcm files, under XDG_* folders."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
from pathlib import Path

import pytest

LINUX = Path(__file__).resolve().parents[2] / "packaging" / "linux"
SHIPPED = ("install.sh", "implant-desk.desktop", "implant-desk-mime.xml", "implant-desk.svg", "implant-desk.png")

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="install.sh needs a POSIX shell")


def _unpacked(folder: Path) -> Path:
    """An unpacked build as build.sh lays it out, with a stand-in executable."""
    folder.mkdir(parents=True)
    for name in SHIPPED:
        shutil.copy2(LINUX / name, folder / name)
    executable = folder / "implant-desk"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    return folder


def _install(folder: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path / "home"),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run(["sh", str(folder / "install.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_adds_the_menu_entry_icon_and_dicom_association(tmp_path):
    folder = _unpacked(tmp_path / "clinic apps" / "implant-desk")  # a space in the path, as users' folders have
    config = tmp_path / "config"
    config.mkdir()
    (config / "mimeapps.list").write_text("[Default Applications]\nimage/png=viewer.desktop;\n"
                                          "application/dicom=other-viewer.desktop;\n")

    result = _install(folder, tmp_path)

    assert result.returncode == 0, result.stderr
    entry = _entry(tmp_path / "data" / "applications" / "implant-desk.desktop")
    assert entry["Exec"] == f'"{folder / "implant-desk"}" %f'
    assert entry["TryExec"] == str(folder / "implant-desk")
    assert entry["MimeType"] == "application/dicom;"
    assert entry["Icon"] == "implant-desk"
    assert (tmp_path / "data" / "icons" / "hicolor" / "scalable" / "apps" / "implant-desk.svg").is_file()
    assert (tmp_path / "data" / "icons" / "hicolor" / "256x256" / "apps" / "implant-desk.png").is_file()
    assert (tmp_path / "data" / "mime" / "packages" / "implant-desk-mime.xml").is_file()
    defaults = (config / "mimeapps.list").read_text().splitlines()
    assert defaults == ["[Default Applications]", "application/dicom=implant-desk.desktop;",
                        "image/png=viewer.desktop;"]
    assert not (tmp_path / "home").exists()  # nothing outside the XDG folders it was given


def test_uninstall_removes_what_install_added_and_keeps_the_rest(tmp_path):
    folder = _unpacked(tmp_path / "implant-desk")
    config = tmp_path / "config"
    config.mkdir()
    (config / "mimeapps.list").write_text("[Default Applications]\nimage/png=viewer.desktop;\n")
    assert _install(folder, tmp_path).returncode == 0

    result = _install(folder, tmp_path, "--uninstall")

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data" / "applications" / "implant-desk.desktop").exists()
    assert not list((tmp_path / "data" / "icons").rglob("implant-desk.*"))
    assert (config / "mimeapps.list").read_text() == "[Default Applications]\nimage/png=viewer.desktop;\n"


def test_install_outside_the_unpacked_folder_says_why(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    shutil.copy2(LINUX / "install.sh", folder / "install.sh")

    result = _install(folder, tmp_path)

    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "run the install.sh of the unpacked implant-desk folder" in result.stderr
    assert not (tmp_path / "data").exists()


def test_the_png_icon_is_the_svg_rendered(qapp):
    from PySide6.QtGui import QImage

    icon = QImage(str(LINUX / "implant-desk.png"))
    assert (icon.width(), icon.height()) == (256, 256)
    assert icon.pixelColor(128, 4).alpha() == 0  # the rounded corner's outside is transparent
    assert icon.pixelColor(128, 60).lightness() > 200  # the crown


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils is not installed")
def test_the_installed_entry_is_a_valid_desktop_file(tmp_path):
    folder = _unpacked(tmp_path / "implant-desk")
    assert _install(folder, tmp_path).returncode == 0

    check = subprocess.run(["desktop-file-validate", str(tmp_path / "data" / "applications" / "implant-desk.desktop")],
                           capture_output=True, text=True, timeout=60)

    assert check.returncode == 0 and not check.stdout.strip(), check.stdout
