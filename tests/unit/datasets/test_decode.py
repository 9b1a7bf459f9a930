"""tlcore.datasets.decode: TensorFlow decodes the common files to Pillow's pixels within the stated tolerance, and
every file TensorFlow would decode differently goes to Pillow."""

import numpy as np
import pytest
from PIL import Image

from tlcore.datasets import decode
from tlcore.datasets.images import load_array

SIZES = (8, 32, 96)  # the file's own size (no resize), up and down


def _picture(width=90, height=120):
    """Gradients plus noise: every channel and every resize weight matters, unlike a flat colour."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.stack([(xx * 2) % 256, (yy * 2) % 256, ((xx + yy) * 3) % 256], -1)
    return np.clip(image + rng.integers(-20, 20, image.shape), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """name → (path, the decoder it must get)."""
    folder = tmp_path_factory.mktemp("decode")
    rgb = Image.fromarray(_picture())
    alpha = rgb.copy()
    alpha.putalpha(Image.fromarray(np.tile(np.linspace(0, 255, 90).astype(np.uint8), (120, 1))))
    rotated = rgb.getexif()
    rotated[0x0112] = 6
    transparent_gif = rgb.convert("P")
    transparent_gif.info["transparency"] = 0
    made = {
        "rgb.jpg": (lambda p: rgb.save(p, quality=90), decode.NATIVE_JPEG),
        "grey.jpg": (lambda p: rgb.convert("L").save(p), decode.NATIVE_JPEG),
        "rgb.png": (lambda p: rgb.save(p), decode.NATIVE),
        "grey.png": (lambda p: rgb.convert("L").save(p), decode.NATIVE),
        "palette.png": (lambda p: rgb.convert("P").save(p), decode.NATIVE),
        "rgba.png": (lambda p: alpha.save(p), decode.NATIVE_ALPHA),
        "grey_alpha.png": (lambda p: alpha.convert("LA").save(p), decode.NATIVE_ALPHA),
        "rgb.bmp": (lambda p: rgb.save(p), decode.NATIVE),
        "palette.gif": (lambda p: rgb.convert("P").save(p), decode.NATIVE),
        "large.jpg": (lambda p: Image.fromarray(_picture(640, 480)).save(p, quality=85), decode.NATIVE_JPEG),
        "tiny.png": (lambda p: Image.fromarray(_picture(8, 8)).save(p), decode.NATIVE),
        "cmyk.jpg": (lambda p: rgb.convert("CMYK").save(p), decode.PILLOW),
        "exif_rotated.jpg": (lambda p: rgb.save(p, exif=rotated), decode.PILLOW),
        "sixteen_bit.png": (lambda p: Image.fromarray(_picture()[..., 0].astype(np.uint16) * 257).save(p),
                            decode.PILLOW),
        "transparent.gif": (lambda p: transparent_gif.save(p, transparency=0), decode.PILLOW),
        "rgb.webp": (lambda p: rgb.save(p), decode.PILLOW),
        "rgb.tiff": (lambda p: rgb.save(p), decode.PILLOW),
    }
    result = {}
    for name, (save, expected) in made.items():
        save(folder / name)
        result[name] = (folder / name, expected)
    return result


def test_each_file_gets_the_decoder_that_keeps_its_pixels(files):
    assert {name: decode.decoder_of(path) for name, (path, _) in files.items()} == \
        {name: expected for name, (_, expected) in files.items()}


def test_over_the_pixel_budget_and_unreadable_headers_go_to_pillow(files, tmp_path, monkeypatch):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    assert decode.decoder_of(broken) == decode.PILLOW
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", str(100 * 100))  # a JPEG draft would shrink the large one
    assert decode.decoder_of(files["large.jpg"][0]) == decode.PILLOW
    monkeypatch.setenv("TLSTUDIO_NATIVE_DECODE", "0")
    assert decode.decoders_of([str(files["rgb.png"][0])]).tolist() == [decode.PILLOW]


@pytest.mark.parametrize("size", SIZES)
def test_native_pixels_match_pillow_within_the_tolerance(files, size):
    import tensorflow as tf

    @tf.function
    def decoded(path, decoder):
        return decode.decode_in_graph(path, decoder, size)

    for name, (path, expected) in files.items():
        native = decoded(tf.constant(str(path)), tf.constant(expected)).numpy()
        pillow = load_array(path, size)
        assert native.shape == (size, size, 3) and native.dtype == np.uint8
        difference = np.abs(native.astype(int) - pillow.astype(int))
        assert difference.max() <= decode.NATIVE_TOLERANCE["max"], (name, size, difference.max())
        assert difference.mean() <= decode.NATIVE_TOLERANCE["mean"], (name, size, difference.mean())
        if expected == decode.PILLOW:
            assert difference.max() == 0, name  # Pillow's own pixels
