"""Command-line interface over tlcore, for scripts and headless GPU servers (`python -m tlcore --help`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from tlcore import actions, backbones, jobs
from tlcore.access import record, require
from tlcore.backbones import fine_tune_at_for_block, measure_task, registry_rows, run_probe
from tlcore.config import TrainConfig, load_config
from tlcore.datasets import (
    DatasetError,
    TfdsUnavailable,
    count_images,
    fetch,
    health_report,
    load_settings,
    sample_dataset_path,
    scan_folder,
    summarize_sizes,
)
from tlcore.evaluation import evaluate_run, set_target_accuracy, stored_or_fresh_metrics
from tlcore.inference import FORMATS, Predictor, bundle_run, export_run
from tlcore.modeling import build_model, check_config, keras_param_counts
from tlcore.runs import ACTIVE_STATES, FINISHED, dataset_changes, get_run, resume_epoch
from tlcore.storage import DiskFull, PathOutsideRoot


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tlcore", description="TL Studio: transfer learning on images.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a run headless from a config JSON, printing progress")
    train.add_argument("--config", required=True, help="run config JSON (the config.json of any run works)")
    train.add_argument("--gpus", type=int, default=None,
                       help="GPUs to train on (default: 1 when the machine has GPUs, else the CPU)")

    runs = sub.add_parser("runs", help="every run and task: state, owner, devices, queue position, damaged reason")
    runs.add_argument("--json", action="store_true", help="print JSON instead of text")

    summary = sub.add_parser("summary", help="parameter counts of the model the Train page would build")
    summary.add_argument("--backbone", required=True, choices=backbones.all_names(), metavar="NAME",
                         help="a Keras application name, e.g. MobileNetV2, or a custom-… one (see `backbones`)")
    summary.add_argument("--image-size", type=int, default=None, help="input size in pixels (default: backbone's)")
    summary.add_argument("--classes", type=int, required=True, help="number of classes (2 gives one sigmoid unit)")
    summary.add_argument("--fine-tune-at", type=int, default=None,
                         help="freeze base layers below this index; omit to freeze the whole base")
    summary.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                         help="imagenet runs the base in inference mode, random lets BatchNorm learn; the counts "
                              "are the same (default: imagenet)")
    summary.add_argument("--fine-tune-block", default=None, metavar="BLOCK",
                         help="freeze the base below this block (e.g. block_13 for MobileNetV2) instead of an index")
    summary.add_argument("--pooling", choices=("avg", "max", "flatten"), default="avg", help="head pooling")
    summary.add_argument("--hidden-units", type=int, default=0, help="hidden dense layer in the head (0 = none)")
    summary.add_argument("--json", action="store_true", help="print JSON instead of text")

    listing = sub.add_parser("backbones", help="the backbone registry with published figures")
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")

    sample = sub.add_parser("sample", help="write the built-in digits dataset and print its folder")
    sample.add_argument("--json", action="store_true")

    evaluate = sub.add_parser("evaluate", help="a run's stored test metrics (evaluated first if they are missing)")
    evaluate.add_argument("run", help="run id (folder name under the runs directory)")
    evaluate.add_argument("--again", action="store_true", help="evaluate the model again even if metrics are stored")
    evaluate.add_argument("--target-accuracy", type=float, default=None, metavar="SHARE",
                          help="choose the 'not sure' threshold again for this accuracy on the answers given, "
                               "e.g. 0.95 (on the validation split; stored with the run)")
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

    resume = sub.add_parser("resume", help="queue an interrupted or failed run again, from its last completed epoch")
    resume.add_argument("run", help="run id (folder name under the runs directory)")

    predict = sub.add_parser("predict", help="top-k classes for image files with a run's model")
    predict.add_argument("run", help="run id")
    predict.add_argument("images", nargs="+", help="image files")
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("--json", action="store_true")

    scan = sub.add_parser("scan", help="per-class counts (per split when pre-split) and the dataset health report")
    scan.add_argument("path", help="dataset folder (absolute, or relative to the data root)")
    scan.add_argument("--counts-only", action="store_true", help="count from the listing only; decode no image")
    scan.add_argument("--json", action="store_true", help="print JSON instead of text")

    tfds = sub.add_parser("tfds", help="download a TensorFlow Datasets set and write it as a class-folder dataset")
    tfds.add_argument("name", help="tf_flowers, cats_vs_dogs, cifar10 or rock_paper_scissors")
    _add_export_parser(sub)
    _add_curation_parsers(sub)
    _add_sharing_parsers(sub)
    _add_near_duplicate_parsers(sub)
    _add_transferability_parsers(sub)
    _add_instant_parsers(sub)
    _add_label_parsers(sub)
    _add_audit_parsers(sub)
    return parser


# commands that run TensorFlow in this process: they take one GPU with memory growth, never all of them
_TENSORFLOW_COMMANDS = frozenset({"predict", "evaluate", "measure", "probe", "label-issues", "embed", "summary",
                                  "export"})


def _one_gpu_with_growth() -> None:
    """Before TensorFlow loads: see one GPU (a free one when the queue knows of one) and grow its memory as needed,
    so a CLI prediction never reserves every GPU a queued training job was given."""
    if "tensorflow" in sys.modules or "CUDA_VISIBLE_DEVICES" in os.environ:
        return
    try:
        free, every = jobs.free_gpus()
    except OSError:
        free, every = [], []
    if every:
        os.environ["CUDA_VISIBLE_DEVICES"] = (free or every)[0]
    os.environ["TF_FORCE_GPU_ALLOW_GROWTH"] = "true"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command in _TENSORFLOW_COMMANDS:
        _one_gpu_with_growth()
    try:
        return _COMMANDS[args.command](args)
    except (DatasetError, PathOutsideRoot, DiskFull, KeyError, ValueError, FileNotFoundError,
            PermissionError) as error:  # PermissionError: tlcore.access.NotAllowed, QuotaExceeded
        message = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
        print(f"error: {message}", file=sys.stderr)
        return 2


def _train(args) -> int:
    """Queue the run like the app's Start button (same queue, same devices) and follow it until it ends."""
    config = load_config(args.config)  # every problem of the file at once; the backbone's rules when it is queued
    scan_folder(config.dataset)  # a wrong dataset is a usage error (exit 2), found before a run folder is made
    run = actions.start_training(_cli_user(), config, gpus=args.gpus, here=True)  # the app's rules: role, quota, audit
    print(f"run {run.id} in {run.path}", flush=True)
    state = _run_or_follow(run)
    if state is None:
        return 130
    status = run.status()
    for row in run.history():
        print(f"epoch {row['epoch']}: loss {row.get('loss')} accuracy {row.get('accuracy')} "
              f"val_loss {row.get('val_loss')} val_accuracy {row.get('val_accuracy')}")
    if state == FINISHED:
        print(f"finished: test accuracy {status.get('test_accuracy'):.4f}; model at {run.model_path}")
        return 0
    print(f"{state}: {status.get('error', '')}", file=sys.stderr)
    return 1


