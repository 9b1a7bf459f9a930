"""A run's results from the command line: its test metrics and confidence (evaluate), its answers for image files
(predict)."""

from __future__ import annotations

import json
import sys

from tlcore.evaluation import evaluate_run, set_target_accuracy, stored_or_fresh_metrics
from tlcore.inference import Predictor
from tlcore.runs import get_run

__all__ = ["add_evaluate_parser", "add_predict_parser", "evaluate", "predict"]


def add_evaluate_parser(sub) -> None:
    evaluate = sub.add_parser("evaluate", help="a run's stored test metrics (evaluated first if they are missing)")
    evaluate.add_argument("run", help="run id (folder name under the runs directory)")
    evaluate.add_argument("--again", action="store_true", help="evaluate the model again even if metrics are stored")
    evaluate.add_argument("--target-accuracy", type=float, default=None, metavar="SHARE",
                          help="choose the 'not sure' threshold again for this accuracy on the answers given, "
                               "e.g. 0.95 (on the validation split; stored with the run)")
    evaluate.add_argument("--json", action="store_true")


def add_predict_parser(sub) -> None:
    predict = sub.add_parser("predict", help="top-k classes for image files with a run's model")
    predict.add_argument("run", help="run id")
    predict.add_argument("images", nargs="+", help="image files")
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("--json", action="store_true")


def evaluate(args) -> int:
    if args.again:
        evaluate_run(args.run)
    report = stored_or_fresh_metrics(args.run)
    if args.target_accuracy is not None:
        set_target_accuracy(get_run(args.run), args.target_accuracy)
        report = stored_or_fresh_metrics(args.run)
    if args.json:
        print(json.dumps(report))
    else:
        top_k = "  ".join(f"top-{k} {value:.4f}" for k, value in report["top_k_accuracy"].items())
        print(f"{report['split']}: accuracy {report['accuracy']:.4f}  loss {report['loss']:.4f}  {top_k}  "
              f"ECE {report['ece']:.4f} ({report['images']} images)")
        _print_confidence(report)
    return 0


def _print_confidence(report: dict) -> None:
    calibration, reject = report.get("calibration"), report.get("reject")
    if calibration is None:
        print("not calibrated (no validation split to fit a temperature on)")
        return
    if calibration["ece_before"] is not None:
        print(f"temperature {calibration['temperature']:.4f} (fitted on {calibration['validation_images']} validation "
              f"images): ECE on {calibration['measured_on']} {calibration['ece_before']:.4f} → "
              f"{calibration['ece_after']:.4f}" + (f"  ({calibration['note']})" if calibration["note"] else ""))
    if reject["threshold"] is not None:
        held = f"{reject['held_out_accuracy']:.1%}" if reject["held_out_accuracy"] is not None else "–"
        print(f"not sure below {reject['threshold']:.4f}: target {reject['target_accuracy']:.1%} "
              f"{'met' if reject['met_on_validation'] else 'NOT met'} on validation "
              f"({reject['validation_accuracy']:.1%} right, {reject['validation_coverage']:.1%} answered); "
              f"{reject['held_out_split']}: {held} right, {reject['held_out_coverage']:.1%} answered")


def predict(args) -> int:
    from pathlib import Path


    missing = [name for name in args.images if not Path(name).is_file()]
    if missing:  # before loading the model: a typo should not cost seconds
        raise FileNotFoundError(f"No such image file: {', '.join(missing)}")
    predictor = Predictor.for_run(args.run)
    sources = [(name, Path(name)) for name in args.images]
    predictions = predictor.predict_files(sources, top_k=args.top_k)
    confidence = predictor.confidence  # the run's temperature and "not sure" threshold, as Predict and Demo use
    if args.json:
        print(json.dumps([{"image": p.name, "answer": p.answer, "not_sure": p.not_sure,
                           "top": [{"class": c, "probability": prob} for c, prob in p.top], "error": p.error,
                           "temperature": confidence.temperature, "threshold": confidence.threshold}
                          for p in predictions]))
    else:
        print(f"calibrated probabilities (temperature {confidence.temperature:.2f})"
              + (f"; not sure below {confidence.threshold:.1%} ({confidence.support_note()})"
                 if confidence.threshold is not None else "; this run has no not-sure threshold yet"))
        if confidence.support_warning():
            print(f"warning: {confidence.support_warning()}", file=sys.stderr)
        for p in predictions:
            print(p.name, p.error or f"{p.answer}: " + ", ".join(f"{c} {prob:.1%}" for c, prob in p.top))
    return 0 if all(p.error is None for p in predictions) else 1
