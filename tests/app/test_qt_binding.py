"""The installed Qt binding survives a long session of signals.

PySide6 6.12.0 returns ``True`` from every Python-side ``emit`` without taking a reference to it, so a window
that emits a few hundred signals aborts the interpreter ("bool_dealloc"); pyproject.toml excludes that release.
Run in a child process: the failure is an abort, which would take pytest down with it.
"""

import os
import subprocess
import sys

EMIT_MANY = """
import sys
from PySide6.QtCore import QCoreApplication, QObject, Signal

class Emitter(QObject):
    fired = Signal(object)

app = QCoreApplication([])
emitter = Emitter()
emitter.fired.connect(lambda value: None)
before = sys.getrefcount(True)
for i in range(5000):
    emitter.fired.emit(i)
print(before - sys.getrefcount(True))
"""


def test_emitting_thousands_of_signals_neither_leaks_nor_aborts():
    done = subprocess.run([sys.executable, "-c", EMIT_MANY], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr[-500:]
    assert abs(int(done.stdout.strip())) < 50
