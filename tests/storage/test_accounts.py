"""Accounts and memberships in the campaign database, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from unittest.mock import ANY

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher

import doe.storage
from doe.auth.accounts import Accounts, AuthError, email_verified, sso_signed_in_at
from doe.auth.passwords import hash_password
from doe.campaign import Campaign
from doe.errors import StorageError
from doe.storage import schema
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


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(store_url: str) -> None:
    """`doe user passwd` left a session signed in with the old (perhaps leaked) password open:
    the session kept only the account name. It keeps a stamp of the password now."""
    accounts = Accounts(store_url)
    accounts.add_user("eng", "engineer", password="eng-password", actor="root")
    identity, session = accounts.sign_in("eng", "eng-password")
    assert accounts.current(session.username, password_stamp=session.password_stamp) == identity
    assert accounts.store.get_user("eng").password_hash not in repr(session)  # a stamp, never the hash
    accounts.store.set_role("eng", "viewer", actor="root")  # a role change keeps the session, with the new role
    assert accounts.current("eng", password_stamp=session.password_stamp).role == "viewer"  # type: ignore[union-attr]
    accounts.set_password("eng", "new-eng-password", actor="root")
    assert accounts.current("eng", password_stamp=session.password_stamp) is None
    _, fresh = accounts.sign_in("eng", "new-eng-password")
    assert accounts.current("eng", password_stamp=fresh.password_stamp) is not None
    accounts.set_password("eng", "new-eng-password", actor="root")  # the same password set again: a new hash
    assert accounts.current("eng", password_stamp=fresh.password_stamp) is None
    with pytest.raises(AuthError, match="wrong user name or password"):
        accounts.sign_in("eng", "eng-password")


def test_a_session_signed_in_before_a_disable_stays_ended_once_the_account_is_enabled_again(store_url: str) -> None:
    """`doe user disable eng` then `doe user enable eng` (a stolen laptop, the person back the next
    day) before the open tab's next page run: that session went on as eng, as the account was
    checked only for being disabled now. The session keeps the database's time of its sign-in."""
    accounts = Accounts(store_url)
    accounts.add_user("eng", "engineer", password="eng-password", actor="root")
    accounts.add_user("vic", "viewer", password="vic-password", actor="root")
    _, session = accounts.sign_in("eng", "eng-password")
    _, other = accounts.sign_in("vic", "vic-password")
    accounts.store.set_disabled("eng", True, actor="root")
    accounts.store.set_disabled("eng", False, actor="root")
    assert accounts.current("eng", password_stamp=session.password_stamp,
                            signed_in_at=session.signed_in_at) is None
    assert accounts.current("vic", password_stamp=other.password_stamp,
                            signed_in_at=other.signed_in_at) is not None  # another account's goes on
    _, fresh = accounts.sign_in("eng", "eng-password")  # signing in again is all it takes
    assert accounts.current("eng", password_stamp=fresh.password_stamp, signed_in_at=fresh.signed_in_at) is not None
    accounts.store.set_disabled("eng", False, actor="root")  # enabling an enabled account changes nothing
    assert accounts.current("eng", password_stamp=fresh.password_stamp, signed_in_at=fresh.signed_in_at) is not None


def test_an_sso_session_signed_in_before_a_disable_stays_ended_once_the_account_is_enabled_again(
        store_url: str) -> None:
    """A single-sign-on session from before `doe user disable` went on after a quick `doe user
    enable`: it kept nothing to tell it from a session signed in after. It keeps the database's
    time of its sign-in now, and the account the database's time of its latest disable."""
    accounts = Accounts(store_url)
    accounts.add_user("eng@lab.example", "engineer", password=None, actor="root")
    accounts.add_user("vic@lab.example", "viewer", password=None, actor="root")
    before = accounts.store.now()
    identity = accounts.sso_identity("eng@lab.example", verified=True)
    assert accounts.current(identity.username, "oidc", signed_in_at=before) == identity
    accounts.store.set_disabled("eng@lab.example", True, actor="root")
    disabled_at = accounts.store.get_user("eng@lab.example").disabled_at
    assert disabled_at is not None and before < disabled_at <= accounts.store.now()
    accounts.store.set_disabled("eng@lab.example", False, actor="root")
    assert accounts.store.get_user("eng@lab.example").disabled_at == disabled_at  # kept by the enable
    assert accounts.current("eng@lab.example", "oidc", signed_in_at=before) is None
    assert accounts.current("vic@lab.example", "oidc", signed_in_at=before) is not None  # never disabled
    after = accounts.store.now()  # a sign-in after the enable goes on
    assert accounts.current("eng@lab.example", "oidc", signed_in_at=after) == identity


