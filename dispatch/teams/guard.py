"""The one dispatch guard, for every door (the dispatch page, the ticket page, the JSON API): a dispatch to a
volunteer on leave, off shift or without the skill the ticket needs is refused until it is confirmed, and then the
timeline keeps what was overridden. A step of the `dispatch` row of tickets/consequences.py."""
from dispatch.errors import Invalid
from dispatch.teams import routing, services
from dispatch.tickets.consequences import step

YES = (True, "1", "true", "on", "yes")


class NeedsConfirmation(Invalid):
    """A dispatch that needs a confirmation: the message is the question, fields["confirm"] the reasons."""

    def __init__(self, name, warnings):
        super().__init__(routing.confirmation_text(name, warnings), fields={"confirm": list(warnings)})
        self.name, self.warnings = name, tuple(warnings)


def confirmed(value):
    """Whether a confirm field (JSON true, or a form's 1/true/on) says yes."""
    return value in YES or (isinstance(value, str) and value.strip().lower() in YES)


def check(user, ticket, now, confirm):
    """The guard: the reasons sending this volunteer needed a confirmation (empty when none), or NeedsConfirmation."""
    standing = services.standing_of(user, ticket, now)
    warnings = standing.warnings if standing else ()
    if warnings and not confirmed(confirm):
        raise NeedsConfirmation(user.display_name, warnings)
    return warnings


@step("standing_guard", "ticket")
def standing_guard(change, _):
    """Runs after dispatch_target has set the volunteer; the timeline's `despite` says what was overridden."""
    if not change.fields.get("assignee") or change.ticket.assignee is None:
        return None
    warnings = check(change.ticket.assignee, change.ticket, change.now, change.fields.get("confirm"))
    return {"despite": list(warnings)} if warnings else None
