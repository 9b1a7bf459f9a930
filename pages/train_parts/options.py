"""Train page, options: the head, the optimizer and schedule, class weights, the device, and the equivalent code.

UI only: each function returns the TrainConfig fields it collected; numbers come from tlcore.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import modeling, training
from tlcore.config import TrainConfig
from tlcore.datasets import DatasetScan
from tlcore.runs import get_run
from tlcore.training import TENSORBOARD_FOLDER, balanced_class_weights

POOLING_LABELS = {"avg": "Global average", "max": "Global max", "flatten": "Flatten (keeps positions; many weights)"}
OPTIMIZER_LABELS = {"adam": "Adam", "adamw": "AdamW (decoupled weight decay)", "sgd": "SGD with momentum 0.9",
                    "rmsprop": "RMSprop"}
SCHEDULE_LABELS = {"constant": "Constant", "cosine": "Cosine decay to 0 over the epochs",
                   "plateau": "Reduce on plateau (halve after 2 epochs without val-loss improvement)"}


def head_options() -> dict:
    st.markdown("**Head**")
    c1, c2, c3, c4 = st.columns(4)
    pooling = c1.selectbox("Pooling", list(POOLING_LABELS), format_func=POOLING_LABELS.get)
    hidden_units = c2.number_input("Hidden dense units (0 = none)", 0, 4096, 0, step=64)
    dropout = c3.slider("Dropout", 0.0, 0.9, 0.2, 0.05)
    label_smoothing = c4.slider("Label smoothing", 0.0, 0.3, 0.0, 0.05,
                                help="Applied in the loss; the model still outputs probabilities.")
    return dict(pooling=pooling, hidden_units=int(hidden_units), dropout=float(dropout),
                label_smoothing=float(label_smoothing))


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
    with st.expander("Show me the code: the same training in plain Keras"):
        st.caption("The run this form starts, written out: the same layers, settings, seed and split. Download it "
                   "with `split.json` (the train / validation / test files) and run `python train.py`.")
        # The split is made only when the button is pressed: it reads the whole folder.
        st.download_button("train.py + split.json (zip)", key="download_code", icon=":material/download:",
                           data=lambda: modeling.script_zip(config, data_dir, training.prepare_split(config)[1]),
                           file_name=f"{config.dataset}-{config.backbone}-train.zip", mime="application/zip")
        st.code(modeling.keras_script(config, data_dir, class_count), language="python")


def tensorboard_hint(run_id: str) -> None:
    """The command that opens this run's TensorBoard logs (written by the Keras TensorBoard callback)."""
    try:
        run = get_run(run_id)
    except KeyError:
        return  # the monitor above already says so
    st.caption("Open this run's TensorBoard logs (history.csv sits next to them):")
    st.code(f"tensorboard --logdir {run.path / TENSORBOARD_FOLDER}", language="bash")
