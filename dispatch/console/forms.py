"""What the ticket page's forms send, checked before a service is called (input schemas; see dispatch.forms)."""
from marshmallow import fields, validate

from dispatch.forms import FormSchema, Note, Text, Version
from dispatch.tickets.models import Priority


class ActionForm(FormSchema):
    """A lifecycle action (受理、派单、办结…); the lifecycle says which actions need a note."""

    version = Version(required=True)
    note = Note()
    target = fields.String(load_default="")
    confirm = fields.String(load_default="")  # "1": sent despite the dispatch guard's warnings (teams.guard)
    into = fields.String(load_default="")
    extension_days = fields.String(load_default=None)


class ClassifyForm(FormSchema):
    """A new category, a new priority, or both."""

    version = Version(required=True)
    note = Note()
    category = fields.String(load_default=None)
    priority = fields.String(load_default=None, validate=validate.OneOf(
        [p.value for p in Priority], error="未知的紧急程度「{input}」"))


class CommentForm(FormSchema):
    """A note on the timeline (the console's and the desks')."""

    note = Note(required="请填写备注内容", label="备注")


class ChaseForm(FormSchema):
    """催办 or 督办 with what is asked."""

    note = Note(required="请写明要求", label="要求")


class DescribeForm(FormSchema):
    """What a photo, a voice or a call was about."""

    version = Version(required=True)
    description = Text(required="请填写诉求内容", limit=4000, label="诉求内容")
    address = Text(limit=200, label="地址")


class CallbackForm(FormSchema):
    """A call-back (回访); its choices and the note's own limit are checked by tickets.callbacks."""

    version = Version(required=True)
    reached = fields.String(load_default=None)
    rating = fields.String(load_default=None)
    note = Text()
