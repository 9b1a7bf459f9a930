"""How fast the instant model is on the user's path: cold, warm, and after adding one example (issue 29's targets).

The path measured is the one the Train page's "Make the instant model" button and `python -m tlcore instant` take:
a job process starts (Python, then TensorFlow), `tlcore.labeling.instant.build_instant_run` makes the run (features
cached per image, class prototypes, then the end-of-training steps of every run: evaluate, calibrate, model card),
and the first prediction is the Predict/Demo page's: `tlcore.inference.cached_predictor` in the web server, which has
TensorFlow loaded already. Stages are timed from the job's own progress messages.

    cold   empty feature cache: the job (wall time of `python -m tlcore instant ...`) + the first prediction
    warm   the same again, every feature cached
    add    one camera-sized example written into a class (tlcore.labeling.add_examples), then the job again

Data: the task half of the built-in digits (bench/_standin.py), MobileNetV2 with the stand-in weights (pretrained
here for one epoch; speed does not depend on what the weights hold). Targets: cold < 30 s, warm < 2 s, add < 1 s.

    python bench/instant_speed.py [--image-size 96] [--backbone MobileNetV2]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _folders import scratch_studio  # noqa: E402 (bench/, the script's folder, is on sys.path)

TARGETS = {"cold": 30.0, "warm": 2.0, "add": 1.0}


def _job(dataset: str, backbone: str, image_size: int, weights: Path) -> tuple[float, dict, list[tuple[float, str]]]:
    """`python -m tlcore instant` as the job runs it: (wall seconds, its JSON, [(seconds since start, message)])."""
    command = [sys.executable, "-m", "tlcore", "instant", dataset, "--backbone", backbone, "--image-size",
               str(image_size), "--weights", str(weights)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    stages, lines = [], []
    for line in process.stderr:  # the CLI reports progress on stderr as "NN% message", one line per step
        lines.append(line.strip())
        if re.match(r"\s*\d+% ", line):
            stages.append((time.perf_counter() - start, line.strip()))
    output = process.stdout.read()
    process.wait()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"instant failed ({process.returncode}):\n" + "\n".join(lines[-15:]))
    found = re.match(r"run (\S+): \S+ accuracy ([\d.]+)%", output)
    return wall, {"run": found[1], "held_out_accuracy": float(found[2]) / 100}, stages


def _first_prediction(run_id: str, image: Path) -> float:
    """The Predict page's first answer for a new run, in a process that has TensorFlow loaded (the web server)."""
    from tlcore.inference import cached_predictor
    from tlcore.runs import get_run

    run = get_run(run_id)
    start = time.perf_counter()
    predictor = cached_predictor(run_id, run.model_path.stat().st_mtime)
    predictor.predict_files([(image.name, image)])
    return time.perf_counter() - start


def _stage_summary(stages: list[tuple[float, str]]) -> str:
    """The time until each distinct step first reported (the first report marks the end of the imports)."""
    seen, parts = set(), []
    for at, message in stages:
        key = " ".join(message.split()[1:3])
        if key not in seen:
            seen.add(key)
            parts.append(f"{at:5.1f}s {message[:48]}")
    return "\n      ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--backbone", default="MobileNetV2")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    args = parser.parse_args()

    home = scratch_studio("tlstudio-instant-speed-")

    from _standin import make_task_dataset, pretrain_base

    from tlcore.datasets.sample import sample_dataset_path
    from tlcore.labeling import add_examples

    digits = sample_dataset_path()
    data_root = Path(os.environ["TLSTUDIO_DATA_ROOT"])
    dataset = make_task_dataset(digits, data_root)
    weights = pretrain_base(args.backbone, args.image_size, digits, home / "standin.weights.h5",
                            epochs=args.pretrain_epochs)
    images = sorted((data_root / dataset).glob("*/*.png"))
    print(f"{args.backbone} at {args.image_size} px, stand-in weights; {len(images)} images in {dataset}; "
          f"{os.cpu_count()} cores", flush=True)

    figures = {}
    cold_job, cold, stages = _job(dataset, args.backbone, args.image_size, weights)
    cold_predict = _first_prediction(cold["run"], images[0])
    figures["cold"] = cold_job + cold_predict
    print(f"cold: job {cold_job:.1f} s + first prediction {cold_predict:.2f} s = {figures['cold']:.1f} s "
          f"(held-out accuracy {cold.get('held_out_accuracy', float('nan')):.1%})\n      {_stage_summary(stages)}",
          flush=True)

    warm_job, warm, stages = _job(dataset, args.backbone, args.image_size, weights)
    warm_predict = _first_prediction(warm["run"], images[0])
    figures["warm"] = warm_job + warm_predict
    print(f"warm: job {warm_job:.1f} s + first prediction {warm_predict:.2f} s = {figures['warm']:.1f} s"
          f"\n      {_stage_summary(stages)}", flush=True)

    from PIL import Image

    photo = io.BytesIO()
    Image.open(images[1]).convert("RGB").resize((480, 480)).save(photo, "PNG")
    add_examples(data_root / dataset, images[1].parent.name, [photo.getvalue()], owner="bench")
    add_job, added, stages = _job(dataset, args.backbone, args.image_size, weights)
    add_predict = _first_prediction(added["run"], images[0])
    figures["add"] = add_job + add_predict
    print(f"add one example: job {add_job:.1f} s + first prediction {add_predict:.2f} s = {figures['add']:.1f} s"
          f"\n      {_stage_summary(stages)}", flush=True)

    print("\n".join(f"{name:>5}: {seconds:6.1f} s   target < {TARGETS[name]:.0f} s   "
                    f"{'met' if seconds < TARGETS[name] else 'NOT met'}" for name, seconds in figures.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