def test_an_sso_session_is_dated_by_its_id_tokens_issue_time_where_earlier() -> None:
    """Streamlit's identity cookie outlives an app session: a reload dated an old sign-in by the
    new session's first run, so it got past a disable. The ID token's ``iat`` dates it now."""
    first_seen = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    issued = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert sso_signed_in_at({"iat": issued.timestamp()}, first_seen) == issued
    assert sso_signed_in_at({"iat": int(issued.timestamp())}, first_seen) == issued
    later = first_seen.timestamp() + 60  # a provider clock ahead of the database's: the session's own time
    assert sso_signed_in_at({"iat": later}, first_seen) == first_seen
    for claims in ({}, {"iat": "1765100000"}, {"iat": True}, {"iat": float("nan")}, {"iat": 1e300}, {"iat": None}):
        assert sso_signed_in_at(claims, first_seen) == first_seen, claims


def test_sso_users_match_by_email_or_get_the_default_role(store_url: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "admin", password=None, email="Ada@Lab.example", actor="root")
    assert accounts.sso_identity("ada@lab.example", verified=True).username == "ada"
    assert accounts.sso_identity("ada@lab.example", verified=True).role == "admin"
    newcomer = accounts.sso_identity("new@lab.example", verified=True)
    assert (newcomer.username, newcomer.role, newcomer.source) == ("new@lab.example", "viewer", "oidc")
    monkeypatch.setenv("DOE_SSO_DEFAULT_ROLE", "none")
    with pytest.raises(AuthError, match="has no doe account"):
        accounts.sso_identity("other@lab.example", verified=True)
    assert AccountStore.open(store_url).find_user(email="other@lab.example") is None
    with pytest.raises(AuthError, match="no e-mail"):
        accounts.sso_identity(None, verified=True)
    # a password account whose name is the newcomer's e-mail in other case: no twin is made, and the
    # sign-in page gets an AuthError with advice (a StorageError ended it in an unhandled exception)
    monkeypatch.setenv("DOE_SSO_DEFAULT_ROLE", "viewer")
    accounts.add_user("Bob@Lab.example", "engineer", password="bob-password", actor="root")
    with pytest.raises(AuthError, match=r"no account could be made for it: .*give the existing account this e-mail"):
        accounts.sso_identity("bob@lab.example", verified=True)
    assert "bob@lab.example" not in AccountStore.open(store_url).users()["username"].tolist()


def test_sso_refuses_an_email_the_provider_does_not_vouch_for(store_url: str) -> None:
    """An e-mail claim with email_verified false signed in as the admin owning that address:
    any user of the provider who typed it into their profile became that admin."""
    accounts = Accounts(store_url)
    accounts.add_user("kate", "admin", password=None, email="kate@lab.example", actor="root")
    before = (accounts.store.users().to_json(), accounts.store.audit().to_json())
    for mail in ("kate@lab.example", "newcomer@lab.example"):  # neither matched nor made
        with pytest.raises(AuthError, match=r"does not say that the e-mail .* is verified .*sign in again"):
            accounts.sso_identity(mail, verified=False)
    assert (accounts.store.users().to_json(), accounts.store.audit().to_json()) == before
    assert accounts.sso_identity("kate@lab.example", verified=True).username == "kate"
    with pytest.raises(AuthError, match=r"not usable: e-mail 'kate @lab\.example' is not an e-mail address"):
        accounts.sso_identity("kate @lab.example", verified=True)


KELVIN = "\u212a"  # KELVIN SIGN: str.lower() makes it an ASCII "k"
ANGSTROM = "\u212b"  # ANGSTROM SIGN: str.lower() makes it "\u00e5"


