"""Demo page, UI only: the answer in large type ("not sure" below the run's threshold) with the calibrated top-k
bars, the photo (or its Grad-CAM on request), and training images of the answered class."""

from __future__ import annotations

from html import escape

import streamlit as st

from tlcore import evaluation, figures
from tlcore.inference import GradCamUnavailable, overlay
from tlcore.runs import Run
from tlcore.datasets import BadImage, load_array, open_rgb, thumbnail
from pages.shared.user_text import escape_markdown

# Sizes in viewport units with floors and ceilings: large on a projector, still on one line on a phone. The
# selectors name Streamlit's markdown container so they outrank its own paragraph style.
STYLE = """<style>
[data-testid="stMarkdownContainer"] p.demo-answer {font-size: clamp(3.5rem, 16vw, 7rem); font-weight: 800;
  line-height: 1.05; margin: 0.1em 0; overflow-wrap: anywhere;}
[data-testid="stMarkdownContainer"] p.demo-answer.not-sure {color: #757575;}
[data-testid="stMarkdownContainer"] p.demo-detail {font-size: clamp(1.1rem, 2.4vw, 1.8rem); margin-bottom: 0.4em;}
</style>"""
PHOTO_PX = 320
EXAMPLES = 4


def show_answer(prediction, confidence) -> None:
    """The answer, how sure, and the bars; an unreadable photo gets its message instead. `confidence` is the run's
    tlcore.inference.calibrated.Confidence: its threshold, and how many validation answers support its target."""
    if prediction.error:
        st.error(prediction.error, icon=":material/broken_image:")
        return
    threshold = confidence.threshold
    st.html(STYLE)  # style only: Streamlit adds it to the page without taking up space
    best, probability = prediction.top[0]
    classes = "demo-answer not-sure" if prediction.not_sure else "demo-answer"
    st.markdown(f'<p class="{classes}">{escape(prediction.answer)}</p>', unsafe_allow_html=True)
    detail = (f"best guess {escape(best)} at {probability:.0%}, below the {threshold:.0%} this model needs to answer"
              if prediction.not_sure else f"{probability:.0%} sure")
    st.markdown(f'<p class="demo-detail">{detail}</p>', unsafe_allow_html=True)
    st.plotly_chart(figures.answer_bars(prediction.top, threshold, prediction.not_sure), key="demo_bars",
                    config={"displayModeBar": False, "staticPlot": True})
    if confidence.support_note():
        st.caption(f'"Not sure" below {threshold:.0%}: {confidence.support_note()}.')
    if confidence.support_warning():
        st.warning(confidence.support_warning(), icon=":material/warning:")


def show_photo(predictor, photo: tuple[str, bytes], prediction, camera: bool) -> None:
    """The Grad-CAM toggle and the uploaded photo or its heatmap (a camera photo is already shown by the camera)."""
    if prediction.error:
        return
    name, data = photo
    if st.toggle("Show where it looked (Grad-CAM)", key="demo_gradcam"):
        best = prediction.top[0][0]
        try:
            cam = predictor.explain(load_array(data, predictor.image_size), predictor.class_names.index(best))
        except GradCamUnavailable as error:
            st.warning(escape_markdown(str(error)), icon=":material/visibility_off:")
        else:
            st.image(overlay(open_rgb(data), cam.heatmap, width=PHOTO_PX),
                     caption=f"Where the evidence for “{escape_markdown(best)}” was strongest ({cam.method})")
            st.caption(escape_markdown(cam.describe()))
            return
    if not camera:
        try:
            st.image(thumbnail(data, PHOTO_PX), caption=escape_markdown(name))
        except BadImage:
            st.caption(escape_markdown(name))


def show_examples(run: Run, prediction) -> None:
    if prediction.error:
        return
    best = prediction.top[0][0]
    examples = evaluation.class_examples(run, best, EXAMPLES)
    if examples:
        what = f"the best guess, “{escape(best)}”," if prediction.not_sure else f"a “{escape(best)}”"
        st.markdown(f"**What {what} looked like in training**")
        st.image([image for _, image in examples], width=140)
