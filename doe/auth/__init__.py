"""Signing in to the web app (the rules of who may do what are :mod:`doe.domain.access`).

* :mod:`doe.auth.passwords`: Argon2id password hashing;
* :mod:`doe.auth.accounts`: signing in with built-in or single-sign-on accounts (needs storage);
* :mod:`doe.auth.serving`: whether an address is local, and single-sign-on settings.

Importing this package loads no database code.
"""
