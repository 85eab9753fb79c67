"""User story: ``implant-desk FOLDER`` opens the window on the folder quickly, without loading torch or scipy."""

import json
import os
import subprocess
import sys

SCRIPT = """
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
def report():
    window = next((w for w in app.topLevelWidgets() if w.objectName() == "annotation_window"), None)
    if window is None or window.session.image_path is None:
        return  # not yet opened: the timer asks again
    print(json.dumps({"visible": window.isVisible(), "image": str(window.session.image_path),
                      "torch": "torch" in sys.modules, "scipy": "scipy" in sys.modules}))
    window.close()
    app.quit()
poll = QTimer()
poll.timeout.connect(report)
poll.start(50)
from implant_desk.app.launch import launch
sys.exit(launch(sys.argv[1:]))
"""


def test_launch_opens_the_folder_without_torch(image_folder):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(image_folder / "img2.tif")], capture_output=True,
                         text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    # torch and scipy take seconds to import: neither is needed to show a film (the model loads as ONNX graphs)
    assert report == {"visible": True, "image": str(image_folder / "img2.tif"), "torch": False, "scipy": False}
