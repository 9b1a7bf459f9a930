"""Command-line interface over tlcore, for scripts and headless GPU servers (`python -m tlcore --help`).

This module assembles the parser and runs a command; each command group lives in a module of its own (training,
datasets, backbones, evaluation, export, curation, labeling, removal, audit), which adds its sub-commands' parsers
and holds the functions that run them.
"""

from __future__ import annotations

import argparse
import os
import sys

from tlcore import jobs
from tlcore.cli import audit, backbones, curation, datasets, evaluation, export, labeling, removal, training
from tlcore.datasets import DatasetError
from tlcore.inference import export_run  # the exporter `export` calls, named here so a caller (a test) can stand in
from tlcore.storage import DiskFull, PathOutsideRoot

__all__ = ["export_run", "main"]

# sub-command → the function that runs it; the parsers are added in _parser, in the order --help lists them
_COMMANDS = {
    "train": training.train, "runs": training.runs, "resume": training.resume, "cancel": training.cancel,
    "summary": backbones.summary, "backbones": backbones.list_backbones, "measure": backbones.measure,
    "probe": backbones.probe, "transferability": backbones.transferability,
    "sample": datasets.sample, "scan": datasets.scan, "tfds": datasets.tfds,
    "evaluate": evaluation.evaluate, "predict": evaluation.predict,
    "export": export.export,
    "label-issues": curation.label_issues, "embed": curation.embed, "near-duplicates": curation.near_duplicates,
    "instant": labeling.instant, "label": labeling.label,
    "delete": removal.delete,
    "audit": audit.audit,
}

# commands that run TensorFlow in this process: they take one GPU with memory growth, never all of them
_TENSORFLOW_COMMANDS = frozenset({"predict", "evaluate", "measure", "probe", "label-issues", "embed", "summary",
                                  "export"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tlcore", description="TL Studio: transfer learning on images.")
    sub = parser.add_subparsers(dest="command", required=True)
    for add_parser in (training.add_train_parser, training.add_runs_parser, backbones.add_summary_parser,
                       backbones.add_backbones_parser, datasets.add_sample_parser, evaluation.add_evaluate_parser,
                       backbones.add_measure_parser, backbones.add_probe_parser, training.add_resume_parser,
                       evaluation.add_predict_parser, datasets.add_scan_parser, datasets.add_tfds_parser,
                       export.add_export_parser, curation.add_curation_parsers, training.add_cancel_parser,
                       removal.add_delete_parser, curation.add_near_duplicate_parser,
                       backbones.add_transferability_parser, labeling.add_instant_parser, labeling.add_label_parser,
                       audit.add_audit_parser):
        add_parser(sub)
    return parser


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
