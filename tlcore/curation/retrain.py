"""Retrain and compare: the same config on the cleaned dataset, measured honestly against the run it cleans.

The new run gets the old run's split with the cleaner's moves applied (a relabelled file keeps its split under its
new path and class, an excluded file leaves), written as its split.json before it is queued, so the worker keeps it
(`runs.fixed_split`). The test files nobody moved are therefore the same images in both runs: the before/after
comparison is on exactly those, and test files that were relabelled are reported on their own (their "right answer"
changed, so counting them in either accuracy would flatter or punish the cleaning).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from tlcore.curation.cleaner import LOCAL_ACTOR, QUARANTINE, moved_files
from tlcore.datasets.split import Split
from tlcore.jobs.scheduler import submit
from tlcore.runs.folders import FINISHED, Run, get_run, list_runs
from tlcore.storage.atomic import read_json, write_json_atomic

__all__ = ["RETRAIN_FILE", "cleaned_split", "changed_files", "retrainable_runs", "queue_retrain", "retrained_from",
           "retrains_of", "before_after"]

RETRAIN_FILE = "retrain_of.json"


def _class_of(path: str, class_names: list[str]) -> int | None:
    parts = PurePosixPath(path).parts
    for part in parts[:-1]:
        if part in class_names:
            return class_names.index(part)
    return None


def cleaned_split(split: Split, moves: dict[str, str]) -> Split:
    """`split` with each moved file at its new place and class; files moved to the quarantine leave it."""

    def apply(items):
        kept = []
        for path, label in items:
            if path not in moves:
                kept.append((path, label))
                continue
            target = moves[path]
            new_label = _class_of(target, split.class_names)
            if not target.startswith(QUARANTINE + "/") and new_label is not None:
                kept.append((target, new_label))
        return kept

    return replace(split, train=apply(split.train), val=apply(split.val), test=apply(split.test))


def changed_files(run: Run, moved: dict[str, str] | None = None) -> dict[str, str]:
    """{old path: new path} of the run's split files the cleaner moved since (empty when none, or no split).
    `moved`: the dataset's `moved_files`, when the caller already read them for many runs."""
    split = run.split()
    if split is None:
        return {}
    used = {path for path, _ in split.train + split.val + split.test}
    moved = moved_files(run.config().dataset) if moved is None else moved
    return {old: new for old, new in moved.items() if old in used}


def retrainable_runs(dataset: str) -> list[tuple[Run, int]]:
    """Finished runs on `dataset` (newest first) whose split holds files moved since, with how many: what a
    "Retrain and compare" button can act on from the page where the cleaning happens."""
    moved = moved_files(dataset)
    if not moved:
        return []
    found = []
    for run in list_runs((FINISHED,)):
        try:
            if run.config().dataset != dataset:
                continue
            count = len(changed_files(run, moved))
        except (ValueError, KeyError, OSError):  # a damaged run folder is the Evaluate page's business, not this list's
            continue
        if count:
            found.append((run, count))
    return found


def retrains_of(run_id: str) -> list[Run]:
    """Runs queued by `queue_retrain` from `run_id`, newest first."""
    found = []
    for run in list_runs():
        record = retrained_from(run)
        if record is not None and record.get("before") == run_id:
            found.append(run)
    return found


def queue_retrain(run_id: str, actor: str = LOCAL_ACTOR) -> Run:
    """Queue the run's config again (a first phase: no parent) on its cleaned split; returns the new run.

    Raises:
        ValueError: the run has no split yet, or nothing was cleaned since.
    """
    before = get_run(run_id)
    split = before.split()
    if split is None:
        raise ValueError(f"Run '{run_id}' has no split yet; only a run that trained can be retrained after cleaning.")
    config = replace(before.config(), parent_run=None)
    moves = changed_files(before)
    if not moves:
        raise ValueError("No file of this run's split was relabelled or excluded: nothing to retrain on.")

    def prepare(after: Run) -> None:  # before the scheduler can start it: the run trains on the cleaned split
        after.write_split(cleaned_split(split, moves))
        write_json_atomic(after.path / RETRAIN_FILE, {"before": run_id, "actor": actor, "moves": moves})

    return submit(config, owner=actor, prepare=prepare)


def retrained_from(run: Run) -> dict | None:
    """{"before": run id, "actor", "moves"} when `run` was queued by `queue_retrain`, else None."""
    try:
        return read_json(run.path / RETRAIN_FILE)
    except ValueError:  # a damaged record: not a retrain this page can compare
        return None


def before_after(after_id: str) -> dict[str, Any]:
    """Accuracy before and after on the unchanged test files, per-class changes, and the test files that were
    relabelled or excluded (apart: counting them in either accuracy would flatter or punish the cleaning).

    Raises:
        ValueError: `after_id` was not queued by `queue_retrain`, or either run has no stored test predictions.
    """
    from tlcore.evaluation.metrics import load_predictions

    after = get_run(after_id)
    record = retrained_from(after)
    if record is None:
        raise ValueError(f"Run '{after_id}' was not retrained from a cleaned dataset.")
    before = get_run(record["before"])
    old, new = load_predictions(before), load_predictions(after)
    if old is None or new is None:
        raise ValueError("Both runs need stored test predictions (re-evaluate them on the Evaluate page).")
    moves = record["moves"]
    new_rows = {row.file: row for row in new.itertuples(index=False)}
    unchanged, relabelled, excluded = [], [], []
    for row in old.itertuples(index=False):
        if row.file in moves and moves[row.file].startswith(QUARANTINE + "/"):
            excluded.append({"file": row.file, "now": moves[row.file], "label": row.true,
                             "before_predicted": row.predicted})
        elif row.file in moves:
            target = new_rows.get(moves[row.file])
            relabelled.append({"file": row.file, "now": moves[row.file], "old_label": row.true,
                               "new_label": target.true if target is not None else None,
                               "before_predicted": row.predicted,
                               "after_predicted": target.predicted if target is not None else None})
        elif row.file in new_rows:
            unchanged.append((row.true, row.predicted == row.true, new_rows[row.file].predicted == row.true))
    classes = sorted({true for true, _, _ in unchanged})
    per_class = []
    for name in classes:
        rows = [(b, a) for true, b, a in unchanged if true == name]
        per_class.append({"class": name, "images": len(rows), "before": sum(b for b, _ in rows) / len(rows),
                          "after": sum(a for _, a in rows) / len(rows)})
    for row in per_class:
        row["change"] = row["after"] - row["before"]
    count = len(unchanged)
    return {"before": before.id, "after": after.id, "unchanged_test_images": count,
            "before_accuracy": sum(b for _, b, _ in unchanged) / count if count else None,
            "after_accuracy": sum(a for _, _, a in unchanged) / count if count else None,
            "per_class": per_class, "relabelled_test_files": relabelled, "excluded_test_files": excluded}
