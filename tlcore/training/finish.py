"""What a training job does once its model is trained: a table of named steps, run in order by the job.

    evaluate     the held-out split's metrics and per-image predictions → eval/test.json, eval/test_predictions.csv
    calibrate    temperature and "not sure" threshold fitted on validation → eval/calibration.json
    model card   exports/model_card.md and .json, which show the two above
    notify       the outcome where the page and the CLI read it: status.json's test accuracy, one line in worker.log

Each step was once a side effect of another (evaluating with `run=` also calibrated; calibrating also wrote the
card). A cancelled job runs them too: its kept model is measured like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from tlcore.config.training import TrainConfig
from tlcore.datasets.split import Split
from tlcore.evaluation.confidence import calibrate_run
from tlcore.evaluation.metrics import evaluate_model
from tlcore.inference.model_card import write_model_card
from tlcore.runs.folders import Run

if TYPE_CHECKING:
    import keras

__all__ = ["Trained", "FinishStep", "END_OF_TRAINING", "finish_training"]


@dataclass
class Trained:
    """A job's trained model and what it was trained on: what every end-of-training step reads."""

    run: Run
    config: TrainConfig
    model: "keras.Model"
    root: Path
    split: Split
    cancelled: bool
    outcome: dict[str, Any] = field(default_factory=dict)  # status fields the steps add (test_accuracy)


@dataclass(frozen=True)
class FinishStep:
    name: str
    phase: str  # shown in status.json while the step runs
    run: Callable[[Trained], None]


def _evaluate(trained: Trained) -> None:
    run = trained.run
    split_name, items = trained.split.held_out
    report = evaluate_model(trained.model, trained.root, items, trained.split.class_names, trained.config.image_size,
                            split_name=split_name, run=run,
                            progress=lambda done, total: run.update_status(evaluated_images=done,
                                                                           images_to_evaluate=total))
    trained.outcome["test_accuracy"] = report["accuracy"]


def _calibrate(trained: Trained) -> None:
    calibrate_run(trained.run, trained.model, trained.root, trained.config.image_size)


def _model_card(trained: Trained) -> None:
    write_model_card(trained.run)


def _notify(trained: Trained) -> None:
    accuracy = trained.outcome.get("test_accuracy")
    trained.run.update_status(test_accuracy=accuracy)
    split_name, _ = trained.split.held_out
    print(f"{'cancelled' if trained.cancelled else 'trained'}: {split_name} accuracy {accuracy:.4f}", flush=True)


END_OF_TRAINING: tuple[FinishStep, ...] = (
    FinishStep("evaluate", "evaluating", _evaluate),
    FinishStep("calibrate", "calibrating", _calibrate),
    FinishStep("model card", "writing the model card", _model_card),
    FinishStep("notify", "finishing", _notify),
)


def finish_training(trained: Trained, steps: tuple[FinishStep, ...] = END_OF_TRAINING) -> dict[str, Any]:
    """Run the end-of-training steps in order; returns the job's outcome (`cancelled` and the status fields)."""
    for step in steps:
        trained.run.update_status(phase=step.phase)
        step.run(trained)
    return {"cancelled": trained.cancelled, **trained.outcome}