def test_sso_matches_an_email_only_with_the_same_characters(store_url: str) -> None:
    """E-mails were compared after str.lower(), which folds KELVIN SIGN into "k": a provider
    user with the verified address "\u212aate@lab.example" (a different mailbox) signed in as
    kate, an admin. Only A-Z are lowered now."""
    accounts = Accounts(store_url)
    accounts.add_user("kate", "admin", password=None, email="kate@lab.example", actor="root")
    accounts.add_user("jens", "viewer", password=None, email="\u00e5ngstr\u00f6m@lab.example", actor="root")
    before = (accounts.store.users().to_json(), accounts.store.audit().to_json())
    assert accounts.store.find_user(email=f"{KELVIN}ate@lab.example") is None
    assert accounts.store.find_user(email=f"{ANGSTROM}ngstr\u00f6m@lab.example") is None
    with pytest.raises(AuthError, match="no account could be made for it"):  # not kate; no name for it either
        accounts.sso_identity(f"{KELVIN}ate@lab.example", verified=True)
    assert (accounts.store.users().to_json(), accounts.store.audit().to_json()) == before
    # ASCII case still does not matter, and other characters are kept as they are
    assert accounts.sso_identity("KATE@Lab.Example", verified=True).username == "kate"
    assert accounts.store.find_user(email="\u00e5NGSTR\u00f6M@LAB.example").username == "jens"
    assert accounts.store.find_user(email="\u00c5ngstr\u00f6m@lab.example") is None  # "\u00c5" is not "\u00e5"


@pytest.mark.parametrize("twin", ["KATE@lab.example", f"{KELVIN}ate@lab.example", "\uff4bate@lab.example"])
def test_an_email_that_differs_only_in_case_or_form_is_refused(store_url: str, twin: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("kate", "admin", password=None, email="kate@lab.example", actor="root")
    before = (accounts.store.users().to_json(), accounts.store.audit().to_json())
    with pytest.raises(StorageError, match=r"another user has the e-mail 'kate@lab\.example'|e-mail .* differs from "
                                           r"the e-mail 'kate@lab\.example' of the account 'kate' only in upper"):
        accounts.add_user("mallory", "admin", password=None, email=twin, actor="root")
    assert (accounts.store.users().to_json(), accounts.store.audit().to_json()) == before
    mail = "J\u00f6rg.M\u00dcLLER@lab.example"
    assert accounts.add_user("joerg", "viewer", password=None, email=mail, actor="root").email == (
        "j\u00f6rg.m\u00dcller@lab.example")  # only A-Z lowered


@pytest.mark.parametrize(("claims", "verified"), [
    ({"email": "kate@lab.example", "email_verified": True}, True),
    ({"email": "kate@lab.example", "email_verified": False}, False),
    ({"email": "kate@lab.example"}, False),  # no claim: not vouched for
    ({"email": "kate@lab.example", "email_verified": "true"}, False),  # text, not JSON true
    ({"email": "kate@lab.example", "email_verified": 1}, False),
    ({"email": "kate@lab.example", "xms_edov": True}, True),  # Entra ID's claim, when it sends no email_verified
    ({"email": "kate@lab.example", "xms_edov": False}, False),
    ({"email": "kate@lab.example", "email_verified": False, "xms_edov": True}, False),
])
def test_email_verified_reads_the_providers_claims(claims: dict[str, object], verified: bool) -> None:
    assert email_verified(claims) is verified


def test_sso_never_signs_in_an_account_by_its_user_name(store_url: str) -> None:
    """Single sign-on fell back from the e-mail to the user name: a password account named
    boss@lab.example with another e-mail was signed in, without its password, by whoever the
    provider asserted as boss@lab.example. Only the stored e-mail matches now."""
    accounts = Accounts(store_url)
    accounts.add_user("boss@lab.example", "admin", password="Very-long-pw-1", email="boss.private@home.example",
                      actor="it")
    accounts.add_user("lead@lab.example", "admin", password="Very-long-pw-2", actor="it")  # no e-mail stored
    for mail in ("boss@lab.example", "lead@lab.example"):
        with pytest.raises(AuthError, match=r"no account could be made for it: .*give the existing account this "
                                            r"e-mail"):
            accounts.sso_identity(mail, verified=True)
    assert accounts.sso_identity("boss.private@home.example", verified=True).username == "boss@lab.example"
    users = AccountStore.open(store_url).users()
    assert users["username"].tolist() == ["boss@lab.example", "lead@lab.example"]


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


def _trail(store: AccountStore, username: str | None = None) -> list[tuple[object, ...]]:
    """The account audit trail as (actor, action, username, campaign, detail) tuples, newest first."""
    audit = store.audit(username)
    return [(r.actor, r.action, r.username, r.campaign if isinstance(r.campaign, str) else None, json.loads(r.detail))
            for r in audit.itertuples()]


def test_every_account_and_membership_change_writes_one_audit_row(store_url: str) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="line-1", actor="fixture")
    accounts = Accounts(store_url)
    store = accounts.store
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    store.set_role("ada", "admin", actor="lead")
    store.set_role("ada", "admin", actor="lead")  # no change: no row
    store.set_disabled("ada", True, actor="security")
    store.set_disabled("ada", False, actor="security")
    accounts.set_password("ada", "new-ada-password", actor="helpdesk")
    accounts.add_user("bob", "engineer", password=None, email="bob@lab.example", actor="root")
    assert store.add_member("line-1", "bob", actor="lead")
    assert not store.add_member("line-1", "bob", actor="lead")  # a member already: no row
    assert store.remove_member("line-1", "bob", actor="quality")
    assert not store.remove_member("line-1", "bob", actor="quality")

    assert _trail(store) == [
        ("quality", "member_removed", "bob", "line-1", {"added_by": "lead", "added_at": ANY}),
        ("lead", "member_added", "bob", "line-1", {"role": "engineer"}),
        ("root", "account_added", "bob", None, {"role": "engineer", "email": "bob@lab.example", "sso": True}),
        ("helpdesk", "password_changed", "ada", None, {}),
        ("security", "account_enabled", "ada", None, {}),
        ("security", "account_disabled", "ada", None, {}),
        ("lead", "role_changed", "ada", None, {"old_role": "engineer", "new_role": "admin"}),
        ("root", "account_added", "ada", None, {"role": "engineer", "email": None, "sso": False}),
    ]
    audit = store.audit()
    assert audit["at"].is_monotonic_decreasing and str(audit["at"].dt.tz) == "UTC"
    assert [r[1] for r in _trail(store, "ada")] == [
        "password_changed", "account_enabled", "account_disabled", "role_changed", "account_added"]
    assert _trail(store, "nobody") == []
    stored_hash = store.get_user("ada").password_hash
    assert stored_hash and stored_hash not in audit.to_json() and "password" not in "".join(audit["detail"])
    # the campaign's own history shows its membership changes
    history = Campaign.load("line-1", store_url).audit()
    members = history[history["action"].str.startswith("member_")]
    assert [(r.actor, r.action, json.loads(r.detail)["user"]) for r in members.itertuples()] == [
        ("lead", "member_added", "bob"), ("quality", "member_removed", "bob")]


