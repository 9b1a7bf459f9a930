""""Show me the code": a plain Keras script that trains what a run (or the Train form) trains, every phase of it.

data → inputs and augmentation → preprocessing → base → freeze → head → compile → fit, then each later phase
(fine-tuning, the stages of gradual unfreezing: unfreeze, compile at its rate, fit on) and save, each step written as
`build_model`, `set_freeze` and `training.fit` do it: every augmentation layer with its settings, the run's own split
(read from split.json beside the script), the same layer names, seed and construction order, so the same seed gives
the same initial weights and the same first epoch. It is plain Keras: Keras's own layers only, as in the portable
export (`tlcore.inference.portable`). TL Studio's preprocessing layer is written as the standard layers that compute
the lab's `preprocess_input` (`Rescaling`, `Normalization`, a fixed `Dense` for the BGR "caffe" mode), and its
inference-mode wrapper as the lab's `base_model(x, training=False)` plus the one line Keras 3 needs to keep that
flag during `fit` (and a note on why TL Studio wraps the base). It needs only TensorFlow (Keras 3), NumPy and Pillow,
so a student can run it outside TL Studio and map every control of the Train and Fine-tune pages to one of its
lines; its model.keras loads in any Keras, without tlcore.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tlcore.backbones import catalog as backbones
from tlcore.backbones import freeze_blocks
from tlcore.backbones.custom import CustomBackbone
from tlcore.backbones.registry import Backbone
from tlcore.backbones.small_cnn import SmallCNNBackbone
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.datasets.split import Split
from tlcore.modeling.model import (
    BASE_LAYER_NAME,
    SCRATCH_BATCHNORM_MOMENTUM,
    head_units,
    is_pretrained,
    uses_one_hot_labels,
)

__all__ = [
    "SCRIPT_NAME", "SPLIT_FILE_NAME", "Phase", "phase_plan", "preprocess_lines", "base_call_lines", "keras_script", "script_sections",
    "script_files", "write_script", "script_zip",
]

SCRIPT_NAME = "train.py"
SPLIT_FILE_NAME = "split.json"  # the run folder's split.json format (tlcore.datasets.split.Split.to_dict)

_POOLING = {"avg": "GlobalAveragePooling2D", "max": "GlobalMaxPooling2D", "flatten": "Flatten"}
_OPTIMIZER = {
    "adam": "keras.optimizers.Adam(learning_rate)",
    "adamw": "keras.optimizers.AdamW(learning_rate, weight_decay={weight_decay!r})",
    "sgd": "keras.optimizers.SGD(learning_rate, momentum={momentum!r})",
    "rmsprop": "keras.optimizers.RMSprop(learning_rate)",
}
# Keras applications that scale their own input when asked (tlcore.backbones.registry.Backbone.build_base).
_FAMILIES_WITH_PREPROCESSING_FLAG = {"EfficientNetV2", "MobileNetV3", "ConvNeXt"}
_PLATEAU = "factor=0.5, patience=2"  # tlcore.training.fit.PLATEAU_FACTOR / PLATEAU_PATIENCE
_IN_MEMORY_CACHE_LIMIT = "2 * 1024**3"  # tlcore.datasets.pipeline caches decoded images up to this many bytes

_INFERENCE_MODE_NOTE = """# The lab writes `x = base_model(x, training=False)` so BatchNorm keeps its ImageNet statistics. In Keras 3 `fit`
# hands its own training=True to every layer of a nested model (keras/src/models/functional.py, `operation_fn`), so
# once base layers are unfrozen BatchNorm would move its statistics anyway. TL Studio therefore wraps the base in a
# layer that calls it with training=False always; plain Keras gets the same by giving the base's own `call` that
# flag. Unfrozen layers (BatchNorm's gamma and beta too) still train, and model.keras stays plain Keras."""


def keras_script(config: TrainConfig, data_dir: Path | str, class_count: int,
                 earlier: Sequence[TrainConfig] = ()) -> str:
    """The whole script as text. `data_dir` is the dataset folder (one sub-folder per class); the script reads the
    split from `split.json` beside it (see `write_script`). `earlier`: the configs of the phases the run continues
    (its parent runs, first phase first), so a fine-tuned run's script trains every phase, not only its last."""
    return "\n\n\n".join(script_sections(config, data_dir, class_count, earlier=earlier)) + "\n"


