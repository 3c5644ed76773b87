"""Accounts and memberships in the campaign database, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from doe.auth.accounts import Accounts, AuthError
from doe.campaign import Campaign
from doe.errors import StorageError
from doe.storage.accounts import AccountStore


def test_users_and_memberships_round_trip(store_url: str) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="c1", actor="fixture")
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="c2", actor="fixture")
    accounts = Accounts(store_url)
    store = accounts.store
    assert not store.has_accounts()
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    accounts.add_user("bea@lab.example", "viewer", password=None, actor="root")
    assert store.has_accounts()
    users = store.users().set_index("username")
    assert users.loc["ada", "role"] == "engineer" and not users.loc["ada", "sso"]
    assert users.loc["bea@lab.example", "sso"] and users.loc["bea@lab.example", "email"] == "bea@lab.example"
    assert "password_hash" not in store.users().columns

    assert store.add_member("c1", "ada", actor="root")
    assert not store.add_member("c1", "ada", actor="root")  # already a member
    assert store.campaigns_of("ada") == {"c1"}
    assert store.members("c1")["username"].tolist() == ["ada"]
    assert store.members("c2").empty
    identity = accounts.authenticate("ada", "ada-password")
    assert (identity.username, identity.role, identity.memberships) == ("ada", "engineer", frozenset({"c1"}))
    assert store.remove_member("c1", "ada") and not store.remove_member("c1", "ada")
    assert store.campaigns_of("ada") == frozenset()


def test_refused_changes_write_nothing(store_url: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "admin", password="ada-password", actor="root")
    with pytest.raises(StorageError, match="exists already"):
        accounts.add_user("ada", "viewer", password="other-password", actor="root")
    with pytest.raises(StorageError, match=r"user name .* is not allowed"):
        accounts.add_user("<script>", "viewer", password="other-password", actor="root")
    with pytest.raises(StorageError, match="role must be one of"):
        accounts.add_user("eve", "owner", password="other-password", actor="root")
    with pytest.raises(AuthError, match="at least 8"):
        accounts.add_user("eve", "viewer", password="short", actor="root")
    with pytest.raises(StorageError, match="no campaign named 'nope'"):
        accounts.store.add_member("nope", "ada", actor="root")
    with pytest.raises(StorageError, match="no user named 'bob'"):
        accounts.store.set_disabled("bob", True)
    assert accounts.store.users()["username"].tolist() == ["ada"]
    assert accounts.store.get_user("ada").role == "admin"


def test_sign_in_refuses_wrong_password_unknown_user_and_disabled_accounts(store_url: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    for name, password in (("ada", "wrong-password"), ("nobody", "ada-password"), ("", "")):
        with pytest.raises(AuthError, match="wrong user name or password"):
            accounts.authenticate(name, password)
    accounts.set_password("ada", "new-ada-password")
    with pytest.raises(AuthError):
        accounts.authenticate("ada", "ada-password")
    assert accounts.current("ada") is not None
    accounts.store.set_disabled("ada", True)
    with pytest.raises(AuthError):
        accounts.authenticate("ada", "new-ada-password")
    assert accounts.current("ada") is None
    assert not accounts.store.has_accounts()


def test_sso_users_match_by_email_or_get_the_default_role(store_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "admin", password=None, email="Ada@Lab.example", actor="root")
    assert accounts.sso_identity("ada@lab.example").username == "ada"
    assert accounts.sso_identity("ada@lab.example").role == "admin"
    newcomer = accounts.sso_identity("new@lab.example")
    assert (newcomer.username, newcomer.role, newcomer.source) == ("new@lab.example", "viewer", "oidc")
    monkeypatch.setenv("DOE_SSO_DEFAULT_ROLE", "none")
    with pytest.raises(AuthError, match="has no doe account"):
        accounts.sso_identity("other@lab.example")
    assert AccountStore.open(store_url).find_user(email="other@lab.example") is None
    with pytest.raises(AuthError, match="no e-mail"):
        accounts.sso_identity(None)


def test_text_that_is_not_unicode_is_refused_or_found_nowhere(store_url: str) -> None:
    # a lone surrogate: what a byte that is not UTF-8 in a shell argument becomes in Python
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="c1", actor="fixture")
    store = AccountStore.open(store_url)
    store.add_user("ada", "engineer", password_hash=None, email="ada@lab.example", actor="root")
    before = store.users().to_json()
    with pytest.raises(StorageError, match="is not an e-mail address"):
        store.add_user("bob", "viewer", password_hash=None, email="b\udcff@lab.example", actor="root")
    with pytest.raises(StorageError, match="actor"):
        store.add_user("bob", "viewer", password_hash=None, actor="ro\udcffot")
    with pytest.raises(StorageError, match="actor"):
        store.add_member("c1", "ada", actor="ro\udcffot")
    with pytest.raises(StorageError, match="no user named"):
        store.get_user("ad\udcffa")
    assert store.find_user(username="ad\udcffa") is None and store.find_user(email="a\udcff@lab.example") is None
    assert store.users().to_json() == before and store.members("c1").empty
