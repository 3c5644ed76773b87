"""Password hashing for built-in accounts: Argon2id through argon2-cffi.

Argon2id (the winner of the Password Hashing Competition, RFC 9106) with argon2-cffi's
defaults; the hash string carries its own parameters and salt, so stronger defaults in a later
argon2-cffi still verify old hashes (and :func:`needs_rehash` says when to upgrade one).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 1024

_HASHER = PasswordHasher()


class PasswordPolicyError(ValueError):
    """A password that is too short, too long or not text."""


def check_policy(password: object) -> str:
    """``password`` if acceptable, else PasswordPolicyError saying what is needed (never the password)."""
    if not isinstance(password, str):
        raise PasswordPolicyError(f"a password must be text, got {type(password).__name__}")
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password is {len(password)} characters long; use at least {MIN_LENGTH}")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password is longer than {MAX_LENGTH} characters")
    if password != password.strip():
        raise PasswordPolicyError("the password starts or ends with white space; leave it out")
    return password


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (checked against the policy first)."""
    return _HASHER.hash(check_policy(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; False (never an error) for a bad hash."""
    if not isinstance(password, str) or not isinstance(password_hash, str) or len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's defaults."""
    return _HASHER.check_needs_rehash(password_hash)


__all__ = ["MIN_LENGTH", "PasswordPolicyError", "check_policy", "hash_password", "needs_rehash", "verify_password"]
