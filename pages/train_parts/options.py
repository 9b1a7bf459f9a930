"""Train page, options: the head, the optimizer and schedule, class weights, the device, and the equivalent code.

UI only: each function returns the TrainConfig fields it collected; numbers come from tlcore.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import streamlit as st

from tlcore import modeling, training
from tlcore.config import FLIP_MODES, AugmentConfig, TrainConfig
from tlcore.datasets import DatasetError, DatasetScan, scan_folder
from tlcore.runs import get_run, lineage_configs
from tlcore.training import TENSORBOARD_FOLDER, balanced_class_weights

POOLING_LABELS = {"avg": "Global average", "max": "Global max", "flatten": "Flatten (keeps positions; many weights)"}
OPTIMIZER_LABELS = {"adam": "Adam", "adamw": "AdamW (decoupled weight decay)", "sgd": "SGD with momentum 0.9",
                    "rmsprop": "RMSprop"}
SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Cosine decay to 0 over the epochs",
                   "plateau": "Reduce on plateau (halve after 2 epochs without val-loss improvement)"}


def head_options(fixed: dict | None = None) -> dict:
    """The head's widgets. `fixed`: what the backbone sets itself (a Small CNN: Flatten and its Dense layer), shown
    as it is, disabled, so the widgets never show a head the run does not use."""
    fixed = fixed or {}
    st.markdown("**Head**")
    c1, c2, c3, c4 = st.columns(4)
    pooling_choices = list(POOLING_LABELS)
    pooling = c1.selectbox("Pooling", pooling_choices, format_func=POOLING_LABELS.get,
                           index=pooling_choices.index(fixed.get("pooling", "avg")), disabled="pooling" in fixed,
                           key=f"head_pooling_{fixed.get('pooling', 'free')}",
                           help="Set by the Small CNN's shape above." if "pooling" in fixed else None)
    hidden_units = c2.number_input("Hidden dense units (0 = none)", 0, 4096, int(fixed.get("hidden_units", 0)),
                                   step=64, disabled="hidden_units" in fixed,
                                   key=f"head_hidden_{fixed.get('hidden_units', 'free')}",
                                   help="Set by the Small CNN's shape above (Dense units)." if "hidden_units" in fixed
                                   else None)
    dropout = c3.slider("Dropout", 0.0, 0.9, 0.2, 0.05)
    label_smoothing = c4.slider("Label smoothing", 0.0, 0.3, 0.0, 0.05,
                                help="Applied in the loss; the model still outputs probabilities.")
    return dict(pooling=fixed.get("pooling", pooling), hidden_units=int(fixed.get("hidden_units", hidden_units)),
                dropout=float(dropout), label_smoothing=float(label_smoothing))


def augmentation_strengths(augmentation: AugmentConfig, augment: bool) -> AugmentConfig:
    """Flip, rotation and zoom editable here (the TensorFlow tutorial's flip + rotation 0.2 without leaving the page);
    the other strengths, and the defaults kept with the dataset, are on the Dataset page's Augmentation section."""
    if not augment:
        return augmentation
    with st.expander(f"Augmentation strengths: {augmentation.describe()}"):
        c1, c2, c3 = st.columns(3)
        flip = c1.selectbox("Flip", list(FLIP_MODES), index=list(FLIP_MODES).index(augmentation.flip),
                            key="train_aug_flip")
        rotation = c2.slider("Rotation (fraction of a full turn)", 0.0, 0.5, float(augmentation.rotation), 0.05,
                             key="train_aug_rotation", help="0.2 = ±20 % of 360° = ±72°, the tutorial's setting.")
        zoom = c3.slider("Zoom", 0.0, 0.5, float(augmentation.zoom), 0.05, key="train_aug_zoom")
        st.caption("For this run only. Translation, contrast, brightness and crop, and the dataset's saved defaults "
                   "(with a preview), are on the **Dataset** page under Augmentation.")
        st.page_link("pages/dataset.py", label="Dataset page: augmentation preview and defaults",
                     icon=":material/tune:")
    return replace(augmentation, flip=flip, rotation=float(rotation), zoom=float(zoom))


def training_options(scan: DatasetScan) -> dict:
    st.markdown("**Training**")
    c1, c2, c3, c4 = st.columns(4)
    epochs = c1.number_input("Epochs", 1, 500, 5)
    batch_size = c2.number_input("Batch size", 1, 1024, 32)
    learning_rate = c3.number_input("Learning rate", 1e-6, 0.5, 1e-3, format="%.5f",
                                    key="learning_rate")  # the learning-rate finder's "Use this rate" sets this key
    optimizer = c4.selectbox("Optimizer", list(OPTIMIZER_LABELS), format_func=OPTIMIZER_LABELS.get)
    c1, c2, c3 = st.columns([2, 1, 1])
    lr_schedule = c1.selectbox("Learning-rate schedule", list(SCHEDULE_LABELS), format_func=SCHEDULE_LABELS.get)
    patience = c2.number_input("Early-stopping patience (0 = off)", 0, 100, 0,
                               help="Stop after this many epochs without a lower validation loss.")
    restore_best = c3.checkbox("Restore best epoch", value=True, disabled=patience == 0)
    class_weights = st.toggle("Class weights from the imbalance (scikit-learn 'balanced')", value=False)
    if class_weights:
        weights = balanced_class_weights([label for _, label in scan.files], len(scan.class_names))
        st.caption("Weights (from the whole folder; the run uses its training split's): " +
                   ", ".join(f"`{scan.class_names[label]}` {weight:.2f}" for label, weight in weights.items()))
    return dict(epochs=int(epochs), batch_size=int(batch_size), learning_rate=float(learning_rate),
                optimizer=optimizer, lr_schedule=lr_schedule, early_stopping_patience=int(patience),
                restore_best=bool(restore_best), class_weights=class_weights)


def device_options(batch_size: int) -> dict:
    """The device training will use, and the GPU-only switches (disabled, with the reason, on a CPU)."""
    info = training.describe()
    st.markdown(f"**Device:** {info.summary()}")
    if info.replicas > 1:
        st.caption(f"{info.replicas} GPUs: training runs under `tf.distribute.MirroredStrategy`, one model copy per "
                   f"GPU. Global batch = {batch_size} per replica × {info.replicas} = {batch_size * info.replicas}.")
    reason = None if info.has_gpu else f"Off: {training.GPU_ONLY_REASON}."
    c1, c2 = st.columns(2)
    mixed = c1.toggle("Mixed precision (float16 compute)", value=False, disabled=not info.has_gpu,
                      help=reason or "mixed_float16 on the GPU; the classifier stays float32.")
    xla = c2.toggle("XLA compilation", value=False, disabled=not info.has_gpu,
                    help=reason or "jit_compile=True: fuses operations on the GPU.")
    if reason:
        st.caption(f"Mixed precision and XLA are GPU features. {reason}")
    return dict(mixed_precision=bool(mixed and info.has_gpu), xla=bool(xla and info.has_gpu))


def show_code(config: TrainConfig, data_dir: Path, class_count: int) -> None:
    """The form's training in plain Keras; on a `?run=` page the run's own values, every phase and its split."""
    run = _run_in_url()
    if run is not None:
        _show_run_code(run)
        return
    with st.expander("Show me the code: the same training in plain Keras"):
        st.caption("The run this form starts, written out: the same layers, settings, seed and split. Download it "
                   "with `split.json` (the train / validation / test files) and run `python train.py`.")
        # The split is made only when the button is pressed: it reads the whole folder.
        st.download_button("train.py + split.json (zip)", key="download_code", icon=":material/download:",
                           data=lambda: modeling.script_zip(config, data_dir, training.prepare_split(config)[1]),
                           file_name=f"{config.dataset}-{config.backbone}-train.zip", mime="application/zip")
        st.code(modeling.keras_script(config, data_dir, class_count), language="python")


def _run_in_url():
    run_id = st.query_params.get("run")
    if not run_id:
        return None
    try:
        run = get_run(run_id)
    except KeyError:
        return None  # the monitor says so
    return run if run.split() is not None else None


def _show_run_code(run) -> None:
    config, split, earlier = run.config(), run.split(), lineage_configs(run)
    try:
        data_dir = scan_folder(config.dataset).root
    except DatasetError as error:
        st.caption(f"Code: the run's dataset cannot be read here ({error}).")
        return
    with st.expander(f"Show me the code: run {run.id} in plain Keras"):
        phases = f" and the {len(earlier)} run(s) it continues" if earlier else ""
        st.caption(f"This run's own values{phases}, every phase, on its own `split.json`: run `python train.py`.")
        st.download_button("train.py + split.json (zip)", key="download_run_code", icon=":material/download:",
                           data=lambda: modeling.script_zip(config, data_dir, split, earlier),
                           file_name=f"{run.id}-train.zip", mime="application/zip")
        st.code(modeling.keras_script(config, data_dir, len(split.class_names), earlier), language="python")


def tensorboard_hint(run_id: str) -> None:
    """The command that opens this run's TensorBoard logs (written by the Keras TensorBoard callback)."""
    try:
        run = get_run(run_id)
    except KeyError:
        return  # the monitor above already says so
    st.caption("Open this run's TensorBoard logs (history.csv sits next to them):")
    st.code(f"tensorboard --logdir {run.path / TENSORBOARD_FOLDER}", language="bash")
