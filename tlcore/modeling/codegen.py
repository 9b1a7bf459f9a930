""""Show me the code": the plain Keras script equivalent to a TrainConfig, in the order the Keras guide teaches.

data → base → freeze → head → compile → fit. The script needs only Keras/TensorFlow (and scikit-learn for class
weights), so a student can run it outside TL Studio and map every control of the Train page to one of its lines.
"""

from __future__ import annotations

from pathlib import Path

from tlcore.backbones import catalog as backbones
from tlcore.config.training import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.modeling.model import head_units, is_pretrained, uses_one_hot_labels

__all__ = ["keras_script"]

_POOLING = {"avg": "GlobalAveragePooling2D()", "max": "GlobalMaxPooling2D()", "flatten": "Flatten()"}
_OPTIMIZER = {
    "adam": "keras.optimizers.Adam(learning_rate)",
    "adamw": "keras.optimizers.AdamW(learning_rate, weight_decay={weight_decay!r})",
    "sgd": "keras.optimizers.SGD(learning_rate, momentum={momentum!r})",
    "rmsprop": "keras.optimizers.RMSprop(learning_rate)",
}


def keras_script(config: TrainConfig, data_dir: Path | str, class_count: int) -> str:
    """The whole script as text. `data_dir` is the dataset folder (one sub-folder per class)."""
    sections = [_header(config, data_dir, class_count), _data(config, class_count), _base(config),
                _freeze(config), _head(config, class_count), _compile(config, class_count), _fit(config)]
    return "\n\n".join(section.strip("\n") for section in sections) + "\n"


def _header(config: TrainConfig, data_dir: Path | str, class_count: int) -> str:
    precision = ""
    if config.mixed_precision:
        precision = '\nkeras.mixed_precision.set_global_policy("mixed_float16")  # GPU only; the head stays float32\n'
    imports = "import keras\nimport tensorflow as tf"
    if config.class_weights:
        imports = "import keras\nimport numpy as np\nimport tensorflow as tf\n" \
                  "from sklearn.utils.class_weight import compute_class_weight"
    return f'''"""Transfer learning with {config.backbone}: the plain Keras equivalent of a TL Studio run configuration."""
{imports}

DATA_DIR = {str(data_dir)!r}  # one sub-folder per class
IMAGE_SIZE = ({config.image_size}, {config.image_size})
BATCH_SIZE = {config.batch_size}  # per replica: with several GPUs, wrap steps 2-5 in tf.distribute.MirroredStrategy().scope()
EPOCHS = {config.epochs}
NUM_CLASSES = {class_count}
keras.utils.set_random_seed({config.split.seed})
{precision}'''


def _data(config: TrainConfig, class_count: int) -> str:
    label_mode = "binary" if head_units(class_count) == 1 else (
        "categorical" if uses_one_hot_labels(config, class_count) else "int")
    return f'''# 1. Data (TL Studio splits train/validation/test itself; here Keras holds out a validation share).
train_ds, val_ds = keras.utils.image_dataset_from_directory(
    DATA_DIR, validation_split={config.split.val_fraction!r}, subset="both", seed={config.split.seed},
    image_size=IMAGE_SIZE, batch_size=BATCH_SIZE, label_mode="{label_mode}")
train_ds = train_ds.prefetch(tf.data.AUTOTUNE)
val_ds = val_ds.prefetch(tf.data.AUTOTUNE)'''


def _base(config: TrainConfig) -> str:
    backbone = backbones.get(config.backbone)
    if config.weights == WEIGHTS_IMAGENET:
        weights, note = '"imagenet"', "pretrained on ImageNet"
    elif config.weights == WEIGHTS_RANDOM:
        weights, note = "None", "random initialisation, no pretrained weights"
    else:
        weights, note = repr(config.weights), "weights from a file"
    return f'''# 2. The base without its ImageNet classifier ({note}).
base_model = keras.applications.{backbone.name}(
    input_shape=IMAGE_SIZE + (3,), include_top=False, weights={weights})'''


def _freeze(config: TrainConfig) -> str:
    if config.fine_tune_at is None:
        return '''# 3. Freeze the whole base: only the new head trains (feature extraction).
base_model.trainable = False'''
    lines = f'''# 3. Freeze the first {config.fine_tune_at} layers of the base; the layers from there on train.
base_model.trainable = True
for layer in base_model.layers[:{config.fine_tune_at}]:
    layer.trainable = False'''
    if is_pretrained(config):
        lines += '''
for layer in base_model.layers:  # keep the ImageNet statistics: a frozen BatchNorm runs in inference mode
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.trainable = False'''
    return lines


