"""A run's model card (Mitchell et al., 2019): what the model was trained on, how, how well it does, how far its
confidence can be trusted, how its exports compare, and what it is not for. `exports/model_card.md` and `.json`.

Everything comes from files the run folder already holds (config.json, split.json, history.csv, status.json,
eval/test.json, eval/calibration.json, exports/report.json), so the card is rebuilt whenever one of them changes:
after evaluation, calibration, a new threshold and an export. It lives in this layer because every export bundle
carries it.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from tlcore.datasets.sample import SAMPLE_NAME
from tlcore.datasets.tfds import CATALOG, folder_name
from tlcore.inference.calibrated import read_calibration
from tlcore.runs.folders import Run
from tlcore.storage.atomic import read_json, write_json_atomic, write_text_atomic

__all__ = [
    "CARD_SCHEMA", "MARKDOWN_FILE", "JSON_FILE", "LOW_RECALL", "FEW_IMAGES", "data_source", "accuracy_interval",
    "model_card", "model_card_markdown", "write_model_card", "CHANCE_MARGIN", "chance_level", "chance_warning",
]

CARD_SCHEMA = "tlstudio-model-card/1"
MARKDOWN_FILE, JSON_FILE = "model_card.md", "model_card.json"  # in the run's exports/ folder
LOW_RECALL = 0.8  # a class found less often than this is named among the limitations
FEW_IMAGES = 30  # fewer held-out images than this: say the accuracy is a rough figure


def data_source(dataset: str) -> str:
    """Where a dataset folder came from, in words."""
    name = Path(dataset).name
    if name == SAMPLE_NAME:
        return "scikit-learn's handwritten digits (8×8 px greyscale), TL Studio's built-in sample"
    for entry in CATALOG.values():
        if name == folder_name(entry.name):
            return f"TensorFlow Datasets '{entry.name}' ({entry.title})"
    return f"the image folder '{dataset}' under the data root (one sub-folder per class)"


CHANCE_MARGIN = 0.02  # an accuracy within 2 points of chance is flagged


def chance_level(confusion_matrix: list[list[int]]) -> float:
    """What answering without looking scores on this split: the larger of 1 / classes and always answering the most
    common true class."""
    rows = [sum(row) for row in confusion_matrix]
    total = sum(rows)
    if not rows or total == 0:
        return 0.0
    return max(1.0 / len(rows), max(rows) / total)


def chance_warning(evaluation: dict[str, Any] | None) -> str | None:
    """Why a run's answers say nothing about the image, or None: every image got the same answer, or the accuracy is
    within CHANCE_MARGIN of chance. Shown on Evaluate and in the model card (issue 24: such a run passed every
    check)."""
    if not evaluation or not evaluation.get("confusion_matrix") or not evaluation.get("images"):
        return None
    matrix = evaluation["confusion_matrix"]
    predicted = [column for column in range(len(matrix)) if any(row[column] for row in matrix)]
    if len(predicted) <= 1 and len(matrix) > 1:
        name = evaluation["class_names"][predicted[0]] if predicted and evaluation.get("class_names") else "one class"
        return (f"Every one of the {evaluation['images']:,} {evaluation.get('split', 'test')} images got the same "
                f"answer ({name}): the model ignores the image. Do not use or demo it; retrain (more epochs, another "
                "learning rate, more images per class).")
    chance, accuracy = chance_level(matrix), float(evaluation["accuracy"])
    if accuracy <= chance + CHANCE_MARGIN:
        return (f"Its {evaluation.get('split', 'test')} accuracy ({accuracy:.1%}) is within "
                f"{CHANCE_MARGIN * 100:.0f} points of chance ({chance:.1%}, answering without looking): it has not "
                "learnt the task. Do not use or demo it; retrain.")
    return None


def accuracy_interval(accuracy: float, images: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson's 95 % interval for an accuracy measured on `images` images: how much the figure could move."""
    if images == 0:
        return 0.0, 1.0
    centre = (accuracy + z * z / (2 * images)) / (1 + z * z / images)
    spread = z * math.sqrt(accuracy * (1 - accuracy) / images + z * z / (4 * images * images)) / (1 + z * z / images)
    return max(0.0, centre - spread), min(1.0, centre + spread)


