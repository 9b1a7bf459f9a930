"""Run configurations as dataclasses with a JSON round-trip: what the form fills, the CLI reads and a run stores."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.small_cnn import SmallCNNConfig
from tlcore.config.split import SplitConfig

__all__ = [
    "WEIGHTS_IMAGENET", "WEIGHTS_RANDOM", "POOLINGS", "OPTIMIZERS", "LR_SCHEDULES", "GradualUnfreezing",
    "TrainConfig"
]

WEIGHTS_IMAGENET = "imagenet"
WEIGHTS_RANDOM = "random"
POOLINGS = ("avg", "max", "flatten")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine", "plateau")


@dataclass
class GradualUnfreezing:
    """Fine-tuning in stages within one job (tlcore.training.unfreezing): each stage unfreezes the next `blocks_per_stage`
    blocks of the base, counted from its top, trains `epochs_per_stage` epochs, then the learning rate is multiplied
    by `lr_factor` for the next stage."""

    stages: int = 3
    blocks_per_stage: int = 2
    epochs_per_stage: int = 1
    lr_factor: float = 0.5


@dataclass
class TrainConfig:
    """Everything needed to reproduce one training phase; `python -m tlcore train --config` takes it as is.

    `fine_tune_at`: base layers [0, fine_tune_at) stay frozen, the rest train; None freezes the whole base.
    `parent_run`: set for a fine-tuning phase, which starts from that run's model and continues its epoch count.
    """

    dataset: str
    backbone: str = "MobileNetV2"
    image_size: int = 96
    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    fine_tune_at: int | None = None
    augment: bool = False
    augmentation: AugmentConfig = field(default_factory=AugmentConfig)
    weights: str = WEIGHTS_IMAGENET  # "imagenet", "random", or a path to a weights file
    dropout: float = 0.2
    split: SplitConfig = field(default_factory=SplitConfig)
    parent_run: str | None = None
    # Head (see tlcore.modeling.model.add_head); the output stays probabilities: one sigmoid unit for two classes, else softmax.
    pooling: str = "avg"  # "avg", "max" or "flatten"
    hidden_units: int = 0  # a ReLU dense layer before the classifier; 0 = none
    label_smoothing: float = 0.0
    # Training (see tlcore.training.phase)
    optimizer: str = "adam"  # "adam", "adamw", "sgd" (with momentum) or "rmsprop"
    momentum: float = 0.9  # SGD only
    weight_decay: float = 1e-4  # AdamW only
    lr_schedule: str = "constant"  # "constant", "cosine" (decay to 0 over the epochs) or "plateau" (halve on a stall)
    early_stopping_patience: int = 0  # epochs without val_loss improvement before stopping; 0 = off
    restore_best: bool = True  # with early stopping: keep the weights of the best epoch
    class_weights: bool = False  # weight classes inversely to their frequency (sklearn "balanced")
    mixed_precision: bool = False  # GPU only: mixed_float16
    xla: bool = False  # GPU only: jit_compile
    small_cnn: SmallCNNConfig | None = None  # the shape of a SmallCNN backbone (its name spells it too)
    gradual_unfreezing: GradualUnfreezing | None = None  # fine-tuning in stages, one phase each (one job)
    # Fast frozen phase with augmentation (tlcore.training.feature_cache): features of this many augmented views of
    # each training image are computed once and each epoch draws one, an approximation that costs accuracy (bench/
    # README.md: 3-11 points at 10 epochs on a pretrained base); 0 = augment every epoch through the base, exact, the
    # default. None, in runs saved before 2026-12-02: the views then chosen automatically
    # (tlcore.training.fast_estimate.suggested_views), so such a run resumes as it started.
    augmented_views: int | None = 0

    @property
    def is_fine_tune(self) -> bool:
        return self.parent_run is not None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"Unknown config fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        if isinstance(values.get("split"), dict):
            values["split"] = SplitConfig(**values["split"])
        if isinstance(values.get("gradual_unfreezing"), dict):
            values["gradual_unfreezing"] = GradualUnfreezing(**values["gradual_unfreezing"])
        if isinstance(values.get("augmentation"), dict):
            values["augmentation"] = AugmentConfig(**values["augmentation"])
        if isinstance(values.get("small_cnn"), dict):
            values["small_cnn"] = SmallCNNConfig(**values["small_cnn"])
        if "dataset" not in values:
            raise ValueError("The config needs a 'dataset' (a folder under the data root).")
        return cls(**values)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))

    def validate(self) -> None:
        """Raise ValueError with a user-facing message for values training cannot use.

        Checks that need the backbone (its minimum image size) are `tlcore.modeling.check_config`'s.
        """
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("Epochs and batch size must be at least 1.")
        if not 0 < self.learning_rate < 1:
            raise ValueError("The learning rate must be between 0 and 1.")
        if not 0 <= self.dropout < 1:
            raise ValueError("Dropout must be in [0, 1).")
        for name, value, allowed in (("pooling", self.pooling, POOLINGS), ("optimizer", self.optimizer, OPTIMIZERS),
                                     ("lr_schedule", self.lr_schedule, LR_SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"Unknown {name} '{value}'. Choose one of: {', '.join(allowed)}.")
        if self.hidden_units < 0 or self.early_stopping_patience < 0:
            raise ValueError("Hidden units and early-stopping patience must be 0 or more.")
        if self.augmented_views is not None and self.augmented_views < 0:
            raise ValueError("Augmented views must be 0 (augment every epoch) or more.")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError("Label smoothing must be in [0, 1).")
        plan = self.gradual_unfreezing
        if plan is not None and (min(plan.stages, plan.blocks_per_stage, plan.epochs_per_stage) < 1
                                 or not 0 < plan.lr_factor <= 10):
            raise ValueError("Gradual unfreezing needs at least 1 stage, block and epoch per stage, and a learning-rate "
                             "factor in (0, 10].")

    def fine_tune(self, parent_run: str, fine_tune_at: int, learning_rate: float | None = None,
                  epochs: int = 5) -> "TrainConfig":
        """Config of a fine-tuning phase after this one: default learning rate 10× lower, as the Keras guide advises."""
        return replace(self, parent_run=parent_run, fine_tune_at=fine_tune_at,
                       learning_rate=learning_rate if learning_rate is not None else self.learning_rate / 10,
                       epochs=epochs)
