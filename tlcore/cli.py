"""Command-line interface over tlcore, for scripts and headless GPU servers (`python -m tlcore --help`)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict

from tlcore import backbones
from tlcore.data import DatasetError
from tlcore.paths import PathOutsideRoot


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tlcore", description="TL Studio: transfer learning on images.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a run headless from a config JSON, printing progress")
    train.add_argument("--config", required=True, help="run config JSON (the config.json of any run works)")

    summary = sub.add_parser("summary", help="parameter counts of the model the Train page would build")
    summary.add_argument("--backbone", required=True, choices=backbones.names(), metavar="NAME",
                         help="a Keras application name, e.g. MobileNetV2 (see `backbones`)")
    summary.add_argument("--image-size", type=int, default=None, help="input size in pixels (default: backbone's)")
    summary.add_argument("--classes", type=int, required=True, help="number of classes (2 gives one sigmoid unit)")
    summary.add_argument("--fine-tune-at", type=int, default=None,
                         help="freeze base layers below this index; omit to freeze the whole base")
    summary.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                         help="pretrained weights keep BatchNorm frozen; random trains it (default: imagenet)")
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")

    listing = sub.add_parser("backbones", help="the backbone registry with published figures")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")

    sample = sub.add_parser("sample", help="write the built-in digits dataset and print its folder")
    sample.add_argument("--json", action="store_true")

    evaluate = sub.add_parser("evaluate", help="evaluate a run's model on its test split")
    evaluate.add_argument("run", help="run id (folder name under the runs directory)")
    evaluate.add_argument("--json", action="store_true")

    measure = sub.add_parser("measure", help="parameters, layers, feature size and latency of bases on this device")
    measure.add_argument("--backbone", action="append", required=True, choices=backbones.names(), metavar="NAME",
                         help="a Keras application name; repeat for several")
    measure.add_argument("--image-size", type=int, required=True, help="input size in pixels")
    measure.add_argument("--no-cache", action="store_true", help="measure again even if a cached result exists")
    measure.add_argument("--json", action="store_true", help="print JSON instead of text")

    probe = sub.add_parser("probe", help="rank backbones by a linear probe on a stratified sample of a dataset")
    probe.add_argument("--dataset", required=True, help="dataset folder (under the data root)")
    probe.add_argument("--backbone", action="append", required=True, choices=backbones.names(), metavar="NAME",
                       help="a Keras application name; repeat for several")
    probe.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    probe.add_argument("--per-class", type=int, default=30, help="at most this many images per class (default 30)")
    probe.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                       help="imagenet uses cached weights only (never downloads); random must be asked for")
    probe.add_argument("--seed", type=int, default=0)
    probe.add_argument("--json", action="store_true", help="print JSON instead of text")

    predict = sub.add_parser("predict", help="top-k classes for image files with a run's model")
    predict.add_argument("run", help="run id")
    predict.add_argument("images", nargs="+", help="image files")
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("--json", action="store_true")
    _add_export_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except (DatasetError, PathOutsideRoot, KeyError, ValueError, FileNotFoundError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 2


def _train(args) -> int:
    from tlcore.config import TrainConfig
    from tlcore.data import scan_folder
    from tlcore.runs import FINISHED, create_run
    from tlcore.worker import run_job

    config = TrainConfig.from_file(args.config)
    config.validate()
    scan_folder(config.dataset)  # a wrong dataset is a usage error (exit 2), found before a run folder is made
    run = create_run(config)
    print(f"run {run.id} in {run.path}", flush=True)
    import threading

    done = threading.Event()

    def report():  # a printer thread: progress lines without touching the training loop
        last = None
        while not done.wait(2.0):
            status = run.status()
            line = (f"{status.get('phase', '')}: epoch {status.get('epoch', '-')}/{status.get('epochs', '-')} "
                    f"batch {status.get('batch', '-')}/{status.get('batches', '-')} "
                    f"eta {status.get('eta_seconds', '-')}s")
            if line != last:
                print(line, flush=True)
                last = line

    printer = threading.Thread(target=report, daemon=True)
    printer.start()
    state = run_job(run, wait=False)
    done.set()
    status = run.status()
    for row in run.history():
        print(f"epoch {row['epoch']}: loss {row.get('loss')} accuracy {row.get('accuracy')} "
              f"val_loss {row.get('val_loss')} val_accuracy {row.get('val_accuracy')}")
    if state == FINISHED:
        print(f"finished: test accuracy {status.get('test_accuracy'):.4f}; model at {run.model_path}")
        return 0
    print(f"{state}: {status.get('error', '')}", file=sys.stderr)
    return 1


def _summary(args) -> int:
    from tlcore.config import TrainConfig
    from tlcore.model import build_model, keras_param_counts

    backbone = backbones.get(args.backbone)
    size = args.image_size or backbone.default_size
    config = TrainConfig(dataset="", backbone=backbone.name, image_size=size, fine_tune_at=args.fine_tune_at,
                         weights=args.weights)
    if args.classes < 2:
        raise ValueError("--classes must be at least 2.")
    # Counts do not depend on the weights' values, so nothing is downloaded.
    counts = keras_param_counts(build_model(config, args.classes, load_weights=False))
    result = {"backbone": backbone.name, "image_size": size, "classes": args.classes,
              "fine_tune_at": args.fine_tune_at, "weights": args.weights, **asdict(counts)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{backbone.name} @ {size}px, {args.classes} classes, fine_tune_at={args.fine_tune_at}: "
              f"total {counts.total:,}  trainable {counts.trainable:,}  non-trainable {counts.non_trainable:,}")
    return 0


def _backbones(args) -> int:
    from tlcore.weights import registry_rows

    rows = registry_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            top1 = f"{row['top1']:.1%}" if row["top1"] else "–"
            print(f"{row['name']:<20} {row['default_size']:>4}px  top-1 {top1:>6}  weights {row['weights']}")
    return 0


def _sample(args) -> int:
    from tlcore.sample import sample_dataset_path

    path = sample_dataset_path()
    print(json.dumps({"path": str(path)}) if args.json else path)
    return 0


def _evaluate(args) -> int:
    from tlcore.evaluate import evaluate_run

    report = evaluate_run(args.run)
    if args.json:
        summary = {key: report[key] for key in ("split", "images", "accuracy", "loss", "class_names",
                                                  "confusion_matrix", "per_class")}
        print(json.dumps(summary))
    else:
        print(f"{report['split']}: accuracy {report['accuracy']:.4f}  loss {report['loss']:.4f} "
              f"({report['images']} images)")
    return 0


def _predict(args) -> int:
    from pathlib import Path

    from tlcore.predict import Predictor

    missing = [name for name in args.images if not Path(name).is_file()]
    if missing:  # before loading the model: a typo should not cost seconds
        raise FileNotFoundError(f"No such image file: {', '.join(missing)}")
    predictor = Predictor.for_run(args.run)
    sources = [(name, Path(name)) for name in args.images]
    predictions = predictor.predict_files(sources, top_k=args.top_k)
    if args.json:
        print(json.dumps([{"image": p.name, "top": [{"class": c, "probability": prob} for c, prob in p.top],
                           "error": p.error} for p in predictions]))
    else:
        for p in predictions:
            print(p.name, p.error or ", ".join(f"{c} {prob:.1%}" for c, prob in p.top))
    return 0 if all(p.error is None for p in predictions) else 1


def _measure(args) -> int:
    from tlcore.measure import measure_task

    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    result = measure_task({"backbones": args.backbone, "image_size": args.image_size,
                           "use_cache": not args.no_cache}, report)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"device: {result['device']}")
        for row in result["rows"]:
            print(f"{row['backbone']:<20} {row['image_size']:>4}px  " + (
                f"error: {row['error']}" if "error" in row else
                f"params {row['parameters']:,}  layers {row['layers']}  features {row['feature_dim']}  "
                f"{row['ms_per_image_batch1']:.2f} ms/img @1  {row['ms_per_image_batch32']:.2f} ms/img @32"))
    return 0 if all("error" not in row for row in result["rows"]) else 1


def _probe(args) -> int:
    from tlcore.probe import run_probe

    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    result = run_probe(args.dataset, args.backbone, args.image_size, weights=args.weights, per_class=args.per_class,
                       seed=args.seed, report=report)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['images']} images, {result['classes']} classes, {result['image_size']}px, "
              f"{result['weights']} weights")
        for row in result["rows"]:
            print(f"{row['rank'] or '-':>2}. {row['backbone']:<20} " + (
                f"error: {row['error']}" if "error" in row else
                f"val accuracy {row['val_accuracy']:.1%}  {row['seconds']:.1f} s  {row['images_per_s']:.0f} img/s"))
    return 0 if all("error" not in row for row in result["rows"]) else 1


_COMMANDS = {"measure": _measure, "probe": _probe, "train": _train, "summary": _summary, "backbones": _backbones, "sample": _sample,
             "evaluate": _evaluate, "predict": _predict}


def _add_export_parser(sub) -> None:
    from tlcore.export import FORMATS

    export = sub.add_parser("export", help="export a run's model and check each file against the app's predictions")
    export.add_argument("run", help="run id")
    export.add_argument("--format", action="append", choices=list(FORMATS), metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)}; repeat for several (default: all)")
    export.add_argument("--json", action="store_true", help="print the report JSON instead of text")


def _export(args) -> int:
    from tlcore.export import FORMATS, export_run

    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    result = export_run(args.run, args.format, report)
    rows = [result["formats"][name] for name in (args.format or FORMATS)]
    if args.json:
        print(json.dumps({**result, "formats": {row["format"]: row for row in rows}}))
    for row in rows if not args.json else []:
        if "error" in row:
            print(f"{row['format']:<12} error: {row['error']}")
            continue
        verdict = {True: "parity passed", False: "PARITY FAILED", None: "no parity threshold"}[row["parity_passed"]]
        print(f"{row['format']:<12} {row['size_bytes'] / 1e6:8.2f} MB  test accuracy {row['test_accuracy']:.1%}  "
              f"{row['latency_ms']:.2f} ms/image  top-1 agreement {row['top1_agreement']:.1%}  {verdict}  "
              f"→ {row['path']}")
    return 0 if all("error" not in row and row["parity_passed"] is not False for row in rows) else 1


_COMMANDS["export"] = _export