def _run_or_follow(run) -> str | None:
    """Locally the job waits its turn in the app's queue and then trains in this process (so Ctrl-C stops it); on a
    Ray cluster it runs there and this process follows it. Returns the final state (None: stopped following)."""
    import threading

    from tlcore.worker import run_job

    if not jobs.runs_here(run):
        return _follow(run)
    position = jobs.queue_position(run)
    if run.status().get("state") == "queued" and position and not run.status().get("dispatched_at"):
        print(f"queued: position {position}; training starts when the job(s) ahead finish", flush=True)
    done = threading.Event()
    printer = threading.Thread(target=_follow, args=(run, 2.0, done), daemon=True)
    printer.start()  # progress lines without touching the training loop
    state = run_job(run)
    done.set()
    jobs.dispatch()  # what this job held is free: start whoever waits
    return state


def _follow(run, poll_s: float = 1.0, done=None) -> str | None:
    """Print the job's progress lines until it ends; its final state, or None when the user stopped following
    (Ctrl-C: the job is a process of its own and goes on)."""
    import time

    last = None
    try:
        while done is None or not done.is_set():
            state = jobs.refresh(run, step=done is None)
            status = run.status()
            if state not in ACTIVE_STATES:
                return state
            if state == "queued":
                position = jobs.queue_position(run)
                line = f"queued: position {position}" if position else "queued: starting"
            else:
                line = (f"{status.get('phase', '')}: epoch {status.get('epoch', '-')}/{status.get('epochs', '-')} "
                        f"batch {status.get('batch', '-')}/{status.get('batches', '-')} "
                        f"eta {status.get('eta_seconds', '-')}s")
            if line != last:
                print(line, flush=True)
                last = line
            time.sleep(poll_s)
        return None
    except KeyboardInterrupt:
        print(f"\nstopped following; run {run.id} goes on in the background (python -m tlcore runs)",
              file=sys.stderr)
        return None


