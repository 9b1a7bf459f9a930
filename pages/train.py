"""Train: backbone, freeze depth (block or index) with live counts, head and training options; Start runs a job."""

import streamlit as st

from pages.shared import (
    augmentation_config,
    current_dataset,
    dataset_label,
    job_monitor,
    load_scan,
    remember_run,
    run_through_app,
    split_config,
)
from pages.shared.auth import current_user
from pages.shared.lr_finder import lr_finder_panel
from pages.shared.notebook import notebook_download, run_notebook_download
from pages.train_parts.devices import gpu_request
from pages.train_parts.fast_phase import augmented_views_option
from pages.train_parts.freeze import counts_and_strip, freeze_controls
from pages.train_parts.instant import instant_panel
from pages.train_parts.options import (augmentation_strengths, device_options, head_options, show_code, tensorboard_hint,
                                      training_options)
from pages.train_parts.small_cnn import small_cnn_shape
from tlcore import actions, backbones
from tlcore.backbones import imagenet_problem, status
from tlcore.config import WEIGHTS_IMAGENET, WEIGHTS_RANDOM, TrainConfig
from tlcore.storage import DiskFull
from pages.shared.user_text import escape_markdown

run_through_app()
WEIGHT_CHOICES = {WEIGHTS_IMAGENET: "ImageNet (pretrained)", WEIGHTS_RANDOM: "Random initialisation (no pretrained weights)"}

st.title("Train")
dataset = current_dataset()
scan = load_scan(dataset)
if scan is None:
    st.stop()
class_count = len(scan.class_names)
st.caption(f"Dataset {dataset_label(dataset)}: {len(scan.files):,} images in {class_count} classes (change it on **Dataset**).")

left, right = st.columns(2)
backbone = backbones.get(left.selectbox("Backbone", backbones.all_names(), index=backbones.names().index("MobileNetV2")))
small_cnn, backbone, small_cnn_head = small_cnn_shape(backbone)  # its own shape form; (None, backbone, {}) else
image_size = right.number_input("Image size (px)", min_value=backbone.min_size, max_value=1024,
                                value=max(96, backbone.min_size), step=16)
st.session_state["last_train_image_size"] = int(image_size)  # the Backbones page's weights upload offers it

weight_labels = {**WEIGHT_CHOICES, WEIGHTS_IMAGENET: backbone.pretrained_label}  # KerasHub: names the preset
if backbone.own_weights_file:
    weight_labels[WEIGHTS_IMAGENET] = "Its own trained weights"
if not backbone.has_pretrained_weights:  # a Small CNN of your own trains from scratch
    weight_labels = {WEIGHTS_RANDOM: WEIGHT_CHOICES[WEIGHTS_RANDOM]}
weights = st.radio("Starting weights", list(weight_labels), format_func=weight_labels.get, horizontal=True)
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

pretrained = weights != WEIGHTS_RANDOM
instant_panel(dataset, backbone.name, int(image_size), weights, split_config().seed, weights_ok)
st.subheader("Freeze depth")
fine_tune_at = freeze_controls(backbone.name, pretrained)
counts_area = st.container()  # filled once the head is known: counts depend on it
head = head_options(small_cnn_head)  # a Small CNN's head (Flatten + its Dense) shown as it is
training = training_options(scan)
stored_augment, augmentation = augmentation_config()  # kept with the dataset; edited on the Dataset page
augment = st.toggle(f"Data augmentation ({augmentation.describe()}; active only while training)", value=stored_augment)
augmentation = augmentation_strengths(augmentation, augment)  # flip, rotation, zoom editable here
views = augmented_views_option(augment, fine_tune_at, training["epochs"], split_config())
device = device_options(training["batch_size"])
gpus = gpu_request()

config = TrainConfig(dataset=dataset, backbone=backbone.name, image_size=int(image_size), fine_tune_at=fine_tune_at,
                     augment=augment, weights=weights, split=split_config(),
                     augmentation=augmentation, small_cnn=small_cnn, **head, **training, **device, **views)
with counts_area:
    head_ok = counts_and_strip(config, class_count)
lr_finder_panel(config)  # its "Use this rate" fills the learning-rate input above
show_code(config, scan.root, class_count)
notebook_download(config)
if st.button("Start training", type="primary", disabled=not (weights_ok and head_ok)):
    try:
        run = actions.start_training(current_user(), config, gpus=gpus)
    except (ValueError, PermissionError, DiskFull) as error:  # a bad config; not allowed, over quota; disk full
        st.error(escape_markdown(str(error)), icon=":material/error:")
    else:
        remember_run(run.id)
        st.rerun()

run_id = st.query_params.get("run") or st.session_state.get("run")
if run_id:
    st.subheader("Job")
    job_monitor(run_id)
    run_notebook_download(run_id)
    tensorboard_hint(run_id)
