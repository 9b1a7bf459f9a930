"""Demo page, UI only: the photo to classify, from the camera (the default: what a presenter shows first), an upload
or an image dropped on the page."""

from __future__ import annotations

import streamlit as st

from tlcore.datasets import IMAGE_EXTENSIONS

CAMERA, UPLOAD = "Camera", "Upload or drop a photo"
CAMERA_PHOTO = "camera photo"


def chosen_photo() -> tuple[str, bytes] | None:
    """(name, bytes) of the photo to classify, or None until there is one; the name of a camera photo is
    CAMERA_PHOTO."""
    source = st.radio("Photo from", [CAMERA, UPLOAD], horizontal=True, key="demo_source",
                      label_visibility="collapsed")
    if source == CAMERA:
        photo = st.camera_input("Take a photo", key="demo_camera",
                                help="The browser asks for the camera; it works on localhost or over HTTPS.")
        return None if photo is None else (CAMERA_PHOTO, photo.getvalue())
    upload = st.file_uploader("Drop a photo here, or browse", key="demo_upload",
                              type=sorted(extension.lstrip(".") for extension in IMAGE_EXTENSIONS))
    return None if upload is None else (upload.name, upload.getvalue())