@dataclass(frozen=True)
class Phase:
    """One phase of a run's training: its settings, and whether TL Studio starts a job for it (a job starts from the
    seed with fresh shuffling; the stages of gradual unfreezing are phases of one job)."""

    config: TrainConfig
    new_job: bool
    stage: int | None = None


def phase_plan(config: TrainConfig, earlier: Sequence[TrainConfig] = ()) -> list[Phase]:
    """Every phase the run trained, in order: its parents' phases, then its own; gradual unfreezing expanded into its
    stages exactly as `tlcore.training.unfreezing` runs them (top blocks first, the rate × lr_factor per stage)."""
    phases = []
    for phase_config in [*earlier, config]:
        plan = phase_config.gradual_unfreezing
        if not plan:
            phases.append(Phase(phase_config, True))
            continue
        blocks = freeze_blocks.blocks(phase_config.backbone)
        for stage in range(1, plan.stages + 1):
            fine_tune_at = blocks[max(0, len(blocks) - stage * plan.blocks_per_stage)].first_layer
            stage_config = replace(phase_config, fine_tune_at=fine_tune_at, epochs=plan.epochs_per_stage,
                                   learning_rate=phase_config.learning_rate * plan.lr_factor ** (stage - 1),
                                   gradual_unfreezing=None)
            phases.append(Phase(stage_config, stage == 1, stage))
    return phases


def script_sections(config: TrainConfig, data_dir: Path | str, class_count: int,
                    here: str = "Path(__file__).resolve().parent", earlier: Sequence[TrainConfig] = ()) -> list[str]:
    """The script's sections in order (header, data, inputs, base, freeze, head, compile, fit, then one per
    later phase, then save and measure): the notebook makes a cell of each. `here` is the expression for the folder
    split.json and the outputs live in; `earlier` the configs of the phases before this one (see `phase_plan`)."""
    phases = phase_plan(config, earlier)
    first = phases[0].config
    backbone = backbones.get(first.backbone)
    sections = [_header(config, first, backbone, data_dir, class_count, len(phases)).replace(
                    "Path(__file__).resolve().parent", here),
                _data(first, class_count), _inputs(first), _base(first, backbone), _freeze(first),
                _head(first, backbone, class_count), _compile(first, class_count), _fit(first, phases)]
    epochs_before = first.epochs
    for number, phase in enumerate(phases[1:], start=2):
        sections.append(_later_phase(phase, number, epochs_before, class_count))
        epochs_before += phase.config.epochs
    sections.append(_save_and_measure())
    return [section.strip("\n") for section in sections if section]


def script_files(config: TrainConfig, data_dir: Path | str, split: Split,
                 earlier: Sequence[TrainConfig] = ()) -> dict[str, str]:
    """{file name: text}: the script and the split it trains on."""
    return {SCRIPT_NAME: keras_script(config, data_dir, len(split.class_names), earlier),
            SPLIT_FILE_NAME: json.dumps(split.to_dict(), indent=1)}


def write_script(folder: Path, config: TrainConfig, data_dir: Path | str, split: Split,
                 earlier: Sequence[TrainConfig] = ()) -> Path:
    """Write the script and its split.json into `folder`; returns the script's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in script_files(config, data_dir, split, earlier).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / SCRIPT_NAME


def script_zip(config: TrainConfig, data_dir: Path | str, split: Split, earlier: Sequence[TrainConfig] = ()) -> bytes:
    """The script and its split.json as one zip, for a download button."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, text in script_files(config, data_dir, split, earlier).items():
            bundle.writestr(name, text)
    return buffer.getvalue()


