"""TL Studio: the browser app. Declares the pages; each page is a short script over tlcore."""

import streamlit as st

from pages.shared import VIA_APP

st.set_page_config(page_title="TL Studio", page_icon="🧪", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/dataset.py", title="Dataset", icon=":material/photo_library:"),
    st.Page("pages/backbones.py", title="Backbones", icon=":material/account_tree:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/finetune.py", title="Fine-tune", icon=":material/tune:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/image_search:"),
    st.Page("pages/demo.py", title="Demo", icon=":material/co_present:"),  # /demo?run=RUN, to show a model
]

st.session_state[VIA_APP] = True  # each page checks (and clears) this: see pages/_shared.run_through_app
st.navigation(PAGES).run()
