"""What the desks' and the dispatch page's forms send, checked before a service is called (see dispatch.forms)."""
from marshmallow import fields

from dispatch.forms import FormSchema, Note, Version


class StepForm(FormSchema):
    """A step on a held ticket (签收、开始…): the version the page showed, and an optional note."""

    version = Version(required=True)
    note = Note()


class DeclineForm(StepForm):
    """谢绝, with the reason."""

    note = Note(required="请写明谢绝的原因")


class ResultForm(StepForm):
    """完成 or 办结, with what was done."""

    note = Note(required="请写明办理结果")


class ExtensionForm(StepForm):
    """申请延期: a reason and the days (checked by desk_services.extension_days)."""

    note = Note(required="请写明申请延期的原因")
    extension_days = fields.String(load_default=None)


class ReturnForm(StepForm):
    """退单: a reason from the list and optional words."""

    reason = fields.String(load_default=None)


class DispatchForm(StepForm):
    """The dispatch page: whom to send to (assignee:… or department:…) and a note for them."""

    target = fields.String(load_default="")
    confirm = fields.String(load_default="")  # "1" from the confirmation step (teams.guard)
