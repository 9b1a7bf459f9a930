"""Demo: one model, chosen by its link (/demo?run=RUN), shown to an audience: the camera, an upload or a dropped
photo → the answer in large type with calibrated probabilities, "not sure" below the run's threshold, Grad-CAM on
request, training images of the answer, and a short model card. No training, export or cancel controls.
"""

import streamlit as st

from pages.demo_parts.answer import show_answer
from pages.demo_parts.card import short_card
from pages.demo_parts.choice import linked_run
from pages.demo_parts.photo import chosen_photo
from pages.shared import run_through_app
from tlcore.inference import cached_predictor
from tlcore.layers import BadModelFile

run_through_app()
run = linked_run()
dataset = run.config().dataset.rstrip("/").split("/")[-1]
st.set_page_config(page_title=f"Demo · {dataset}", initial_sidebar_state="collapsed")
st.title(f"What is it? · {dataset}")
photo = chosen_photo()
if photo is None:
    st.caption(f"Show the camera something, or drop a photo: the model answers one of {len(run.class_names())} "
               f"classes ({', '.join(run.class_names())}), or says it is not sure.")
else:
    with st.spinner("Looking…"):
        try:  # loaded once per server: cached by model file and modification time
            predictor = cached_predictor(run.id, run.model_path.stat().st_mtime)
        except BadModelFile as error:
            st.error(str(error), icon=":material/error:")
            st.stop()
        prediction = predictor.predict_files([photo], top_k=min(3, len(predictor.class_names)))[0]
    show_answer(predictor, run, photo, prediction)
short_card(run)
