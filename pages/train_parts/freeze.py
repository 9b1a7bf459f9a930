"""Train page, freeze controls: a block picker and a layer-index slider kept in sync, the strip, the live counts.

UI only: blocks, indices and counts come from tlcore.backbones.freeze_blocks / tlcore.modeling.model, the strip from
tlcore.figures.training; above it, what each depth transfers and costs (pages/shared/freeze_depth.py).
"""

from __future__ import annotations

import streamlit as st

from pages.shared.freeze_depth import freeze_depth_panel
from tlcore import backbones, figures
from tlcore.config import TrainConfig
from tlcore.modeling import config_param_counts
from pages.shared.user_text import escape_markdown

WHOLE_BASE_FROZEN = "(whole base frozen)"


def _keys(backbone_name: str) -> tuple[str, str]:
    """Per-backbone keys: another backbone has other blocks and another layer count."""
    return f"freeze_index_{backbone_name}", f"freeze_block_{backbone_name}"


def _block_for_index(backbone_name: str, index: int) -> str:
    return WHOLE_BASE_FROZEN if index >= backbones.layer_count(backbone_name) else backbones.block_of_layer(backbone_name,
                                                                                                        index)


def _index_changed(backbone_name: str) -> None:
    index_key, block_key = _keys(backbone_name)
    st.session_state[block_key] = _block_for_index(backbone_name, st.session_state[index_key])


def _block_changed(backbone_name: str) -> None:
    index_key, block_key = _keys(backbone_name)
    block = st.session_state[block_key]
    st.session_state[index_key] = backbones.layer_count(backbone_name) if block == WHOLE_BASE_FROZEN else \
        backbones.fine_tune_at_for_block(backbone_name, block)


def use_depth(backbone_name: str, fine_tune_at: int) -> None:
    """Move the slider (and the block picker with it) to `fine_tune_at`; runs as a button callback, before the
    slider is drawn again."""
    index_key, block_key = _keys(backbone_name)
    st.session_state[index_key] = min(fine_tune_at, backbones.layer_count(backbone_name))
    st.session_state[block_key] = _block_for_index(backbone_name, st.session_state[index_key])


def freeze_controls(backbone_name: str, pretrained: bool) -> int | None:
    """The user's freeze depth as `fine_tune_at` (None = whole base frozen), chosen by block or by layer index."""
    layer_count = backbones.layer_count(backbone_name)
    index_key, block_key = _keys(backbone_name)
    st.session_state.setdefault(index_key, layer_count)
    st.session_state.setdefault(block_key, _block_for_index(backbone_name, st.session_state[index_key]))
    base_blocks = {block.name: block for block in backbones.blocks(backbone_name)}

    def describe(name: str) -> str:
        if name == WHOLE_BASE_FROZEN:
            return name
        block = base_blocks[name]
        return f"{name} (layers {block.first_layer}–{block.last_layer}, {block.total_params:,} params)"

    left, right = st.columns([1, 2])
    left.selectbox("Train from block", [*base_blocks, WHOLE_BASE_FROZEN], key=block_key, format_func=describe,
                   on_change=_block_changed, args=(backbone_name,),
                   help="Blocks are the backbone's own stages; everything before the chosen block stays frozen.")
    freeze_below = right.slider(f"Freeze base layers below index (the base has {layer_count} layers; "
                                f"{layer_count} = whole base frozen)", 0, layer_count, key=index_key,
                                on_change=_index_changed, args=(backbone_name,))
    fine_tune_at = None if freeze_below == layer_count else freeze_below
    batchnorm_note = (" (BatchNorm included; the base runs in inference mode, so its ImageNet statistics stay as "
                      "they are)." if pretrained else ".")
    if fine_tune_at is None:
        st.caption("Feature extraction: the whole base is frozen; only the new head trains.")
    elif fine_tune_at == 0:
        st.caption("Nothing frozen: the whole base trains" + batchnorm_note)
    else:
        layer_name = backbones.layer_name(backbone_name, freeze_below)
        st.caption(f"Layers 0–{freeze_below - 1} frozen; from layer {freeze_below} (`{layer_name}`, in block "
                   f"`{backbones.block_of_layer(backbone_name, freeze_below)}`) on, the base trains" + batchnorm_note)
    if not pretrained and fine_tune_at is None:
        st.warning("A frozen, randomly initialised base extracts no useful features: move the slider to 0 to train "
                   "the whole network from scratch.", icon=":material/warning:")
    return fine_tune_at


def counts_and_strip(config: TrainConfig, class_count: int) -> bool:
    """Live counts of the model that will be trained (equal to its `model.summary()`), and the freeze strip.
    Returns False when the head cannot be built (the reason is shown)."""
    try:
        counts = config_param_counts(config, class_count)
    except ValueError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        return False
    c1, c2, c3 = st.columns(3)
    c1.metric("Total parameters", f"{counts.total:,}")
    c2.metric("Trainable", f"{counts.trainable:,}")
    c3.metric("Non-trainable", f"{counts.non_trainable:,}")
    freeze_depth_panel(config, class_count, "train", lambda depth: use_depth(config.backbone, depth))
    st.plotly_chart(figures.freeze_strip(config.backbone, config.fine_tune_at), key="freeze_strip")
    return True
