"""One training phase, step by step: data → model → freeze → compile → fit → save → evaluate.

Runs inside a job process (`tlcore.worker`) or the CLI, never in the Streamlit server. Progress goes to the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlcore.config import TrainConfig
from tlcore.data import Split, find_bad_files, make_split, scan_folder
from tlcore.model import (base_of, build_model, compile_model, head_units, is_pretrained, keras_param_counts,
                          set_freeze)
from tlcore.runs import Run, get_run

if TYPE_CHECKING:
    import keras

def prepare_split(config: TrainConfig) -> tuple[Path, Split]:
    """Scan the folder, leave out unreadable images, and split as the config says."""
    scan = scan_folder(config.dataset)
    return scan.root, make_split(scan, config.split, excluded=find_bad_files(scan))


def load_or_build_model(run: Run, config: TrainConfig, class_count: int) -> tuple["keras.Model", list[dict]]:
    """Phase 1 builds a fresh model; a fine-tuning phase loads its parent's model and unfreezes from `fine_tune_at`."""
    import keras

    if not config.is_fine_tune:
        return build_model(config, class_count), []
    parent = get_run(config.parent_run)
    import tlcore.layers  # noqa: F401  (registers the preprocessing layer for loading)

    model = keras.saving.load_model(parent.model_path, safe_mode=True)
    set_freeze(base_of(model), config.fine_tune_at, is_pretrained(config))
    return model, parent.history()


def train_run(run: Run) -> dict[str, Any]:
    """Train the run as its config says, writing everything into the run folder. Returns the final status fields."""
    import keras

    from tlcore.callbacks import RunProgress, save_model_atomic

    config = run.config()
    config.validate()
    run.update_status(phase="loading data")
    root, split = prepare_split(config)
    if config.is_fine_tune:
        parent_split = get_run(config.parent_run).split()
        split = parent_split or split  # fine-tuning evaluates on exactly the parent's test set
    run.write_split(split)
    class_count = len(split.class_names)
    binary = head_units(class_count) == 1

    from tlcore.pipeline import make_dataset

    keras.utils.set_random_seed(config.split.seed)
    train_ds = make_dataset(root, split.train, config.image_size, config.batch_size, binary, shuffle=True,
                            seed=config.split.seed)
    val_ds = make_dataset(root, split.val, config.image_size, config.batch_size, binary) if split.val else None

    run.update_status(phase="building model")
    model, previous_history = load_or_build_model(run, config, class_count)
    compile_model(model, config.learning_rate, class_count)
    counts = keras_param_counts(model)
    initial_epoch = int(previous_history[-1]["epoch"]) if previous_history else 0
    phase = int(previous_history[-1]["phase"]) + 1 if previous_history else 1
    steps = -(-len(split.train) // config.batch_size)
    progress = RunProgress(run, previous_history, steps, phase, config.epochs)
    run.update_status(phase="training", epochs=initial_epoch + config.epochs, first_epoch=initial_epoch + 1,
                      total_params=counts.total, trainable_params=counts.trainable,
                      non_trainable_params=counts.non_trainable, train_images=len(split.train),
                      excluded_files=len(split.excluded))
    model.fit(train_ds, validation_data=val_ds, epochs=initial_epoch + config.epochs, initial_epoch=initial_epoch,
              callbacks=[progress], verbose=0)
    if not run.model_path.exists():  # cancelled inside the first epoch: keep what was trained
        save_model_atomic(model, run.model_path)

    run.update_status(phase="evaluating")
    from tlcore.evaluate import evaluate_model

    test_items = split.test or split.val
    report = evaluate_model(model, root, test_items, split.class_names, config.image_size,
                            split_name="test" if split.test else "validation", run=run)
    return {"cancelled": progress.cancelled, "test_accuracy": report["accuracy"]}
