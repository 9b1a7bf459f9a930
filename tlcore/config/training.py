"""Run configurations as dataclasses with a JSON round-trip: what the form fills, the CLI reads and a run stores."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tlcore.config.augmentation import AugmentConfig
from tlcore.config.checks import (
    ConfigError,
    Rule,
    flag,
    one_of,
    optional,
    problems_of,
    real_number,
    shown_value,
    text,
    whole_number,
)
from tlcore.config.small_cnn import SmallCNNConfig
from tlcore.config.split import SplitConfig

__all__ = [
    "WEIGHTS_IMAGENET", "WEIGHTS_RANDOM", "POOLINGS", "OPTIMIZERS", "LR_SCHEDULES", "LIMITS", "GradualUnfreezing",
    "TrainConfig", "ConfigError", "load_config"
]

WEIGHTS_IMAGENET = "imagenet"
WEIGHTS_RANDOM = "random"
POOLINGS = ("avg", "max", "flatten")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "cosine", "plateau")


# Bounds that keep one config from taking the machine (a 100,000 px image or a billion hidden units would grow the
# worker until memory runs out); the Train page's widgets stay inside them.
LIMITS = {"image_size": (8, 1024), "epochs": (1, 1000), "batch_size": (1, 4096), "hidden_units": (0, 16384),
          "early_stopping_patience": (0, 1000), "augmented_views": (0, 1000), "fine_tune_at": (0, 100_000)}


def _bounded(name: str) -> Rule:
    return whole_number(*LIMITS[name])


_FIELD_RULES: dict[str, Rule] = {
    "dataset": text(4096),
    "backbone": text(200, empty=False),
    "image_size": _bounded("image_size"),
    "epochs": _bounded("epochs"),
    "batch_size": _bounded("batch_size"),
    "learning_rate": real_number(0, 1, above_low=True, below_high=True),
    "fine_tune_at": optional(_bounded("fine_tune_at")),
    "augment": flag,
    "weights": text(4096, empty=False),
    "dropout": real_number(0, 1, below_high=True),
    "parent_run": optional(text(255, empty=False)),
    "pooling": one_of(*POOLINGS),
    "hidden_units": _bounded("hidden_units"),
    "label_smoothing": real_number(0, 1, below_high=True),
    "optimizer": one_of(*OPTIMIZERS),
    "momentum": real_number(0, 1, below_high=True),
    "weight_decay": real_number(0, 1),
    "lr_schedule": one_of(*LR_SCHEDULES),
    "early_stopping_patience": _bounded("early_stopping_patience"),
    "restore_best": flag,
    "class_weights": flag,
    "mixed_precision": flag,
    "xla": flag,
    "augmented_views": optional(_bounded("augmented_views")),
}
_UNFREEZING_RULES: dict[str, Rule] = {
    "stages": whole_number(1, 100), "blocks_per_stage": whole_number(1, 100),
    "epochs_per_stage": whole_number(1, 1000), "lr_factor": real_number(0, 10, above_low=True)}


@dataclass(frozen=True)
class GradualUnfreezing:
    """Fine-tuning in stages within one job (tlcore.training.unfreezing): each stage unfreezes the next `blocks_per_stage`
    blocks of the base, counted from its top, trains `epochs_per_stage` epochs, then the learning rate is multiplied
    by `lr_factor` for the next stage."""

    stages: int = 3
    blocks_per_stage: int = 2
    epochs_per_stage: int = 1
    lr_factor: float = 0.5

    def __post_init__(self) -> None:
        problems = problems_of(vars(self), _UNFREEZING_RULES)
        if problems:
            raise ConfigError(problems, "gradual unfreezing plan")


@dataclass(frozen=True)
class TrainConfig:
    """Everything needed to reproduce one training phase; `python -m tlcore train --config` takes it as is.

    Frozen and checked when made: a TrainConfig that exists has every field of the right type within its bounds
    (`LIMITS`), so nothing downstream checks again. Read one from a dictionary, a JSON file or a run folder with
    `load_config`, which lists every problem at once (ConfigError). Checks that need the backbone catalog (its minimum
    image size) are `tlcore.modeling.check_config`'s, run once where a job is submitted.

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

    def __post_init__(self) -> None:
        problems = _field_problems(vars(self))
        if problems:
            raise ConfigError(problems)

    @property
    def is_fine_tune(self) -> bool:
        return self.parent_run is not None

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: Any) -> "TrainConfig":
        """`load_config` of a dictionary: every problem listed at once (ConfigError, a ValueError)."""
        return load_config(data)

    @classmethod
    def from_file(cls, path: str | Path) -> "TrainConfig":
        return load_config(Path(path))

    def validate(self) -> None:
        """Nothing left to check: a TrainConfig is validated when made (kept for callers of the old API)."""

    def fine_tune(self, parent_run: str, fine_tune_at: int, learning_rate: float | None = None,
                  epochs: int = 5) -> "TrainConfig":
        """Config of a fine-tuning phase after this one: default learning rate 10× lower, as the Keras guide advises."""
        return replace(self, parent_run=parent_run, fine_tune_at=fine_tune_at,
                       learning_rate=learning_rate if learning_rate is not None else self.learning_rate / 10,
                       epochs=epochs)


