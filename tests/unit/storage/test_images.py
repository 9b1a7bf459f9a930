"""tlcore.storage.images: every kind of file decodes to the same 8-bit RGB, and broken files say why."""

import io

import numpy as np
import pytest
from PIL import Image

from tlcore.storage.images import BadImage, is_image_name, load_array, open_rgb


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
