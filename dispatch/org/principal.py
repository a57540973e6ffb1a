"""Who is asking: a staff user or an API token, reduced to a role and a scope."""
from dataclasses import dataclass

from dispatch.org.roles import COMMUNITY_ROLES, Role


@dataclass(frozen=True)
class Principal:
    """The caller of a service: role, scope ids and a label for the timeline."""

    label: str
    role: Role
    user_id: int | None = None
    street_id: int | None = None
    community_id: int | None = None
    department_id: int | None = None

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
        return cls(label=f"接口：{token.name}", role=role, street_id=token.street_id,
                   community_id=token.community_id)

    @property
    def is_community_staff(self):
        """Staff of one community see residents' phone numbers whole."""
        return self.role in COMMUNITY_ROLES


SYSTEM = Principal(label="系统", role=Role.DISTRICT_ADMIN)


def mask_phone(phone):
    """138****5678: keep the first three and last four digits."""
    if not phone:
        return phone
    if len(phone) < 8:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def phone_for(principal, resident):
    """A resident's phone as this caller may see it: whole only for their own community's staff."""
    if resident is None or not resident.phone:
        return None
    own = principal.is_community_staff and principal.community_id == resident.community_id
    return resident.phone if own else mask_phone(resident.phone)
