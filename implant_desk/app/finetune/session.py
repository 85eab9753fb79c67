"""One fine-tune dialog's run, without Qt: its state machine, the live progress fed by typed events, what the
buttons may do and whether the window may close. The dialog forwards what the user and the runner do and
shows what the session says, so this policy is tested without a display.

States: setup -> running -> (cancelling ->) finished | cancelled | failed -> setup (another run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from implant_desk.app.finetune.controller import CURVES, Plan, duration_text
from implant_desk.core.learning.events import (
    Cancelled,
    EpochEnded,
    Evaluating,
    Finished,
    FoldStarted,
    PhaseStarted,
    PretrainStep,
    TrainingEvent,
    TrainStep,
)

SETUP, RUNNING, CANCELLING = "setup", "running", "cancelling"
FINISHED, CANCELLED, FAILED = "finished", "cancelled", "failed"
CANCELLING_STATUS = "Cancelling… nothing will be registered"
ENDED_TITLES = {FINISHED: "Training finished", CANCELLED: "Training cancelled", FAILED: "Training failed"}
STOP_TO_CLOSE = "A fine-tuning run is in progress. Stop it and close?"


@dataclass
class TimeLeft:
    """Training time left from the measured rate: a smoothed step time (the child's own measure of each step)
    times the steps left, plus the extra time an epoch takes beyond its steps (validation, checkpoint) times the
    epochs left. The child's own estimate jumps (its first epoch counts the warm-up, later ones average whole
    epochs); this one moves down steadily and follows a change of speed (all layers training after the heads)."""

    SMOOTHING = 0.2  # weight of the newest step time

    step_s: float | None = None
    elapsed_s: float = 0.0  # the child's training clock at the last epoch end
    epoch_steps_s: float = 0.0  # step time spent in the current epoch
    extras: list[float] = field(default_factory=list)  # per epoch: its time beyond its steps

    def after_step(self, event: TrainStep) -> float:
        previous = event.step_s if self.step_s is None else self.step_s
        self.step_s = previous + self.SMOOTHING * (event.step_s - previous)
        self.epoch_steps_s += event.step_s
        steps_left = (event.epochs - event.epoch) * event.steps + event.steps - event.step
        return self.step_s * steps_left + self._extra_s() * (event.epochs - event.epoch + 1)

    def after_epoch(self, event: EpochEnded, steps: int) -> float:
        self.extras.append(max(0.0, event.elapsed_s - self.elapsed_s - self.epoch_steps_s))
        self.elapsed_s, self.epoch_steps_s = event.elapsed_s, 0.0
        if self.step_s is None:
            return event.eta_s
        return (self.step_s * steps + self._extra_s()) * (event.epochs - event.epoch)

    def new_fold(self) -> None:
        """A fold's training starts its own clock."""
        self.elapsed_s, self.epoch_steps_s = 0.0, 0.0

    def _extra_s(self) -> float:
        """The mean extra of the epochs so far, the first left out once there are others (it paid for setup)."""
        extras = self.extras[1:] or self.extras
        return sum(extras) / len(extras) if extras else 0.0


@dataclass
class RunProgress:
    """The live picture of a run, fed one child event at a time."""

    epochs: int = 0
    epoch: int = 0
    step: int = 0
    steps: int = 0
    phase: str = ""
    fold: str = ""  # "fold 2 of 5, " while cross-validating
    best_epoch: int = 0  # the epoch whose weights are kept (by the monitored validation figure)
    status: str = "Starting the training process…"
    eta_s: float | None = None
    step_loss: list[tuple[float, float]] = field(default_factory=list)  # (epochs done, loss)
    epoch_loss: list[tuple[float, float]] = field(default_factory=list)
    val: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {key: [] for key, _ in CURVES})
    time_left: TimeLeft = field(default_factory=TimeLeft)

    def apply(self, event: TrainingEvent) -> None:
        if isinstance(event, PhaseStarted):
            self.phase, self.status = event.phase, event.text + "…"
        elif isinstance(event, FoldStarted):
            self.fold = f"Fold {event.fold} of {event.folds}: "
            self.step_loss, self.epoch_loss = [], []  # each fold's curves start afresh
            self.val = {key: [] for key, _ in CURVES}
            self.time_left.new_fold()
        elif isinstance(event, TrainStep):
            self.epochs, self.epoch, self.step, self.steps = event.epochs, event.epoch, event.step, event.steps
            self.eta_s = self.time_left.after_step(event)
            self.step_loss.append((event.epoch - 1 + event.step / event.steps, event.loss))
            self.status = self._training_status(event.phase)
        elif isinstance(event, EpochEnded):
            self.epochs, self.epoch = event.epochs, event.epoch
            self.eta_s = self.time_left.after_epoch(event, self.steps)
            self.best_epoch = event.best_epoch
            self.epoch_loss.append((float(event.epoch), event.train_loss))
            for key, points in self.val.items():
                if key in event.val:
                    points.append((float(event.epoch), event.val[key]))
            self.status = self._training_status(event.phase)
        elif isinstance(event, PretrainStep):
            # No epochs or time left yet: those of the supervised epochs come with their first step.
            self.status = f"{self.fold}Self-supervised pre-training, epoch {event.epoch}/{event.epochs}"
        elif isinstance(event, Evaluating):
            model = "the new model" if event.model == "new" else "the active model"
            self.status = f"Scoring {model} on held-out patients: image {event.done} of {event.total}"

    def _training_status(self, phase: str) -> str:
        part = "new layers only" if phase == "heads" else "whole network"
        step = f", step {self.step} of {self.steps}" if self.steps and self.step < self.steps else ""
        return f"{self.fold}Epoch {self.epoch} of {self.epochs} ({part}){step}"

    @property
    def fraction(self) -> float:
        """Share of the planned training done (early stopping may end it sooner)."""
        if not self.epochs or not self.steps:
            return 0.0
        return min(1.0, (self.epoch - 1 + self.step / self.steps) / self.epochs)

    @property
    def eta_text(self) -> str:
        left = duration_text(self.eta_s)
        return f"about {left} left" if left and self.phase == "training" else ""


