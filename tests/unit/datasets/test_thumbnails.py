"""tlcore.datasets.thumbnails (issue 13): previews stay within the pixel budget, never follow a link out of the data
root, and a full disk costs only the cache."""

from PIL import Image, ImageFile

from tlcore.datasets.thumbnails import cached_thumbnail, describe, large_view


def test_an_image_over_the_pixel_budget_gets_no_thumbnail_and_says_why_without_decoding(studio_dirs, monkeypatch):
    image = studio_dirs.data_root / "poster.png"
    Image.new("RGB", (400, 300), (1, 2, 3)).save(image)
    monkeypatch.setenv("TLSTUDIO_MAX_IMAGE_PIXELS", "100000")
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))

    assert cached_thumbnail(image) is None
    assert describe(image)["problem"].startswith("too many pixels to decode on this server (400×300 = 120,000 pixels")
    assert decoded == []


def test_a_link_out_of_the_data_root_is_neither_previewed_nor_shown(studio_dirs, tmp_path):
    outside = tmp_path / "secret.png"
    Image.new("RGB", (20, 20), (9, 9, 9)).save(outside)
    link = studio_dirs.data_root / "cute.png"
    link.symlink_to(outside)

    assert cached_thumbnail(link) is None
    assert describe(link)["problem"] == "a symbolic link to a place outside the data root; not read"
    try:
        large_view(link)
    except ValueError as error:
        assert "outside the data root" in str(error)
    else:
        raise AssertionError("the large view opened a file outside the data root")


def test_a_full_disk_leaves_no_partial_thumbnail(studio_dirs, monkeypatch):
    image = studio_dirs.data_root / "cat.png"
    Image.new("RGB", (200, 100), (200, 100, 50)).save(image)
    monkeypatch.setattr(Image.Image, "save", _saving_into_a_full_disk)

    assert cached_thumbnail(image) is None
    folder = studio_dirs.home / "cache" / "thumbnails"
    assert list(folder.iterdir()) == []


def _saving_into_a_full_disk(self, target, *args, **kwargs):
    with open(target, "wb") as handle:
        handle.write(b"\x89PNG partial")
    raise OSError(28, "No space left on device")

