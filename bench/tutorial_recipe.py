"""The TensorFlow tutorial's recipe in plain Keras against `python -m tlcore train` (frozen, then fine-tune): wall
time and test accuracy, same stand-in weights, same split, one process tree.

Run: `.venv/bin/python bench/tutorial_recipe.py [--image-size 32] [--epochs 10] [--fine-tune-epochs 10]
[--seeds 1] [--views 0]`.

The recipe (tensorflow.org/tutorials/images/transfer_learning): RandomFlip("horizontal") + RandomRotation(0.2),
`preprocess_input`, MobileNetV2 without its top in inference mode, GlobalAveragePooling2D, Dropout(0.2), a Dense
classifier; Adam 1e-4 for `--epochs` with the base frozen, then layers[:100] frozen and the rest trained at 1e-5 for
`--fine-tune-epochs` more. The base is a STAND-IN for ImageNet weights (bench/_standin.py: MobileNetV2 pretrained
here on half the built-in digits; the task is the other half, which it never saw), saved once as a `.weights.h5`
file both sides load. The split is TL Studio's (`training.prepare_split`, the config's seed); the plain script gets
the very same file lists.

Plain Keras runs as ONE script process (both phases, as a student runs the notebook: TensorFlow started once).
TL Studio runs as the CLI a user would call: `python -m tlcore train --config frozen.json`, then the same with the
fine-tuning config (parent = the first run). Both sides are timed from outside (process start to exit), and the
plain script also prints when its first phase ended so the frozen phase can be compared on its own. Printed per
seed: wall seconds of each side and phase, ratios TL Studio / plain (target ≤ 1.0 at 32 px; ≤ 0.8 at 96 px with
`--views K`, the fast frozen phase), and the test accuracy of each (target: within 2 points).
`--views K` trains TL Studio's frozen phase on K augmented views per image computed once (the fast frozen phase);
0 (default) augments every epoch through the base, as plain Keras does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FINE_TUNE_AT = 100  # the tutorial's
FROZEN_RATE, FINE_TUNE_RATE = 1e-4, 1e-5  # the tutorial's base_learning_rate and base_learning_rate / 10

PLAIN_SCRIPT = textwrap.dedent('''
    """The tutorial's recipe in plain Keras on given file lists (written by bench/tutorial_recipe.py)."""
    import json, sys, time
    start = time.time()
    import keras
    import numpy as np
    import tensorflow as tf

    spec = json.loads(open(sys.argv[1]).read())
    size, batch, seed = spec["image_size"], spec["batch_size"], spec["seed"]
    keras.utils.set_random_seed(seed)
    classes = len(spec["class_names"])

    def dataset(items, shuffle=False):
        paths = [spec["root"] + "/" + path for path, _ in items]
        labels = np.asarray([label for _, label in items], dtype="int32")
        def load(path, label):
            image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
            return tf.cast(tf.image.resize(image, (size, size)), tf.uint8), label
        data = tf.data.Dataset.from_tensor_slices((paths, labels)).map(load, num_parallel_calls=tf.data.AUTOTUNE)
        data = data.cache()
        if shuffle:
            data = data.shuffle(len(items), seed=seed, reshuffle_each_iteration=True)
        return data.batch(batch).prefetch(tf.data.AUTOTUNE)

    train_ds, val_ds = dataset(spec["train"], shuffle=True), dataset(spec["val"])
    test_ds = dataset(spec["test"] or spec["val"])
    data_augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.2)])
    preprocess_input = keras.applications.mobilenet_v2.preprocess_input
    base_model = keras.applications.MobileNetV2(input_shape=(size, size, 3), include_top=False, weights=None)
    base_model.load_weights(spec["weights"])
    base_model.trainable = False
    inputs = keras.Input(shape=(size, size, 3))
    x = data_augmentation(inputs)
    x = preprocess_input(x)
    x = base_model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(spec["frozen_rate"]), keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    history = model.fit(train_ds, epochs=spec["epochs"], validation_data=val_ds, verbose=0)
    frozen_accuracy = model.evaluate(test_ds, verbose=0, return_dict=True)["accuracy"]
    frozen_done = time.time()

    base_model.trainable = True
    for layer in base_model.layers[:spec["fine_tune_at"]]:
        layer.trainable = False
    model.compile(keras.optimizers.Adam(spec["fine_tune_rate"]), keras.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy"])
    model.fit(train_ds, epochs=spec["epochs"] + spec["fine_tune_epochs"], initial_epoch=len(history.epoch),
              validation_data=val_ds, verbose=0)
    fine_accuracy = model.evaluate(test_ds, verbose=0, return_dict=True)["accuracy"]
    print("RESULT " + json.dumps({"start": start, "frozen_done": frozen_done, "end": time.time(),
                                  "frozen_accuracy": frozen_accuracy, "fine_tune_accuracy": fine_accuracy}))
''')


def _env(base: Path) -> dict[str, str]:
    env = dict(os.environ, TLSTUDIO_HOME=str(base / "home"), TLSTUDIO_DATA_ROOT=str(base / "data"),
               TLSTUDIO_RUNS_DIR=str(base / "runs"), KERAS_HOME=str(base / "keras"), CUDA_VISIBLE_DEVICES="",
               TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(REPO))
    return env


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n"
                         f"{done.stderr[-3000:]}")
    return wall, done.stdout


def _tlstudio(config, env: dict[str, str], folder: Path, name: str) -> tuple[float, str, float]:
    """(wall seconds, run id, test accuracy) of `python -m tlcore train --config <name>.json`."""
    path = folder / f"{name}.json"
    path.write_text(config.to_json())
    wall, output = _timed([sys.executable, "-m", "tlcore", "train", "--config", str(path)], env)
    run_id = next(line.split()[1] for line in output.splitlines() if line.startswith("run "))
    status = json.loads((Path(env["TLSTUDIO_RUNS_DIR"]) / run_id / "status.json").read_text())
    return wall, run_id, float(status["test_accuracy"])


def one_seed(args, seed: int, base: Path, weights_file: Path, dataset: str) -> dict[str, float]:
    from tlcore.config.augmentation import AugmentConfig
    from tlcore.config.split import SplitConfig
    from tlcore.config.training import TrainConfig
    from tlcore.training.fit import prepare_split

    env = _env(base)
    frozen = TrainConfig(dataset=dataset, backbone="MobileNetV2", image_size=args.image_size, epochs=args.epochs,
                         batch_size=args.batch_size, learning_rate=FROZEN_RATE, fine_tune_at=None, augment=True,
                         augmentation=AugmentConfig(flip="horizontal", rotation=0.2, zoom=0.0),
                         weights=str(weights_file), dropout=0.2, split=SplitConfig(seed=seed),
                         augmented_views=args.views)
    root, split = prepare_split(frozen)
    spec = {"root": str(root), "train": split.train, "val": split.val, "test": split.test,
            "class_names": split.class_names, "image_size": args.image_size, "batch_size": args.batch_size,
            "seed": seed, "weights": str(weights_file), "epochs": args.epochs, "fine_tune_epochs": args.fine_tune_epochs,
            "fine_tune_at": FINE_TUNE_AT, "frozen_rate": FROZEN_RATE, "fine_tune_rate": FINE_TUNE_RATE}
    folder = base / f"seed-{seed}"
    folder.mkdir(exist_ok=True)
    (folder / "spec.json").write_text(json.dumps(spec))
    (folder / "plain.py").write_text(PLAIN_SCRIPT)

    plain_started = time.time()
    plain_wall, output = _timed([sys.executable, str(folder / "plain.py"), str(folder / "spec.json")], env)
    plain = json.loads(next(line for line in output.splitlines() if line.startswith("RESULT "))[7:])
    plain_frozen_wall = plain["frozen_done"] - plain_started  # process start (TensorFlow's import included)

    tl_frozen_wall, parent, tl_frozen_accuracy = _tlstudio(frozen, env, folder, "frozen")
    fine = frozen.fine_tune(parent, FINE_TUNE_AT, FINE_TUNE_RATE, args.fine_tune_epochs)
    tl_fine_wall, _, tl_fine_accuracy = _tlstudio(fine, env, folder, "fine_tune")
    return {"plain_wall": plain_wall, "plain_frozen_wall": plain_frozen_wall,
            "plain_fine_wall": plain_wall - plain_frozen_wall, "tl_wall": tl_frozen_wall + tl_fine_wall,
            "tl_frozen_wall": tl_frozen_wall, "tl_fine_wall": tl_fine_wall,
            "plain_frozen_accuracy": plain["frozen_accuracy"], "plain_fine_accuracy": plain["fine_tune_accuracy"],
            "tl_frozen_accuracy": tl_frozen_accuracy, "tl_fine_accuracy": tl_fine_accuracy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=10, help="frozen phase (the tutorial's 10)")
    parser.add_argument("--fine-tune-epochs", type=int, default=10, help="fine-tuning phase (the tutorial's 10)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--first-seed", type=int, default=42)
    parser.add_argument("--views", type=int, default=0, help="TL Studio's augmented views per image (fast frozen "
                        "phase); 0 = augment every epoch")
    parser.add_argument("--pretrain-epochs", type=int, default=None,
                        help="epochs of the stand-in base's pretraining (default: bench/_standin.py STANDIN_EPOCHS)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="tlstudio-tutorial-"))
    for key, value in _env(base).items():  # this process makes the split and the stand-in in the same folders
        os.environ[key] = value
    from bench._standin import make_task_dataset, pretrain_base
    from tlcore.datasets.sample import sample_dataset_path

    digits = sample_dataset_path()
    dataset = make_task_dataset(digits, base / "data")
    weights_file = pretrain_base("MobileNetV2", args.image_size, digits, base / "standin.weights.h5",
                                 epochs=args.pretrain_epochs)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        row = one_seed(args, seed, base, weights_file, dataset)
        rows.append(row)
        print(f"seed {seed} at {args.image_size} px, {args.epochs}+{args.fine_tune_epochs} epochs, views {args.views}: "
              f"plain {row['plain_wall']:.1f} s (frozen {row['plain_frozen_wall']:.1f} + fine-tune "
              f"{row['plain_fine_wall']:.1f}), TL Studio {row['tl_wall']:.1f} s (frozen {row['tl_frozen_wall']:.1f} + "
              f"fine-tune {row['tl_fine_wall']:.1f}); ratio TL/plain {row['tl_wall'] / row['plain_wall']:.2f} "
              f"(frozen {row['tl_frozen_wall'] / row['plain_frozen_wall']:.2f}, fine-tune "
              f"{row['tl_fine_wall'] / row['plain_fine_wall']:.2f}); test accuracy plain "
              f"{row['plain_frozen_accuracy']:.1%} / {row['plain_fine_accuracy']:.1%}, TL Studio "
              f"{row['tl_frozen_accuracy']:.1%} / {row['tl_fine_accuracy']:.1%} (frozen / fine-tuned); difference "
              f"{100 * (row['tl_fine_accuracy'] - row['plain_fine_accuracy']):+.1f} points", flush=True)
    if len(rows) > 1:
        ratio = statistics.fmean(row["tl_wall"] / row["plain_wall"] for row in rows)
        points = statistics.fmean(100 * (row["tl_fine_accuracy"] - row["plain_fine_accuracy"]) for row in rows)
        print(f"mean over {len(rows)} seeds: ratio {ratio:.2f}, accuracy difference {points:+.1f} points")
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} (ratios on a busy machine are noisy)")
    if args.keep:
        print(f"folders kept in {base}")
    else:
        import shutil

        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
