"""Single-use links handed over as a QR code (a family member's invitation, a volunteer's WeChat binding): a random
token of which only the SHA-256 is stored, and the QR code drawn here (segno), so nothing is fetched elsewhere."""
import base64
import hashlib
import io
import secrets

import segno


def hash_token(token):
    """What is stored of a link's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token():
    """A fresh random token for a link."""
    return secrets.token_urlsafe(24)


def qr_data_uri(url):
    """The link as a QR code, a PNG made here, as a data: URI for the page."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