def _resume(args) -> int:
    """Queue the run again (like the Resume button) and follow it; the run keeps its folder and history."""
    run = actions.resume_job(_cli_user(), get_run(args.run), here=True)
    print(f"resuming run {run.id} at epoch {resume_epoch(run)}", flush=True)
    changes = dataset_changes(run)  # the run keeps its split whatever changed; say what did
    if changes:
        print(changes.message(), flush=True)
    state = _run_or_follow(run)
    if state is None:
        return 130
    status = run.status()
    if state == FINISHED:
        epochs = [int(row["epoch"]) for row in run.history()]
        print(f"finished: epochs {epochs[0]}..{epochs[-1]}, test accuracy {status.get('test_accuracy'):.4f}")
        return 0
    print(f"{state}: {status.get('error', '')}", file=sys.stderr)
    return 1


def _runs(args) -> int:
    """Every run and task with its state, owner, devices, queue position and why a folder is damaged."""
    rows = jobs.queue_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    if not rows:
        print("no runs or tasks yet")
    for row in rows:
        where = f"#{row['position']} in queue" if row["position"] else (f"on {row['devices']}" if row["devices"] else "")
        note = row["damaged"] or (row["error"] if row["state"] in ("failed", "interrupted") else "") or ""
        print(f"{row['id']:<40} {row['kind']:<12} {row['state']:<11} {row['owner']:<20} {row['needs']:<20} "
              f"{where:<14} {note}".rstrip())
    return 0


def _summary(args) -> int:

    backbone = backbones.get(args.backbone)
    size = args.image_size or backbone.default_size
    fine_tune_at = args.fine_tune_at
    if args.fine_tune_block is not None:

        fine_tune_at = fine_tune_at_for_block(backbone.name, args.fine_tune_block)
    config = TrainConfig(dataset="", backbone=backbone.name, image_size=size, fine_tune_at=fine_tune_at,
                         weights=args.weights, pooling=args.pooling, hidden_units=args.hidden_units)
    if args.classes < 2:
        raise ValueError("--classes must be at least 2.")
    # Counts do not depend on the weights' values, so nothing is downloaded.
    counts = keras_param_counts(build_model(config, args.classes, load_weights=False))
    result = {"backbone": backbone.name, "image_size": size, "classes": args.classes,
              "fine_tune_at": fine_tune_at, "weights": args.weights, "pooling": args.pooling,
              "hidden_units": args.hidden_units, **asdict(counts)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{backbone.name} @ {size}px, {args.classes} classes, fine_tune_at={fine_tune_at}: "
              f"total {counts.total:,}  trainable {counts.trainable:,}  non-trainable {counts.non_trainable:,}")
    return 0


def _backbones(args) -> int:

    rows = registry_rows()
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        for row in rows:
            top1 = f"{row['top1']:.1%}" if row["top1"] else "–"
            print(f"{row['name']:<20} {row['default_size']:>4}px  top-1 {top1:>6}  weights {row['weights']}")
    return 0


def _sample(args) -> int:

    path = sample_dataset_path()
    print(json.dumps({"path": str(path)}) if args.json else path)
    return 0


def _evaluate(args) -> int:

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


def _predict(args) -> int:
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


def _measure(args) -> int:

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


