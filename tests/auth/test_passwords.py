"""Argon2id password hashing."""

from __future__ import annotations

import pytest

from doe.auth.passwords import PasswordPolicyError, hash_password, needs_rehash, verify_password


def test_hash_verifies_only_the_same_password_and_is_salted() -> None:
    first = hash_password("correct horse")
    second = hash_password("correct horse")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert "correct horse" not in first
    assert verify_password(first, "correct horse")
    assert verify_password(second, "correct horse")
    assert not verify_password(first, "correct horsE")
    assert not verify_password(first, "")
    assert not needs_rehash(first)


def test_a_broken_hash_is_a_mismatch_not_a_crash() -> None:
    assert not verify_password("not-a-hash", "whatever1")
    assert not verify_password("$argon2id$v=19$m=1,t=1,p=1$AAAA$BBBB", "whatever1")


@pytest.mark.parametrize(("password", "message"), [
    ("short", "at least 8"), (" padded-password ", "white space"), ("x" * 2000, "longer than"),
    (12345678, "must be text"),
])
def test_policy_refuses_bad_passwords_without_echoing_them(password: object, message: str) -> None:
    with pytest.raises(PasswordPolicyError, match=message) as caught:
        hash_password(password)  # type: ignore[arg-type]
    if isinstance(password, str) and len(password) > 3:
        assert password.strip() not in str(caught.value)
