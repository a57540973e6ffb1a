"""Who is asking: a staff user or an API token, reduced to a role and a scope."""
import re
from dataclasses import dataclass

from marshmallow import ValidationError

from dispatch.org.roles import COMMUNITY_ROLES, Role

LABEL_LENGTH = 64  # ticket_events.actor_label


@dataclass(frozen=True)
class Principal:
    """The caller of a service: role, scope ids and a label for the timeline."""

    label: str
    role: Role
    user_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    department_id: int | None = None
    token_id: int | None = None  # a machine client's token (Open311 keeps which key opened each request)

    @classmethod
    def from_user(cls, user):
        """A logged-in staff user."""
        return cls(label=f"{user.display_name}（{user.role.label}）", role=user.role, user_id=user.id,
                   street_id=user.street_id, community_id=user.community_id,
                   department_id=user.department_id)

    @classmethod
    def from_token(cls, token):
        """A machine client: a district token acts as the admin, a street or community one as its staff."""
        if token.community_id:
            role = Role.COMMUNITY_STAFF
        elif token.street_id:
            role = Role.STREET_SUPERVISOR
        else:
            role = Role.DISTRICT_ADMIN
        door = "Open311" if token.kind == "open311" else "接口"
        # The label is the timeline's actor (64 characters at most), and a token's name may take all of them.
        return cls(label=f"{door}：{token.name}"[:LABEL_LENGTH], role=role, token_id=token.id,
                   street_id=token.street_id, community_id=token.community_id)

    @property
    def is_community_staff(self):
        """Staff of one community see residents' phone numbers whole."""
        return self.role in COMMUNITY_ROLES


SYSTEM = Principal(label="系统", role=Role.DISTRICT_ADMIN)


PHONE_SHAPE = re.compile(r"^\+?[0-9][0-9-]*[0-9]$")


def check_phone(value):
    """A field validator: digits (5 to 20 of them), dashes allowed between them, optionally led by +."""
    digits = sum(ch.isdigit() for ch in value)
    if not PHONE_SHAPE.match(value) or not 5 <= digits <= 20:
        raise ValidationError("号码应为 5–20 位数字，可含 -，可以 + 开头")


def mask_email(email):
    """z***@example.com: the first character and the domain."""
    if not email or "@" not in email:
        return email
    name, _, domain = email.partition("@")
    return f"{name[:1]}***@{domain}"


def mask_phone(phone):
    """138****5678: keep the first three and last four digits."""
    if not phone:
        return phone
    if len(phone) < 8:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def sees_contacts_of(principal, community_id):
    """Phones and emails are shown whole only to the staff of the community they belong to."""
    return principal.is_community_staff and principal.community_id == community_id


HOLDING = "承办工单"  # the grounds for a whole number, as the access log records them
OWN_COMMUNITY = "本社区工作人员"


def phone_ground(principal, resident, holding=False):
    """The one rule for a whole phone number: why this caller may see it (holding the ticket's open task, or
    staff of the resident's community), or None when it is shown masked."""
    if holding:
        return HOLDING
    return OWN_COMMUNITY if sees_contacts_of(principal, resident.community_id) else None


def phone_for(principal, resident, holding=False):
    """A resident's phone as this caller may see it: whole for their own community's staff and the holder."""
    if resident is None or not resident.phone:
        return None
    return resident.phone if phone_ground(principal, resident, holding) else mask_phone(resident.phone)
