"""A transfer-learning task that runs offline: a base pretrained here on half the built-in digits, the task the other.

ImageNet weights cannot be downloaded on these machines, and a random base makes a poor test of accuracy: its
features are noise that a head fits differently on every run (plain augmented `fit` on a random VGG16 swung 10-13
points between its best and last epochs). So `--standin` in `bench/frozen_phase.py` pretrains the backbone on every
other image of each digit class and makes the task dataset of the rest, which the base has never seen: features that
fit the task, as ImageNet's fit a user's photos. (Pretrained on digits 0-4 and moved to 5-9, a MobileNetV2 at 32 px
gave a head only 34-38 %: too little data to learn features that carry over to other classes.) A STAND-IN for a real
pretrained base, never shipped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["STANDIN_EPOCHS", "STANDIN_LEARNING_RATE", "TASK_DATASET", "make_task_dataset", "pretrain_base",
           "train_standin_base"]

TASK_DATASET = "digits-unseen-half"
# THE stand-in recipe's settings, the same for the test suite (tests/conftest.py standin_weights_master) and every
# benchmark (`pretrain_base`; `--pretrain-epochs` overrides the epochs for one bench run): 2 epochs at 2e-3 is
# ~35-45 s on 2 busy cores and gives the tests' shared run >= 85 % on 3 classes after one epoch of the head. (Bench
# figures dated before 2026-12-08 in bench/README.md were measured with 5 epochs at 1e-3.)
STANDIN_EPOCHS = 2
STANDIN_LEARNING_RATE = 2e-3


def _halves(digits: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(pretraining items, task items): every other image of each class, in file order."""
    pretrain, task = [], []
    for folder in sorted(path for path in digits.iterdir() if path.is_dir()):
        for index, image in enumerate(sorted(folder.glob("*.png"))):
            (task if index % 2 else pretrain).append((f"{folder.name}/{image.name}", int(folder.name)))
    return pretrain, task


def make_task_dataset(digits: Path, data_root: Path) -> str:
    """Copy the task's half of the built-in digits into the data root (class folders); returns the dataset's name."""
    for relative, _ in _halves(digits)[1]:
        target = data_root / TASK_DATASET / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copyfile(digits / relative, target)
    return TASK_DATASET


def train_standin_base(backbone_name: str, image_size: int, images, labels, *, epochs: int = STANDIN_EPOCHS,
                       learning_rate: float = STANDIN_LEARNING_RATE, seed: int = 0):
    """THE stand-in pretraining, for the tests and the benchmarks: `backbone_name`'s base from random weights under a
    10-way softmax, trained on (images, labels) (uint8, (n, size, size, 3); digit labels 0-9), then its BatchNorm
    moving statistics set from 512 of those images (momentum 0), as inference mode will use them: a few dozen steps
    leave them far from the batches' and the base would give one answer for every image. Returns (base, history)."""
    import keras
    import numpy as np

    from tlcore.backbones import catalog
    from tlcore.layers.preprocess import ImagePreprocess

    backbone = catalog.get(backbone_name)
    keras.utils.set_random_seed(seed)
    base = backbone.build_base(image_size, weights=None)
    batchnorm = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in batchnorm:
        layer.momentum = 0.9
    inputs = keras.Input((image_size, image_size, 3))
    preprocess = ImagePreprocess(backbone.preprocess)
    pooled = keras.layers.GlobalAveragePooling2D()(base(preprocess(inputs)))
    classifier = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(pooled))
    classifier.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = classifier.fit(images.astype("float32"), labels, batch_size=64, epochs=epochs, verbose=0).history
    if batchnorm:
        for layer in batchnorm:
            layer.momentum = 0.0
        sample = np.random.default_rng(seed).choice(len(images), min(512, len(images)), replace=False)
        base(preprocess(images[sample].astype("float32")), training=True)
    return base, history


def pretrain_base(backbone_name: str, image_size: int, digits: Path, weights_file: Path, epochs: int | None = None,
                  seed: int = 0) -> Path:
    """`train_standin_base` on the pretraining half of the digits; saves the base's weights (no top) to
    `weights_file` (ending .weights.h5), the file `TrainConfig(weights=...)` loads. `epochs` None: STANDIN_EPOCHS."""
    from tlcore.datasets.pipeline import load_arrays

    epochs = STANDIN_EPOCHS if epochs is None else epochs
    items = _halves(digits)[0]
    images, labels = load_arrays(digits, items, image_size)
    base, history = train_standin_base(backbone_name, image_size, images, labels, epochs=epochs, seed=seed)
    base.save_weights(weights_file)
    print(f"stand-in base: {backbone_name} @ {image_size}px trained {epochs} epochs on half the digits "
          f"({len(items)} images, training accuracy {history['accuracy'][-1]:.1%}); the task is the other half",
          flush=True)
    return weights_file
