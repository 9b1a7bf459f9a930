"""Audit log (admins): who started, cancelled, resumed, deleted, exported, installed or signed in, and when."""

from datetime import datetime

import pandas as pd
import streamlit as st

from pages.shared import run_through_app
from pages.shared.auth import allowed
from tlcore import access

run_through_app()
st.title("Audit log")
if not allowed("audit"):
    st.error("Only admins may read the audit log.", icon=":material/block:")
    st.stop()
st.caption(f"One JSON line per action, each carrying the hash of the line before: `{access.audit_path()}`")
check = access.verify_chain()
if check.ok:
    st.success(check.message, icon=":material/verified:")
else:
    st.error(f"The audit log was tampered with or damaged: {check.message}", icon=":material/gpp_bad:")
who = st.text_input("Only this user (e-mail or id)", key="audit_user").strip() or None
limit = st.number_input("Newest entries shown", 10, 100_000, 500, step=100, key="audit_limit")
entries = access.read_log(limit=int(limit), user_id=who)
if not entries:
    st.info("Nothing recorded yet.", icon=":material/info:")
else:
    rows = [{"when": datetime.fromtimestamp(entry["at"]).strftime("%Y-%m-%d %H:%M:%S") if entry["at"] else "?",
             "user": entry.get("user"), "role": entry.get("role"), "action": entry.get("action"),
             "target": entry.get("target"),
             "details": ", ".join(f"{key}={value}" for key, value in entry.items()
                                  if key not in ("at", "user", "role", "action", "target", "prev"))}
             for entry in entries]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
