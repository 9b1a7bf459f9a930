"""Demo: one model, chosen by its link (/demo?run=RUN), shown to an audience: the camera (first), an upload or a
dropped photo → the answer in large type with calibrated probabilities, "not sure" below the run's threshold,
Grad-CAM on request, training images of the answer, and a short model card. No training, export or cancel controls,
and no navigation to other pages (a member adds ?nav=1 to keep the sidebar).

The answer comes first: on a phone (390 px) the columns stack, so the answer column precedes the photo column.
"""

from pathlib import Path

import streamlit as st

from pages.demo_parts.answer import show_answer, show_examples, show_photo
from pages.demo_parts.card import short_card
from pages.demo_parts.choice import linked_run
from pages.demo_parts.navigation import hide_navigation_for_audience
from pages.demo_parts.photo import CAMERA_PHOTO, chosen_photo
from pages.shared import run_through_app
from tlcore.inference import cached_predictor
from tlcore.layers import BadModelFile
from pages.shared.user_text import escape_markdown

run_through_app()
hide_navigation_for_audience()
run = linked_run()
dataset = Path(run.config().dataset).name
st.set_page_config(page_title=f"Demo · {dataset}", initial_sidebar_state="collapsed")
st.subheader(f"What is it? · {escape_markdown(dataset)}")  # smaller than the answer: the answer is what the room reads
# Answer first (left on a laptop or projector, on top on a phone), then the photo: the camera or an upload.
answer_column, photo_column = st.columns([1.2, 1], gap="large")
with photo_column:
    photo = chosen_photo()
if photo is None:
    classes = escape_markdown(", ".join(run.class_names()))  # folder names: shown as text, never as markup
    answer_column.caption(f"Show the camera something, or drop a photo: the model answers one of "
                          f"{len(run.class_names())} classes ({classes}), or says it is not sure.")
else:
    with answer_column, st.spinner("Looking…"):
        try:  # loaded once per server: cached by model file and modification time
            predictor = cached_predictor(run.id, run.model_path.stat().st_mtime)
        except BadModelFile as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
            st.stop()
        prediction = predictor.predict_files([photo], top_k=min(3, len(predictor.class_names)))[0]
    with answer_column:
        show_answer(prediction, predictor.confidence)
    with photo_column:
        show_photo(predictor, photo, prediction, camera=photo[0] == CAMERA_PHOTO)
    show_examples(run, prediction)
short_card(run)
