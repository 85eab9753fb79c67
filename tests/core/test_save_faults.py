"""Saves under attack: two writers at once, write-protected files, failed YOLO saves, kill -9 mid-save,
read-only folders. Nothing is lost in silence and nothing is left behind after the next save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from implant_desk.core import atomic
from implant_desk.core.annotations import store, voc, yolo
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import load_annotation, save_annotation
from implant_desk.core.errors import SaveError
from implant_desk.core.folder_lock import folder_lock

SIZE = (640, 480, 1)
not_as_root = pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs POSIX permissions, not root")


def annotation(label: str, count: int = 1) -> ImageAnnotation:
    return ImageAnnotation("", *SIZE, boxes=[Box(label, 10 + i % 500, 10, 60 + i % 500, 90) for i in range(count)])


@pytest.fixture
def slow_writes(monkeypatch):
    """Each write waits 50 ms first, so two saves started together overlap, as on a slow share."""
    real_write = atomic.atomic_write_bytes

    def slow(path, data):
        time.sleep(0.05)
        real_write(path, data)

    for module in (atomic, store, yolo):
        monkeypatch.setattr(module, "atomic_write_bytes", slow, raising=False)


def save_together(*saves) -> list[BaseException | None]:
    """Run the saves in threads started at once; each result is the exception it raised, or None."""
    results: list[BaseException | None] = [None] * len(saves)
    start = threading.Barrier(len(saves))

    def run(index, save):
        start.wait()
        try:
            save()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, save)) for i, save in enumerate(saves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_saves_of_one_file_at_once_never_lose_one_in_silence(tmp_path, slow_writes):
    image = tmp_path / "img.png"
    save_annotation(annotation("first"), image, None, "voc")
    loaded = load_annotation(image, None, SIZE)
    results = save_together(
        lambda: save_annotation(annotation("alice"), image, None, "voc", expected_on_disk=loaded.on_disk),
        lambda: save_annotation(annotation("bob"), image, None, "voc", expected_on_disk=loaded.on_disk),
    )
    assert sorted(type(r).__name__ for r in results) == ["AnnotationConflictError", "NoneType"]
    winner = "alice" if results[0] is None else "bob"
    assert [b.label for b in voc.read_voc(image.with_suffix(".xml")).boxes] == [winner]


def test_two_yolo_saves_in_one_folder_at_once_keep_each_box_label(tmp_path, slow_writes):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    results = save_together(
        lambda: save_annotation(annotation("Implant"), first, None, "yolo"),
        lambda: save_annotation(annotation("Crown"), second, None, "yolo"),
    )
    assert results == [None, None]
    assert sorted(yolo.read_classes(tmp_path / "classes.txt")) == ["Crown", "Implant"]
    for image, label in ((first, "Implant"), (second, "Crown")):
        assert [b.label for b in load_annotation(image, None, SIZE).annotation.boxes] == [label]


def test_a_lock_held_too_long_is_a_clean_save_error(tmp_path):
    release = threading.Event()

    def hold():
        with folder_lock(tmp_path):
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    try:
        with pytest.raises(SaveError, match="another program"):
            with folder_lock(tmp_path, timeout_s=0.1):
                pass
    finally:
        release.set()
        holder.join()


def test_write_protected_annotation_is_not_replaced_and_the_user_is_told(tmp_path):
    image = tmp_path / "img.png"
    stamps = save_annotation(annotation("kept"), image, None, "voc")
    target = image.with_suffix(".xml")
    before = target.read_bytes()
    target.chmod(0o444)
    try:
        with pytest.raises(SaveError, match="write-protected"):
            save_annotation(annotation("new"), image, None, "voc", expected_on_disk=stamps)
        assert target.read_bytes() == before
    finally:
        target.chmod(0o644)


@pytest.mark.parametrize("obstacle", ["write-protected txt", "disk full at the txt"])
def test_failed_yolo_save_adds_nothing_to_classes_txt(tmp_path, monkeypatch, obstacle):
    image = tmp_path / "img.png"
    (tmp_path / "classes.txt").write_text("Implant\n")
    txt = image.with_suffix(".txt")
    txt.write_text("0 0.5 0.5 0.1 0.1\n")
    loaded = load_annotation(image, None, SIZE)
    if obstacle == "write-protected txt":
        txt.chmod(0o444)
    else:
        real_write = atomic.atomic_write_bytes

        def full_disk(path, data):
            if Path(path) == txt:
                raise SaveError(path, "could not be saved (No space left on device)")
            real_write(path, data)

        monkeypatch.setattr(yolo, "atomic_write_bytes", full_disk)
    try:
        with pytest.raises(SaveError):
            save_annotation(annotation("Crown"), image, None, "yolo", expected_on_disk=loaded.on_disk)
    finally:
        txt.chmod(0o644)
    assert (tmp_path / "classes.txt").read_text() == "Implant\n"
    assert txt.read_text() == "0 0.5 0.5 0.1 0.1\n"


def test_next_save_removes_orphan_temporaries_of_killed_saves_and_nothing_else(tmp_path):
    image = tmp_path / "img.png"
    orphans = [tmp_path / ".img.xml.a1b2c3_d.tmp", tmp_path / ".classes.txt.zzzzzzzz.tmp",
               tmp_path / ".other.json.00000000.tmp"]
    others = [tmp_path / ".photo.png.a1b2c3d4.tmp", tmp_path / "notes.tmp", tmp_path / ".img.xml.short.tmp"]
    for path in orphans + others:
        path.write_text("partial")
    save_annotation(annotation("a"), image, None, "voc")
    assert not any(path.exists() for path in orphans)
    assert all(path.exists() for path in others)


SAVE_LOOP = """
import sys
from pathlib import Path
from implant_desk.core.annotations.model import Box, ImageAnnotation
from implant_desk.core.annotations.store import load_annotation, save_annotation
image = Path(sys.argv[1])
boxes = [Box("Implant", 10 + i % 500, 10, 60 + i % 500, 90) for i in range(3000)]
print("ready", flush=True)
while True:
    loaded = load_annotation(image, None, (640, 480, 1))
    save_annotation(ImageAnnotation("", 640, 480, 1, boxes), image, None, "voc",
                    expected_on_disk=loaded.on_disk if loaded else None)
"""


def test_kill_9_during_saves_never_leaves_a_truncated_file_nor_an_orphan_after_the_next_save(tmp_path):
    image = tmp_path / "img.png"
    save_annotation(annotation("Implant", 3000), image, None, "voc")
    env = {**os.environ, "PYTHONPATH": str(Path(store.__file__).parents[3])}
    for round_number in range(8):
        child = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(image)], stdout=subprocess.PIPE, env=env)
        assert child.stdout.readline() == b"ready\n"
        time.sleep(0.05 + 0.037 * round_number)  # at a different point of a save each round
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        assert len(voc.read_voc(image.with_suffix(".xml")).boxes) == 3000
    loaded = load_annotation(image, None, SIZE)
    save_annotation(annotation("Implant", 3000), image, None, "voc", expected_on_disk=loaded.on_disk)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".implant-desk.lock", "img.xml"]


@not_as_root
def test_read_only_folder_is_a_clean_save_error(tmp_path):
    image = tmp_path / "img.png"
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(SaveError, match="cannot write in this folder"):
            save_annotation(annotation("a"), image, None, "voc")
    finally:
        tmp_path.chmod(0o755)
    assert not image.with_suffix(".xml").exists()
