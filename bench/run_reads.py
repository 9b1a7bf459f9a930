"""How often one tiny training job opens its run folder's files and resolves its dataset path.

Run: `.venv/bin/python bench/run_reads.py`. Trains MobileNetV2 at 32 px from random weights for 2 epochs on 2 × 40
built-in digits through `worker.run_job` (the whole job: claim, split, fit, the end-of-training steps), counting
every open of a file in the run folder (an audit hook sees every `open`, whoever calls it) and every
`resolve_dataset_path` and `scan_folder` call. Prints one line per file and the totals.
"""

from __future__ import annotations

import collections
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _folders import scratch_studio  # noqa: E402 (bench/, the script's folder, is on sys.path)


def main() -> None:
    root = scratch_studio("tlstudio-bench-")
    from tlcore.config import TrainConfig
    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.runs.folders import create_run
    from tlcore.storage import paths
    from tlcore.worker import run_job

    digits = sample_dataset_path()
    for name in ("0", "1"):
        (root / "data" / "tiny" / name).mkdir(parents=True)
        for image in sorted((digits / name).glob("*.png"))[:40]:
            os.link(image, root / "data" / "tiny" / name / image.name)
    run = create_run(TrainConfig(dataset="tiny", backbone="MobileNetV2", image_size=32, epochs=2, batch_size=32,
                                 weights="random"))
    opens: collections.Counter[str] = collections.Counter()
    folder = str(run.path)

    def count_opens(event: str, args: tuple) -> None:
        """Reads only: an open for reading of a file (not a folder) in the run folder."""
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            path, mode, flags = os.fsdecode(args[0]), args[1], args[2]
            writes = any(letter in mode for letter in "wax+") if isinstance(mode, str) else \
                bool(flags & (os.O_WRONLY | os.O_RDWR))
            if path.startswith(folder + os.sep) and not writes and not os.path.isdir(path):
                opens[os.path.relpath(path, folder)] += 1

    calls: collections.Counter[str] = collections.Counter()

    def counting(name, function):
        def counted(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return counted

    import tlcore.training.phase  # noqa: F401 - the modules a job uses, so every name imported from them is seen
    from tlcore.datasets import scan

    for name, function in (("resolve_dataset_path", paths.resolve_dataset_path), ("scan_folder", scan.scan_folder)):
        wrapper = counting(name, function)
        for module in list(sys.modules.values()):  # every module that imported the function by name
            if module is not None and module.__name__.startswith("tlcore") and \
                    getattr(module, name, None) is function:
                setattr(module, name, wrapper)
    sys.addaudithook(count_opens)
    state = run_job(run, wait=False)
    for name, count in sorted(opens.items()):
        print(f"{name:<40} {count:>4} reads")
    print(f"state {state}: {sum(opens.values())} reads of run files (config.json {opens['config.json']}, "
          f"status.json {opens['status.json']}); dataset path resolved {calls['resolve_dataset_path']} times, "
          f"dataset folder scanned {calls['scan_folder']} times")


if __name__ == "__main__":
    main()