# --- the sections --------------------------------------------------------------------------------------------------
def _header(config: TrainConfig, first: TrainConfig, backbone: Backbone, data_dir: Path | str, class_count: int,
            phase_count: int) -> str:
    precision = ""
    if config.mixed_precision:
        precision = ('\nif tf.config.list_physical_devices("GPU"):  # mixed precision is a GPU feature; the head stays '
                     'float32\n    keras.mixed_precision.set_global_policy("mixed_float16")')
    notes = ""
    if first.is_fine_tune:  # the parent runs are gone: the phases before cannot be written out
        notes = (f"\nNot written out: the phases before this one (run {first.parent_run}, not on this server): TL "
                 "Studio starts from that run's model.keras; this script starts from the base.")
    phases = f" in {phase_count} phases (the frozen phase, then fine-tuning)" if phase_count > 1 else ""
    return f'''"""Transfer learning with {backbone.name}: the same training as the TL Studio run{phases}, in plain Keras.

Reads {SPLIT_FILE_NAME} beside this file (the run's train / validation / test files); writes model.keras and
history.csv beside it. Needs TensorFlow (Keras 3), NumPy and Pillow.{notes}
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

HERE = Path(__file__).resolve().parent
DATA_DIR = Path({str(data_dir)!r})  # one sub-folder per class
SPLIT = json.loads((HERE / "{SPLIT_FILE_NAME}").read_text())  # [relative path, class index] per image
IMAGE_SIZE = {first.image_size}
BATCH_SIZE = {first.batch_size}  # per replica: with several GPUs, build and compile in tf.distribute.MirroredStrategy().scope()
EPOCHS = {first.epochs}  # of the first phase
NUM_CLASSES = {class_count}
SEED = {first.split.seed}
assert len(SPLIT["class_names"]) == NUM_CLASSES, "{SPLIT_FILE_NAME} belongs to another dataset"
keras.utils.set_random_seed(SEED)  # the app's seed: same initial weights, shuffling, augmentation and dropout{precision}'''


def _data(config: TrainConfig, class_count: int) -> str:
    if head_units(class_count) == 1:
        label_dtype, label = '"float32"', "tf.reshape(label, (1,))  # one sigmoid unit: float labels of shape (1,)"
    elif uses_one_hot_labels(config, class_count):
        label_dtype, label = '"int32"', "tf.one_hot(label, NUM_CLASSES)  # label smoothing needs one-hot labels"
    else:
        label_dtype, label = '"int32"', "label"
    return f'''# 1. Data: the split's files, decoded as TL Studio decodes them, shuffled with the same seed.
def load_image(path):
    """RGB uint8 pixels at IMAGE_SIZE: 16-bit greyscale scaled down, transparency on white, bilinear squash-resize."""
    with Image.open(path) as image:
        image.load()
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0, 0, 255).astype(np.uint8), mode="L")
    if image.mode in ("P", "RGBA", "LA"):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    image = image.convert("RGB")
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def image_dataset(items, shuffle=False):
    """Batches of (uint8 images, labels) from [relative path, class index] pairs."""
    paths = [str(DATA_DIR / path) for path, _ in items]
    labels = np.asarray([label for _, label in items], dtype={label_dtype})
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels))

    def decode(path, label):
        image = tf.numpy_function(lambda p: load_image(p.decode()), [path], tf.uint8, stateful=False)
        image.set_shape((IMAGE_SIZE, IMAGE_SIZE, 3))
        return image, {label}

    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if len(items) * IMAGE_SIZE * IMAGE_SIZE * 3 <= {_IN_MEMORY_CACHE_LIMIT}:  # decoded once, kept in memory
        dataset = dataset.cache()
    if shuffle:
        dataset = dataset.shuffle(min(len(items), 10_000), seed=SEED, reshuffle_each_iteration=True)
    return dataset.batch(BATCH_SIZE).prefetch(tf.data.AUTOTUNE)


train_ds = image_dataset(SPLIT["train"], shuffle=True)
val_ds = image_dataset(SPLIT["val"]) if SPLIT["val"] else None
test_ds = image_dataset(SPLIT["test"] or SPLIT["val"])  # measured on the test split, or validation without one'''


def _augmentation_steps(config: TrainConfig) -> list[str]:
    """The layers `tlcore.datasets.augmentation.augmentation_layers` builds, in its order and with its arguments."""
    settings = config.augmentation
    steps = []
    if settings.flip != "none":
        steps.append(f'keras.layers.RandomFlip("{settings.flip}"),')
    if settings.rotation > 0:
        steps.append(f"keras.layers.RandomRotation({settings.rotation!r}),  # ± this fraction of a full turn")
    if settings.zoom > 0:
        steps.append(f"keras.layers.RandomZoom({settings.zoom!r}),")
    if settings.translation > 0:
        steps.append(f"keras.layers.RandomTranslation({settings.translation!r}, {settings.translation!r}),")
    if settings.contrast > 0:
        steps.append(f"keras.layers.RandomContrast({settings.contrast!r}, value_range=(0, 255)),")
    if settings.brightness > 0:
        steps.append(f"keras.layers.RandomBrightness({settings.brightness!r}, value_range=(0, 255)),")
    if settings.crop > 0:
        kept = max(1, round(config.image_size * (1 - settings.crop)))
        steps.append(f"keras.layers.RandomCrop({kept}, {kept}),  # cut up to {settings.crop:g} off, then scale back:")
        steps.append("keras.layers.Resizing(IMAGE_SIZE, IMAGE_SIZE),  # at inference both leave the image as it is")
    return steps


