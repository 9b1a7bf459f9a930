"""Demo page, UI only: an audience sees the demo and nothing else. The sidebar (every other page) is hidden unless a
signed-in member or admin asks for it with `?nav=1` in the demo's address."""

from __future__ import annotations

import streamlit as st

from pages.shared.auth import current_user
from tlcore.access import ADMIN, MEMBER

__all__ = ["NAV_PARAM", "navigation_wanted", "hide_navigation_for_audience"]

NAV_PARAM = "nav"  # /demo?run=RUN&nav=1: a member keeps the sidebar
HIDE_NAVIGATION = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stExpandSidebarButton"] {display: none !important;}
</style>"""


def navigation_wanted() -> bool:
    """True when a member or admin asked for the sidebar (?nav=1); viewers and audiences never get it."""
    if st.query_params.get(NAV_PARAM) != "1":
        return False
    user = current_user()
    return user is not None and user.role in (ADMIN, MEMBER)


def hide_navigation_for_audience() -> bool:
    """Hide the sidebar and its navigation unless `navigation_wanted()`; True when hidden."""
    if navigation_wanted():
        return False
    st.html(HIDE_NAVIGATION)
    return True
