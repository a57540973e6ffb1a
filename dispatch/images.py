"""A resident's photo made safe to keep: checked, turned upright, stripped of metadata, shrunk, re-encoded as JPEG."""
import io
import struct
import warnings
from dataclasses import dataclass, field

from PIL import Image, ImageOps, UnidentifiedImageError

# The parsers a resident's bytes may reach; a phone JPEG with extra frames comes back from the JPEG parser as "MPO".
ACCEPTED_PARSERS = ("JPEG", "PNG", "GIF", "WEBP")
# Recognised only to name them in the refusal; no other Pillow parser ever sees a resident's bytes.
NAMED_PARSERS = ("BMP", "TIFF", "ICO", "PSD", "AVIF", "JPEG2000")
# ISO-BMFF brands of iPhone HEIC photos, which Pillow cannot open; sniffed so the refusal can name them.
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")
# What Pillow raises on truncated or corrupt data (struct.error and IndexError come from malformed headers).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
PHOTO_QUALITY = 85
THUMBNAIL_QUALITY = 80
WHITE = (255, 255, 255)


class RejectedPhoto(Exception):
    """A photo we refuse: str() is the reason for staff, .code one of not_image, too_large, bomb, unsupported."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ProcessedPhoto:
    """The photo and its thumbnail, both JPEG without any metadata; sizes are the photo's."""

    data: bytes = field(repr=False)
    content_type: str
    ext: str
    width: int
    height: int
    thumbnail: bytes = field(repr=False)
    thumbnail_content_type: str = "image/jpeg"


def process_photo(data, *, max_bytes=10 * 1024 * 1024, max_side=2048, thumb_side=320, max_pixels=40_000_000):
    """The photo upright, without metadata, longest side at most max_side, as JPEG; raises RejectedPhoto."""
    if len(data) > max_bytes:  # before any parsing, so an oversized upload costs nothing
        raise RejectedPhoto("too_large", f"图片过大（超过 {_readable_size(max_bytes)}）")
    photo = _fit(_flatten(_upright(_decode(data, max_side, max_pixels))), max_side)
    # New pixels with an empty info dict: Pillow copies info through convert/resize and writes
    # a JPEG comment from it on save, so only a fresh image is sure to carry nothing.
    photo = Image.frombytes("RGB", photo.size, photo.tobytes())
    return ProcessedPhoto(data=_jpeg(photo, PHOTO_QUALITY), content_type="image/jpeg", ext="jpg",
                          width=photo.width, height=photo.height,
                          thumbnail=_jpeg(_fit(photo, thumb_side), THUMBNAIL_QUALITY))


def _decode(data, max_side, max_pixels):
    """The first frame's pixels, decoded only after the size in the header has passed the bomb checks."""
    # Pillow's own alarm between its two limits is only a warning; here it refuses too.
    # catch_warnings is process-wide, but the worst a race between threads can do is leave
    # this filter in place, which only makes Pillow stricter.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = _open(data)
            if image.width * image.height > max_pixels:
                raise _bomb()
            image.draft(None, (max_side, max_side))  # JPEG only: decode a huge photo at 1/2, 1/4 or 1/8 scale
            image.load()
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise _bomb() from exc
        except DECODE_ERRORS as exc:
            raise RejectedPhoto("not_image", "图片已损坏或不完整，无法读取") from exc
    return image


def _open(data):
    """The image with only its header read, by an accepted parser; anything else is refused."""
    try:
        return Image.open(io.BytesIO(data), formats=ACCEPTED_PARSERS)
    except UnidentifiedImageError:
        name = _format_name(data)
    if name is None:
        raise RejectedPhoto("not_image", "文件不是图片")
    raise RejectedPhoto("unsupported", f"不支持的图片格式：{name}")


def _format_name(data):
    """The name of an image format we recognise but do not take, or None."""
    try:
        with Image.open(io.BytesIO(data), formats=NAMED_PARSERS) as image:
            return image.format
    except DECODE_ERRORS:
        pass
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIC"
    return None


def _bomb():
    """The refusal for an image whose pixel count would exhaust memory when decoded."""
    return RejectedPhoto("bomb", "图片像素过多，疑似压缩炸弹")


def _upright(image):
    """The image turned as the camera's EXIF orientation says; EXIF Pillow cannot parse leaves it as stored."""
    try:
        return ImageOps.exif_transpose(image)
    except DECODE_ERRORS:
        return image


def _flatten(image):
    """8-bit RGB pixels; transparent areas become white, since dropping alpha would turn them black."""
    if image.mode in ("I", "I;16"):  # 16-bit greyscale PNG: scale down rather than let convert() clip to white
        image = image.point(lambda value: value / 256).convert("L")
    if not image.has_transparency_data:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, WHITE)
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


def _fit(image, side):
    """The image scaled (LANCZOS) so its longest side is at most side; a smaller image is never enlarged."""
    scale = side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap lets Pillow box-reduce first: much faster on a 40-megapixel photo, no visible difference.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _jpeg(image, quality):
    """JPEG bytes of an RGB image; nothing but pixels is passed to the encoder."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _readable_size(count):
    """A byte count as people say it: 10 MB, 1.5 MB, 500 KB."""
    for unit, size in (("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= size:
            return f"{round(count / size, 1):g} {unit}"
    return f"{count} 字节"
