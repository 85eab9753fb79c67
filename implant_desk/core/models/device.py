"""Pick where the network runs: CUDA or Apple MPS when present, else CPU; the user can override."""

from __future__ import annotations

import torch

from implant_desk.core.errors import ImplantDeskError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


class DeviceUnavailableError(ImplantDeskError):
    """The requested device is not present on this computer."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[str]:
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    if _mps_available():
        devices.append("mps")
    return devices


def resolve_device(requested: str | None = "auto") -> torch.device:
    """``auto``/None: CUDA, then MPS, then CPU. An explicit device that is absent is a clear error."""
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
