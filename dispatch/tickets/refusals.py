"""How the lifecycle's refusals are answered, registered with errors.py when the app is built.

errors.py sits below tickets and imports nothing of it; tickets names its own exceptions' answers here.
"""
from dispatch import errors
from dispatch.tickets.lifecycle import ActionNotPermitted, IllegalTransition


def init_app(app):
    """An action the ticket's state does not allow is a 409; one the caller's role may not take, a 403."""
    errors.answer_with(IllegalTransition, 409)
    errors.answer_with(ActionNotPermitted, 403)
