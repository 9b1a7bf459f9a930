"""UI for one prediction per image: thumbnail, top-k bars (calibrated for a run), "not sure" below the run's
threshold and, when asked, Grad-CAM for any class."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tlcore import figures
from tlcore.inference import GradCamUnavailable, overlay
from tlcore.datasets import BadImage, load_array, open_rgb, thumbnail
from pages.shared.user_text import escape_markdown


def show_predictions(predictor, named: list[tuple[str, bytes | Path]], top_k: int, explain: bool) -> None:
    _not_sure_support(predictor.confidence)
    for index, ((name, source), prediction) in enumerate(zip(named, predictor.predict_files(named, top_k=top_k))):
        if prediction.error:
            st.error(prediction.error, icon=":material/broken_image:")
            continue
        columns = st.columns([1, 2, 1.4] if explain else [1, 3])
        try:
            columns[0].image(thumbnail(source, 160), caption=escape_markdown(name))
        except BadImage:
            columns[0].caption(name)
        best, probability = prediction.top[0]
        if prediction.not_sure:
            columns[1].markdown(f"**{name}: {prediction.answer}** (best guess {best}, {probability:.1%}; this model "
                                f"answers from {predictor.confidence.threshold:.1%})")
        else:
            columns[1].markdown(f"**{name}: {best}** ({probability:.1%})")
        columns[1].plotly_chart(figures.top_k(prediction.top), key=f"topk_{index}")
        if explain:
            with columns[2]:
                _grad_cam(predictor, source, best, index)


def _grad_cam(predictor, source, predicted: str, index: int) -> None:
    names = predictor.class_names
    chosen = st.selectbox("Grad-CAM class", names, index=names.index(predicted), key=f"gradcam_class_{index}")
    image = load_array(source, predictor.image_size)
    try:
        cam = predictor.explain(image, names.index(chosen))
    except GradCamUnavailable as error:
        st.warning(escape_markdown(str(error)), icon=":material/visibility_off:")
        return
    probability = predictor.probabilities(image[None])[0, names.index(chosen)]  # calibrated, as in the bars
    method = "Grad-CAM on the patch-token grid" if cam.on_patch_tokens else cam.method
    where = f"layer {cam.layer}" + (f" ({cam.map_size[0]}×{cam.map_size[1]} map)" if cam.map_size else "")
    st.image(overlay(open_rgb(source), cam.heatmap, width=224),
             caption=escape_markdown(f"{method}: {chosen} ({probability:.1%}) · "
                                     f"{where if cam.layer != 'image' else 'on the pixels'}"))
    if cam.method != "Grad-CAM":
        st.caption(escape_markdown(cam.describe()))
    if cam.on_patch_tokens:
        st.caption("A vision transformer has no convolutional map: its last transformer layer's patch tokens, laid "
                   "back on their grid, are what is explained (one cell per patch).")


def _not_sure_support(confidence) -> None:
    """How much the "not sure" threshold can be trusted: its target, the validation answers behind it, the held-out
    accuracy beside it, and a warning when too few answers support it."""
    if confidence.support_note():
        st.caption(f'"Not sure" below {confidence.threshold:.1%}: {confidence.support_note()}.')
    if confidence.support_warning():
        st.warning(confidence.support_warning(), icon=":material/warning:")
