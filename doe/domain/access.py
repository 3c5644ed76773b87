"""Who may do what: roles, permissions and the identity of the person acting.

Pure functions of data (no database, no Streamlit), so the rules are read and tested alone::

    viewer    reads every campaign
    engineer  reads; plans and records in the campaigns they are a member of
    admin     everything: creates campaigns, edits configurations, archives, manages members

The Python API (:class:`doe.Campaign`) stays a trusted local tool and checks nothing; the web
app checks :func:`allowed` before every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Role = Literal["viewer", "engineer", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)

Permission = Literal[
    "read",
    "create_campaign",   # new campaign, clone, import a whole campaign
    "edit_config",       # change a campaign's configuration
    "archive",           # archive or restore a campaign
    "plan",              # suggest, accept, abandon a batch
    "record",            # record results, mark runs failed, import history rows
    "manage_members",
]
PERMISSIONS: tuple[Permission, ...] = get_args(Permission)

_MEMBER_PERMISSIONS: frozenset[Permission] = frozenset({"plan", "record"})
_ADMIN_ONLY: frozenset[Permission] = frozenset({"create_campaign", "edit_config", "archive", "manage_members"})

Source = Literal["local", "oidc", "open"]
"""How the person was identified: a built-in account, single sign-on, or nobody (open app)."""


@dataclass(frozen=True)
class Identity:
    """The person acting in the app: account name (recorded in the audit trail), role and the
    campaigns they are a member of."""

    username: str
    role: Role
    memberships: frozenset[str] = field(default_factory=frozenset)
    source: Source = "local"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {list(ROLES)}, got {self.role!r}")


def allowed(identity: Identity, permission: Permission, campaign: str | None = None) -> bool:
    """Whether ``identity`` may do ``permission`` (in ``campaign`` for plan and record)."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}; known: {list(PERMISSIONS)}")
    if identity.role == "admin" or permission == "read":
        return True
    if permission in _ADMIN_ONLY or identity.role == "viewer":
        return False
    # an engineer, planning or recording
    return campaign is not None and campaign in identity.memberships


_WHAT: dict[Permission, str] = {
    "read": "read campaigns",
    "create_campaign": "create or import campaigns",
    "edit_config": "change a campaign's configuration",
    "archive": "archive or restore campaigns",
    "plan": "plan experiments",
    "record": "record results",
    "manage_members": "manage members",
}


def refusal(identity: Identity, permission: Permission, campaign: str | None = None) -> str | None:
    """None when allowed, else a plain sentence saying why not and who can help."""
    if allowed(identity, permission, campaign):
        return None
    what = _WHAT[permission]
    if permission in _ADMIN_ONLY:
        return f"Only an admin can {what}; you are signed in as {identity.username} ({identity.role})."
    if identity.role == "viewer":
        return (f"You are signed in as {identity.username} (viewer): viewers read campaigns but cannot "
                f"{what}. Ask an admin for the engineer role.")
    where = f"campaign {campaign}" if campaign else "this campaign"
    return (f"You are signed in as {identity.username} (engineer) but are not a member of {where}, "
            f"so you cannot {what} here. Ask an admin to add you (doe member add).")


def parse_role(value: object, what: str = "role") -> Role:
    """``value`` as a role; ValueError naming ``what`` and the roles otherwise."""
    if isinstance(value, str) and value.strip().lower() in ROLES:
        return value.strip().lower()  # type: ignore[return-value]
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise ValueError(f"{what} must be one of {', '.join(ROLES)}, got {shown}")


__all__ = ["PERMISSIONS", "ROLES", "Identity", "Permission", "Role", "Source", "allowed", "parse_role", "refusal"]