def _head(config: TrainConfig, class_count: int) -> str:
    backbone = backbones.get(config.backbone)
    units = head_units(class_count)
    activation = "sigmoid" if units == 1 else "softmax"
    lines = ["# 4. A new head on top: pooling, dropout and the classifier (probabilities out).",
             "inputs = keras.Input(shape=IMAGE_SIZE + (3,))",
             "x = inputs"]
    if config.augment:
        augmentation = config.augmentation
        steps = []
        if augmentation.flip != "none":
            steps.append(f'keras.layers.RandomFlip("{augmentation.flip}")')
        if augmentation.rotation > 0:
            steps.append(f"keras.layers.RandomRotation({augmentation.rotation!r})")
        if augmentation.zoom > 0:
            steps.append(f"keras.layers.RandomZoom({augmentation.zoom!r})")
        lines += ["augmentation = keras.Sequential([  # active only while training",
                  *(f"    {step}," for step in steps), "])", "x = augmentation(x)"]
    lines += [f"x = keras.applications.{backbone.module}.preprocess_input(x)",
              "x = base_model(x, training=False)",
              f"x = keras.layers.{_POOLING[config.pooling]}(x)"]
    if config.hidden_units:
        lines.append(f'x = keras.layers.Dense({config.hidden_units}, activation="relu")(x)')
    lines += [f"x = keras.layers.Dropout({config.dropout!r})(x)",
              f'outputs = keras.layers.Dense({units}, activation="{activation}", dtype="float32")(x)',
              "model = keras.Model(inputs, outputs)",
              "model.summary(show_trainable=True)"]
    return "\n".join(lines)


def _compile(config: TrainConfig, class_count: int) -> str:
    smoothing = f"label_smoothing={config.label_smoothing!r}" if config.label_smoothing else ""
    if head_units(class_count) == 1:
        loss = f"keras.losses.BinaryCrossentropy({smoothing})"
    elif uses_one_hot_labels(config, class_count):
        loss = f"keras.losses.CategoricalCrossentropy({smoothing})"
    else:
        loss = "keras.losses.SparseCategoricalCrossentropy()"
    if config.lr_schedule == "cosine":
        rate = (f"keras.optimizers.schedules.CosineDecay({config.learning_rate!r}, "
                "decay_steps=EPOCHS * train_ds.cardinality().numpy())")
    else:
        rate = repr(config.learning_rate)
    optimizer = _OPTIMIZER[config.optimizer].format(weight_decay=config.weight_decay, momentum=config.momentum)
    return f'''# 5. Compile (again after every change to `trainable`).
learning_rate = {rate}
model.compile(optimizer={optimizer},
              loss={loss}, metrics=["accuracy"]{", jit_compile=True" if config.xla else ""})'''


def _fit(config: TrainConfig) -> str:
    callbacks = ['keras.callbacks.CSVLogger("history.csv")']
    if config.lr_schedule == "plateau":
        callbacks.append(f'keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, '
                         f'min_lr={config.learning_rate / 100!r})')
    if config.early_stopping_patience:
        callbacks.append(f'keras.callbacks.EarlyStopping(monitor="val_loss", '
                         f'patience={config.early_stopping_patience}, restore_best_weights={config.restore_best})')
    lines = ["# 6. Train.", "callbacks = [", *(f"    {callback}," for callback in callbacks), "]",
             "try:  # TensorBoard logs need the tensorboard package (pip install tensorboard)",
             "    import tensorboard  # noqa: F401",
             '    callbacks.append(keras.callbacks.TensorBoard("tensorboard"))',
             "except ImportError:",
             '    print("tensorboard is not installed: no TensorBoard logs this time")']
    class_weight = ""
    if config.class_weights:
        lines += ["labels = np.concatenate([y.numpy() for _, y in train_ds])",
                  "labels = labels.argmax(axis=1) if labels.ndim > 1 and labels.shape[1] > 1 else "
                  "labels.reshape(-1).astype(int)",
                  "present = np.unique(labels)",
                  'class_weight = dict(zip(present.tolist(), compute_class_weight("balanced", classes=present, '
                  "y=labels)))"]
        class_weight = ", class_weight=class_weight"
    lines.append(f"history = model.fit(train_ds, validation_data=val_ds, epochs=EPOCHS, "
                 f"callbacks=callbacks{class_weight})")
    return "\n".join(lines)