def test_a_rehash_at_sign_in_is_recorded_as_the_user_s_own(store_url: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "engineer", password="ada-password", actor="root")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("ada-password")
    accounts.store.set_password_hash("ada", weak, actor="root")
    assert accounts.authenticate("ada", "ada-password").username == "ada"
    assert accounts.store.get_user("ada").password_hash != weak
    assert _trail(accounts.store)[:2] == [("ada", "password_rehashed", "ada", None, {}),
                                          ("root", "password_changed", "ada", None, {})]


def test_a_change_and_its_audit_row_are_one_transaction(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Campaign.from_config("hfo2-ncm85", storage=store_url, name="line-1", actor="fixture")
    store = AccountStore.open(store_url)
    store.add_user("ada", "engineer", password_hash=None, email="ada@lab.example", actor="root")
    store.add_member("line-1", "ada", actor="root")
    before = (store.users().to_json(), store.members().to_json(), store.audit().to_json(),
              Campaign.load("line-1", store_url).audit().to_json())

    def fail(*args: object, **kwargs: object) -> None:
        raise StorageError("the audit row could not be written")

    monkeypatch.setattr("doe.storage.accounts._audit", fail)
    for change in (lambda: store.set_role("ada", "admin", actor="lead"),
                   lambda: store.set_disabled("ada", True, actor="lead"),
                   lambda: store.set_password_hash("ada", "not-a-hash", actor="lead"),
                   lambda: store.remove_member("line-1", "ada", actor="lead"),
                   lambda: store.add_user("bob", "viewer", password_hash=None, email="bob@lab.example", actor="x")):
        with pytest.raises(StorageError, match="audit row"):
            change()
    assert (store.users().to_json(), store.members().to_json(), store.audit().to_json(),
            Campaign.load("line-1", store_url).audit().to_json()) == before


def test_refused_changes_write_no_audit_row(store_url: str) -> None:
    store = AccountStore.open(store_url)
    store.add_user("ada", "engineer", password_hash=None, email="ada@lab.example", actor="root")
    trail = _trail(store)
    with pytest.raises(StorageError, match="no campaign named"):
        store.add_member("nope", "ada", actor="lead")
    with pytest.raises(StorageError, match="no user named"):
        store.set_role("bob", "admin", actor="lead")
    with pytest.raises(StorageError, match="actor"):
        store.set_role("ada", "admin", actor="le\udcffad")
    with pytest.raises(StorageError, match="role must be one of"):
        store.set_role("ada", "owner", actor="lead")
    assert _trail(store) == trail and store.get_user("ada").role == "engineer"


@pytest.mark.parametrize("twin", ["Ada", "ADA", "ａｄａ", "Ａｄａ"])
def test_a_name_that_differs_only_in_case_or_width_is_refused(store_url: str, twin: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "viewer", password="ada-password", actor="root")
    before = (accounts.store.users().to_json(), accounts.store.audit().to_json())
    with pytest.raises(StorageError, match=r"user name .* differs from the existing account 'ada' only in upper "
                                           r"and lower case"):
        accounts.add_user(twin, "admin", password="twin-password", actor="root")
    with pytest.raises(StorageError, match="differs from the existing account 'ada'"):
        accounts.store.add_user(twin, "admin", password_hash=None, email="twin@lab.example", actor="root")
    assert (accounts.store.users().to_json(), accounts.store.audit().to_json()) == before
    with pytest.raises(AuthError):
        accounts.authenticate(twin, "twin-password")
    # a name that only looks alike is another name
    accounts.add_user("ada2", "viewer", password="ada2-password", actor="root")


@pytest.mark.parametrize("name", ["kate\n", "ada\n"])
def test_a_name_with_a_line_break_at_its_end_is_refused(store_url: str, name: str) -> None:
    """The name pattern ended in "$", which matches before a last line break: "kate\n" was
    added beside kate (and looked the same in every list) and could never sign in."""
    accounts = Accounts(store_url)
    accounts.add_user("kate", "admin", password="kate-password", actor="root")
    before = (accounts.store.users().to_json(), accounts.store.audit().to_json())
    with pytest.raises(StorageError, match=r"user name .* is not allowed: use 1 to 200 letters"):
        accounts.add_user(name, "admin", password="evil-password-1", actor="mallory")
    with pytest.raises(StorageError, match=r"user name .* is not allowed"):
        accounts.store.add_user(name, "admin", password_hash=None, email="eve@lab.example", actor="mallory")
    assert (accounts.store.users().to_json(), accounts.store.audit().to_json()) == before


def test_twins_stored_by_an_older_doe_keep_signing_in(store_url: str) -> None:
    accounts = Accounts(store_url)
    accounts.add_user("ada", "viewer", password="ada-password", actor="root")
    now = datetime.now(UTC)
    with accounts.store.engine.begin() as conn:  # as an older doe allowed
        conn.execute(sa.insert(schema.users).values(
            username="Ada", role="admin", password_hash=hash_password("big-ada-password"), email=None,
            disabled=False, created_at=now, created_by="root", updated_at=now))
    assert accounts.authenticate("ada", "ada-password").role == "viewer"
    assert accounts.authenticate("Ada", "big-ada-password").role == "admin"
    with pytest.raises(AuthError):
        accounts.authenticate("Ada", "ada-password")
    with pytest.raises(StorageError, match="differs from the existing account 'ada'"):
        accounts.add_user("ADA", "admin", password="third-password", actor="root")
    accounts.store.set_role("Ada", "viewer", actor="lead")  # each twin is changed on its own
    assert [(r[1], r[2]) for r in _trail(accounts.store)] == [("role_changed", "Ada"), ("account_added", "ada")]
    assert accounts.store.get_user("ada").role == "viewer" and accounts.store.get_user("Ada").role == "viewer"


def test_a_database_of_the_schema_before_the_account_audit_upgrades(store_url: str) -> None:
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(doe.storage.__file__).parent / "migrations"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
    assert "account_audit" not in sa.inspect(engine).get_table_names()
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(sa.insert(schema.users).values(
            username="ada", role="engineer", password_hash=hash_password("ada-password"), email=None,
            disabled=False, created_at=now, created_by="root", updated_at=now))
    engine.dispose()

    accounts = Accounts(store_url)  # migrates to the head
    assert accounts.store.audit().empty
    assert accounts.authenticate("ada", "ada-password").role == "engineer"
    accounts.store.set_role("ada", "admin", actor="lead")
    assert _trail(accounts.store) == [("lead", "role_changed", "ada", None, {"old_role": "engineer",
                                                                             "new_role": "admin"})]