def _scan(args) -> int:

    output = {"path": args.path, "counts": count_images(args.path)}
    if not args.counts_only:
        scan = scan_folder(args.path)
        progress = (lambda fraction, message: print(f"\r{message}", end="", file=sys.stderr)) if sys.stderr.isatty() \
            else (lambda fraction, message: None)
        health = health_report(scan, load_settings(args.path).split, progress)
        health["sizes"] = summarize_sizes(health["sizes"])
        output["health"] = health
    if args.json:
        print(json.dumps(output, indent=2, ensure_ascii=False))
        return 0
    for group, per_class in output["counts"].items():
        print(f"{group}: " + ", ".join(f"{name} {count}" for name, count in per_class.items()))
    health = output.get("health")
    if health:
        print(f"unreadable: {len(health['unreadable'])}  duplicate groups: {len(health['duplicates'])}  "
              f"leaking across splits: {sum(group['leak'] for group in health['duplicates'])}  "
              f"not read (links, loops, pipes, archives): {len(health['not_read'])}")
        if health["empty_classes"]:
            print(f"left out of training, no images: {', '.join(health['empty_classes'])}")
        for item in health["unreadable"] + health["not_read"]:
            print(f"  {item['path']}: {item['message']}")
        if health["imbalance"]["warning"]:
            print(health["imbalance"]["warning"])
    return 0


def _tfds(args) -> int:

    try:
        print(fetch(args.name, lambda fraction, message: print(f"{fraction:.0%} {message}", file=sys.stderr)))
    except TfdsUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


_COMMANDS = {"measure": _measure, "probe": _probe, "train": _train, "summary": _summary, "backbones": _backbones, "sample": _sample,
             "evaluate": _evaluate, "predict": _predict, "scan": _scan, "tfds": _tfds, "resume": _resume,
             "runs": _runs}


def _add_export_parser(sub) -> None:

    export = sub.add_parser("export", help="export a run's model and check each file in its own runtime against the "
                                           "app's predictions")
    export.add_argument("run", help="run id")
    export.add_argument("--format", action="append", choices=list(FORMATS), metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)}; repeat for several (default: all)")
    export.add_argument("--json", action="store_true", help="print the report JSON instead of text")
    export.add_argument("--bundle", action="store_true",
                        help="also zip the exported formats with labels, metadata, model card, client snippets and "
                             "the parity report (exports/bundle.zip) and print its path")


def _export(args) -> int:

    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    user = _cli_user()
    require(user, "export", get_run(args.run).owner, what=args.run)
    try:
        result = export_run(args.run, args.format, report)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    record(user, "export", args.run, formats=args.format or list(FORMATS), via="cli")
    names = list(args.format or FORMATS)
    if "tflite-int8" in names and "tflite-int8-qat" in result["formats"]:
        names.append("tflite-int8-qat")
    rows = [result["formats"][name] for name in names]
    good = [row["format"] for row in rows if "path" in row and "error" not in row]
    bundle = str(bundle_run(args.run, good)) if args.bundle and good else None
    if args.json:
        print(json.dumps({**result, "formats": {row["format"]: row for row in rows}, "bundle": bundle}))
    for row in rows if not args.json else []:
        if "unavailable" in row:
            print(f"{row['format']:<16} {row['reason']}: {row['unavailable']}")
            continue
        if "error" in row:
            print(f"{row['format']:<16} error: {row['error']}")
            continue
        verdict = "parity passed" if row["parity_passed"] else "PARITY FAILED"
        print(f"{row['format']:<16} {row['size_bytes'] / 1e6:8.2f} MB  in {row['runtime']}  test accuracy "
              f"{row['test_accuracy']:.1%}  {row['latency_ms']:.2f} ms/image (p10–p90 {row['latency_p10_ms']:.2f}–"
              f"{row['latency_p90_ms']:.2f}, {row['latency_repeats']} calls)  {row['throughput_images_per_s']:.0f} "
              f"img/s  top-1 agreement {row['top1_agreement']:.1%}  {verdict}  → {row['path']}")
    if not args.json:
        for note in (result.get("warning"),):
            if note:
                print(f"warning: {note}")
        if bundle:
            print(f"bundle: {bundle}")
    return 0 if all("error" not in row and row.get("parity_passed") is not False for row in rows) else 1


_COMMANDS["export"] = _export


