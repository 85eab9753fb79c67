"""A fine-tuning run in a child process: the caller never freezes, a crash never takes it down, cancel is hard.

The child (multiprocessing, "spawn" context, so no Qt or thread state is inherited) runs the steps of
:mod:`implant_desk.core.learning.orchestrator` and sends plain dicts through a one-way pipe. Every event has an ``"event"``
key:

- ``phase``: ``{"phase": "loading" | "training" | "evaluating" | "publishing", "text"}``;
- ``data``: what it trains on (``describe``, ``summary``, ``warnings``), once the folders are read;
- ``step`` and ``epoch``: as ``training.fit`` emits them (epoch, step, loss, val metrics, eta_s, phase);
- ``evaluate``: ``{"model": "new" | "active", "done", "total"}`` while scoring the held-out patients;
- exactly one final event: ``finished`` (version, metrics, baseline, stop_reason, ...), ``cancelled``
  (``text``) or ``failed`` (``message`` in words, ``detail`` the traceback, if any).

Cancel: :meth:`TrainingRun.cancel` asks the child to stop; a child still alive ~1.2 s later is terminated,
then killed, so cancel completes within 2 s and the child's memory goes back to the system. Nothing is
registered by a cancelled run: the child checks for a cancel just before it publishes, and a version appears
only by the registry's atomic rename, so it is complete or absent (only a cancel landing in the instant
between that rename and the child's last message would read "cancelled" for a run that was registered).
A child whose parent dies (a crashed window cannot cancel) ends itself.
Keeping the best weights so far is the explicit :meth:`TrainingRun.stop_and_keep_best`: the child finishes its
step, evaluates the best epoch's weights and registers them (no kill timer).

The parent closes its end of the child's pipe after the start, so a child that dies mid-message gives an
end-of-file, never a read that blocks. Torch is only imported in the child.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field

from implant_desk.core.errors import ImplantDeskError

CANCEL_GRACE_S = 1.2  # the child may stop cleanly this long before it is terminated (kill and reaping follow)
KILL_GRACE_S = 0.3  # after terminate(), before kill()
FINAL_EVENTS = ("finished", "cancelled", "failed")
# The parent runs the window: the child gives way to it on the CPU (Unix niceness; ignored elsewhere).
CHILD_NICENESS = 5


@dataclass(frozen=True)
class TrainingRequest:
    """Everything the child needs, as plain picklable data."""

    folders: tuple[str, ...]
    fit: dict = field(default_factory=dict)  # training.FitConfig fields; init_from is filled from the parent
    parent: str | None = "active"  # a registry version, "active", or None to start from ImageNet backbones
    spec: dict = field(default_factory=dict)  # ModelSpec fields to override (det_size: the image size)
    seed: int = 0
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    only: tuple[str, ...] | None = None
    annotation_dir: str | None = None  # a separate annotation folder (LabelImg's save folder); None: beside images
    threshold: float | None = None  # None: the predictor's default
    registry_root: str | None = None  # None: the user's registry (tests give their own)
    default_model_dir: str | None = None


class TrainingRun:
    """One child process and its event stream. Not thread-safe: poll it from one thread (the GUI's timer)."""

    def __init__(self, request: TrainingRequest):
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._keep_best = context.Event()
        receiver, sender = context.Pipe(duplex=False)
        self._receiver = receiver
        self._process = context.Process(target=_child_main, args=(request, sender, self._stop, self._keep_best),
                                        name="implant-desk-training", daemon=True)
        self._process.start()
        sender.close()  # only the child writes: its death then reads as end-of-file here
        self._cancel_requested_at: float | None = None
        self._killed = False
        self.final: dict | None = None

    # --- control ---------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Hard cancel: nothing is registered, even after :meth:`stop_and_keep_best`. Returns at once;
        :meth:`poll` enforces the deadline."""
        if self.final is None and self._cancel_requested_at is None:
            self._cancel_requested_at = time.monotonic()
            self._keep_best.clear()  # before stop: the child must never see "stop and keep" once cancel began
            self._stop.set()

    def stop_and_keep_best(self) -> None:
        """Stop after the current step and register the best weights so far (needs one finished epoch)."""
        if self.final is None and self._cancel_requested_at is None:
            self._keep_best.set()
            self._stop.set()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.final is None else None

    @property
    def done(self) -> bool:
        return self.final is not None

    # --- events ----------------------------------------------------------------------------------------------

    def poll(self) -> list[dict]:
        """The events that arrived since the last call (never blocks); the last one may be final."""
        if self.final is not None:
            return []
        events = self._read_available()
        final = next((e for e in events if e["event"] in FINAL_EVENTS), None)
        if final is None and self._cancel_requested_at is not None and self._process.is_alive():
            if time.monotonic() - self._cancel_requested_at >= CANCEL_GRACE_S:
                self._kill()
        if final is None and not self._process.is_alive():
            events.extend(self._read_available())  # what it sent just before exiting (nothing, if killed)
            final = next((e for e in events if e["event"] in FINAL_EVENTS), None)
            if final is None:
                final = (_cancelled_event() if self._cancel_requested_at is not None else
                         {"event": "failed", "message": _death_message(self._process.exitcode), "detail": ""})
                events.append(final)
        if final is not None:
            events = events[:events.index(final) + 1]
            self._finish(final)
        return events

    def wait(self, timeout: float | None = None) -> list[dict]:
        """Block until the final event (or ``timeout``); every event on the way, in order."""
        deadline = None if timeout is None else time.monotonic() + timeout
        events: list[dict] = []
        while self.final is None and (deadline is None or time.monotonic() < deadline):
            events.extend(self.poll())
            if self.final is None:
                time.sleep(0.05)
        return events

    def _read_available(self) -> list[dict]:
        if self._killed:  # a killed child may have left half a message in the pipe
            return []
        events = []
        try:
            while self._receiver.poll():
                events.append(self._receiver.recv())
        except (EOFError, OSError):
            pass  # the child is gone; poll() reports how it ended
        return events

    def _kill(self) -> None:
        """SIGTERM, then SIGKILL; the process object is closed once the system has reaped it."""
        self._killed = True
        self._process.terminate()
        self._process.join(KILL_GRACE_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(KILL_GRACE_S)

    def _finish(self, final: dict) -> None:
        self.final = final
        # The child has said its last word and published (or not) before saying it; its interpreter teardown
        # can take a second on a busy machine, which neither the caller nor its memory should wait for.
        if self._process.is_alive():
            self._kill()
        self._receiver.close()
        if not self._process.is_alive():  # else the system is still tearing it down; it is a daemon either way
            self._process.close()

    def __del__(self) -> None:
        process = getattr(self, "_process", None)
        if getattr(self, "final", None) is None and process is not None:
            try:
                if process.is_alive():
                    process.kill()
            except ValueError:  # already closed
                pass


def _cancelled_event(text: str = "Training was cancelled; nothing was registered.") -> dict:
    return {"event": "cancelled", "text": text}


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return (f"The training process was stopped by the system (signal {-exitcode}); this often means the "
                "computer ran out of memory. Nothing was registered.")
    return f"The training process ended unexpectedly (exit code {exitcode}). Nothing was registered."


# --- the child -----------------------------------------------------------------------------------------------


class _Cancelled(Exception):
    """Raised in the child when a hard cancel arrives outside the fit loop."""


def _exit_with_parent() -> None:
    """A window that crashed or was killed cannot cancel: the child then ends itself instead of training on
    (and holding the memory) for nobody."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _child_main(request: TrainingRequest, sender, stop, keep_best) -> None:
    _exit_with_parent()
    if hasattr(os, "nice"):
        try:
            os.nice(CHILD_NICENESS)
        except OSError:
            pass
    try:
        final = _run(request, sender.send, stop, keep_best)
    except _Cancelled:
        final = _cancelled_event()
    except BrokenPipeError:
        return  # the parent is gone: there is nobody to tell
    except ImplantDeskError as error:
        final = {"event": "failed", "message": str(error), "detail": ""}
    except Exception as error:  # a bug or a library failure: reported in words, with the details
        final = {"event": "failed", "message": f"Training failed ({type(error).__name__}: {error})",
                 "detail": traceback.format_exc()}
    try:
        sender.send(final)
    except BrokenPipeError:
        pass
    finally:
        sender.close()


def _run(request: TrainingRequest, send, stop, keep_best) -> dict:
    from dataclasses import replace

    from implant_desk.core.learning import orchestrator as finetune
    from implant_desk.core.registry import Registry

    def check_cancel() -> None:
        if stop.is_set() and not keep_best.is_set():
            raise _Cancelled()

    registry = Registry(request.registry_root, request.default_model_dir)
    parent = _parent_version(registry, request.parent)
    config = _fit_config(request, parent)  # wrong settings fail before any image is read
    send({"event": "phase", "phase": "loading", "text": "Reading the annotated images"})
    data = finetune.prepare_training_data(request.folders, request.val_fraction, request.test_fraction,
                                          request.seed, request.only, annotation_dir=request.annotation_dir)
    send({"event": "data", "describe": data.describe(), "summary": data.summary, "warnings": data.warnings})
    spec = finetune.training_spec(data.dataset.classes, parent)
    if request.spec:
        spec = replace(spec, **_spec_fields(request.spec))
    check_cancel()

    send({"event": "phase", "phase": "training", "text": "Training"})
    result = finetune.train(data, spec, config, on_progress=send, should_stop=stop.is_set)
    check_cancel()
    if result.cancelled and result.epochs_run == 0:
        return _cancelled_event("Stopped before the first epoch finished: there is nothing to keep, "
                                "nothing was registered.")
    if result.epochs_run == 0:
        raise ImplantDeskError("The time limit ran out before the first epoch finished; nothing was registered.")

    threshold = request.threshold if request.threshold is not None else _default_threshold()
    split_name, held_out = finetune.held_out(data)
    send({"event": "phase", "phase": "evaluating", "text": f"Scoring {len(held_out)} held-out images"})
    evaluation = finetune.evaluate_samples(_predictor(result.network), held_out, data.dataset.classes, threshold,
                                           _evaluate_progress(send, "new", check_cancel))
    baseline = _baseline(parent, held_out, data.dataset.classes, threshold, send, check_cancel)
    check_cancel()

    send({"event": "phase", "phase": "publishing", "text": "Saving the new version"})
    version = finetune.publish_result(result, data, parent, evaluation, split_name, threshold, registry)
    return {"event": "finished", "version": version.version, "metrics": version.card.metrics,
            "baseline": baseline, "parent": parent.version if parent else None, "stop_reason": result.stop_reason,
            "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "duration_s": result.duration_s,
            "evaluated_on": split_name, "held_out_images": len(held_out),
            "held_out_patients": len({s.patient_id for s in held_out}), "classes": list(data.dataset.classes)}


def _parent_version(registry, parent: str | None):
    if parent is None:
        return None
    return registry.active() if parent == "active" else registry.get(parent)


def _spec_fields(overrides: dict) -> dict:
    fields = dict(overrides)
    if "crop_size" in fields:
        fields["crop_size"] = tuple(int(v) for v in fields["crop_size"])
    return fields


def _fit_config(request: TrainingRequest, parent):
    from implant_desk.core.learning.fit import FitConfig

    settings = {"seed": request.seed, **request.fit}
    if parent is not None and "init_from" not in request.fit:
        settings["init_from"] = str(parent.folder)
    epochs = settings.get("epochs", FitConfig.epochs)
    settings["head_epochs"] = min(settings.get("head_epochs", FitConfig.head_epochs), epochs)
    return FitConfig(**settings)


def _default_threshold() -> float:
    from implant_desk.core.models.predictor import DEFAULT_THRESHOLD

    return DEFAULT_THRESHOLD


def _predictor(network):
    from implant_desk.core.models.predictor import Predictor

    return Predictor(network, "cpu")


def _evaluate_progress(send, model: str, check_cancel):
    def on_image(done: int, total: int) -> None:
        check_cancel()
        send({"event": "evaluate", "model": model, "done": done, "total": total})

    return on_image


def _baseline(parent, held_out: Sequence, classes: Sequence[str], threshold: float, send, check_cancel) -> dict | None:
    """The model in use, scored on the same held-out patients, so the user compares like with like."""
    if parent is None or not held_out:
        return None
    from implant_desk.core.learning import orchestrator as finetune
    from implant_desk.core.models.predictor import Predictor

    try:
        predictor = Predictor.from_folder(parent.folder, device="cpu")
    except ImplantDeskError as error:
        return {"version": parent.version, "metrics": None, "problem": str(error)}
    evaluation = finetune.evaluate_samples(predictor, held_out, classes, threshold,
                                           _evaluate_progress(send, "active", check_cancel))
    return {"version": parent.version, "metrics": evaluation.to_dict(), "problem": None}

