"""User story: ``implant-desk FOLDER`` opens the window on the folder quickly, without loading torch or scipy.

The window is painted first, before anything the first paint does not need is imported, and only then does it
read the image named on the command line (issue 14: the window within 0.4 s of launch)."""

import json
import os
import subprocess
import sys

from PySide6.QtWidgets import QWidget

from implant_desk.app.widgets import after_first_paint

# What the first paint must not wait for: numerical and image libraries (numpy alone was a third of the start-up),
# the model's runtimes, and the app's own modules for pixels, reports and training events.
NOT_AT_FIRST_PAINT = ("numpy", "PIL", "cv2", "pydicom", "tifffile", "onnxruntime", "torch", "scipy",
                      "implant_desk.app.canvas.image_layer", "implant_desk.app.canvas.heatmap",
                      "implant_desk.app.identify.folder_job", "implant_desk.core.learning.metrics",
                      "implant_desk.core.learning.events", "implant_desk.core.imaging.windowing",
                      # nor what only a result, a box, a model card or a training run shows (issue 14: 0.4 s)
                      "implant_desk.app.identify.design_view", "implant_desk.core.catalogue",
                      "implant_desk.core.models.card", "implant_desk.app.dialogs.label_dialog",
                      "implant_desk.app.finetune.controller", "implant_desk.core.learning.config", "hashlib")

SCRIPT = """
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
first_paint = {}
class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint and watched.objectName() == "annotation_window" and not first_paint:
            first_paint.update(modules=sorted(name for name in NOT_AT_FIRST_PAINT if name in sys.modules),
                               image=str(watched.session.image_path) if watched.session.image_path else None)
        return False
spy = FirstPaint()
app.installEventFilter(spy)
def report():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "annotation_window"), None)
    if window is None or window.session.image_path is None or not first_paint:
        return  # not yet opened or painted: the timer asks again
    if not window.identify_panel.controller.has_result:
        return  # launched on one image, the app identifies it: the answer is reported (STARTUP_REPORT)
    print(json.dumps({"visible": window.isVisible(), "image": str(window.session.image_path),
                      "torch": "torch" in sys.modules, "scipy": "scipy" in sys.modules, "first_paint": first_paint}))
    window.close()
    app.quit()
poll = QTimer()
poll.timeout.connect(report)
poll.start(50)
from implant_desk.app.launch import launch
sys.exit(launch(sys.argv[1:]))
"""


def test_launch_opens_the_folder_without_torch(image_folder):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", IMPLANT_DESK_STARTUP_REPORT="1")
    script = f"NOT_AT_FIRST_PAINT = {NOT_AT_FIRST_PAINT!r}\n{SCRIPT}"
    out = subprocess.run([sys.executable, "-c", script, str(image_folder / "img2.tif")], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    report = json.loads(lines[-1])
    # What bench_startup times a launch by, a packaged build's too: the window on screen, then the first answer.
    assert [line.split()[0] for line in lines[:-1]] == ["window", "answer"]
    assert float(lines[0].split()[1]) <= float(lines[1].split()[1])
    first_paint = report.pop("first_paint")
    # torch and scipy take seconds to import: neither is needed to show a film (the model loads as ONNX graphs)
    assert report == {"visible": True, "image": str(image_folder / "img2.tif"), "torch": False, "scipy": False}
    # The window was on screen before the film was read, and nothing its first paint does not need was imported.
    assert first_paint == {"modules": [], "image": None}


def test_after_first_paint_runs_once_and_without_a_paint(qtbot):
    hidden = QWidget()  # never shown, so never painted (a window started minimised): the time limit calls it
    qtbot.addWidget(hidden)
    calls = []
    after_first_paint(hidden, lambda: calls.append("hidden"), latest_ms=10)
    qtbot.waitUntil(lambda: calls == ["hidden"])
    shown = QWidget()
    qtbot.addWidget(shown)
    after_first_paint(shown, lambda: calls.append("shown"), latest_ms=60000)
    shown.show()
    qtbot.waitUntil(lambda: calls == ["hidden", "shown"])  # painted: called long before its time limit
    shown.repaint()
    qtbot.wait(50)
    assert calls == ["hidden", "shown"]
