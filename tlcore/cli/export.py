"""Export from the command line: a run's model in each format, checked in its own runtime, and the bundle."""

from __future__ import annotations

import json
import sys

from tlcore.access import record, require
from tlcore.cli.account import cli_user
from tlcore.inference import FORMATS, bundle_run
from tlcore.runs import get_run

__all__ = ["add_export_parser", "export"]


def add_export_parser(sub) -> None:
    export = sub.add_parser("export", help="export a run's model and check each file in its own runtime against the "
                                           "app's predictions")
    export.add_argument("run", help="run id")
    export.add_argument("--format", action="append", choices=list(FORMATS), metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)}; repeat for several (default: all)")
    export.add_argument("--json", action="store_true", help="print the report JSON instead of text")
    export.add_argument("--bundle", action="store_true",
                        help="also zip the exported formats with labels, metadata, model card, client snippets and "
                             "the parity report (exports/bundle.zip) and print its path")


def export(args) -> int:
    from tlcore import cli  # the exporter as the package names it (tlcore.cli.export_run), so a test can stand in

    def report(fraction, message):
        if not args.json:
            print(message, file=sys.stderr, flush=True)

    user = cli_user()
    require(user, "export", get_run(args.run).owner, what=args.run)
    try:
        result = cli.export_run(args.run, args.format, report)
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
