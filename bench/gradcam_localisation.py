"""Grad-CAM localisation: does the heat sit on the object? Built-in digits (8×8, enlarged to 16 px) pasted at
random places on a 64 px noisy canvas; a small CNN learns which digit it is; for each held-out image the share of
heat inside the digit's box is divided by the box's share of the canvas (1/16). 1 = no better than spreading heat
evenly; the test (tests/unit/inference/test_gradcam_localisation.py) asks for ≥ 2 on average.

Compared side by side on the same model: the map the app explains now (the deepest map at least 7×7: 8×8 here) and
the one it explained before issue 24 (the deepest at least 4×4: 4×4 here), plus gradient × input on the pixels.

Run: `.venv/bin/python bench/gradcam_localisation.py [--epochs 8] [--seed 0]`. About a minute on 2 busy cores.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._localisation import CANVAS, heat_ratio, localisation_task, small_cnn  # noqa: E402

CLASSES = (0, 1, 2, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import keras
    from sklearn.datasets import load_digits

    from tlcore.inference import gradcam

    data = load_digits()
    keep = np.isin(data.target, CLASSES)
    ink = (255 - np.round(data.images[keep] / 16.0 * 255.0)).astype(np.uint8)
    labels_all = data.target[keep]
    order = np.random.default_rng(args.seed).permutation(len(ink))
    cut = int(0.75 * len(ink))  # split by digit: no held-out digit was seen in training, anywhere
    fit, held = order[:cut], order[cut:]
    copies = 3  # each training digit at three random places
    train_images, train_labels, _ = localisation_task(np.concatenate([ink[fit]] * copies),
                                                      np.concatenate([labels_all[fit]] * copies), args.seed)
    images, labels, boxes = localisation_task(ink[held], labels_all[held], args.seed + 1)
    keras.utils.set_random_seed(args.seed)
    model = small_cnn(len(CLASSES))
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(train_images.astype("float32"), train_labels, epochs=args.epochs, batch_size=32, verbose=0)
    accuracy = float((model.predict(images.astype("float32"), verbose=0).argmax(1) == labels).mean())
    print(f"{len(train_images)} training canvases ({copies} per digit), {len(images)} held-out canvases of unseen "
          f"digits, {CANVAS} px, {len(CLASSES)} classes; held-out accuracy {accuracy:.1%} (chance "
          f"{1 / len(CLASSES):.0%})")
    now = gradcam.Explainer(model)
    gradcam.MIN_MAP_SIZE = 4
    before = gradcam.Explainer(model)
    gradcam.MIN_MAP_SIZE = CANVAS + 1  # no map this fine: gradient × input
    pixels = gradcam.Explainer(model)
    gradcam.MIN_MAP_SIZE = 7
    held = range(len(images))
    for name, explainer in (("now: deepest map ≥ 7×7", now), ("before: deepest map ≥ 4×4", before),
                            ("gradient × input", pixels)):
        ratios = np.array([heat_ratio(explainer.explain(images[i]).heatmap, boxes[i]) for i in held])
        print(f"{name:<28} layer {explainer.layer_name:<10} heat in box / box share: mean {ratios.mean():.2f}, "
              f"median {np.median(ratios):.2f}, share of images ≥ 2: {(ratios >= 2).mean():.0%}")


if __name__ == "__main__":
    main()
