"""TL Studio: the browser app. Declares the pages; each page is a short script over tlcore."""

import streamlit as st

from pages.shared import VIA_APP
from pages.shared.auth import current_user, sign_in_configured, sign_in_screen, user_badge
from tlcore.access import ADMIN, MEMBER, VIEWER
from tlcore.web_server import keep_gpu_for_jobs, listening_problem

keep_gpu_for_jobs()  # this process's TensorFlow, when a page imports it, sees no GPU: GPU memory is for the jobs
st.set_page_config(page_title="TL Studio", page_icon="🧪", layout="wide")

# A browser is connected (st.context.url is None only under AppTest, where nothing listens): refuse to serve a
# network address without sign-in, unless the admin opted out loudly (docs/shared-server.md).
if st.context.url is not None:
    problem = listening_problem(st.get_option("server.address"), sign_in_configured())
    if problem:
        st.error(problem, icon=":material/lock_open:")
        st.stop()

user = current_user(report_problems=True)
if user is None:
    sign_in_screen()
    st.stop()
user_badge(user)

# (script, title, icon, roles that see it). Viewers browse results and predict: no dataset, backbone or training
# pages. Storage for everyone who owns things; the audit log for admins.
ALL, MAKERS = (ADMIN, MEMBER, VIEWER), (ADMIN, MEMBER)
PAGE_TABLE = [
    ("pages/home.py", "Home", ":material/home:", ALL),
    ("pages/dataset.py", "Dataset", ":material/photo_library:", MAKERS),
    ("pages/backbones.py", "Backbones", ":material/account_tree:", MAKERS),
    ("pages/train.py", "Train", ":material/model_training:", MAKERS),
    ("pages/finetune.py", "Fine-tune", ":material/tune:", MAKERS),
    ("pages/evaluate.py", "Evaluate", ":material/fact_check:", ALL),
    ("pages/predict.py", "Predict", ":material/image_search:", ALL),
    ("pages/demo.py", "Demo", ":material/co_present:", ALL),  # /demo?run=RUN, to show a model
    ("pages/storage.py", "Storage", ":material/hard_drive:", MAKERS),
    ("pages/audit.py", "Audit log", ":material/history:", (ADMIN,)),
]
PAGES = [st.Page(script, title=title, icon=icon, default=script == "pages/home.py")
         for script, title, icon, roles in PAGE_TABLE if user.role in roles]

st.session_state[VIA_APP] = True  # each page checks (and clears) this: see pages/shared/navigation.run_through_app
st.navigation(PAGES).run()
