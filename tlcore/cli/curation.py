"""The data-centric loop from the command line (tlcore.curation): likely wrong labels, the embedding map as CSV,
near-duplicate pairs."""

from __future__ import annotations

import json
import sys

from tlcore import backbones
from tlcore.backbones.weights import WeightsUnavailable

__all__ = ["add_curation_parsers", "add_near_duplicate_parser", "embed", "label_issues", "near_duplicates"]


def add_curation_parsers(sub) -> None:
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


def add_near_duplicate_parser(sub) -> None:
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


def _curation_config(args):
    from tlcore.curation import EmbedConfig

    return EmbedConfig(args.dataset, args.backbone, args.image_size, args.weights, run=args.run,
                       method=getattr(args, "method", "pca"), seed=args.seed)


def _computed_or_message(compute, args):
    """`compute(config, progress)` for a curation command, progress on stderr; None after printing the offline way
    round when the features' weights are not on this server (the command then exits 2)."""
    try:
        return compute(_curation_config(args), lambda fraction, message: print(message, file=sys.stderr, flush=True))
    except WeightsUnavailable as error:
        print(f"error: {_offline_hint(error)}", file=sys.stderr)
        return None


def _offline_hint(error) -> str:
    """The weights message with the CLI's own way round (the page's checkbox means nothing here)."""
    return (f"{error} On the command line, add --weights random (random features: weaker rankings) or --run RUN "
            "(a trained run's features).")


def label_issues(args) -> int:
    from tlcore.curation import label_issue_report

    found = _computed_or_message(label_issue_report, args)
    if found is None:
        return 2
    issues = found.issues
    shown = issues[:args.top] if args.top is not None else [issue for issue in issues if issue.flagged]
    if args.json:
        print(json.dumps({"dataset": found.dataset, "images": found.images, "flagged": found.flagged,
                          "probabilities": found.sources, "note": found.note, "features": found.features,
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


def embed(args) -> int:
    import csv

    from tlcore.curation import analyse_embeddings, compute_embeddings

    embeddings = _computed_or_message(compute_embeddings, args)
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


def near_duplicates(args) -> int:
    from tlcore.curation import find_near_duplicates

    found = _computed_or_message(find_near_duplicates, args)
    if found is None:
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
