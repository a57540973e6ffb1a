"""Tests for the processing of residents' photos: metadata gone, upright, shrunk, bombs and non-images refused."""
import io
import random
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile

from dispatch.images import ProcessedPhoto, RejectedPhoto, process_photo

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
GPS = ExifTags.IFD.GPSInfo
ORIENTATION = ExifTags.Base.Orientation
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       b"<rdf:Description>secret-xmp</rdf:Description></rdf:RDF></x:xmpmeta>")
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encode(image, fmt, **params):
    """The image saved in memory."""
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def located_exif(orientation=None):
    """EXIF with a GPS position in Qingdao (and an orientation when given), as a phone writes it."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (36.0, 3.0, 42.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (120.0, 22.0, 55.1)
    return exif


def marked(size):
    """A white picture whose top-left quarter is red, so a rotation shows where that corner went."""
    image = Image.new("RGB", size, WHITE)
    image.paste(RED, (0, 0, size[0] // 2, size[1] // 2))
    return image


def near(pixel, colour, tolerance=40):
    """Whether a (JPEG-blurred) pixel is close to a colour."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def opened(data):
    """Decoded JPEG bytes."""
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def header_only_png(width, height):
    """A PNG whose header claims width×height over a few bytes of pixel data: tiny to send, huge to decode."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + chunk(b"IEND", b""))


@pytest.fixture
def no_decoding(monkeypatch):
    """Make any pixel decoding fail the test, to prove a refusal came from the header alone."""
    def load(self):
        raise AssertionError("pixels were decoded")
    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def refusal(data, **limits):
    """The RejectedPhoto process_photo raises for data."""
    with pytest.raises(RejectedPhoto) as caught:
        process_photo(data, **limits)
    return caught.value


def test_gps_exif_is_removed_and_orientation_applied():
    source = encode(marked((400, 200)), "JPEG", exif=located_exif(orientation=6))
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS)  # the input really carries a location

    photo = process_photo(source)

    assert isinstance(photo, ProcessedPhoto)
    for data in (photo.data, photo.thumbnail):
        assert b"Exif" not in data
        assert len(Image.open(io.BytesIO(data)).getexif()) == 0
    image = opened(photo.data)
    assert (photo.width, photo.height) == image.size == (200, 400)
    # Orientation 6 means "turn 90° clockwise": the stored top-left corner ends top-right.
    assert near(image.getpixel((150, 50)), RED)
    assert near(image.getpixel((50, 50)), WHITE)


@pytest.mark.parametrize("fmt, params", [
    ("JPEG", {"exif": located_exif(), "xmp": XMP, "icc_profile": SRGB, "comment": b"secret-comment"}),
    ("PNG", {"exif": located_exif(), "icc_profile": SRGB}),
    ("WEBP", {"exif": located_exif(), "xmp": XMP, "icc_profile": SRGB}),
])
def test_no_metadata_survives(fmt, params):
    source = encode(marked((64, 48)), fmt, **params)
    assert Image.open(io.BytesIO(source)).getexif().get_ifd(GPS)  # the input really carries a location

    photo = process_photo(source)

    for data in (photo.data, photo.thumbnail):
        for trace in (b"Exif", b"secret-xmp", b"ns.adobe.com", b"ICC_PROFILE", b"secret-comment", b"PhoneMaker"):
            assert trace not in data
        image = Image.open(io.BytesIO(data))
        assert not {"exif", "xmp", "icc_profile", "comment"} & set(image.info)
        assert len(image.getexif()) == 0


@pytest.mark.parametrize("size, expected", [((5000, 3000), (2048, 1229)), ((3000, 5000), (1229, 2048))])
def test_large_photo_is_shrunk_and_thumbnailed(size, expected):
    photo = process_photo(encode(Image.new("RGB", size, BLUE), "JPEG"))

    image = opened(photo.data)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert (photo.width, photo.height) == image.size == expected
    assert (photo.content_type, photo.ext, photo.thumbnail_content_type) == ("image/jpeg", "jpg", "image/jpeg")
    thumbnail = opened(photo.thumbnail)
    assert thumbnail.format == "JPEG"
    assert max(thumbnail.size) == 320
    assert near(thumbnail.getpixel((10, 10)), BLUE)


def test_limits_are_parameters():
    photo = process_photo(encode(Image.new("RGB", (900, 300), BLUE), "PNG"), max_side=600, thumb_side=90)

    assert (photo.width, photo.height) == (600, 200)
    assert opened(photo.thumbnail).size == (90, 30)


def test_small_photo_is_not_enlarged():
    photo = process_photo(encode(Image.new("RGB", (120, 80), BLUE), "PNG"))

    assert (photo.width, photo.height) == (120, 80)
    assert opened(photo.thumbnail).size == (120, 80)


def test_transparent_png_is_flattened_on_white():
    image = Image.new("RGBA", (100, 100), (0, 0, 0, 0))  # transparent black: dropping alpha would show black
    image.paste((255, 0, 0, 255), (0, 0, 50, 100))

    photo = process_photo(encode(image, "PNG"))

    result = opened(photo.data)
    assert result.mode == "RGB"
    assert near(result.getpixel((20, 50)), RED)
    assert near(result.getpixel((80, 50)), WHITE)


def test_gif_first_frame_with_transparency():
    first = Image.new("P", (60, 60), 0)
    first.putpalette([*RED, *BLUE, 0, 0, 0] + [0] * 759)
    first.paste(2, (30, 0, 60, 60))  # right half: palette index 2, declared transparent
    second = Image.new("P", (60, 60), 1)
    second.putpalette(first.getpalette())
    source = encode(first, "GIF", save_all=True, append_images=[second], transparency=2, duration=100)
    assert Image.open(io.BytesIO(source)).n_frames == 2

    result = opened(process_photo(source).data)

    assert near(result.getpixel((10, 30)), RED)
    assert near(result.getpixel((50, 30)), WHITE)


@pytest.mark.parametrize("image, colour", [
    (Image.new("CMYK", (40, 40), (0, 255, 255, 0)), RED),
    (Image.new("L", (40, 40), 128), (128, 128, 128)),
    (Image.new("1", (40, 40), 1), WHITE),
    (Image.new("LA", (40, 40), (0, 0)), WHITE),
    (Image.new("I;16", (40, 40), 40000), (156, 156, 156)),
], ids=lambda value: getattr(value, "mode", None))
def test_other_modes_become_rgb(image, colour):
    fmt = "JPEG" if image.mode == "CMYK" else "PNG"

    result = opened(process_photo(encode(image, fmt)).data)

    assert result.mode == "RGB"
    assert near(result.getpixel((20, 20)), colour)


def test_phone_jpeg_with_extra_frames_is_accepted():
    source = encode(Image.new("RGB", (80, 60), RED), "MPO", save_all=True,
                    append_images=[Image.new("RGB", (80, 60), BLUE)])
    assert Image.open(io.BytesIO(source)).format == "MPO"

    photo = process_photo(source)

    assert photo.data.count(b"\xff\xd8\xff") == 1  # one image, the preview frame is gone
    assert near(opened(photo.data).getpixel((40, 30)), RED)


@pytest.mark.parametrize("data", [
    random.Random(7).randbytes(5000),
    "楼道灯坏了，请尽快派人维修。\n".encode() * 20,
    b"",
], ids=["random", "text", "empty"])
def test_non_images_are_refused(data):
    error = refusal(data)

    assert error.code == "not_image"
    assert str(error) == "文件不是图片"


def test_truncated_photo_is_refused():
    source = encode(marked((300, 200)), "JPEG")

    error = refusal(source[: len(source) // 2])

    assert error.code == "not_image"
    assert "损坏" in str(error)


def test_size_limit_is_checked_before_decoding(no_decoding):
    error = refusal(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024 - 2))

    assert error.code == "too_large"
    assert str(error) == "图片过大（超过 10 MB）"


def test_size_limit_boundary():
    source = encode(Image.new("RGB", (50, 50), BLUE), "PNG")

    assert process_photo(source, max_bytes=len(source)).width == 50
    assert refusal(source, max_bytes=len(source) - 1).code == "too_large"


def test_size_limit_is_named_in_the_refusal():
    assert str(refusal(b"x" * 2000, max_bytes=1536)) == "图片过大（超过 1.5 KB）"


@pytest.mark.parametrize("size, limits", [
    ((20000, 20000), {}),                             # far beyond everything
    ((8000, 6000), {}),                               # 48 MP: over max_pixels, under Pillow's own limits
    ((12000, 10000), {"max_pixels": 10**12}),         # 120 MP: only Pillow's warning stands in the way
    ((20000, 20000), {"max_pixels": 10**12}),         # 400 MP: only Pillow's error stands in the way
    ((100, 100), {"max_pixels": 9999}),
])
def test_decompression_bombs_are_refused_from_the_header(no_decoding, size, limits):
    data = header_only_png(*size)
    assert len(data) < 1000

    error = refusal(data, **limits)

    assert error.code == "bomb"
    assert str(error) == "图片像素过多，疑似压缩炸弹"


def test_pixel_limit_boundary():
    assert process_photo(encode(Image.new("L", (100, 100)), "PNG"), max_pixels=10000).width == 100


@pytest.mark.parametrize("data, name", [
    (encode(Image.new("RGB", (30, 30), RED), "BMP"), "BMP"),
    (encode(Image.new("RGB", (30, 30), RED), "TIFF"), "TIFF"),
    (b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 100, "HEIC"),
])
def test_other_formats_are_named(data, name):
    error = refusal(data)

    assert error.code == "unsupported"
    assert str(error) == f"不支持的图片格式：{name}"
