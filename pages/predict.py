"""Predict: classify uploads, a camera photo or dataset images (calibrated probabilities, "not sure" below the run's
threshold); Grad-CAM; batch prediction; export the model; its model card."""

import streamlit as st

from pages.demo_parts.qr import demo_qr
from pages.predict_parts.batch import batch_section
from pages.predict_parts.export import export_section
from pages.predict_parts.inputs import chosen_images
from pages.predict_parts.results import show_predictions
from pages.shared import pick_run, run_through_app
from pages.shared.external_model import load_checked, pick_external_model
from pages.shared.sharing import model_card_downloads
from tlcore.inference import cached_predictor
from tlcore.layers import BadModelFile
from pages.shared.user_text import escape_markdown

run_through_app()
st.title("Predict")
RUN, EXTERNAL = "A run of this studio", "An external .keras file"
origin = st.radio("Model", [RUN, EXTERNAL], horizontal=True, key="predict_model_origin")
run = None
if origin == RUN:
    run = pick_run("Model from run", lambda run: run.model_path.exists())
    if run is None:
        st.info("No trained model yet: train one on **Train** first, or choose an external .keras file.",
                icon=":material/info:")
        st.stop()
    class_names, source = run.class_names(), {"run": run.id}
else:
    external = pick_external_model()
    if external is None:
        st.stop()
    class_names, source = external.class_names, external.source

named = chosen_images()
left, right = st.columns(2)
top_k = left.slider("Top-k", 1, max(1, len(class_names)), min(3, len(class_names)))
explain = right.toggle("Grad-CAM", key="predict_gradcam",
                       help="Heatmap of the image regions that raised the chosen class's probability.")
if not named:
    st.caption("Upload one or more images to classify them.")
else:
    with st.spinner("Loading the model…"):
        try:  # loaded once per server: tlcore caches the predictor by model file and modification time
            predictor = (cached_predictor(run.id, run.model_path.stat().st_mtime) if run else
                         load_checked(external.path, class_names, external.path.name))
        except BadModelFile as error:
            st.error(escape_markdown(str(error)), icon=":material/error:")
            st.stop()
    show_predictions(predictor, named, top_k, explain)

st.divider()
batch_section(source, class_names, top_k)
if run is not None:
    export_section(run)
    model_card_downloads(run, "predict")
    demo_qr(run.id)
