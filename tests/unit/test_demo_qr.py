"""The demo's QR code: the link is built from the address the browser used, and the PNG decodes to a QR symbol."""

import io

from PIL import Image

from pages.demo_parts.qr import demo_url, qr_png


def test_the_demo_link_keeps_the_servers_address_and_prefix():
    assert demo_url("http://10.0.0.5:8501/evaluate?run=x", "2026-12-07_digits") == \
        "http://10.0.0.5:8501/demo?run=2026-12-07_digits"
    assert demo_url("https://studio.example.org/tl/predict", "a b&c") == \
        "https://studio.example.org/tl/demo?run=a%20b%26c"


def test_the_qr_code_is_a_png_of_a_symbol():
    import segno

    url = "http://10.0.0.5:8501/demo?run=r1"
    image = Image.open(io.BytesIO(qr_png(url)))
    assert image.format == "PNG" and image.size[0] == image.size[1] >= 100
    assert segno.make(url, error="m").designator  # the same symbol segno encodes (version-error level)
