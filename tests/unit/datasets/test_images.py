"""tlcore.datasets.images: every kind of file decodes to the same 8-bit RGB, and broken files say why."""

import io

import numpy as np
import pytest
from PIL import Image

from tlcore.datasets.images import BadImage, is_image_name, load_array, open_rgb


def _pixels(path_or_bytes) -> np.ndarray:
    return np.asarray(open_rgb(path_or_bytes))


def test_png_alpha_is_composited_on_white(tmp_path):
    rgba = np.array([[[255, 0, 0, 255], [255, 0, 0, 0], [0, 0, 0, 128]]], dtype=np.uint8)
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "alpha.png")

    image = open_rgb(tmp_path / "alpha.png")

    assert image.mode == "RGB"
    pixels = np.asarray(image).astype(int)
    assert pixels[0, 0].tolist() == [255, 0, 0]  # opaque stays as it is
    assert pixels[0, 1].tolist() == [255, 255, 255]  # fully transparent reads as white paper, not black
    assert np.allclose(pixels[0, 2], 127, atol=1)  # half-transparent black over white is mid grey


def test_greyscale_with_alpha_is_composited_on_white(tmp_path):
    la = np.array([[[0, 0], [0, 255]]], dtype=np.uint8)
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")

    assert _pixels(tmp_path / "la.png").tolist() == [[[255, 255, 255], [0, 0, 0]]]


def test_16_bit_png_is_scaled_down_not_clipped(tmp_path):
    values = np.array([[0, 1000, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")

    pixels = _pixels(tmp_path / "deep.png")

    assert pixels.dtype == np.uint8
    assert pixels[0, :, 0].tolist() == [0, 3, 127, 255]  # clipping would give [0, 255, 255, 255]
    assert (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all()


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # no cyan, full magenta+yellow = red
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"

    pixels = _pixels(tmp_path / "cmyk.jpg").astype(int)

    assert pixels.shape == (8, 8, 3)
    assert np.abs(pixels[4, 4] - [255, 0, 0]).max() <= 3


def test_palette_png_uses_its_colours_and_transparent_entry_is_white(tmp_path):
    palette = Image.new("P", (3, 1))
    palette.putpalette([255, 0, 0, 0, 0, 255, 0, 255, 0] + [0] * (768 - 9))
    for x, index in enumerate((0, 1, 2)):
        palette.putpixel((x, 0), index)
    palette.save(tmp_path / "palette.png", transparency=1)

    assert _pixels(tmp_path / "palette.png").tolist() == [[[255, 0, 0], [255, 255, 255], [0, 255, 0]]]


def test_greyscale_png_gives_three_equal_channels(tmp_path):
    Image.fromarray(np.array([[0, 100, 255]], dtype=np.uint8), mode="L").save(tmp_path / "grey.png")

    assert _pixels(tmp_path / "grey.png").tolist() == [[[0, 0, 0], [100, 100, 100], [255, 255, 255]]]


def test_bytes_and_path_decode_identically(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")

    assert np.array_equal(_pixels(tmp_path / "rgb.png"), rgb)
    assert np.array_equal(_pixels((tmp_path / "rgb.png").read_bytes()), rgb)


def test_load_array_squashes_to_a_square_uint8_array(tmp_path):
    Image.new("RGBA", (40, 10), (0, 0, 255, 255)).save(tmp_path / "wide.png")

    array = load_array(tmp_path / "wide.png", 32)

    assert array.shape == (32, 32, 3) and array.dtype == np.uint8
    assert array[16, 16].tolist() == [0, 0, 255]


def test_load_array_keeps_an_image_already_at_size(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "exact.png")

    assert np.array_equal(load_array(tmp_path / "exact.png", 32), rgb)


def test_zero_byte_file_is_reported_as_empty(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")

    with pytest.raises(BadImage, match=r"^empty file \(0 bytes\)$"):
        open_rgb(tmp_path / "empty.png")
    with pytest.raises(BadImage, match=r"^empty file \(0 bytes\)$"):
        open_rgb(b"")


def test_truncated_jpeg_is_reported_as_truncated(tmp_path):
    noise = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])

    with pytest.raises(BadImage, match=r"^truncated or corrupt image \(image file is truncated"):
        open_rgb(tmp_path / "cut.jpg")


def test_text_file_named_jpg_is_reported_as_not_an_image(tmp_path):
    (tmp_path / "notes.jpg").write_text("these are my notes, not a photo\n")

    with pytest.raises(BadImage) as raised:
        load_array(tmp_path / "notes.jpg", 32)
    assert str(raised.value) == "not an image (Pillow cannot identify the format)"


@pytest.mark.parametrize("name, expected", [
    ("cat.JPG", True), ("scan.tiff", True), ("a.webp", True), ("notes.txt", False), (".hidden.png", False),
    ("archive.png.zip", False), ("README", False),
])
def test_is_image_name(name, expected):
    assert is_image_name(name) is expected


# --- issue 13: a server-side pixel budget below Pillow's limit ------------------------------------------------------

def _png_claiming(width: int, height: int) -> bytes:
    """A real, tiny PNG of one colour: ~1 KB on disk per 16 Mpx, gigabytes once decoded."""
    buffer = io.BytesIO()
    Image.new("RGBA", (width, height), (9, 9, 9, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_image_over_the_pixel_budget_is_refused_before_it_is_decoded(monkeypatch):
    from PIL import Image as PILImage
    from PIL import ImageFile

    from tlcore.datasets.images import DEFAULT_MAX_PIXELS, TOO_MANY_PIXELS, pixel_budget

    assert pixel_budget() == DEFAULT_MAX_PIXELS < PILImage.MAX_IMAGE_PIXELS
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "10000")
    data = _png_claiming(200, 100)  # 20,000 px: twice the budget set here, far below Pillow's 89 Mpx
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    with pytest.raises(BadImage) as refused:
        open_rgb(data)

    assert refused.value.reason == TOO_MANY_PIXELS
    assert str(refused.value) == ("too many pixels to decode on this server (200×100 = 20,000 pixels; at most 10,000 "
                                  "are decoded here, the server's pixel limit)")
    assert decoded == []  # the header alone decided: no pixel was decoded


def test_the_budget_follows_the_environment(monkeypatch):
    data = _png_claiming(200, 100)
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "20000")

    assert open_rgb(data).size == (200, 100)  # exactly at the budget is fine


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_instead_of_refused(monkeypatch):
    from tlcore.datasets.images import inspect_image

    buffer = io.BytesIO()
    Image.new("RGB", (400, 200), (200, 30, 30)).save(buffer, format="JPEG")
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "10000")  # 80,000 px to fit into 10,000: 1/4 scale (5,000 px)

    image = open_rgb(buffer.getvalue())

    assert image.size == (100, 50) and image.width * image.height <= 10000
    assert np.asarray(image)[25, 50].tolist() == pytest.approx([200, 30, 30], abs=3)
    assert inspect_image(buffer.getvalue()).width == 400  # the report still gives the stored size


def test_an_open_binary_file_decodes_like_its_path(tmp_path):
    path = tmp_path / "grey.png"
    Image.new("L", (9, 9), 77).save(path)

    with open(path, "rb") as handle:
        assert np.array_equal(_pixels(handle), _pixels(path))
    with open(tmp_path / "empty.png", "wb"):
        pass
    with open(tmp_path / "empty.png", "rb") as handle, pytest.raises(BadImage, match="empty file"):
        open_rgb(handle)
