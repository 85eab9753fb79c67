"""What a training run is asked to do, as plain data: the dialog, the CLI, the child process and the tests
build these, the orchestrator reads them. Every default is written here once; torch is never imported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from implant_desk.core.errors import ImplantDeskError

# Higher is better for every metric we monitor (see implant_desk.core.learning.metrics.Evaluation).
MONITORED = ("top1", "top3", "ap50", "map")


class TrainingError(ImplantDeskError):
    """Training cannot go on (no data, a diverged loss, an unusable checkpoint)."""


@dataclass(frozen=True)
class TrainingConfig:
    """Every setting of one run, with the defaults that suit a small lab's folder."""

    epochs: int = 30
    head_epochs: int = 3  # first epochs: only the new heads learn, the pretrained backbones are frozen
    # Pretrained stages (from the input) that stay frozen afterwards; 0 = the whole network. The first
    # stages work at high resolution, so training them costs most on a CPU and they hold generic edge filters.
    freeze_depth: int = 3
    batch_size: int = 4  # images per step (each brings all its fixtures to the classifier)
    # Differently jittered and augmented crops of each fixture per step: the classifier learns from few
    # distinct fixtures, and its crops cost a fraction of the detector's full image.
    crop_views: int = 3
    lr: float = 3e-3  # for the new heads
    backbone_lr_scale: float = 0.1  # pretrained layers learn slower, keeping what ImageNet taught them
    weight_decay: float = 0.05
    warmup_fraction: float = 0.1  # of all steps
    patience: int = 6  # epochs without improvement of ``monitor`` before stopping (0: never stop early)
    monitor: str = "top1"
    seed: int = 0  # the patient split's and the training's: same seed, same split and (on CPU) same weights
    device: str = "auto"
    augment: bool = True
    class_weights: bool = True
    label_smoothing: float = 0.1  # against over-confident systems learnt from a few distinct fixtures
    pretrained: bool = True  # ImageNet backbones (False only for tests and ablations)
    image_size: int | None = None  # the detector's input in pixels; None keeps the starting model's
    checkpoint_path: str | None = None  # None: the orchestrator picks one from the data and settings
    resume: bool = True  # continue from ``checkpoint_path`` when it exists
    time_limit_s: float | None = None
    grad_clip: float = 5.0
    # Validation, the best epoch and the saved model use an exponential moving average of the weights, as YOLO's
    # and timm's trainers do: steadier from epoch to epoch than the last step's weights. Its decay ramps as
    # (1 + n) / (10 + n) over the steps n, up to this cap, so it averages about the last tenth of any run; 0: off.
    ema_decay: float = 0.999
    # The parent's detector stays as it is but for its part layer (which a model that reads the design adds):
    # the new model finds fixtures exactly as its parent did, on real films too, while it learns the thirds and
    # the classifier learns its systems and the design.
    keep_fixture_detector: bool = False
    # Self-supervised pre-training of the backbones (implant_desk.core.learning.pretrain) on the training images
    # and the folders' unannotated ones before the supervised epochs; 0: off.
    pretrain_epochs: int = 0
    folds: int = 0  # patient-grouped k-fold cross-validation with this many folds; 0: one split

    def __post_init__(self) -> None:
        if self.monitor not in MONITORED:
            raise ValueError(f"monitor must be one of {MONITORED}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be at least 1")
        if self.pretrain_epochs < 0:
            raise ValueError("pretrain_epochs must be 0 (off) or more")
        if not 0 <= self.ema_decay < 1:
            raise ValueError("ema_decay must be 0 (off) or in (0, 1)")
        if self.folds == 1 or self.folds < 0:
            raise ValueError("folds must be 0 (off) or at least 2")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TrainingRequest:
    """One run from folders to a registered version: picklable, so the child process receives it as is."""

    folders: tuple[str, ...]
    config: TrainingConfig = field(default_factory=TrainingConfig)
    parent: str | None = "active"  # a registry version, "active", or None to start from ImageNet backbones
    val_fraction: float = 0.2  # shares of patients; the seed is config.seed
    test_fraction: float = 0.2
    only: tuple[str, ...] | None = None
    # Labels that mean an implant whose system is not given, beyond the common names (labels.IMPLANT_NAMES).
    implant_labels: tuple[str, ...] = ()
    annotation_dir: str | None = None  # a separate annotation folder (LabelImg's save folder); None: beside images
    threshold: float | None = None  # None: the predictor's default
    compare_with_parent: bool = True  # score the parent on the same held-out patients too
    # ModelSpec fields beyond the image size (tests train a tiny network with small crops).
    spec_overrides: dict = field(default_factory=dict)
    registry_root: str | None = None  # None: the user's registry (tests give their own)
    default_model_dir: str | None = None
