"""File storage behind one small interface; the default keeps files in a local folder."""
import uuid
from pathlib import Path

# What an image file starts with; anything else is refused, whatever its name says.
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(data):
    """(content type, extension) of image bytes, or None when they are not a known image."""
    for magic, content_type, ext in IMAGE_SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


class LocalStorage:
    """Files under one folder, named by random keys so a key cannot be guessed or climb out."""

    def __init__(self, root):
        self.root = Path(root)

    def save(self, data, ext):
        """Store bytes; return the key to find them again."""
        key = f"{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{ext}"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return key

    def path(self, key):
        """The file behind a key, or None when the key is malformed or missing."""
        candidate = (self.root / key).resolve()
        if self.root.resolve() not in candidate.parents or not candidate.is_file():
            return None
        return candidate

    def place(self, key):
        """Where a file under this key is written by a program that writes files itself (its folder made)."""
        target = (self.root / key).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"key outside the storage: {key}")
        target.parent.mkdir(parents=True, exist_ok=True)
        return target


def storage(app):
    """The app's configured storage."""
    return LocalStorage(app.config["MEDIA_DIR"])
