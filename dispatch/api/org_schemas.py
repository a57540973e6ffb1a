"""Output schemas of the organisation."""
from marshmallow import Schema, fields


class CodeName(Schema):
    """A thing with a code and a Chinese name."""

    code = fields.String()
    name = fields.String()


class CommunityOut(CodeName):
    """A community with its street."""

    street = fields.Nested(CodeName)
    phone = fields.String(allow_none=True)