def _inputs(config: TrainConfig) -> str:
    lines = ["# 2. Inputs: raw RGB pixels 0..255, augmented while training (built before the base, as the app does, so",
             "# the same seed gives every layer the same random state).",
             'inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name="image")']
    if config.augment:
        lines += ["augmentation = keras.Sequential([  # active only while training",
                  *(f"    {step}" for step in _augmentation_steps(config)),
                  '], name="augmentation")',
                  "x = augmentation(inputs)"]
    else:
        lines.append("x = inputs  # no augmentation")
    return "\n".join(lines)


def _base(config: TrainConfig, backbone: Backbone) -> str:
    x_preprocess = _preprocess_line(backbone)
    if isinstance(backbone, SmallCNNBackbone):  # your own small CNN, layer by layer, from random weights
        lines = [f"# 3. The base: {backbone.name}, your own small CNN (convolution blocks, trained from scratch).",
                 x_preprocess, *backbone.keras_code()]
    elif isinstance(backbone, CustomBackbone):  # its saved base.keras, as CustomBackbone.build_base loads it
        pretrained = config.weights != WEIGHTS_RANDOM
        lines = [f"# 3. The base: {backbone.name}, cut from {backbone.source or 'a model'} at "
                 f"{backbone.cut_at or 'its last layer'} "
                 f"({'its own trained weights' if pretrained else 'the same layers, freshly initialised'}).",
                 x_preprocess,
                 f"saved_base = keras.saving.load_model({str(backbone.saved_base)!r}, compile=False)"]
        if pretrained and backbone.input_size == config.image_size:
            lines.append("base_model = saved_base")
        else:
            lines.append("base_model = keras.models.clone_model(saved_base, input_tensors=keras.Input((IMAGE_SIZE, "
                         "IMAGE_SIZE, 3)))")
            if pretrained:
                lines.append("base_model.set_weights(saved_base.get_weights())")
    else:
        weights = {WEIGHTS_RANDOM: None}.get(config.weights, config.weights)  # "imagenet" or a weights file
        note = {None: "random initialisation, no pretrained weights", WEIGHTS_IMAGENET: "pretrained on ImageNet"}.get(
            weights, "weights from a file")
        flag = ", include_preprocessing=True" if backbone.preprocess == "none" and \
            backbone.family in _FAMILIES_WITH_PREPROCESSING_FLAG else ""
        lines = [f"# 3. The base without its ImageNet classifier ({note}).", x_preprocess,
                 f"base_model = keras.applications.{backbone.name}(",
                 f"    input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3), include_top=False, weights={weights!r}{flag})"]
    lines.append(f'base_model.name = "{BASE_LAYER_NAME}"')
    return "\n".join(lines)


def _preprocess_line(backbone: Backbone) -> str:
    """The lab's preprocessing, as Keras's own code inside the model (see `preprocess_lines`)."""
    lines = preprocess_lines(backbone.preprocess, backbone.module)
    if backbone.preprocess == "none":
        return f"# No preprocessing: {backbone.name} takes raw 0..255 pixels and scales them itself."
    return "\n".join(["# Pixels scaled as the base was trained, inside the model: model.keras (and every export of it) takes",
                      "# raw 0..255 pixels, as TL Studio's models do.", *lines])


