"""Window start-up, launch-to-first-answer, next-image latency and idle memory of the annotation window.

Prints figures; asserts nothing. Each start-up is a fresh interpreter (as a user launching the app), timed from
just before the process starts to the end of the window's first paint, and compared with a bare PySide6
QMainWindow measured the same way in the same run. Launch-to-first-answer is ``implant-desk FILM.dcm`` (a
generated periapical DICOM) until the Identify panel holds the shipped model's result, as the app itself reports
it with IMPLANT_DESK_STARTUP_REPORT set (``window``/``answer`` lines, see ``app/launch.py``), with the longest
pause of the event loop meanwhile (a 5 ms timer: how long the window could not repaint). ``--executable`` times a
packaged build (``dist/implant-desk/implant-desk``) by the same report, beside ``python -m implant_desk``.

    python benchmarks/bench_startup.py [--runs 7] [--executable PATH]
                                                (uses QT_QPA_PLATFORM=offscreen unless a display is set)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# Prints the time once the window's first paint is done (the app's launch waits for the same moment), then quits.
AFTER_FIRST_PAINT = """
from PySide6.QtCore import QEvent, QObject
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, lambda: (print(time.time()), print("torch" in sys.modules), app.quit()))
        return False
first_paint = FirstPaint()
window.installEventFilter(first_paint)
window.show()
app.exec()
"""

BARE = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1280, 800)
""" + AFTER_FIRST_PAINT

IMPLANT_DESK = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from implant_desk.app.main_window import MainWindow
from implant_desk.app.settings import Settings
from implant_desk.app.launch import load_image
app = QApplication(sys.argv[:1])
window = MainWindow(Settings(), load_image)
""" + AFTER_FIRST_PAINT

# ``implant-desk FILM``: window and answer come from the app's own report (STARTUP_REPORT); this adds the pauses.
FIRST_ANSWER = """
import sys, time
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
shown, answer, last = [], [], [time.time()]
longest = {"before": 0.0, "after": 0.0}  # event-loop pauses before the answer, and after it until the heat maps
torch_at_answer = []
def answered(*_):  # in the worker thread, as it emits the answer (it imports torch for the heat maps next)
    torch_at_answer.append("torch" in sys.modules)
def poll():
    now = time.time()
    if shown:
        phase = "after" if answer else "before"
        longest[phase] = max(longest[phase], now - last[0])
    last[0] = now
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "annotation_window"), None)
    if window is None or not window.isVisible():
        return
    if not shown:
        shown.append(now)
        window.identify_panel.worker.finished.connect(answered, Qt.ConnectionType.DirectConnection)
    fixtures = window.identify_panel.controller.fixtures
    if window.identify_panel.controller.has_result and not answer:
        answer.append(now)
    if answer and all(f.explanation is not None for f in fixtures if f.candidates):
        print("heat", now, longest["before"], longest["after"], len(fixtures), torch_at_answer[0])
        app.quit()
timer = QTimer()
timer.timeout.connect(poll)
timer.start(5)
from implant_desk.app.launch import launch
launch(sys.argv[1:])
"""

IDLE = """
import sys, json, time
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from implant_desk.app.main_window import MainWindow
from implant_desk.app.settings import Settings
from implant_desk.app.launch import load_image

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

app = QApplication(sys.argv[:1])
window = MainWindow(Settings(), load_image)
window.show()
folder = Path(sys.argv[1])
window.open_folder(folder)
window.prefetcher.wait()
app.processEvents()
cold, warm = [], []
for step in range(1, 5):
    window.prefetcher.wait(); app.processEvents()   # the user looks at the image: neighbours are decoded meanwhile
    index = window.navigator.next_index(1)
    cached = window.prefetcher.is_cached(window.navigator.items[index].path)
    start = time.perf_counter()
    window.show_image(index)
    window.canvas.repaint()
    (warm if cached else cold).append((time.perf_counter() - start) * 1000)