def _when(seconds: float | None) -> str | None:
    return datetime.fromtimestamp(seconds).isoformat(timespec="seconds") if seconds else None


def _freeze(fine_tune_at: int | None) -> str:
    if fine_tune_at is None:
        return "the whole base frozen (only the head trained)"
    if fine_tune_at == 0:
        return "every base layer trained"
    return f"base layers below index {fine_tune_at} frozen, the rest trained"


def _phases(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    phases: dict[int, list[dict[str, Any]]] = {}
    for row in history:
        phases.setdefault(int(row.get("phase") or 1), []).append(row)
    return [{"phase": phase, "first_epoch": rows[0].get("epoch"), "last_epoch": rows[-1].get("epoch"),
             "epochs": len(rows), "learning_rate": rows[0].get("learning_rate"),
             "val_accuracy": rows[-1].get("val_accuracy")} for phase, rows in sorted(phases.items())]


def _exports(run: Run) -> list[dict[str, Any]]:
    report = read_json(run.path / "exports" / "report.json", default={}) or {}
    keys = ("format", "label", "parity_passed", "top1_agreement", "max_probability_difference", "test_accuracy",
            "error")
    return [{key: row.get(key) for key in keys if key in row} for row in (report.get("formats") or {}).values()]


def _limitations(classes: list[str], counts: dict[str, dict[str, int]], metrics: dict[str, Any] | None,
                 calibration: dict[str, Any] | None, config: dict[str, Any],
                 evaluation: dict[str, Any] | None = None) -> list[str]:
    train = sum(counts.get("train", {}).values())
    warning = chance_warning(evaluation)
    notes = [warning] if warning else []
    notes += [f"It knows only these {len(classes)} classes ({', '.join(classes)}): every image gets one of them, or "
             "'not sure', including images of something else entirely.",
             f"It learnt from {train:,} training images at {config.get('image_size')}×{config.get('image_size')} px. "
             "Photos unlike them (another camera, lighting, background, framing) can be wrong with high confidence."]
    if metrics:
        low, high = accuracy_interval(metrics["accuracy"], metrics["images"])
        notes.append(f"Its {metrics['split']} accuracy of {metrics['accuracy']:.1%} was measured on "
                     f"{metrics['images']:,} images; the true figure is likely between {low:.1%} and {high:.1%}"
                     + (" (few images: a rough figure)." if metrics["images"] < FEW_IMAGES else "."))
        weak = [row["class"] for row in metrics.get("per_class", []) if row["support"] and row["recall"] < LOW_RECALL]
        if weak:
            notes.append(f"Classes found less than {LOW_RECALL:.0%} of the time: {', '.join(weak)}.")
    if calibration:
        notes.append(f"Its confidence was calibrated on {calibration['validation']['images']:,} validation images "
                     f"(temperature {calibration['temperature']:.2f}); on other kinds of images the probabilities "
                     "are less trustworthy." + (f" {calibration['note'].capitalize()}." if calibration.get("note")
                                                 else ""))
    else:
        notes.append("Its probabilities are the model's own, not calibrated: they tend to be over-confident.")
    if config.get("weights") == "random":
        notes.append("It was trained from random weights, not from a pretrained backbone.")
    return notes


def model_card(run: Run) -> dict[str, Any]:
    """The card as a dict (what model_card.json holds)."""
    config = read_json(run.config_path, default={}) or {}
    status = run.status()
    split = run.split()
    classes = split.class_names if split else run.class_names()
    counts = split.counts() if split else {}
    evaluation = run.evaluation()
    metrics = None if evaluation is None else {
        key: evaluation.get(key) for key in ("split", "images", "accuracy", "loss", "top_k_accuracy", "per_class")}
    calibration = read_calibration(run)
    units = 1 if len(classes) == 2 else len(classes)
    reject = (calibration or {}).get("reject")
    return {
        "schema": CARD_SCHEMA,
        "run": run.id,
        "generated_at": datetime.now().isoformat(timespec="seconds"),
        "trained": {"state": status.get("state"), "started_at": _when(status.get("started_at")),
                    "finished_at": _when(status.get("finished_at")),
                    "fine_tune_of": config.get("parent_run")},
        "data": {"dataset": Path(config.get("dataset", "")).name, "folder": config.get("dataset"),
                 "source": data_source(config.get("dataset", "")), "classes": classes, "split_counts": counts,
                 "images": {name: sum(per_class.values()) for name, per_class in counts.items()},
                 "excluded_files": len(split.excluded) if split else 0, "split": config.get("split")},
        "model": {"backbone": config.get("backbone"), "image_size": config.get("image_size"),
                  "weights": config.get("weights"), "fine_tune_at": config.get("fine_tune_at"),
                  "freeze": _freeze(config.get("fine_tune_at")), "pooling": config.get("pooling"),
                  "hidden_units": config.get("hidden_units"), "dropout": config.get("dropout"),
                  "augmentation": bool(config.get("augment")),
                  "head": "one sigmoid unit" if units == 1 else f"softmax over {units} classes",
                  "phases": _phases(run.history())},
        "metrics": metrics,
        "calibration": None if calibration is None else {
            "temperature": calibration["temperature"], "fitted_on": calibration["fitted_on"],
            "validation_images": calibration["validation"]["images"],
            "measured_on": calibration["held_out"]["split"],
            "ece_before": calibration["held_out"]["ece_before"], "ece_after": calibration["held_out"]["ece_after"],
            "note": calibration.get("note", "")},
        "threshold": None if reject is None else {
            "target_accuracy": reject["target_accuracy"], "threshold": reject["threshold"], "met": reject["met"],
            "validation_coverage": reject["coverage"], "validation_accuracy": reject["accuracy"],
            "supported_by": reject.get("supported_by", reject.get("answered")),
            "lower_bound": reject.get("lower_bound"), "bound": reject.get("bound"),
            "held_out": reject["held_out"]},
        "exports": _exports(run),
        "intended_use": (f"Demonstrating and prototyping the recognition of {', '.join(classes)} in images like the "
                         f"ones it was trained on. Not validated for decisions about people, health or safety."),
        "chance_warning": chance_warning(evaluation),
        "limitations": _limitations(classes, counts, metrics, calibration, config, evaluation),
    }


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def model_card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown, for people (model_card.md)."""
    data, model, metrics = card["data"], card["model"], card["metrics"]
    lines = [f"# Model card: {card['run']}", "",
             *([f"**Warning: {card['chance_warning']}**", ""] if card.get("chance_warning") else []),
             f"Generated by TL Studio on {card['generated_at']}. Trained: {card['trained']['finished_at'] or '–'}"
             + (f" (fine-tuned from {card['trained']['fine_tune_of']})" if card["trained"]["fine_tune_of"] else ""),
             "", "## Intended use", "", card["intended_use"], "", "## Data", "",
             f"- Source: {data['source']}", f"- Classes ({len(data['classes'])}): {', '.join(data['classes'])}"]
    if data["split_counts"]:
        lines += ["", "| class | train | validation | test |", "|---|---:|---:|---:|"]
        lines += [f"| {name} | {data['split_counts']['train'].get(name, 0)} | {data['split_counts']['val'].get(name, 0)} "
                  f"| {data['split_counts']['test'].get(name, 0)} |" for name in data["classes"]]
        lines.append(f"| **all** | {data['images']['train']} | {data['images']['val']} | {data['images']['test']} |")
    if data["excluded_files"]:
        lines.append(f"\n{data['excluded_files']} unreadable file(s) left out.")
    lines += ["", "## Model", "", f"- Backbone: {model['backbone']} at {model['image_size']} px, "
              f"{model['weights']} weights", f"- Freeze depth: {model['freeze']} (fine_tune_at = {model['fine_tune_at']})",
              f"- Head: {model['pooling']} pooling, {model['hidden_units'] or 'no'} hidden units, dropout "
              f"{model['dropout']}, {model['head']}", f"- Augmentation: {'on' if model['augmentation'] else 'off'}"]
    for phase in model["phases"]:
        lines.append(f"- Phase {phase['phase']}: epochs {phase['first_epoch']}–{phase['last_epoch']} at learning rate "
                     f"{phase['learning_rate']}, validation accuracy at its end {_percent(phase['val_accuracy'])}")
    lines += ["", "## Metrics", ""]
    if metrics:
        lines.append(f"{metrics['split'].capitalize()} split, {metrics['images']} images: accuracy "
                     f"**{_percent(metrics['accuracy'])}**, log loss {metrics['loss']:.3f}"
                     + "".join(f", top-{k} {_percent(v)}" for k, v in (metrics["top_k_accuracy"] or {}).items()))
        lines += ["", "| class | precision | recall | F1 | images |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {row['class']} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
                  f"{row['support']} |" for row in metrics["per_class"]]
    else:
        lines.append("Not evaluated yet.")
    calibration, threshold = card["calibration"], card["threshold"]
    lines += ["", "## Calibration and 'not sure'", ""]
    if calibration:
        lines.append(f"- Temperature {calibration['temperature']:.3f}, fitted on {calibration['validation_images']} "
                     f"validation images; expected calibration error on the {calibration['measured_on']} split "
                     f"{calibration['ece_before']:.3f} before, {calibration['ece_after']:.3f} after."
                     if calibration["ece_before"] is not None else
                     f"- Temperature {calibration['temperature']:.3f}.")
    else:
        lines.append("- Not calibrated: probabilities are the model's own.")
    if threshold and threshold["threshold"] is not None:
        held = threshold["held_out"]
        bound = threshold.get("lower_bound")
        lines.append(f"- 'Not sure' below a calibrated confidence of {threshold['threshold']:.3f}, chosen for "
                     f"{threshold['target_accuracy']:.0%} accuracy on the answers given, supported by "
                     f"{threshold.get('supported_by')} validation answers"
                     + (f" (95 % lower bound {bound:.1%})" if bound is not None else "")
                     + f" ({'supported' if threshold['met'] else 'NOT supported: too few or too many wrong'}; "
                     "on validation: "
                     f"{_percent(threshold['validation_accuracy'])} of {_percent(threshold['validation_coverage'])} "
                     f"answered); on the {held['split']} split {_percent(held['accuracy'])} right of "
                     f"{_percent(held['coverage'])} answered.")
    lines += ["", "## Export parity", ""]
    if card["exports"]:
        lines += ["| format | parity | top-1 agreement | max probability difference |", "|---|---|---:|---:|"]
        for row in card["exports"]:
            verdict = "error" if row.get("error") else {True: "passed", False: "FAILED", None: "reported"}[
                row.get("parity_passed")]
            difference = row.get("max_probability_difference")
            lines.append(f"| {row.get('label', row['format'])} | {verdict} | {_percent(row.get('top1_agreement'))} | "
                         f"{'–' if difference is None else f'{difference:.2g}'} |")
    else:
        lines.append("Not exported yet.")
    lines += ["", "## Limitations", "", *[f"- {note}" for note in card["limitations"]], ""]
    return "\n".join(lines)


def write_model_card(run: Run) -> dict[str, Any]:
    """Rebuild the card and write exports/model_card.md and .json (atomic); returns the card."""
    card = model_card(run)
    folder = run.path / "exports"
    write_json_atomic(folder / JSON_FILE, card)
    write_text_atomic(folder / MARKDOWN_FILE, model_card_markdown(card))
    return card