def preprocess_lines(mode: str, module: str | None = None) -> list[str]:
    """Plain-Keras lines that turn `x` (raw 0..255 pixels) into what TL Studio's `ImagePreprocess(mode)` gives: the
    lab's `keras.applications.<module>.preprocess_input(x)` (Keras 3 records it as operations of the functional model;
    they save and load in safe mode, with no weights), or `Rescaling(1 / 255)` for "scale01", nothing for "none"."""
    if mode == "none":
        return []
    if mode == "scale01":
        return ['x = keras.layers.Rescaling(1 / 255.0, name="preprocess")(x)  # the lab\'s Rescaling(1./255): '
                "pixels to [0, 1]"]
    if module:
        return [f"x = keras.applications.{module}.preprocess_input(x)  # the lab's idiom: {_MODE_NOTES[mode]}"]
    return [f'x = keras.applications.imagenet_utils.preprocess_input(x, mode="{mode}")  # {_MODE_NOTES[mode]}']


def base_call_lines() -> list[str]:
    """The pretrained base called as the lab calls it, with the line that keeps it in inference mode during `fit`
    in Keras 3 (what TL Studio's `InferenceModeBase` does), and the note saying why."""
    return [_INFERENCE_MODE_NOTE,
            "inference_call = base_model.call",
            "base_model.call = lambda inputs, training=None, **kwargs: inference_call(inputs, training=False, **kwargs)",
            "x = base_model(x, training=False)  # the lab's idiom, kept during fit by the line above"]


_MODE_NOTES = {"tf": "pixels to [-1, 1]", "torch": "pixels to [0, 1], then ImageNet mean and std per channel",
               "caffe": "RGB to BGR, minus the ImageNet mean per channel"}


def _freeze(config: TrainConfig) -> str:
    if config.fine_tune_at is None:
        return '''# 4. Freeze the whole base: only the new head trains (feature extraction).
base_model.trainable = False'''
    lines = f'''# 4. Freeze the first {config.fine_tune_at} layers of the base; the layers from there on train.
base_model.trainable = True
for layer in base_model.layers[:{config.fine_tune_at}]:
    layer.trainable = False
for layer in base_model.layers[{config.fine_tune_at}:]:  # each one: base.trainable does not always reach them
    layer.trainable = True'''
    if not is_pretrained(config):
        lines += f'''
    if isinstance(layer, keras.layers.BatchNormalization):  # random weights: BatchNorm learns its statistics,
        layer.momentum = {SCRATCH_BATCHNORM_MOMENTUM}  # with a faster-moving average suited to short runs'''
    return lines


def _head(config: TrainConfig, backbone: Backbone, class_count: int) -> str:
    units = head_units(class_count)
    activation = "sigmoid" if units == 1 else "softmax"
    if is_pretrained(config):
        base_call = base_call_lines()
    else:
        base_call = ["x = base_model(x)  # from random weights the base trains as the model does: BatchNorm learns"]
    lines = ["# 5. The base in the model, and a new head on top: pooling, dropout and the classifier (probabilities).",
             *base_call,
             f'x = keras.layers.{_POOLING[config.pooling]}(name="pool")(x)']
    if config.hidden_units:
        lines.append(f'x = keras.layers.Dense({config.hidden_units}, activation="relu", name="hidden")(x)')
    lines += [f'x = keras.layers.Dropout({config.dropout!r}, name="dropout")(x)',
              f'outputs = keras.layers.Dense({units}, activation="{activation}", dtype="float32", name="head")(x)',
              f'model = keras.Model(inputs, outputs, name="tlstudio_{backbone.name.lower()}")',
              "model.summary(show_trainable=True)"]
    return "\n".join(lines)


def _compile(config: TrainConfig, class_count: int, epochs: str = "EPOCHS", title: str =
             "# 6. Compile (again after every change to `trainable`).") -> str:
    smoothing = f"label_smoothing={config.label_smoothing!r}" if config.label_smoothing else ""
    if head_units(class_count) == 1:
        loss = f"keras.losses.BinaryCrossentropy({smoothing})"
    elif uses_one_hot_labels(config, class_count):
        loss = f"keras.losses.CategoricalCrossentropy({smoothing})"
    else:
        loss = "keras.losses.SparseCategoricalCrossentropy()"
    rate = repr(config.learning_rate)
    if config.lr_schedule == "cosine":
        rate = (f"keras.optimizers.schedules.CosineDecay({config.learning_rate!r}, "
                f"decay_steps={epochs} * steps_per_epoch)")
    optimizer = _OPTIMIZER[config.optimizer].format(weight_decay=config.weight_decay, momentum=config.momentum)
    return f'''{title}
steps_per_epoch = -(-len(SPLIT["train"]) // BATCH_SIZE)
learning_rate = {rate}
model.compile(optimizer={optimizer},
              loss={loss}, metrics=["accuracy"],
              jit_compile={config.xla!r})  # XLA: the Train page's switch, a GPU feature'''


