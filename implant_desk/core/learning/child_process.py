"""A fine-tuning run in a child process: the caller never freezes, a crash never takes it down, cancel is hard.

The child (multiprocessing, "spawn" context, so no Qt or thread state is inherited) runs
:func:`implant_desk.core.learning.orchestrator.run` and sends its typed events
(:mod:`implant_desk.core.learning.events`) through a one-way pipe, ending with exactly one final event:
``Finished``, ``Cancelled`` or ``Failed`` (``message`` in words, ``detail`` the traceback, if any).

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

from implant_desk.core.errors import ImplantDeskError
from implant_desk.core.learning.config import TrainingRequest
from implant_desk.core.learning.events import FINAL_EVENTS, Cancelled, Failed, TrainingEvent

CANCEL_GRACE_S = 1.2  # the child may stop cleanly this long before it is terminated (kill and reaping follow)
KILL_GRACE_S = 0.3  # after terminate(), before kill()
# The parent runs the window: the child gives way to it on the CPU (Unix niceness; ignored elsewhere).
CHILD_NICENESS = 5


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
        self.final: TrainingEvent | None = None

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

    def poll(self) -> list[TrainingEvent]:
        """The events that arrived since the last call (never blocks); the last one may be final."""
        if self.final is not None:
            return []
        events = self._read_available()
        final = next((e for e in events if isinstance(e, FINAL_EVENTS)), None)
        if final is None and self._cancel_requested_at is not None and self._process.is_alive():
            if time.monotonic() - self._cancel_requested_at >= CANCEL_GRACE_S:
                self._kill()
        if final is None and not self._process.is_alive():
            events.extend(self._read_available())  # what it sent just before exiting (nothing, if killed)
            final = next((e for e in events if isinstance(e, FINAL_EVENTS)), None)
            if final is None:
                final = (Cancelled() if self._cancel_requested_at is not None else
                         Failed(_death_message(self._process.exitcode)))
                events.append(final)
        if final is not None:
            events = events[:events.index(final) + 1]
            self._finish(final)
        return events

    def wait(self, timeout: float | None = None) -> list[TrainingEvent]:
        """Block until the final event (or ``timeout``); every event on the way, in order."""
        deadline = None if timeout is None else time.monotonic() + timeout
        events: list[TrainingEvent] = []
        while self.final is None and (deadline is None or time.monotonic() < deadline):
            events.extend(self.poll())
            if self.final is None:
                time.sleep(0.05)
        return events

    def _read_available(self) -> list[TrainingEvent]:
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

    def _finish(self, final: TrainingEvent) -> None:
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


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return (f"The training process was stopped by the system (signal {-exitcode}); this often means the "
                "computer ran out of memory. Nothing was registered.")
    return f"The training process ended unexpectedly (exit code {exitcode}). Nothing was registered."


# --- the child -----------------------------------------------------------------------------------------------


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
        from implant_desk.core.learning.orchestrator import run

        final = run(request, sender.send, should_stop=stop.is_set,
                    cancelled=lambda: stop.is_set() and not keep_best.is_set())
    except BrokenPipeError:
        return  # the parent is gone: there is nobody to tell
    except ImplantDeskError as error:
        final = Failed(str(error))
    except Exception as error:  # a bug or a library failure: reported in words, with the details
        final = Failed(f"Training failed ({type(error).__name__}: {error})", traceback.format_exc())
    try:
        sender.send(final)
    except BrokenPipeError:
        pass
    finally:
        sender.close()

