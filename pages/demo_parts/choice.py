"""Demo page, UI only: the one model, chosen by the link (?run=RUN); without one, links to every demo-able run."""

from __future__ import annotations

import logging

import streamlit as st

from pages.shared.sharing import DEMO_PAGE
from pages.shared.user_text import inline_code
from tlcore.runs import FINISHED, Run, get_run, list_runs


def can_demo(run: Run) -> bool:
    return run.state == FINISHED and run.model_path.exists()


def linked_run() -> Run:
    """The run named in the URL; otherwise (or when it cannot be shown) a list of links, and the page stops."""
    wanted = st.query_params.get("run")
    run = None
    if wanted:
        try:
            run = get_run(wanted)
        except KeyError as error:  # the audience sees the name, not the server's folders; the log keeps the detail
            logging.getLogger(__name__).info("demo link to a missing run: %s", error.args[0])
            st.error(f"No model named {inline_code(wanted)} here: the link may be mistyped, or the run deleted.",
                     icon=":material/error:")
        else:
            if not can_demo(run):
                st.warning(f"Run {inline_code(run.id)} has no finished model to show (state: {run.state}).",
                           icon=":material/hourglass_top:")
                run = None
    if run is not None:
        return run
    st.title("Demo")
    runs = [candidate for candidate in list_runs() if can_demo(candidate)]
    if not runs:
        st.info("No finished run yet: a demo shows a trained model.", icon=":material/info:")
    else:
        st.markdown("Choose the model to show; the page's address then names it, ready to share.")
        for candidate in runs:
            st.page_link(DEMO_PAGE, label=candidate.id, query_params={"run": candidate.id},
                         icon=":material/co_present:")
    st.stop()