# --- the data-centric loop: label issues and the embedding map (tlcore.curation) --------------------------------
def _add_curation_parsers(sub) -> None:
    for name, text in (("label-issues", "rank likely wrong labels (cleanlab on cross-validated predictions)"),
                       ("embed", "pooled features projected to 2-D, written as CSV (with issue and outlier scores)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("dataset", help="dataset folder (absolute, or relative to the data root)")
        command.add_argument("--run", default=None, help="use this run's own model (and its fixed split)")
        command.add_argument("--backbone", default="MobileNetV2", choices=backbones.all_names(), metavar="NAME")
        command.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                             help="imagenet uses cached weights only (never downloads); random must be asked for")
        command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
        command.add_argument("--seed", type=int, default=0)
        if name == "label-issues":
            command.add_argument("--top", type=int, default=None,
                                 help="print the N top-ranked files (default: those cleanlab flags)")
            command.add_argument("--json", action="store_true", help="print JSON instead of text")
        else:
            command.add_argument("--method", choices=("umap", "tsne", "pca"), default="umap")
            command.add_argument("--output", default="-", help="CSV file to write (default: standard output)")


def _curation_config(args):
    from tlcore.curation import EmbedConfig

    return EmbedConfig(args.dataset, args.backbone, args.image_size, args.weights, run=args.run,
                       method=getattr(args, "method", "pca"), seed=args.seed)


def _embeddings_or_message(args):
    from tlcore.backbones.weights import WeightsUnavailable
    from tlcore.curation import compute_embeddings

    try:
        return compute_embeddings(_curation_config(args),
                                  lambda fraction, message: print(message, file=sys.stderr, flush=True))
    except WeightsUnavailable as error:
        print(f"error: {_offline_hint(error)}", file=sys.stderr)
        return None


def _offline_hint(error) -> str:
    """The weights message with the CLI's own way round (the page's checkbox means nothing here)."""
    return (f"{error} On the command line, add --weights random (random features: weaker rankings) or --run RUN "
            "(a trained run's features).")


def _label_issues(args) -> int:
    from tlcore.backbones.weights import WeightsUnavailable
    from tlcore.curation import label_issue_report

    try:
        found = label_issue_report(_curation_config(args),
                                   lambda fraction, message: print(message, file=sys.stderr, flush=True))
    except WeightsUnavailable as error:
        print(f"error: {_offline_hint(error)}", file=sys.stderr)
        return 2
    issues = found.issues
    shown = issues[:args.top] if args.top is not None else [issue for issue in issues if issue.flagged]
    if args.json:
        print(json.dumps({"dataset": found.dataset, "images": found.images, "flagged": found.flagged,
                          "probabilities": found.sources, "features": found.features,
                          "issues": [issue.to_dict() for issue in shown]}))
        return 0
    print(f"{found.flagged} likely label issue(s) among {found.images} images")
    print(found.describe())
    if "random" in found.features:
        print("Random-weight features are weaker than ImageNet ones: expect a less precise ranking.")
    for issue in shown:
        print(f"{issue.score:.3f}  {issue.path}  given {issue.given}  suggested {issue.suggested}"
              f"{'' if issue.flagged else '  (not flagged)'}")
    return 0


def _embed(args) -> int:
    import csv

    from tlcore.curation import analyse_embeddings

    embeddings = _embeddings_or_message(args)
    if embeddings is None:
        return 2
    result = analyse_embeddings(embeddings, args.method, args.seed, args.run)
    points = result["points"]
    columns = ["path", "split", "label", "x", "y", "issue_score", "suggested", "flagged", "outlier_score",
               "correct", "confidence"]
    handle = sys.stdout if args.output == "-" else open(args.output, "w", newline="", encoding="utf-8")
    try:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(zip(*(points[name] for name in columns)))
    finally:
        if handle is not sys.stdout:
            handle.close()
    if args.output != "-":
        print(f"{len(points['path'])} points ({args.method}) → {args.output}", file=sys.stderr)
    return 0


_COMMANDS["label-issues"] = _label_issues
_COMMANDS["embed"] = _embed
# --- cancel and delete as a user of a shared server (tlcore.actions checks role and owner, and audits) -----------
def _add_sharing_parsers(sub) -> None:
    cancel = sub.add_parser("cancel", help="stop a queued or running run or task (its owner or an admin)")
    cancel.add_argument("run", help="run or task id")
    delete = sub.add_parser("delete", help="move a run, task, export, upload, custom backbone or dataset to the trash "
                                           "(restorable until emptied)")
    delete.add_argument("run", nargs="?", help="what to delete: a run or task id, or the name --list shows")
    delete.add_argument("--kind", choices=list(actions.DELETABLE_KINDS), default="run",
                        help="run (also a task; the default), export (a run's exports, by run id), upload, backbone "
                             "or dataset")
    delete.add_argument("--list", action="store_true", help="list what you may delete, by kind")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--trash", action="store_true", help="list what is in the trash")
    delete.add_argument("--restore", metavar="ITEM", help="put a trashed item back where it was")
    delete.add_argument("--empty-trash", action="store_true", help="delete everything in the trash for good (admins)")


def _cli_user():
    """The CLI acts as the operating system account running it, mapped to a user in roles.toml's [accounts]
    (no roles file: the local admin). Not an environment variable: anyone can set one."""
    from tlcore import access

    return access.cli_user(access.sessions.os_account())


def _cancel(args) -> int:
    from tlcore import actions
    from tlcore.access import NotAllowed

    try:
        actions.cancel_job(_cli_user(), actions.find_job(args.run))
    except NotAllowed as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"cancel requested: {args.run} stops after its current batch (a queued one leaves the queue)")
    return 0


