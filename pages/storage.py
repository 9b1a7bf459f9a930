"""Storage: disk use by kind, deleting runs, tasks, exports and uploads (to the trash, with a confirmation), restoring,
pruning caches."""

import pandas as pd
import streamlit as st

from pages.shared import escape_markdown, run_through_app
from pages.shared.auth import allowed, current_user, refusal
from tlcore import actions, storage
from tlcore.access import NotAllowed

run_through_app()
user = current_user()
st.title("Storage")
st.markdown("What takes disk space on this server. Deleted runs, tasks, exports and uploads go to the **trash** "
            "and can be restored until an admin empties it; caches are rebuilt when needed, so pruning them only "
            "costs time.")

usage = storage.disk_usage()
st.metric("Total", f"{sum(row.bytes for row in usage) / 1e6:,.1f} MB")
st.dataframe(pd.DataFrame([{"kind": row.kind, "MB": round(row.megabytes, 3), "cache": row.prunable}
                           for row in usage]), hide_index=True, width="stretch")

st.subheader("Delete a run or task")
deletable = {job.id: job for job in actions.deletable_jobs(user)}
if not deletable:
    st.caption("Nothing you may delete: only your own runs and tasks that are not queued or running.")
else:
    chosen = st.selectbox("Run or task", list(deletable), key="delete_choice")
    sure = st.checkbox(f"Yes, move {chosen} to the trash", key="delete_sure")
    if st.button("Delete", disabled=not sure, key="delete_go", icon=":material/delete:"):
        try:
            item = actions.delete_job(user, deletable[chosen])
        except (NotAllowed, storage.TrashError) as error:
            refusal(error)
        else:
            st.session_state.pop("delete_sure", None)
            st.toast(f"{chosen} moved to the trash.")
            st.rerun()

others = actions.deletable_items(user)
if others:
    st.subheader("Delete an export, upload, custom backbone or dataset")
    labels = actions.item_labels(others)
    kind, name = st.selectbox("Item", others, format_func=labels.__getitem__, key="other_choice")
    sure_other = st.checkbox(f"Yes, move the {kind} {name} to the trash", key="other_sure")
    if st.button("Delete item", disabled=not sure_other, key="other_go", icon=":material/delete:"):
        try:
            actions.delete_item(user, kind, name)
        except (NotAllowed, KeyError, storage.TrashError) as error:
            refusal(error)
        else:
            st.session_state.pop("other_sure", None)
            st.rerun()

st.subheader("Trash")
items = storage.list_trash()
if not items:
    st.caption("The trash is empty.")
else:
    st.dataframe(pd.DataFrame([{**item.to_row(), "MB": round(item.size_bytes / 1e6, 3)} for item in items])
                 [["id", "kind", "owner", "deleted_by", "deleted_at", "MB", "original"]], hide_index=True,
                 width="stretch")
    restorable = [item.id for item in items if allowed("restore", item.owner or item.deleted_by)
                  or item.deleted_by == user.id]
    if restorable:
        back = st.selectbox("Item to restore", restorable, key="restore_choice")
        if st.button("Restore", key="restore_go", icon=":material/restore_from_trash:"):
            try:
                actions.restore(user, back)
            except (NotAllowed, storage.TrashError) as error:
                refusal(error)
            else:
                st.toast(f"Restored {escape_markdown(back)} where it was.")
                st.rerun()
    if allowed("empty_trash"):
        sure_empty = st.checkbox("Yes, delete everything in the trash for good", key="empty_sure")
        if st.button("Empty trash", disabled=not sure_empty, key="empty_go", icon=":material/delete_forever:"):
            freed = actions.empty(user)
            st.session_state.pop("empty_sure", None)
            st.toast(f"Freed {freed / 1e6:,.1f} MB.")
            st.rerun()

if allowed("prune_caches"):
    st.subheader("Caches")
    kinds = st.multiselect("Caches to prune", list(storage.CACHE_KINDS), default=list(storage.CACHE_KINDS),
                           key="prune_kinds")
    if st.button("Prune caches", disabled=not kinds, key="prune_go", icon=":material/cleaning_services:"):
        st.toast(f"Freed {actions.prune(user, kinds) / 1e6:,.1f} MB of caches.")
        st.rerun()
