"""Predict: upload images and see the model's top classes for each."""

import streamlit as st

from pages._shared import pick_run, run_through_app
from tlcore import figures
from tlcore.images import BadImage, thumbnail
from tlcore.predict import cached_predictor

run_through_app()
st.title("Predict")
run = pick_run("Model from run", lambda run: run.model_path.exists())
if run is None:
    st.info("No trained model yet: train one on **Train** first.", icon=":material/info:")
    st.stop()

uploads = st.file_uploader("Images", accept_multiple_files=True,
                           type=["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"])
top_k = st.slider("Top-k", 1, max(1, len(run.class_names())), min(3, len(run.class_names())))
if not uploads:
    st.caption("Upload one or more images to classify them.")
    st.stop()

with st.spinner("Loading the model…"):
    predictor = cached_predictor(run.id, run.model_path.stat().st_mtime)
named = [(upload.name, upload.getvalue()) for upload in uploads]
for index, ((name, data), prediction) in enumerate(zip(named, predictor.predict_files(named, top_k=top_k))):
    if prediction.error:
        st.error(prediction.error, icon=":material/broken_image:")
        continue
    left, right = st.columns([1, 3])
    try:
        left.image(thumbnail(data, 160), caption=name)
    except BadImage:
        left.caption(name)
    best, probability = prediction.top[0]
    right.markdown(f"**{name}: {best}** ({probability:.1%})")
    right.plotly_chart(figures.top_k(prediction.top), key=f"topk_{index}")
