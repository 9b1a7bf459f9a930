"""Train: backbone, freeze depth with live parameter counts, head and optimizer settings; Start runs a job."""

import streamlit as st

from pages._shared import augmentation_config, current_dataset, job_monitor, load_scan, remember_run, run_through_app, split_config
from tlcore import backbones, jobs
from tlcore.config import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.layer_tables import layer_table
from tlcore.model import count_params
from tlcore.weights import imagenet_problem, status

run_through_app()
WEIGHT_CHOICES = {WEIGHTS_IMAGENET: "ImageNet (pretrained)", WEIGHTS_RANDOM: "Random initialisation (no pretrained weights)"}

st.title("Train")
dataset = current_dataset()
scan = load_scan(dataset)
if scan is None:
    st.stop()
class_count = len(scan.class_names)
st.caption(f"Dataset `{dataset}`: {len(scan.files):,} images in {class_count} classes (change it on **Dataset**).")

left, right = st.columns(2)
backbone = backbones.get(left.selectbox("Backbone", backbones.all_names(), index=backbones.names().index("MobileNetV2")))
image_size = right.number_input("Image size (px)", min_value=backbone.min_size, max_value=1024,
                                value=max(96, backbone.min_size), step=16)

weights = st.radio("Starting weights", list(WEIGHT_CHOICES), format_func=WEIGHT_CHOICES.get, horizontal=True)
weights_ok = True
if weights == WEIGHTS_IMAGENET:
    problem = imagenet_problem(backbone, int(image_size))
    weights_state = status(backbone, int(image_size), probe_network=True)
    if problem:
        st.error(problem, icon=":material/error:")
        weights_ok = False
    elif weights_state.cached:
        st.success(weights_state.advice, icon=":material/check_circle:")
    elif weights_state.online:
        st.info(weights_state.advice, icon=":material/download:")
    else:
        st.error(weights_state.advice, icon=":material/cloud_off:")
        weights_ok = False

table = layer_table(backbone.name)
layer_count = len(table.layers)
freeze_below = st.slider(f"Freeze base layers below index (the base has {layer_count} layers; "
                         f"{layer_count} = whole base frozen)", 0, layer_count, layer_count)
fine_tune_at = None if freeze_below == layer_count else freeze_below
pretrained = weights != WEIGHTS_RANDOM
batchnorm_note = " (BatchNorm layers stay frozen to keep their ImageNet statistics)." if pretrained else "."
if fine_tune_at is None:
    st.caption("Feature extraction: the whole base is frozen; only the new head trains.")
elif fine_tune_at == 0:
    st.caption("Nothing frozen: the whole base trains" + batchnorm_note)
else:
    st.caption(f"Layers 0–{freeze_below - 1} frozen; from layer {freeze_below} "
               f"(`{table.layers[freeze_below].name}`) on, the base trains" + batchnorm_note)
if not pretrained and fine_tune_at is None:
    st.warning("A frozen, randomly initialised base extracts no useful features: move the slider to 0 to train "
               "the whole network from scratch.", icon=":material/warning:")
counts = count_params(backbone.name, class_count, fine_tune_at, pretrained)
c1, c2, c3 = st.columns(3)
c1.metric("Total parameters", f"{counts.total:,}")
c2.metric("Trainable", f"{counts.trainable:,}")
c3.metric("Non-trainable", f"{counts.non_trainable:,}")

c1, c2, c3, c4 = st.columns(4)
epochs = c1.number_input("Epochs", 1, 500, 5)
batch_size = c2.number_input("Batch size", 1, 1024, 32)
learning_rate = c3.number_input("Learning rate", 1e-6, 0.5, 1e-3, format="%.5f")
dropout = c4.slider("Dropout", 0.0, 0.9, 0.2, 0.05)
stored_augment, augmentation = augmentation_config()  # kept with the dataset; edited on the Dataset page
augment = st.toggle(f"Data augmentation ({augmentation.describe()}; active only while training)", value=stored_augment)

config = TrainConfig(dataset=dataset, backbone=backbone.name, image_size=int(image_size), epochs=int(epochs),
                     batch_size=int(batch_size), learning_rate=float(learning_rate), fine_tune_at=fine_tune_at,
                     augment=augment, weights=weights, dropout=float(dropout), split=split_config(),
                     augmentation=augmentation)
if st.button("Start training", type="primary", disabled=not weights_ok):
    try:
        run = jobs.submit(config)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
    else:
        remember_run(run.id)
        st.rerun()

run_id = st.query_params.get("run") or st.session_state.get("run")
if run_id:
    st.subheader("Job")
    job_monitor(run_id)
