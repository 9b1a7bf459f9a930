"""Fine-tuning plans: unfreeze from a layer or a block, gradual unfreezing in stages, and the table of a run's phases.

Gradual unfreezing runs as one job: each stage is a phase of the same run folder (its own rows in history.csv, its
own backup), so the learning curve shows every stage and an interrupted job resumes inside the stage it was in.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from tlcore.backbones import freeze_blocks as freeze
from tlcore.config.training import GradualUnfreezing, TrainConfig
from tlcore.modeling.model import base_of, is_pretrained, keras_param_counts, set_freeze
from tlcore.runs.folders import Run, get_run
from tlcore.storage.atomic import read_json, write_json_atomic

if TYPE_CHECKING:
    from tlcore.training.session import TrainingSession

__all__ = [
    "PHASES_FILE", "stage_fine_tune_at", "stage_learning_rate", "gradual_config", "describe_stages",
    "train_stages", "record_phase", "phase_table"
]

PHASES_FILE = "phases.json"  # per phase: layers unfrozen, learning rate, trainable parameters (gradual runs)


def stage_fine_tune_at(backbone_name: str, stage: int, blocks_per_stage: int) -> int:
    """First trainable base layer in `stage` (1-based): the top `stage × blocks_per_stage` blocks train."""
    blocks = freeze.blocks(backbone_name)
    return blocks[max(0, len(blocks) - stage * blocks_per_stage)].first_layer


def stage_learning_rate(config: TrainConfig, stage: int) -> float:
    return config.learning_rate * config.gradual_unfreezing.lr_factor ** (stage - 1)


def gradual_config(parent: TrainConfig, parent_run: str, plan: GradualUnfreezing,
                   learning_rate: float | None = None) -> TrainConfig:
    """The job config continuing `parent_run` in stages; the first stage's rate defaults to 10× below the parent's."""
    config = parent.fine_tune(parent_run, stage_fine_tune_at(parent.backbone, 1, plan.blocks_per_stage),
                              learning_rate, plan.stages * plan.epochs_per_stage)
    return replace(config, gradual_unfreezing=plan)


def describe_stages(config: TrainConfig) -> list[dict[str, Any]]:
    """What each stage will do, for the page before the job starts."""
    plan = config.gradual_unfreezing
    rows = []
    for stage in range(1, plan.stages + 1):
        fine_tune_at = stage_fine_tune_at(config.backbone, stage, plan.blocks_per_stage)
        rows.append({"stage": stage, "unfrozen from layer": fine_tune_at,
                     "from block": freeze.block_of_layer(config.backbone, fine_tune_at),
                     "epochs": plan.epochs_per_stage, "learning rate": stage_learning_rate(config, stage)})
    return rows


def train_stages(session: TrainingSession, first_phase: int, initial_epoch: int) -> None:
    """Freeze → compile → fit, stage after stage (each a phase of the run), until the plan ends or Cancel.

    The session's devices are the job's own: each stage recompiles in their strategy's scope with the same XLA
    setting, as Keras needs after the trainable flags change.
    """
    run, config = session.run, session.config
    plan = config.gradual_unfreezing
    epoch = initial_epoch
    for stage in range(1, plan.stages + 1):
        phase = first_phase + stage - 1
        stage_config = replace(config, fine_tune_at=stage_fine_tune_at(config.backbone, stage, plan.blocks_per_stage),
                               learning_rate=stage_learning_rate(config, stage), epochs=plan.epochs_per_stage)
        set_freeze(base_of(session.model), stage_config.fine_tune_at, is_pretrained(config))
        session.compile(stage_config)
        counts = keras_param_counts(session.model)
        record_phase(run, phase, stage_config, counts.trainable)
        run.update_status(stage=stage, stages=plan.stages, trainable_params=counts.trainable,
                          non_trainable_params=counts.non_trainable)
        session.fit(epoch + plan.epochs_per_stage, phase=phase, config=stage_config, initial_epoch=epoch)
        session.model._initial_epoch = None  # BackupAndRestore's resume point belongs to its own stage only
        epoch += plan.epochs_per_stage
        if session.cancelled:
            break


def record_phase(run: Run, phase: int, config: TrainConfig, trainable_params: int) -> None:
    phases = {int(key): value for key, value in read_json(run.path / PHASES_FILE, default={}).items()}
    phases[phase] = {"fine_tune_at": config.fine_tune_at, "learning_rate": config.learning_rate,
                     "trainable_params": trainable_params}
    write_json_atomic(run.path / PHASES_FILE, {str(key): value for key, value in sorted(phases.items())})


def _trainable_by_phase(run: Run) -> dict[int, int | None]:
    """Trainable parameters of every phase, from this run and the runs it continues (each knows its own phases)."""
    found: dict[int, int | None] = {}
    current: Run | None = run
    while current is not None:
        recorded = read_json(current.path / PHASES_FILE, default={})
        for key, value in recorded.items():
            found.setdefault(int(key), value.get("trainable_params"))
        own = current.history()
        if own and int(own[-1]["phase"]) not in found:
            found[int(own[-1]["phase"])] = current.status().get("trainable_params")
        parent = current.config().parent_run
        try:
            current = get_run(parent) if parent else None
        except KeyError:  # the parent run was deleted: its phases keep what history.csv says
            current = None
    return found


def phase_table(run: Run) -> list[dict[str, Any]]:
    """One row per phase of the run's history: epochs, learning rate, trainable parameters, best validation accuracy."""
    history = run.history()
    trainable = _trainable_by_phase(run)
    rows: list[dict[str, Any]] = []
    for phase in sorted({int(row["phase"]) for row in history}):
        own = [row for row in history if int(row["phase"]) == phase]
        accuracies = [row["val_accuracy"] for row in own if row.get("val_accuracy") is not None]
        rows.append({"phase": phase, "epochs": f"{int(own[0]['epoch'])}–{int(own[-1]['epoch'])}",
                     "learning rate": own[0].get("learning_rate"), "trainable params": trainable.get(phase),
                     "best val accuracy": max(accuracies) if accuracies else None})
    return rows