@dataclass(frozen=True)
class Buttons:
    start: bool
    cancel: bool
    keep_best: bool
    use_model: bool


def buttons_for(state: str, can_start: bool, has_epoch: bool) -> Buttons:
    """Which actions make sense in each state of the dialog (keeping the best needs one finished epoch)."""
    running = state == RUNNING
    return Buttons(start=state == SETUP and can_start, cancel=running, keep_best=running and has_epoch,
                   use_model=state == FINISHED)


def may_close_during_run(state: str, ask_stop: Callable[[str], bool], stop: Callable[[], None]) -> bool:
    """Before the window closes. A run still training is stopped only when the user agrees (else the window
    stays); stopping is the hard cancel, so nothing is registered. A cancel already under way is waited for."""
    if state == RUNNING and not ask_stop(STOP_TO_CLOSE):
        return False
    if state in (RUNNING, CANCELLING):
        stop()
    return True


@dataclass
class FinetuneSession:
    """The dialog's run: what it plans to train on, where it stands, and its outcome."""

    state: str = SETUP
    plan: Plan | None = None
    progress: RunProgress = field(default_factory=RunProgress)
    final: TrainingEvent | None = None
    keeping_best: bool = False
    activated: bool = False
    generation: int = 0  # of the folder reading: a plan for an older reading is dropped

    def read_folder(self) -> int:
        """A new reading starts; returns its generation."""
        self.plan = None
        self.generation += 1
        return self.generation

    def plan_read(self, generation: int, plan: Plan) -> bool:
        """Keep ``plan`` unless another folder was chosen meanwhile."""
        if generation != self.generation:
            return False
        self.plan = plan
        return True

    @property
    def can_start(self) -> bool:
        return self.state == SETUP and self.plan is not None and self.plan.can_start

    def start(self) -> None:
        self.state, self.progress, self.final = RUNNING, RunProgress(), None
        self.keeping_best = self.activated = False

    def cancel(self) -> bool:
        """True when a running run is now being cancelled."""
        if self.state != RUNNING:
            return False
        self.state, self.progress.status = CANCELLING, CANCELLING_STATUS
        return True

    def keep_best(self) -> bool:
        """True when a running run now stops after this step and keeps its best epoch."""
        if self.state != RUNNING:
            return False
        self.progress.status = "Stopping after this step; the best epoch so far will be scored and kept…"
        self.keeping_best = True
        return True

    def apply(self, event: TrainingEvent) -> str:
        """A progress event; returns which curves changed: "step", "epoch" or ""."""
        self.progress.apply(event)
        if self.state == CANCELLING:
            self.progress.status = CANCELLING_STATUS
        return event.kind if isinstance(event, (TrainStep, EpochEnded)) else ""

    def end(self, final: TrainingEvent) -> None:
        self.final = final
        self.state = FINISHED if isinstance(final, Finished) else CANCELLED if isinstance(final, Cancelled) else FAILED

    @property
    def title(self) -> str:
        return ENDED_TITLES.get(self.state, self.progress.status)

    def model_activated(self) -> None:
        self.activated = True

    def new_run(self) -> None:
        self.state = SETUP

    def buttons(self) -> Buttons:
        can_start = self.plan is not None and self.plan.can_start
        plain = buttons_for(self.state, can_start, bool(self.progress.epoch_loss))
        return Buttons(start=plain.start, cancel=plain.cancel, keep_best=plain.keep_best and not self.keeping_best,
                       use_model=plain.use_model and not self.activated)

    def may_close(self, ask_stop: Callable[[str], bool], stop: Callable[[], None]) -> bool:
        return may_close_during_run(self.state, ask_stop, stop)
