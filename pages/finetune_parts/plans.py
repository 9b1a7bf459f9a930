"""Fine-tune page, the three ways to continue a run: once (from a layer or a block), gradually, or as a training.

UI only: configs come from TrainConfig.fine_tune / tlcore.training.unfreezing, jobs from tlcore.jobs.scheduler and tlcore.training.sweep.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from pages.shared.auth import current_user
from pages.shared.freeze_depth import freeze_depth_panel
from tlcore import actions, backbones, figures, training
from tlcore.backbones import layer_table
from tlcore.config import GradualUnfreezing, TrainConfig
from tlcore.modeling import count_params, is_pretrained
from tlcore.runs import Run
from pages.shared.user_text import escape_markdown

BY_BLOCK, BY_LAYER = "a block", "a layer index"
FROZEN = "whole base frozen"


def _started(job_id: str) -> None:
    st.session_state["finetune_job"] = job_id
    st.query_params["job"] = job_id
    st.rerun()


def _submit(config: TrainConfig) -> None:
    try:
        job = actions.start_training(current_user(), config)
    except (ValueError, PermissionError) as error:  # a bad config; not allowed or over quota (tlcore.access)
        st.error(escape_markdown(str(error)), icon=":material/error:")
    else:
        _started(job.id)


def _rate_and_epochs(parent: Run, key: str, rate_label: str, epochs_label: str, epochs: int) -> tuple[float, int]:
    """The new learning rate (default 10× below the run's, as the Keras guide advises) and the epochs to add.

    Keys name the run, so picking another run starts again from that run's defaults."""
    c1, c2 = st.columns(2)
    rate = c1.number_input(rate_label, 1e-7, 0.5, parent.config().learning_rate / 10, format="%.6f",
                           key=f"{key}_rate_{parent.id}")
    return float(rate), int(c2.number_input(epochs_label, 1, 500, epochs, key=f"{key}_epochs_{parent.id}"))


def single_phase_plan(parent: Run) -> None:
    """Unfreeze from a layer or a block (kept in sync: the caption names the other), new rate, more epochs."""
    config = parent.config()
    table = layer_table(config.backbone)
    layer_count = len(table.layers)
    mode_key, layer_key = f"finetune_mode_{parent.id}", f"finetune_layer_{parent.id}"
    st.session_state.setdefault(layer_key, backbones.default_fine_tune_at(config.backbone))
    mode = st.radio("Unfreeze from", [BY_LAYER, BY_BLOCK], horizontal=True, key=mode_key)
    if mode == BY_BLOCK:
        names = backbones.block_names(config.backbone)
        default = backbones.block_of_layer(config.backbone, backbones.default_fine_tune_at(config.backbone))
        block = st.selectbox(f"Unfreeze {config.backbone} from block", names, index=names.index(default))
        fine_tune_at = backbones.fine_tune_at_for_block(config.backbone, block)
    else:
        fine_tune_at = st.slider(f"Unfreeze {config.backbone} from layer (of {layer_count})", 0, layer_count - 1,
                                 key=layer_key,
                                 help="Default: the TensorFlow tutorial's layer 100 for MobileNetV2, else the top "
                                      "third of the base.")

    def use_depth(depth: int) -> None:
        """The recommended depth onto the layer slider (one layer at least trains here: fine-tuning unfreezes)."""
        st.session_state[mode_key] = BY_LAYER
        st.session_state[layer_key] = min(depth, layer_count - 1)

    freeze_depth_panel(replace(config, fine_tune_at=fine_tune_at), len(parent.class_names()), f"finetune_{parent.id}",
                       use_depth)
    pretrained = is_pretrained(config)
    st.caption(f"Layer {fine_tune_at} is `{table.layers[fine_tune_at].name}` in block "
               f"`{backbones.block_of_layer(config.backbone, fine_tune_at)}`; layers below it stay frozen. "
               + ("The base runs in inference mode, so BatchNorm keeps its ImageNet statistics while its scale and "
                  "shift train." if pretrained else
                  "This run started from random weights, so its BatchNorm layers keep learning."))
    counts = count_params(config.backbone, len(parent.class_names()), fine_tune_at,
                          pooling=config.pooling, hidden_units=config.hidden_units, image_size=config.image_size)
    c1, c2, c3 = st.columns(3)
    c1.metric("Total parameters", f"{counts.total:,}")
    c2.metric("Trainable", f"{counts.trainable:,}")
    c3.metric("Non-trainable", f"{counts.non_trainable:,}")
    rate, epochs = _rate_and_epochs(parent, "once", "Learning rate (default: 10× lower than the run's)",
                                    "More epochs", 5)
    if st.button("Start fine-tuning", type="primary"):
        _submit(config.fine_tune(parent.id, fine_tune_at, rate, epochs))


def gradual_plan(parent: Run) -> None:
    """Stages of "unfreeze the next K blocks, train E epochs, multiply the rate by f", as one job."""
    config = parent.config()
    c1, c2, c3 = st.columns(3)
    stages = c1.number_input("Stages", 1, 20, 3)
    blocks = c2.number_input("Blocks unfrozen per stage", 1, 20, 2)
    factor = c3.number_input("Rate × per stage", 0.01, 10.0, 0.5, step=0.1)
    rate, epochs = _rate_and_epochs(parent, "gradual", "First stage's learning rate (default: 10× lower)",
                                    "Epochs per stage", 1)
    plan = GradualUnfreezing(int(stages), int(blocks), epochs, float(factor))
    job_config = training.gradual_config(config, parent.id, plan, rate)
    st.dataframe(training.describe_stages(job_config), hide_index=True,
                 column_config={"learning rate": st.column_config.NumberColumn(format="%.2e")})
    st.caption(f"One job, {plan.stages} phases in one run folder; blocks counted from the top of the base "
               f"({len(backbones.block_names(config.backbone))} blocks).")
    if st.button("Start gradual unfreezing", type="primary"):
        _submit(job_config)


def sweep_plan(parent: Run) -> None:
    """The same fine-tuning at several freeze depths, queued as jobs; then accuracy against trainable size."""
    config = parent.config()
    names = backbones.block_names(config.backbone)
    choices = [FROZEN] + names[::-1]
    picked = st.multiselect("Unfreeze from each of these blocks (one job each)", choices, default=choices[1:4])
    rate, epochs = _rate_and_epochs(parent, "sweep", "Each run's learning rate (default: 10× lower)",
                                    "Epochs per run", 2)
    if st.button("Start sweep", disabled=len(picked) < 2):
        depths = [None if name == FROZEN else backbones.fine_tune_at_for_block(config.backbone, name) for name in picked]
        try:
            sweep_id = actions.start_sweep(current_user(), config.fine_tune(parent.id, 0, rate, epochs), depths)
        except (ValueError, PermissionError) as error:  # a bad depth; not allowed or over quota
            st.error(escape_markdown(str(error)), icon=":material/error:")
        else:
            st.session_state["sweep"] = sweep_id
    sweeps = training.list_sweeps()
    if sweeps:
        wanted = st.session_state.get("sweep")
        chosen = st.selectbox("Sweep", sweeps, index=sweeps.index(wanted) if wanted in sweeps else 0)
        show_sweep(chosen)


def show_sweep(sweep_id: str) -> None:
    points = training.sweep_points(training.load_sweep(sweep_id))
    axis = st.radio("Against", ["trainable_params", "trainable_layers"], horizontal=True,
                    format_func=lambda name: name.replace("_", " "), key="sweep_axis")
    st.plotly_chart(figures.freeze_depth_sweep(points, axis), key="sweep_chart")
    rows = [{**point, "open": f"/evaluate?run={point['run']}"} for point in points]
    st.dataframe(rows, hide_index=True, column_order=["open", "state", "fine_tune_at", "trainable_layers",
                                                      "trainable_params", "val_accuracy", "test_accuracy"],
                 column_config={"open": st.column_config.LinkColumn("run", display_text=r"run=(.*)"),
                                "val_accuracy": st.column_config.NumberColumn(format="percent"),
                                "test_accuracy": st.column_config.NumberColumn(format="percent")})
