"""Train page, the Small CNN's shape: convolution blocks, filters, kernel, padding, pooling and the dense layer.

UI only: the shape is a `SmallCNNConfig`; its backbone (name, layer table, live counts) comes from tlcore.
"""

from __future__ import annotations

import streamlit as st

from tlcore import backbones
from tlcore.backbones import Backbone
from tlcore.config import SMALL_CNN_PADDINGS, SMALL_CNN_POOLINGS, SmallCNNConfig
from pages.shared.user_text import escape_markdown

POOLING_LABELS = {"max": "2×2 max pooling", "avg": "2×2 average pooling", "none": "none (keeps the size)"}


def small_cnn_shape(backbone: Backbone) -> tuple[SmallCNNConfig | None, Backbone, dict]:
    """(the shape, its backbone, the head it implies) for the Small CNN; (None, backbone, {}) for any other."""
    if backbone.has_pretrained_weights:
        return None, backbone, {}
    st.markdown("**Small CNN shape** (trained from scratch; each block is a ReLU convolution, then pooling)")
    c1, c2, c3, c4, c5, c6, c7 = st.columns(7)
    default = SmallCNNConfig()
    shape = SmallCNNConfig(
        blocks=int(c1.number_input("Convolution blocks", 1, 8, default.blocks)),
        filters=int(c2.number_input("Filters (first block)", 1, 1024, default.filters)),
        growth=int(c3.number_input("× per block", 1, 4, default.growth, help="Filters grow by this factor.")),
        kernel_size=int(c4.number_input("Kernel size", 1, 11, default.kernel_size)),
        padding=c5.selectbox("Padding", SMALL_CNN_PADDINGS),
        pooling=c6.selectbox("Pooling", SMALL_CNN_POOLINGS, format_func=POOLING_LABELS.get),
    )
    dense = int(c7.number_input("Dense units", 0, 4096, 128, step=32, help="The head's hidden ReLU layer."))
    try:
        shaped = backbones.small_cnn_backbone(shape)
    except ValueError as error:
        st.error(escape_markdown(str(error)), icon=":material/error:")
        st.stop()
    # From scratch every layer trains: each shape's freeze slider starts at 0 (its key is freeze.py's `_keys`)
    st.session_state.setdefault(f"freeze_index_{shaped.name}", 0)
    filters = " → ".join(str(n) for n in shape.block_filters())
    st.caption(f"`{shaped.name}`: {shape.blocks} × Conv2D {shape.kernel_size}×{shape.kernel_size} ({filters} "
               f"filters, {shape.padding}), then Flatten → Dense {dense} → softmax. The head's pooling and hidden "
               "units below are set here for a Small CNN.")
    return shape, shaped, {"pooling": "flatten", "hidden_units": dense}
