"""Who may use the web app and what they may do.

* :mod:`doe.auth.roles`: roles, permissions, :class:`Identity` and :func:`allowed` (pure rules);
* :mod:`doe.auth.passwords`: Argon2id password hashing;
* :mod:`doe.auth.accounts`: signing in with built-in or single-sign-on accounts (needs storage);
* :mod:`doe.auth.serving`: whether an address is local and whether sign-in is configured.

Importing this package loads no database code.
"""

from __future__ import annotations

from doe.auth.roles import PERMISSIONS, ROLES, Identity, Permission, Role, allowed, refusal

__all__ = ["PERMISSIONS", "ROLES", "Identity", "Permission", "Role", "allowed", "refusal"]
