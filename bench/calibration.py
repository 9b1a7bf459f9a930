"""Temperature scaling and the reject option measured on a real model: ECE and log loss before and after, and what
"not sure" thresholds for several targets answer on validation (where they are chosen) and on test.

Run: `.venv/bin/python bench/calibration.py [--epochs 4] [--image-size 32]`. Trains MobileNetV2 from random weights,
every layer (ImageNet weights cannot be downloaded offline), on all ten built-in digits (1,797 images, 15 % validation,
15 % test), sets BatchNorm's moving statistics from the training images (a few hundred steps from random weights
leave them far from the batches'), then calibrates the run exactly as the end of a job does
(tlcore.evaluation.confidence.calibrate_run) and prints the stored record. About 2 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _folders import scratch_studio  # noqa: E402 (bench/, the script's folder, is on sys.path)

TARGETS = (0.9, 0.95, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--image-size", type=int, default=32)
    args = parser.parse_args()
    home = scratch_studio("tlstudio-bench-")

    import keras

    from tlcore.config.training import TrainConfig
    from tlcore.datasets.pipeline import load_arrays
    from tlcore.datasets.sample import SAMPLE_NAME, sample_dataset_path
    from tlcore.datasets.scan import scan_folder
    from tlcore.datasets.health import split_dataset
    from tlcore.evaluation.confidence import calibrate_run, preview_reject
    from tlcore.modeling.model import base_of, build_model, compile_model
    from tlcore.runs.folders import create_run

    sample_dataset_path()
    config = TrainConfig(dataset=SAMPLE_NAME, backbone="MobileNetV2", image_size=args.image_size, epochs=args.epochs,
                         batch_size=32, learning_rate=2e-3, fine_tune_at=0, weights="random")
    run = create_run(config)
    scan = scan_folder(SAMPLE_NAME)
    split = split_dataset(scan, config.split)
    run.write_split(split)
    images, labels = load_arrays(scan.root, split.train, config.image_size)
    keras.utils.set_random_seed(0)
    model = build_model(config, len(split.class_names), load_weights=False)
    compile_model(model, config.learning_rate, len(split.class_names), config)
    model.fit(images.astype("float32"), labels, batch_size=config.batch_size, epochs=config.epochs, verbose=0)
    batchnorm = [layer for layer in base_of(model).layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batchnorm:
        layer.momentum = 0.0
    base_of(model)(model.get_layer("preprocess")(images[:1024].astype("float32")), training=True)

    record = calibrate_run(run, model, scan.root, config.image_size)
    validation, test = record["validation"], record["held_out"]
    accuracy = sum(test["correct"]) / test["images"]
    print(f"{len(split.train)} train / {validation['images']} validation / {test['images']} test images; "
          f"test accuracy {accuracy:.1%}")
    print(f"temperature {record['temperature']:.3f} {record['note']}")
    for name, part in (("validation", validation), ("test", test)):
        print(f"{name:<10} ECE {part['ece_before']:.4f} → {part['ece_after']:.4f}   "
              f"log loss {part['log_loss_before']:.4f} → {part['log_loss_after']:.4f}")
    for target in TARGETS:
        chosen = preview_reject(record, target)
        held = chosen["held_out"]
        right = "–" if held["accuracy"] is None else f"{held['accuracy']:.1%}"
        print(f"target {target:.0%}: not sure below {chosen['threshold']:.6f} "
              f"({'met' if chosen['met'] else 'NOT met'} on validation: {chosen['accuracy']:.1%} right, "
              f"{chosen['coverage']:.1%} answered); test {right} right, {held['coverage']:.1%} answered")


if __name__ == "__main__":
    main()