def _delete(args) -> int:
    from tlcore import actions, storage
    from tlcore.access import NotAllowed

    user = _cli_user()
    try:
        if args.trash:
            for item in storage.list_trash():
                row = item.to_row()
                print(f"{item.id}  {item.kind:<8} {row['deleted_at']}  by {item.deleted_by:<20} "
                      f"{item.size_bytes / 1e6:8.2f} MB  {item.original}")
            return 0
        if args.restore:
            print(f"restored to {actions.restore(user, args.restore)}")
            return 0
        if args.empty_trash:
            if not args.yes and not _confirmed("Delete everything in the trash for good?"):
                return 1 if sys.stdin.isatty() else 2
            print(f"trash emptied: {actions.empty(user) / 1e6:,.1f} MB freed")
            return 0
        if args.list:
            items = [("run", job.id) for job in actions.deletable_jobs(user)] + actions.deletable_items(user)
            labels = actions.item_labels(items)
            for kind, name in items:
                label = labels[(kind, name)]
                print(f"{kind:<8} {name}" + (f"    {label}" if label != f"{kind}: {name}" else ""))
            if not items:
                print("nothing you may delete (only your own things that are not queued or running)")
            return 0
        if not args.run:
            print("error: name what to delete (or --list, --trash, --restore ITEM)", file=sys.stderr)
            return 2
        what = f"the {args.kind} {args.run}" if args.kind != "run" else actions.find_job(args.run).id
        if not args.yes and not _confirmed(f"Move {what} to the trash?"):
            return 1 if sys.stdin.isatty() else 2
        item = actions.delete_item(user, args.kind, args.run)
    except NotAllowed as error:
        print(f"error: {error}", file=sys.stderr)
        return 3
    print(f"{what} moved to the trash as {item.id}; undo with: python -m tlcore delete --restore {item.id}")
    return 0


def _confirmed(question: str) -> bool:
    """Ask on the terminal; off a terminal say that --yes is needed (False either way when not confirmed)."""
    if not sys.stdin.isatty():
        print("error: add --yes to delete without a question (stdin is not a terminal)", file=sys.stderr)
        return False
    if input(f"{question} [y/N] ").strip().lower() not in ("y", "yes"):
        print("nothing deleted")
        return False
    return True


_COMMANDS["cancel"] = _cancel
_COMMANDS["delete"] = _delete