def _callback_lines(config: TrainConfig, append: bool) -> list[str]:
    csv = 'keras.callbacks.CSVLogger(str(HERE / "history.csv")' + (", append=True)" if append else ")")
    callbacks = [csv]
    if config.lr_schedule == "plateau":
        callbacks.append(f"keras.callbacks.ReduceLROnPlateau(monitor=monitor, {_PLATEAU}, "
                         f"min_lr={config.learning_rate / 100!r})")
    if config.early_stopping_patience:
        callbacks.append(f"keras.callbacks.EarlyStopping(monitor=monitor, patience={config.early_stopping_patience}, "
                         f"restore_best_weights={config.restore_best})")
    return ["callbacks = [", *(f"    {callback}," for callback in callbacks), "]"]


def _class_weight_lines(config: TrainConfig) -> tuple[list[str], str]:
    if not config.class_weights:
        return [], ""
    return (["# Class weights from the training split, scikit-learn's 'balanced': n / (classes present × count).",
             'train_labels = np.asarray([label for _, label in SPLIT["train"]])',
             "present, counts = np.unique(train_labels, return_counts=True)",
             "class_weight = {label: 1.0 for label in range(NUM_CLASSES)}",
             "class_weight.update({int(label): len(train_labels) / (len(present) * int(count))",
             "                     for label, count in zip(present, counts)})"], ", class_weight=class_weight")


def _fit(config: TrainConfig, phases: Sequence[Phase] = ()) -> str:
    which = " (phase 1 of {})".format(len(phases)) if len(phases) > 1 else ""
    lines = [f"# 7. Train{which}.",
             'monitor = "val_loss" if val_ds is not None else "loss"',
             *_callback_lines(config, append=False),
             "try:  # TensorBoard logs need the tensorboard package (pip install tensorboard)",
             "    import tensorboard  # noqa: F401",
             '    callbacks.append(keras.callbacks.TensorBoard(str(HERE / "tensorboard")))',
             "except ImportError:",
             '    print("tensorboard is not installed: no TensorBoard logs this time")']
    weight_lines, class_weight = _class_weight_lines(config)
    lines += weight_lines
    lines += [f"history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS, "
              f"callbacks=callbacks{class_weight})",
              'losses = list(history.history["loss"])  # every epoch of every phase']
    return "\n".join(lines)


def _later_phase(phase: Phase, number: int, epochs_before: int, class_count: int) -> str:
    """A fine-tuning phase (or a gradual stage): unfreeze, compile at its rate, train on from the epochs before."""
    config = phase.config
    what = f"stage {phase.stage} of gradual unfreezing" if phase.stage else "fine-tuning"
    where = f"from base layer {config.fine_tune_at}" if config.fine_tune_at is not None else "nothing (base frozen)"
    lines = [f"# Phase {number}: {what}: unfreeze {where}, learning rate {config.learning_rate:g}, "
             f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}."]
    if phase.new_job:
        lines += ["# TL Studio trains each phase as a job of its own, from the previous phase's model: it starts from",
                  "# the seed again, with the training files shuffled afresh.",
                  "keras.utils.set_random_seed(SEED)",
                  'train_ds = image_dataset(SPLIT["train"], shuffle=True)']
    freeze = _freeze(config).split("\n", 1)[1]  # without its "4." title
    lines.append(freeze)
    lines.append(_compile(config, class_count, epochs=str(config.epochs),
                          title="# Compile again: Keras only sees the new trainable flags after compiling."))
    lines += _callback_lines(config, append=True)
    weight_lines, class_weight = _class_weight_lines(config)
    lines += weight_lines
    end = epochs_before + config.epochs
    lines += [f"history = model.fit(train_ds, validation_data=val_ds, epochs={end}, initial_epoch={epochs_before}, "
              f"callbacks=callbacks{class_weight})",
              'losses += history.history["loss"]']
    return "\n".join(lines)


def _save_and_measure() -> str:
    return "\n".join(["# 8. Save, and measure on the held-out images.",
                      'model.save(HERE / "model.keras")',
                      "print(model.evaluate(test_ds, return_dict=True))"])
