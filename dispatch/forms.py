"""Fields shared by the console's and desks' form schemas and the JSON API: the ticket version, notes, typed text."""
import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate

from dispatch.errors import Invalid
from dispatch.urls import MAX_ID

MAX_NOTE = 2000
PAGE_INCOMPLETE = "页面信息不完整，请刷新页面后再操作"
DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: int() would also take "１", "1_0" and " 3"


class Version(fields.Integer):
    """The ticket version the caller saw: one rule for every door.

    A version that is present must be a positive integer (ASCII digits in a form, an integer or such digits in
    JSON), otherwise 422; one that is not the ticket's current version is a 409 (services.check_version). Forms
    are always rendered with one, so a form schema declares it required and a form without it is a 422; the JSON
    API leaves it optional, for a client that chooses to act without the guard.
    """

    default_error_messages = {"invalid": "版本号应为正整数", "required": "缺少版本号"}

    def __init__(self, **kwargs):
        super().__init__(strict=False, validate=validate.Range(min=1, max=MAX_ID, error="版本号应为正整数"),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            value = value.strip()
            if not DIGITS.fullmatch(value):
                raise self.make_error("invalid")
        elif not isinstance(value, int) or isinstance(value, bool):
            raise self.make_error("invalid")  # 1.5 would otherwise become version 1
        return super()._deserialize(value, attr, data, **kwargs)


class MaxLength(validate.Length):
    """At most `max` characters; the refusal says the limit and the length, so a person knows how much to cut."""

    def __init__(self, max=MAX_NOTE, label="说明", **kwargs):
        super().__init__(max=max, **kwargs)
        self.label = label

    def __call__(self, value):
        if len(value) > self.max:
            raise ValidationError(f"{self.label}最多 {self.max} 字，现在是 {len(value)} 字，请删减一些")
        return super().__call__(value)


class Text(fields.String):
    """Text typed into a form, trimmed; refused (never cut) past its limit; `required` is the message asking for it."""

    def __init__(self, required=None, limit=None, label="说明", **kwargs):
        if required:
            kwargs["error_messages"] = {"required": required}
        else:
            kwargs.setdefault("load_default", None)
        super().__init__(required=bool(required), validate=MaxLength(limit, label) if limit else None, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        # Browsers send each line break as CRLF but count it once against maxlength: count it once here too.
        return super()._deserialize(value, attr, data, **kwargs).replace("\r\n", "\n").strip()


class Note(Text):
    """A note for the timeline: at most MAX_NOTE characters."""

    def __init__(self, required=None, label="说明", **kwargs):
        super().__init__(required, MAX_NOTE, label, **kwargs)


class FormSchema(Schema):
    """A browser form: every value arrives as text, a blank one as if left out; the CSRF token is not ours."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _blank_is_missing(self, data, **kwargs):
        return {key: value for key, value in data.items() if not isinstance(value, str) or value.strip()}


def load_form(schema, form):
    """The form's values through its schema; refused input is an Invalid (422) with a message a person can act on."""
    try:
        return schema.load(form)
    except ValidationError as exc:
        raise Invalid(_summary(exc.messages), fields=exc.messages) from None


def _summary(messages):
    """One message for the page: the fields' own messages, or a refresh when the page itself was incomplete."""
    if "version" in messages:
        return PAGE_INCOMPLETE  # a hidden field: nothing the person can type fixes it, a fresh page does
    return "；".join(text for texts in messages.values() for text in texts)
