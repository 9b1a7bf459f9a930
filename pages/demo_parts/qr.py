"""A QR code of a run's demo link, for phones in the room: scan it and the demo opens. Shown on Evaluate and
Predict. The link is built from the address this browser used; a loopback address (127.0.0.1, localhost: an SSH
tunnel) means phones cannot reach the server, and the page says so instead of drawing a code nobody can use."""

from __future__ import annotations

import io
from urllib.parse import quote, urlsplit

import streamlit as st

from tlcore.web_server import is_loopback

__all__ = ["demo_url", "qr_png", "demo_qr"]

QR_PX = 180


def demo_url(page_url: str, run_id: str) -> str:
    """The demo link of `run_id` on the server `page_url` (any page of it) was served from."""
    parts = urlsplit(page_url)
    prefix = parts.path.rsplit("/", 1)[0]  # a server behind a path prefix keeps it
    return f"{parts.scheme}://{parts.netloc}{prefix}/demo?run={quote(run_id)}"


def qr_png(url: str, scale: int = 6) -> bytes:
    """The QR code of `url` as a PNG (segno: pure Python)."""
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    return buffer.getvalue()


def demo_qr(run_id: str) -> None:
    """An expander with the QR code of the demo link, or why phones cannot use it from this address."""
    with st.expander("QR code of the demo, for phones", icon=":material/qr_code_2:"):
        page_url = st.context.url
        if not page_url:
            st.caption("The QR code appears when the page is opened in a browser.")
            return
        url = demo_url(page_url, run_id)
        host = urlsplit(url).hostname
        if is_loopback(host):
            st.caption(f"This browser reached TL Studio at {host}, an address only this computer (or an SSH tunnel) "
                       "can use: phones cannot open it. Open TL Studio by its network address (the server needs "
                       "sign-in to listen there) and the code here will work on the same network.")
            return
        st.image(qr_png(url), width=QR_PX, caption=url)
