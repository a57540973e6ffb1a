"""Staff roles and what each one may see."""
import enum


class Role(str, enum.Enum):
    """A staff user's role; the scope column that goes with it is named in ROLE_SCOPE."""

    DISTRICT_ADMIN = "district_admin"
    STREET_SUPERVISOR = "street_supervisor"
    COMMUNITY_DIRECTOR = "community_director"
    COMMUNITY_STAFF = "community_staff"
    DEPARTMENT_USER = "department_user"
    VOLUNTEER = "volunteer"

    @property
    def label(self):
        """The role's Chinese name."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.DISTRICT_ADMIN: "区管理员",
    Role.STREET_SUPERVISOR: "街道督办员",
    Role.COMMUNITY_DIRECTOR: "社区主任",
    Role.COMMUNITY_STAFF: "社区工作人员",
    Role.DEPARTMENT_USER: "职能部门",
    Role.VOLUNTEER: "365服务队志愿者",
}

# Which organisational unit a role is bound to: the CLI and the user form require exactly this one.
ROLE_SCOPE = {
    Role.DISTRICT_ADMIN: None,
    Role.STREET_SUPERVISOR: "street",
    Role.COMMUNITY_DIRECTOR: "community",
    Role.COMMUNITY_STAFF: "community",
    Role.DEPARTMENT_USER: "department",
    Role.VOLUNTEER: "community",
}

COMMUNITY_ROLES = frozenset({Role.COMMUNITY_DIRECTOR, Role.COMMUNITY_STAFF})
