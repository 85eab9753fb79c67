"""Pick where the network runs: CUDA or Apple MPS when present, else CPU; the user can override.

torch is imported only to ask it: :func:`accelerator_possible` first answers without it, so a computer with no
accelerator (most of the labs' laptops) predicts on the CPU without paying for torch's import.
"""

from __future__ import annotations

import ctypes.util
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from implant_desk.core.errors import ImplantDeskError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(ImplantDeskError):
    """The requested device is not present on this computer."""


def accelerator_possible() -> bool:
    """False when this computer surely has neither CUDA nor MPS, decided without importing torch: CUDA needs
    NVIDIA's driver (Linux: /proc/driver/nvidia; Windows: nvcuda.dll), MPS Apple silicon. True: ask torch."""
    if "torch" in sys.modules:
        return True  # asking it costs nothing now
    if sys.platform == "darwin":
        return platform.machine() == "arm64"
    if sys.platform.startswith("linux"):
        return Path("/proc/driver/nvidia/version").exists()
    return ctypes.util.find_library("nvcuda") is not None


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[str]:
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if _mps_available():
        devices.append("mps")
    return devices


def resolve_device(requested: str | None = "auto") -> torch.device:
    """``auto``/None: CUDA, then MPS, then CPU. An explicit device that is absent is a clear error."""
    import torch

    requested = (requested or "auto").lower()
    if requested not in DEVICE_CHOICES:
        raise DeviceUnavailableError(f"unknown device {requested!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    present = available_devices()
    if requested == "auto":
        for choice in ("cuda", "mps"):
            if choice in present:
                return torch.device(choice)
        return torch.device("cpu")
    if requested not in present:
        raise DeviceUnavailableError(f"the {requested.upper()} device is not available on this computer "
                                     f"(available: {', '.join(present)})")
    return torch.device(requested)
