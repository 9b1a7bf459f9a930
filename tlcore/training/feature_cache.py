"""Fast frozen phase: with the whole base frozen and no augmentation, the base gives the same pooled features every
epoch, so they are computed once, kept on disk (tf.data snapshot under the studio cache) and only the head trains.

With augmentation on (`augmented_views` K > 0), the features of K augmented views of every training image are
computed once (the model's own augmentation layers, as in Create ML) and each epoch draws one view per image: an
approximation of augmenting every epoch (K different views instead of one new one per epoch), which the Train page
says. Validation images are never augmented, as in plain training.
That holds during plain `fit` too because a pretrained base runs in inference mode (`tlcore.layers.inference_mode`:
BatchNorm on its moving statistics, Dropout off) and a frozen random base's BatchNorm is frozen; only a random base
with Dropout layers (EfficientNet) would drop features during plain training, so it takes the plain path.

The head trained here is the full model's own head (the same layer objects), so the run's model.keras is the base
plus the trained head, exactly as the plain path would leave it. The feature datasets keep the plain path's order and
shuffle the same way with the same seed, so both paths give the same results within float noise.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tlcore.backbones import catalog
from tlcore.backbones.catalog import layer_table
from tlcore.backbones.fingerprint import EXTRACTION_VERSION, file_fingerprint, weights_fingerprint
from tlcore.config.training import WEIGHTS_RANDOM, TrainConfig
from tlcore.datasets.health import Report, throttled
from tlcore.datasets.pipeline import make_dataset
from tlcore.modeling.model import is_pretrained
from tlcore.storage.paths import cache_root
from tlcore.training.fast_estimate import suggested_views, val_per_train

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

__all__ = [
    "FEATURE_LAYER", "AUGMENTATION_LAYER", "SHUFFLE_BUFFER_LIMIT", "applies", "views_of", "feature_key",
    "features_folder", "cached_features", "draw_views", "feature_extractor", "head_model",
    "fit_head_on_cached_features", "fit_head_on_features"
]

FEATURE_LAYER = "pool"  # the model's pooling layer: everything before it is the frozen base, after it the head
AUGMENTATION_LAYER = "augmentation"  # tlcore.datasets.augmentation_layers: the layers the Dataset page previews
_FEATURE_BATCH_PIXELS = 128 * 96 * 96  # images × pixels per batch while computing features...
_FEATURE_BATCH_MIN = 32  # ...and at least this many images
SHUFFLE_BUFFER_LIMIT = 10_000  # as tlcore.datasets.pipeline, so both paths see the same order


def applies(config: TrainConfig) -> bool:
    """The base cannot change: exact without augmentation, an approximation with K augmented views (K > 0)."""
    frozen = config.fine_tune_at is None and not config.is_fine_tune
    augmentation_ok = not config.augment or views_of(config) > 0
    return frozen and augmentation_ok and (is_pretrained(config) or not _has_dropout(config.backbone))


def views_of(config: TrainConfig) -> int:
    """Augmented views computed per training image: 0 without augmentation (the images as they are) or when every
    epoch augments; `augmented_views` None (runs saved before it defaulted to 0) the automatic choice of then."""
    if not config.augment:
        return 0
    views = config.augmented_views
    if views is None:
        return suggested_views(config.epochs, val_per_train(config.split))
    return int(views)


def _has_dropout(backbone_name: str) -> bool:
    return any(row.kind == "Dropout" for row in layer_table(backbone_name).layers)


def feature_key(config: TrainConfig, root: Path, split_name: str, items: list[tuple[str, int]]) -> str:
    """Cache key: the content of everything the features depend on.

    The split's files (name, label, size, modification time), the backbone, image size, its preprocessing, pooling,
    the code version of the extraction, and the weights by content (`backbones.weights_fingerprint`: the hash of
    the file Keras loads, "imagenet" download, uploaded file, a custom backbone's own `base.keras` or a KerasHub
    preset folder; a random base by its seed). Replacing a weights file therefore never reuses old features.
    """
    files = []
    for relative, label in items:
        stat = (root / relative).stat()
        files.append((relative, label, stat.st_size, stat.st_mtime_ns))
    backbone = catalog.get(config.backbone)
    weights = None if config.weights == WEIGHTS_RANDOM else config.weights
    identity = {"files": files, "split": split_name, "backbone": config.backbone, "image_size": config.image_size,
                "weights": weights_fingerprint(backbone, config.image_size, weights, config.split.seed),
                "preprocess": backbone.preprocess, "pooling": getattr(config, "pooling", "avg"),
                "extraction": EXTRACTION_VERSION}
    own_file = backbone.own_weights_file
    if own_file is not None and own_file.is_file():  # its layers live there too, even for a random redraw
        identity["backbone_file"] = file_fingerprint(own_file)
    if views_of(config) and split_name == "train":
        identity["augmented_views"] = [views_of(config), config.augmentation.to_dict(), config.split.seed]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]
    return f"{config.backbone.lower()}-{config.image_size}-{split_name}-{digest}"


def features_folder() -> Path:
    folder = cache_root() / "features"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def cached_features(model: "keras.Model", images: "tf.data.Dataset", key: str, *, views: int = 0,
                    report: Report | None = None, total: int | None = None) -> "tf.data.Dataset":
    """Unbatched (pooled feature, label) pairs of `model`'s base for a batched (image, label) dataset, computed once.

    `views` > 0: each feature is a (views, features) stack, one row per augmented copy of the image made by the
    model's augmentation layers (as in training). `report(fraction, "computing features 640/2,000 images")` every
    few seconds while computing (`total`: the images in `images`, for the fraction).

    Written to a temporary folder and renamed into place, so a reader never sees a half-written cache and two jobs
    computing the same features at once both succeed (the second rename loses and its copy is dropped).
    """
    import tensorflow as tf

    target = features_folder() / key
    if not target.exists():
        features, labels = _compute_features(model, images, views, report, total)
        tmp = target.with_name(f".{key}.{os.getpid()}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tf.data.Dataset.from_tensor_slices((features, labels)).save(str(tmp))
        try:
            os.rename(tmp, target)
        except OSError:  # another job got there first with the same features
            shutil.rmtree(tmp, ignore_errors=True)
    return tf.data.Dataset.load(str(target)).cache()  # pooled features are small: read from disk once per job


def _compute_features(model, images, views: int, report: Report | None, total: int | None):
    """(features, labels) as arrays: one pass over the images (labels gathered on the way), or one per view.

    `predict` distributes over the replicas of the model's strategy; augmentation runs in the input pipeline with
    the model's own layers (Keras preprocessing layers work inside tf.data), so `predict` needs no training flag.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    size = images.element_spec[0].shape[1] or 224
    # Inference keeps no activations for a backward pass, so it takes larger batches than training, and the CPU's
    # convolutions run faster on them; capped by pixels so 224 px batches stay the training batch size.
    feature_batch = max(_FEATURE_BATCH_MIN, min(256, _FEATURE_BATCH_PIXELS // size ** 2))
    inputs = images.map(lambda image, label: image).unbatch().batch(feature_batch).prefetch(tf.data.AUTOTUNE)
    passes = max(1, views)
    send = throttled(report) if report is not None else None
    done = [0]
    grand_total = (total or 0) * passes
    what = f" of {views} augmented views" if views else ""

    class Progress(keras.callbacks.Callback):
        def on_predict_batch_end(self, batch, logs=None):
            outputs = (logs or {}).get("outputs")
            done[0] += int(outputs.shape[0]) if hasattr(outputs, "shape") else 0
            if send is not None and grand_total:
                send(min(1.0, done[0] / grand_total), f"computing features{what} {min(done[0], grand_total):,}/"
                     f"{grand_total:,} images")

    extractor = feature_extractor(model)
    callbacks = [Progress()]
    if not views:
        features = extractor.predict(inputs, verbose=0, callbacks=callbacks)
    else:
        augmentation = model.get_layer(AUGMENTATION_LAYER)
        augmented = inputs.map(lambda image: tf.cast(augmentation(tf.cast(image, tf.float32), training=True),
                                                     tf.float32), num_parallel_calls=tf.data.AUTOTUNE)
        features = np.stack([extractor.predict(augmented, verbose=0, callbacks=callbacks) for _ in range(views)],
                            axis=1)
    labels = np.concatenate(list(images.map(lambda image, label: label).as_numpy_iterator()))
    return features, labels


def draw_views(features: "tf.data.Dataset", views: int, seed: int) -> "tf.data.Dataset":
    """(view stack, label) pairs → (one view, label): a fresh draw each time the dataset is iterated (each epoch),
    the same sequence of draws for the same seed."""
    import tensorflow as tf

    draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip(features, draws).map(
        lambda example, draw: (tf.gather(example[0], tf.math.floormod(draw, views)), example[1]))


def feature_extractor(model: "keras.Model") -> "keras.Model":
    import keras

    return keras.Model(model.inputs, model.get_layer(FEATURE_LAYER).output, name="feature_extractor")


def head_model(model: "keras.Model") -> "keras.Model":
    """The layers after the pooling layer, applied to a features input: they share their weights with `model`."""
    import keras

    layers = model.layers
    pool = model.get_layer(FEATURE_LAYER)
    x = inputs = keras.Input(shape=tuple(pool.output.shape[1:]), name="features")
    for layer in layers[layers.index(pool) + 1:]:
        x = layer(x)
    head = keras.Model(inputs, x, name="head_on_features")
    head.compile_from_config(model.get_compile_config())  # the same optimizer, loss and metrics, fresh state
    return head


def fit_head_on_cached_features(model: "keras.Model", config: TrainConfig, root: Path, split, binary: bool, *,
                                batch_size: int | None = None, repeat: bool = False, report: Report | None = None,
                                **fit_kwargs) -> "keras.callbacks.History":
    """`model.fit` for a frozen base: the split's features once (or from the cache), then the head alone."""

    batch_size = batch_size or config.batch_size

    def images(items):  # in file order: the features are shuffled per epoch afterwards, as the plain path does
        return make_dataset(root, items, config.image_size, batch_size, binary) if items else None

    return fit_head_on_features(
        model, images(split.train), images(split.val), feature_key(config, root, "train", split.train),
        feature_key(config, root, "val", split.val), batch_size, config.split.seed, repeat=repeat,
        views=views_of(config), report=report, totals=(len(split.train), len(split.val)), **fit_kwargs)


def fit_head_on_features(model: "keras.Model", train_images: "tf.data.Dataset", val_images: "tf.data.Dataset | None",
                         train_key: str, val_key: str, batch_size: int, seed: int, repeat: bool = False, *,
                         views: int = 0, report: Report | None = None, totals: tuple[int, int] | None = None,
                         **fit_kwargs) -> "keras.callbacks.History":
    """Train `model`'s head on the cached pooled features of batched (image, label) datasets in file order.

    `views` > 0: the training features are K augmented views per image, and every epoch draws one per image.
    """
    import tensorflow as tf

    train_total, val_total = totals or (None, None)
    train = cached_features(model, train_images, train_key, views=views, report=report, total=train_total)
    count = int(train.cardinality())
    if views:
        train = draw_views(train, views, seed)
    train = train.shuffle(min(count, SHUFFLE_BUFFER_LIMIT), seed=seed, reshuffle_each_iteration=True)
    train = (train.repeat() if repeat else train).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    val = None
    if val_images is not None:
        val = cached_features(model, val_images, val_key, report=report, total=val_total)
        val = val.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    return head_model(model).fit(train, validation_data=val, **fit_kwargs)