# --- near-duplicate pairs of a dataset (tlcore.curation.find_near_duplicates) --------------------------------------
def _add_near_duplicate_parsers(sub) -> None:
    command = sub.add_parser("near-duplicates", help="list near-duplicate and exact-copy pairs (leakage across parts "
                                                     "first)")
    command.add_argument("dataset", help="dataset folder (absolute, or relative to the data root)")
    command.add_argument("--run", default=None, help="use this run's own model (and its fixed split)")
    command.add_argument("--backbone", default="MobileNetV2", choices=backbones.all_names(), metavar="NAME")
    command.add_argument("--weights", choices=("imagenet", "random"), default="imagenet",
                         help="imagenet uses cached weights only (never downloads); random must be asked for")
    command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    command.add_argument("--seed", type=int, default=0)
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def _near_duplicates(args) -> int:
    from tlcore.backbones.weights import WeightsUnavailable
    from tlcore.curation import find_near_duplicates

    try:
        found = find_near_duplicates(_curation_config(args),
                                     lambda fraction, message: print(message, file=sys.stderr, flush=True))
    except WeightsUnavailable as error:
        print(f"error: {_offline_hint(error)}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(found.to_dict()))
        return 0
    result = found.to_dict()
    print(f"{len(found.pairs)} pair(s) among {found.images} images, {result['leaking_pairs']} across parts "
          f"(features: {found.features})")
    print(f"rule: {found.rule}")
    for pair in found.pairs:
        print(f"{pair.kind:8s} {pair.similarity:.3f}  {pair.a} ({pair.split_a})  {pair.b} ({pair.split_b})"
              f"{'  LEAKAGE' if pair.leakage else ''}")
    return 0


_COMMANDS["near-duplicates"] = _near_duplicates


# --- what each freeze depth transfers and costs (tlcore.backbones.transferability, tlcore.modeling.freeze_depth) ---
def _add_transferability_parsers(sub) -> None:
    command = sub.add_parser("transferability", help="probe accuracy and training cost at every freeze depth of a "
                                                     "base, and the recommended depth, before training")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--backbone", required=True, choices=backbones.all_names(), metavar="NAME",
                         help="a registry, KerasHub or custom backbone name (see `backbones`)")
    command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    command.add_argument("--weights", default="imagenet", metavar="imagenet|random|PATH",
                         help="imagenet (or a preset/custom base's own weights; cached only, never downloaded), "
                              "random, or a weights file (default: imagenet)")
    command.add_argument("--batch-size", type=int, default=32, help="batch size the step time is measured at")
    command.add_argument("--max-images", type=int, default=2000,
                         help="at most this many training images in the probe (default 2000)")
    command.add_argument("--no-cache", action="store_true", help="compute again even if a result is stored")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def _transferability(args) -> int:
    from tlcore import modeling
    from tlcore.backbones import TooLittleData
    from tlcore.backbones.weights import WeightsUnavailable

    def report(fraction, message):
        if not args.json:
            print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)

    scan = scan_folder(args.dataset)
    config = TrainConfig(dataset=args.dataset, backbone=args.backbone, image_size=args.image_size,
                         weights=args.weights, batch_size=args.batch_size, split=load_settings(args.dataset).split)
    check_config(config)
    try:
        result = modeling.freeze_depth_report(config, len(scan.class_names), not args.no_cache, report,
                                                  args.max_images)
    except TooLittleData as error:
        if args.json:
            print(json.dumps({"error": str(error), "class_counts": error.class_counts}))
        else:
            print(f"error: {error}", file=sys.stderr)
            for name, count in error.class_counts.items():
                print(f"{name:<24} {count:>6} training images")
        return 2
    except WeightsUnavailable as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result))
        return 0
    probe, cost = result["probe"], result["cost"]
    costs = {row["fine_tune_at"]: row for row in cost["rows"]}
    print(f"{probe['backbone']} @ {probe['image_size']} px, {probe['weights']} weights: {probe['images']} training "
          f"images, {probe['folds']}-fold probe. {probe['taps_note']}")
    print(f"{'after block':<16} {'freeze below':>12} {'width':>6} {'probe accuracy':>16} {'trainable':>12} "
          f"{'s/step':>8}")
    for row in probe["rows"]:
        row_cost = costs.get(row["fine_tune_at"], {})
        mark = "  <- recommended" if row["fine_tune_at"] == probe["recommended_fine_tune_at"] else ""
        print(f"{row['block']:<16} {row['fine_tune_at']:>12} {row['feature_width']:>6} "
              f"{row['accuracy']:>9.1%} ± {row['accuracy_spread']:.1%} {row_cost.get('trainable_params', 0):>12,} "
              f"{row_cost.get('seconds_per_step', float('nan')):>8.3f}{mark}")
    print(probe["rule"])
    print(f"{cost['note']} Device {cost['device']}." + (f" Peak memory {cost['memory_note']}."
                                                       if cost.get("memory_note") else ""))
    return 0


_COMMANDS["transferability"] = _transferability


