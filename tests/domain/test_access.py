"""The rules of who may do what (pure functions)."""

from __future__ import annotations

import pytest

from doe.domain.access import PERMISSIONS, Identity, allowed, parse_role, refusal

ADMIN = Identity("root", "admin")
VIEWER = Identity("vic", "viewer", frozenset({"c1"}))
ENGINEER = Identity("eng", "engineer", frozenset({"c1"}))


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_admin_may_do_everything_everywhere(permission: str) -> None:
    assert allowed(ADMIN, permission, "any-campaign")  # type: ignore[arg-type]


@pytest.mark.parametrize("permission", [p for p in PERMISSIONS if p != "read"])
def test_viewer_only_reads_even_as_a_member(permission: str) -> None:
    assert allowed(VIEWER, "read", "c1")
    assert not allowed(VIEWER, permission, "c1")  # type: ignore[arg-type]
    assert "viewer" in (refusal(VIEWER, permission, "c1") or "")  # type: ignore[arg-type]


def test_engineer_plans_and_records_only_in_their_campaigns() -> None:
    for permission in ("plan", "record"):
        assert allowed(ENGINEER, permission, "c1")
        assert not allowed(ENGINEER, permission, "c2")
        assert not allowed(ENGINEER, permission, None)
        assert "not a member of campaign c2" in (refusal(ENGINEER, permission, "c2") or "")
    for permission in ("create_campaign", "edit_config", "archive", "manage_members"):
        assert not allowed(ENGINEER, permission, "c1")
        assert (refusal(ENGINEER, permission, "c1") or "").startswith("Only an admin")
    assert refusal(ENGINEER, "record", "c1") is None


def test_unknown_permission_and_role_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        allowed(ADMIN, "delete_everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="role must be one of"):
        Identity("x", "owner")  # type: ignore[arg-type]
    assert parse_role(" Engineer ") == "engineer"
    with pytest.raises(ValueError, match="viewer, engineer, admin"):
        parse_role("superuser")