for item in window.navigator.items: window.prefetcher.forget(item.path)
start = time.perf_counter()
window.show_image(0)
window.canvas.repaint()
cold.append((time.perf_counter() - start) * 1000)
app.processEvents()
print(json.dumps({"rss_mb": rss_mb(), "warm_ms": warm, "cold_ms": cold, "torch": "torch" in sys.modules}))
window.session.document.mark_saved()
"""


def time_to_window(script: str, env: dict[str, str]) -> tuple[float, list[str]]:
    start = time.time()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True).stdout
    lines = out.strip().splitlines()
    return float(lines[0]) - start, lines[1:]


def startup_report(command: list[str], env: dict[str, str], timeout_s: float = 60) -> tuple[float, float]:
    """(window, answer) seconds after launching ``command`` (the app on a film), from the app's STARTUP_REPORT
    lines; the app is then terminated. A build from before that report prints nothing: that says so."""
    start = time.time()
    app = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           env=dict(env, IMPLANT_DESK_STARTUP_REPORT="1"))
    watchdog = threading.Timer(timeout_s, app.kill)
    watchdog.start()
    seen = {}
    try:
        for line in app.stdout:
            kind, _, value = line.partition(" ")
            if kind in ("window", "answer"):
                seen[kind] = float(value) - start
            if "answer" in seen:
                break
    finally:
        watchdog.cancel()
        app.terminate()
        app.wait()
    if "answer" not in seen:
        raise SystemExit(f"{command[0]} printed no start-up report within {timeout_s:.0f} s (a build from before "
                         "IMPLANT_DESK_STARTUP_REPORT?)")
    return seen["window"], seen["answer"]


def make_images(folder: Path, count: int = 5) -> None:
    """1500x2000 16-bit PNGs (the size issue 4 names), smooth like a radiograph so they compress like one."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[0:2000, 0:1500]
    for i in range(count):
        pixels = 20000 + 8000 * np.sin(rows / (90 + 10 * i)) * np.cos(cols / 120) + rng.normal(0, 300, rows.shape)
        Image.fromarray(pixels.clip(0, 65535).astype(np.uint16)).save(folder / f"scan{i}.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--executable", type=Path, help="a packaged build's executable, timed on the same film")
    args = parser.parse_args()
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    median_ms = lambda values: statistics.median(values) * 1000  # noqa: E731
    with tempfile.TemporaryDirectory() as home:
        env["IMPLANT_DESK_HOME"] = home
        bare, ours, torch_loaded = [], [], []
        for _ in range(args.runs):
            bare.append(time_to_window(BARE, env)[0])
            seconds, extra = time_to_window(IMPLANT_DESK, env)
            ours.append(seconds)
            torch_loaded.append(extra[0] == "True")
        b, o = statistics.median(bare), statistics.median(ours)
        print(f"window painted (median of {args.runs}): bare PySide6 {b * 1000:.0f} ms, implant_desk {o * 1000:.0f} ms,"
              f" ratio {o / b:.2f}; torch imported at start-up: {any(torch_loaded)}")
        from implant_desk.core.registry import model_systems
        from implant_desk.core.synthetic import generate_series, write_dataset

        films = Path(home) / "films"
        systems = model_systems()  # the shipped model answers: a fixture of a system it knows
        write_dataset(films, generate_series(1, 3, systems), "dicom", 3, systems)
        film = next(films.rglob("*.dcm"))
        window, answer, heat, pause, pause_after, torch_at_answer = [], [], [], [], [], []
        for _ in range(args.runs):
            start = time.time()
            out = subprocess.run([sys.executable, "-c", FIRST_ANSWER, str(film)], capture_output=True, text=True,
                                 env=dict(env, IMPLANT_DESK_STARTUP_REPORT="1"), check=True).stdout
            report = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
            window.append(float(report["window"][0]) - start)
            answer.append(float(report["answer"][0]) - start)
            heat.append(float(report["heat"][0]) - start)
            pause.append(float(report["heat"][1]))
            pause_after.append(float(report["heat"][2]))
            fixtures = report["heat"][3]
            torch_at_answer.append(report["heat"][4] == "True")
        print(f"implant-desk FILM.dcm (generated periapical, {fixtures} fixtures found), median of {args.runs}: window "
              f"{median_ms(window):.0f} ms, first answer {median_ms(answer):.0f} ms (ratio to a bare PySide6 window "
              f"{statistics.median(answer) / b:.1f}), heat maps {median_ms(heat):.0f} ms; torch imported by the answer: "
              f"{any(torch_at_answer)}")
        print(f"  longest event-loop pause: before the answer {median_ms(pause):.0f} ms (worst {max(pause) * 1000:.0f}),"
              f" while the heat maps load torch {median_ms(pause_after):.0f} ms (worst {max(pause_after) * 1000:.0f})")
        folder = Path(home) / "images"
        folder.mkdir()
        make_images(folder)
        out = subprocess.run([sys.executable, "-c", IDLE, str(folder)], capture_output=True, text=True, env=env,
                             check=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        warm = statistics.median(figures["warm_ms"]) if figures["warm_ms"] else float("nan")
        cold = statistics.median(figures["cold_ms"])
        print(f"next image 1500x2000 16-bit PNG: prefetched {warm:.1f} ms (median of {len(figures['warm_ms'])}),"
              f" not prefetched {cold:.1f} ms, ratio {cold / warm:.1f}x")
        print(f"idle window with a folder open: {figures['rss_mb']:.0f} MB resident; torch imported: {figures['torch']}")
        if args.executable:
            launches = {"python -m implant_desk": [sys.executable, "-m", "implant_desk", str(film)],
                        str(args.executable): [str(args.executable), str(film)]}
            times = {name: [] for name in launches}
            for _ in range(args.runs):  # alternated, so that both see the same load
                for name, command in launches.items():
                    times[name].append(startup_report(command, env))
            for name, pairs in times.items():
                print(f"{name} FILM.dcm, median of {args.runs}: window {median_ms([w for w, _ in pairs]):.0f} ms, "
                      f"first answer {median_ms([a for _, a in pairs]):.0f} ms")


if __name__ == "__main__":
    main()