def _add_instant_parsers(sub) -> None:
    command = sub.add_parser("instant", help="the instant model: class prototypes on a pretrained base, no training "
                                             "(a finished run, cross-validated and evaluated like any run)")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--backbone", default="MobileNetV2", choices=backbones.all_names(), metavar="NAME")
    command.add_argument("--image-size", type=int, default=96, help="input size in pixels (default 96)")
    command.add_argument("--weights", default="imagenet",
                         help="imagenet (cached weights, never downloaded), random, or a weights file")
    command.add_argument("--seed", type=int, default=42, help="the split's seed (default 42)")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def _instant(args) -> int:
    from tlcore.labeling import InstantConfig, build_instant_run, instant_summary

    def report(fraction, message):
        if not args.json:
            print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)

    config = InstantConfig(dataset=args.dataset, backbone=args.backbone, image_size=args.image_size,
                           weights=args.weights, seed=args.seed)
    run = build_instant_run(config, report, owner=_cli_user().id)
    summary = instant_summary(run) or {}
    evaluation = run.evaluation(summary.get("held_out", "test")) or {}
    result = {"run": run.id, **summary, "per_class": evaluation.get("per_class")}
    if args.json:
        print(json.dumps(result))
        return 0
    folds = summary["cross_validated"]
    print(f"run {run.id}: {summary['held_out']} accuracy {summary['held_out_accuracy']:.1%}")
    if folds.get("prototype") is not None:
        print(f"cross-validated on the training images ({folds['folds']} folds): prototypes "
              f"{folds['prototype']:.1%} ± {folds['prototype_spread']:.1%}, "
              f"5-nearest neighbours {folds['knn']:.1%} ± {folds['knn_spread']:.1%}")
    else:
        print(folds.get("message", ""))
    return 0


_COMMANDS["instant"] = _instant

# --- the audit log: its hash chain checked (tlcore.access.audit) --------------------------------------------------
def _add_audit_parsers(sub) -> None:
    audit = sub.add_parser("audit", help="the audit log: verify its hash chain, or print the newest entries (admins)")
    audit.add_argument("--verify", action="store_true", help="check that no line was changed, removed or inserted")
    audit.add_argument("--last", type=int, default=20, help="entries to print (default 20)")


def _audit(args) -> int:
    from tlcore import access

    access.require(_cli_user(), "audit")
    if args.verify:
        check = access.verify_chain()
        print(check.message)
        return 0 if check.ok else 1
    for entry in access.read_log(limit=args.last):
        print(json.dumps(entry, ensure_ascii=False))
    return 0


_COMMANDS["audit"] = _audit


def _add_label_parsers(sub) -> None:
    command = sub.add_parser("label", help="the labeling queue of a dataset's _unlabeled/ folder: the next images to "
                                           "label, in margin (least confident first), random or name order")
    command.add_argument("dataset", help="dataset folder (under the data root)")
    command.add_argument("--next", type=int, default=10, metavar="N", help="how many of the next images (default 10)")
    command.add_argument("--order", choices=("margin", "random", "name"), default="margin")
    command.add_argument("--run", help="the run whose predictions order the queue (margin order; an instant model "
                                       "or a trained run)")
    command.add_argument("--seed", type=int, default=0, help="random order's seed")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def _label(args) -> int:
    from tlcore.labeling import queue_order, unlabeled_files
    from tlcore.labeling.queue import label_order_task

    if args.order == "margin":
        if not args.run:
            print("error: margin order needs --run RUN (make one in seconds: python -m tlcore instant DATASET), or "
                  "use --order random", file=sys.stderr)
            return 2
        quiet = (lambda fraction, message: None) if args.json else \
            (lambda fraction, message: print(message, file=sys.stderr, flush=True))
        result = label_order_task({"dataset": args.dataset, "run": args.run, "order": "margin"}, quiet)
        items = result["items"]
    else:
        files = unlabeled_files(args.dataset)
        items = [{"path": files[index]} for index in queue_order(len(files), args.order, seed=args.seed)]
    chosen = items[:max(0, args.next)]
    if args.json:
        print(json.dumps({"dataset": args.dataset, "order": args.order, "waiting": len(items), "next": chosen}))
        return 0
    print(f"{len(items)} image(s) waiting in {args.dataset}/_unlabeled/ ({args.order} order)")
    for item in chosen:
        guesses = ", ".join(f"{name} {probability:.0%}" for name, probability in item.get("guesses", []))
        print(item["path"] + (f"  margin {item['margin']:.2f}: {guesses}" if guesses else ""))
    return 0


_COMMANDS["label"] = _label
