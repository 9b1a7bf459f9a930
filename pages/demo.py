"""Demo: one model, chosen by its link (/demo?run=RUN), shown to an audience: the camera, an upload or a dropped
photo → the answer in large type with calibrated probabilities, "not sure" below the run's threshold, Grad-CAM on
request, training images of the answer, and a short model card. No training, export or cancel controls.
"""

from pathlib import Path

import streamlit as st

from pages.demo_parts.answer import show_answer, show_examples, show_photo
from pages.demo_parts.card import short_card
from pages.demo_parts.choice import linked_run
from pages.demo_parts.photo import CAMERA_PHOTO, chosen_photo
from pages.shared import run_through_app
from tlcore.inference import cached_predictor
from tlcore.layers import BadModelFile
from pages.shared.user_text import escape_markdown

run_through_app()
run = linked_run()
dataset = Path(run.config().dataset).name
st.set_page_config(page_title=f"Demo · {dataset}", initial_sidebar_state="collapsed")
st.title(f"What is it? · {dataset}")
# Side by side on a laptop or projector; on a phone the columns stack: the photo, then the answer just below it.
left, right = st.columns([1, 1.2], gap="large")
with left:
    photo = chosen_photo()
if photo is None:
    right.caption(f"Show the camera something, or drop a photo: the model answers one of {len(run.class_names())} "
                  f"classes ({', '.join(run.class_names())}), or says it is not sure.")
else:
    with st.spinner("Looking…"):
        try:  # loaded once per server: cached by model file and modification time
            predictor = cached_predictor(run.id, run.model_path.stat().st_mtime)
        except BadModelFile as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
            st.stop()
        prediction = predictor.predict_files([photo], top_k=min(3, len(predictor.class_names)))[0]
    with right:
        show_answer(prediction, predictor.confidence.threshold)
    with left:
        show_photo(predictor, photo, prediction, camera=photo[0] == CAMERA_PHOTO)
    show_examples(run, prediction)
short_card(run)
