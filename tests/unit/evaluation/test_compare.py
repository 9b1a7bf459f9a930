"""tlcore.evaluation.compare: only differing config fields, stored metrics side by side, one best run per dataset."""

from tlcore.config.split import SplitConfig
from tlcore.config.training import TrainConfig
from tlcore.evaluation.compare import (
    BEST_BADGE,
    best_run,
    comparison_rows,
    differing_fields,
    histories,
    is_best,
    mark_best,
    unmark_best,
)
from tlcore.runs.folders import create_run


def _run(dataset="pets", report=None, history=None, **changes):
    run = create_run(TrainConfig(dataset=dataset, **changes))
    if report is not None:
        run.write_evaluation("test", report)
    if history is not None:
        run.write_history(history)
    return run


REPORT = {"split": "test", "accuracy": 0.8, "loss": 0.5, "top_k_accuracy": {"2": 0.95}, "calibration": {"ece": 0.04}}


def test_only_the_fields_that_differ_are_listed(studio_dirs):
    a = _run(learning_rate=1e-3, split=SplitConfig(seed=1))
    b = _run(learning_rate=1e-4, split=SplitConfig(seed=2))
    c = _run(learning_rate=1e-3, split=SplitConfig(seed=1), backbone="EfficientNetB0")

    assert differing_fields([a, b]) == ["learning_rate", "split.seed"]
    assert differing_fields([a, b, c]) == ["backbone", "learning_rate", "split.seed"]
    assert differing_fields([a]) == []


def test_rows_hold_differing_fields_and_stored_metrics(studio_dirs):
    a = _run(report=REPORT, image_size=96)
    b = _run(image_size=160)  # not evaluated yet

    rows = comparison_rows([a, b], k=2)

    assert rows[0] == {"run": a.id, "best": "", "image_size": 96, "split": "test", "accuracy": 0.8, "loss": 0.5,
                       "top-2 accuracy": 0.95, "ECE": 0.04}
    assert rows[1] == {"run": b.id, "best": "", "image_size": 160, "split": None, "accuracy": None, "loss": None,
                       "top-2 accuracy": None, "ECE": None}
    assert comparison_rows([a], k=3)[0]["top-3 accuracy"] is None


def test_one_best_run_per_dataset(studio_dirs):
    first, second, other = _run("pets", REPORT), _run("pets", REPORT), _run("flowers", REPORT)
    mark_best(other)

    mark_best(first)
    assert is_best(first) and best_run("pets") == first
    mark_best(second)

    assert not is_best(first) and is_best(second) and best_run("pets") == second
    assert is_best(other) and best_run("flowers") == other  # another dataset keeps its own best
    assert comparison_rows([first, second])[1]["best"] == BEST_BADGE
    unmark_best(second)
    assert best_run("pets") is None


def test_histories_leave_out_runs_without_one(studio_dirs):
    rows = [{"epoch": 1, "phase": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4}]
    a, b = _run(history=rows), _run()

    found = histories([a, b])
    assert list(found) == [a.id]
    assert {key: found[a.id][0][key] for key in rows[0]} == rows[0]
