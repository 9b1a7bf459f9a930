"""UI for batch prediction: a folder under the data root or an uploaded zip → a background task → table and CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.shared import current_dataset, escape_markdown, inline_code, task_monitor
from pages.shared.auth import current_user, start_task_id
from pages.shared.uploads import upload_once
from tlcore.figures import predicted_class_counts
from tlcore.inference import BatchInputError, check_batch_zip, rows_to_csv, store_zip
from tlcore.storage import DiskFull

TASK_KEY = "batch_predict_task"


def batch_section(model_source: dict, class_names: list[str], top_k: int) -> None:
    with st.expander("Batch prediction: a folder or a zip", icon=":material/folder_zip:"):
        kind = st.radio("Images from", ["Folder under the data root", "Zip upload"], horizontal=True,
                        key="batch_kind")
        params = {"model": model_source, "top_k": top_k}
        if kind == "Zip upload":
            stored = upload_once("batch_zip", "Zip of images", _store_and_check,  # refused before any task starts
                                 refusals=(BatchInputError, DiskFull), type=["zip"])
            if stored is not None:
                zip_path, images, nested_archives = stored.value
                nested = (f" Not opened: {len(nested_archives)} archive(s) inside it ("
                          + ", ".join(inline_code(name) for name in nested_archives[:5]) + ")."
                          if nested_archives else "")
                st.caption(f"{images:,} images in {escape_markdown(stored.name)}.{nested}")
                params.update(zip=zip_path, zip_name=stored.name)
        else:
            params["folder"] = st.text_input("Folder", value=current_dataset(), key="batch_folder",
                                             help="Every image under it, sub-folders included.")
        if st.button("Predict all", disabled=not (params.get("zip") or params.get("folder")), key="batch_go"):
            st.session_state[TASK_KEY] = start_task_id("batch_predict", params)
        if st.session_state.get(TASK_KEY):
            task_monitor(st.session_state[TASK_KEY], lambda result: _show(result, class_names))


def _store_and_check(upload) -> tuple[str, int, list[str]]:
    """Stream the upload to disk and check it: (stored path, image count, archives inside it)."""
    zip_path = store_zip(upload, owner=current_user().id, shown_name=upload.name)
    checked = check_batch_zip(zip_path, upload.name)
    return str(zip_path), len(checked.images), list(checked.nested_archives)


def _show(result: dict, class_names: list[str]) -> None:
    rows = result["rows"]
    st.markdown(f"**{result['images']:,} images** from {inline_code(result['source'])}"
                + (f" · {result['errors']} unreadable" if result["errors"] else ""))
    st.plotly_chart(predicted_class_counts(rows, class_names), key="batch_counts")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"probability": st.column_config.NumberColumn(format="%.3f")})
    st.download_button("Download CSV", rows_to_csv(rows), file_name="predictions.csv", mime="text/csv",
                       key="batch_csv", icon=":material/download:")