def load_config(source: Any) -> TrainConfig:
    """A frozen, validated TrainConfig from a dictionary, a JSON file, or a run folder (its config.json).

    The one place a config from outside (the CLI's --config, a run folder, a task's parameters) is checked: unknown
    fields, a missing dataset, wrong types, values out of bounds and bad nested sections are all collected, so the
    message names every problem at once.

    Raises:
        ConfigError: a ValueError whose `problems` lists each refused field as "field reason".
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        path = path / "config.json" if path.is_dir() else path
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError([f"file {shown_value(str(path))} does not exist"]) from None
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ConfigError([f"file {path.name} cannot be read as JSON ({error})"]) from None
    if not isinstance(source, dict):
        raise ConfigError([f"content must be a JSON object of settings (got {type(source).__name__} {shown_value(source)})"])
    known = {f.name for f in fields(TrainConfig)}
    problems: list[str] = []
    unknown = sorted(str(key) for key in source if key not in known)
    if unknown:
        problems.append(f"content has unknown fields: {', '.join(unknown)}")
    values = {key: value for key, value in source.items() if key in known}
    if not isinstance(values.get("dataset"), str) or not values.get("dataset", "").strip():
        if "dataset" not in values:
            problems.append("dataset is missing (a folder under the data root)")
        elif isinstance(values["dataset"], str):
            problems.append("dataset must not be empty")
    for name, kind, nullable in (("split", SplitConfig, False), ("augmentation", AugmentConfig, False),
                                 ("gradual_unfreezing", GradualUnfreezing, True), ("small_cnn", SmallCNNConfig, True)):
        if name in values:
            values[name], found = _section(name, values[name], kind, nullable)
            problems += found
    problems += _field_problems(values)
    if problems:
        raise ConfigError(problems)
    return TrainConfig(**values)


def _field_problems(values: dict) -> list[str]:
    problems = problems_of(values, _FIELD_RULES)
    for name, kind in (("split", SplitConfig), ("augmentation", AugmentConfig)):
        if name in values and not isinstance(values[name], kind):
            problems.append(f"{name} must be a {kind.__name__}")
    for name, kind in (("gradual_unfreezing", GradualUnfreezing), ("small_cnn", SmallCNNConfig)):
        if values.get(name) is not None and not isinstance(values[name], kind):
            problems.append(f"{name} must be a {kind.__name__} or null")
    shape = values.get("small_cnn")
    if isinstance(shape, SmallCNNConfig):
        try:
            shape.validate()
        except (TypeError, ValueError) as error:
            problems.append(f"small_cnn {error}")
    return problems


def _section(name: str, value: Any, kind: type, nullable: bool) -> tuple[Any, list[str]]:
    """A nested section (split, augmentation, …) from its JSON object; on problems its default and the reasons."""
    default = None if nullable else kind()
    if value is None and nullable or isinstance(value, kind):
        return value, []
    if not isinstance(value, dict):
        return default, [f"{name} must be an object{' or null' if nullable else ''} (got {shown_value(value)})"]
    known = {f.name for f in fields(kind)}
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        return default, [f"{name} has unknown fields {', '.join(shown_value(key) for key in unknown)}"]
    try:
        return kind(**value), []
    except ConfigError as error:
        return default, [f"{name}.{problem}" for problem in error.problems]
    except (TypeError, ValueError) as error:
        return default, [f"{name} {error}"]
