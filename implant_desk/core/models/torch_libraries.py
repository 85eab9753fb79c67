"""torch's compiled libraries loaded with the GIL released, before torch is imported off the window's thread.

Importing torch maps and relocates its extension module and libtorch (hundreds of megabytes) in the dynamic
loader, and CPython loads an extension module holding the GIL: a window that wants to repaint meanwhile freezes
for about half a second on 2 cores (``benchmarks/bench_startup.py``, the pause while the heat maps load torch).
A C function called through ``ctypes.CDLL`` runs with the GIL released, so libc's ``dlopen`` of the same file,
with the flags CPython's import uses, does that work while the window keeps painting; the import then finds the
library loaded. Linux only (the loader's behaviour this relies on was measured there); elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def preload_torch_libraries() -> bool:
    """Load torch's extension module (and the libraries it links) unless torch is imported already; True when
    it was loaded here. Never raises: without it the import is the same, only with the pause."""
    if not sys.platform.startswith("linux") or "torch" in sys.modules:
        return False
    try:
        spec = importlib.util.find_spec("torch")
        extension = next(Path(spec.origin).parent.glob("_C.*.so"), None) if spec and spec.origin else None
        if extension is None:
            return False
        dlopen = ctypes.CDLL(None).dlopen
        dlopen.restype, dlopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_int]
        loaded = bool(dlopen(str(extension).encode(), sys.getdlopenflags()))
    except (OSError, AttributeError, ValueError, ImportError) as error:
        log.debug("torch's libraries not preloaded: %s", error)
        return False
    if not loaded:
        log.debug("torch's libraries not preloaded: dlopen refused %s", extension)
    return loaded
