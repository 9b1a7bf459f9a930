"""Demo page, UI only: the answer in large type ("not sure" below the run's threshold), the calibrated top-k bars,
Grad-CAM on request, and training images of the answered class."""

from __future__ import annotations

from html import escape

import streamlit as st

from tlcore import evaluation, figures
from tlcore.inference import GradCamUnavailable, overlay
from tlcore.runs import Run
from tlcore.storage import BadImage, load_array, open_rgb, thumbnail

# Sizes in viewport units with floors and ceilings: large on a projector, still on one line on a phone.
STYLE = """<style>
.demo-answer {font-size: clamp(2.6rem, 9vw, 6.5rem); font-weight: 800; line-height: 1.05; margin: 0.1em 0;}
.demo-answer.not-sure {color: #757575;}
.demo-detail {font-size: clamp(1.1rem, 2.4vw, 1.8rem); margin-bottom: 0.4em;}
</style>"""
EXAMPLES = 4


def show_answer(predictor, run: Run, photo: tuple[str, bytes], prediction) -> None:
    st.markdown(STYLE, unsafe_allow_html=True)
    if prediction.error:
        st.error(prediction.error, icon=":material/broken_image:")
        return
    name, data = photo
    threshold = predictor.confidence.threshold
    best, probability = prediction.top[0]
    left, right = st.columns([1, 1.3], gap="large")
    with right:
        classes = "demo-answer not-sure" if prediction.not_sure else "demo-answer"
        st.markdown(f'<p class="{classes}">{escape(prediction.answer)}</p>', unsafe_allow_html=True)
        detail = (f"best guess {escape(best)} at {probability:.0%}, below the {threshold:.0%} this model needs to "
                  f"answer" if prediction.not_sure else f"{probability:.0%} sure")
        st.markdown(f'<p class="demo-detail">{detail}</p>', unsafe_allow_html=True)
        st.plotly_chart(figures.answer_bars(prediction.top, threshold, prediction.not_sure), key="demo_bars",
                        config={"displayModeBar": False, "staticPlot": True})
    with left:
        explain = st.toggle("Show where it looked (Grad-CAM)", key="demo_gradcam")
        shown = _grad_cam(predictor, data, best) if explain else None
        if shown is None:
            try:
                st.image(thumbnail(data, 480), caption=name, width="stretch")
            except BadImage:
                st.caption(name)
    examples = evaluation.class_examples(run, best, EXAMPLES)
    if examples:
        st.markdown(f"**What {'a' if not prediction.not_sure else 'the best guess,'} “{escape(best)}” looked like "
                    "in training**")
        st.image([image for _, image in examples], width=140)


def _grad_cam(predictor, data: bytes, predicted: str):
    try:
        cam = predictor.explain(load_array(data, predictor.image_size), predictor.class_names.index(predicted))
    except GradCamUnavailable as error:
        st.warning(str(error), icon=":material/visibility_off:")
        return None
    image = overlay(open_rgb(data), cam.heatmap, width=480)
    st.image(image, caption=f"Where the evidence for “{predicted}” was strongest (Grad-CAM)", width="stretch")
    return image
