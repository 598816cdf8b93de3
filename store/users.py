"""Dashboard accounts and integration tokens in Redis.

Passwords are kept as argon2 hashes; API tokens as their SHA-256 (store/sessions.py: `digest`). Neither
is ever stored or logged in clear. Changing a password or disabling an account ends its dashboard
sessions at once (store/sessions.py); a disabled account's API tokens are refused until it is enabled.
"""
from __future__ import annotations

import functools
import re
import secrets
import time
from dataclasses import dataclass

import orjson
import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sales_assistant.policies.access import Actor, UserRole
from sales_assistant.store.keys import Keys
from sales_assistant.store.sessions import LoginAttempts, Sessions, digest

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "sat_"

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verifying against this when the user does not exist costs the same time as a wrong password. Made
    when the first Accounts is, not at import: every command imports this module, and a hash takes a while."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A bad account request; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    name: str
    role: UserRole
    staff_id: str | None
    created_at: int
    disabled: bool = False

    def actor(self, via: str) -> Actor:
        return Actor(self.username, self.name, self.role, self.staff_id, via)

    def public(self) -> dict:
        return {"username": self.username, "name": self.name, "role": self.role.value, "staff_id": self.staff_id,
                "disabled": self.disabled}


class Accounts:
    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys
        self.sessions, self.attempts = Sessions(r, keys), LoginAttempts(r, keys)
        _dummy_hash()  # now, so that no login (the first for an unknown name included) pays for it

    def create(self, username: str, password: str, role: UserRole, name: str = "", staff_id: str | None = None,
               replace: bool = False) -> User:
        if not USERNAME.match(username):
            raise AccountError("username: 2-64 letters, digits or _ . @ -")
        _check_password(password)
        if role is UserRole.SALES and not staff_id:
            raise AccountError("staff_id: a sales account must be linked to a staff member of the roster")
        user = User(username, name or username, role, staff_id, int(time.time() * 1000))
        record = orjson.dumps({**user.public(), "created_at": user.created_at, "hash": _hasher.hash(password)})
        if replace:
            self.r.hset(self.keys.users, username, record)
            self.sessions.end_user(username)
        elif not self.r.hsetnx(self.keys.users, username, record):
            raise AccountError(f"username: {username!r} exists already")
        return user

    def set_password(self, username: str, password: str) -> None:
        """A new password; every dashboard session of the account ends."""
        _check_password(password)
        self._update(username, hash=_hasher.hash(password))
        self.sessions.end_user(username)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (its sessions end, its logins and API tokens are refused) or enable an account."""
        self._update(username, disabled=disabled)
        if disabled:
            self.sessions.end_user(username)

    def _update(self, username: str, **fields) -> None:
        raw = self.r.hget(self.keys.users, username)
        if raw is None:
            raise AccountError(f"username: no account {username!r}")
        self.r.hset(self.keys.users, username, orjson.dumps({**orjson.loads(raw), **fields}))

    def get(self, username: str) -> User | None:
        raw = self.r.hget(self.keys.users, username)
        return None if raw is None else _user(orjson.loads(raw))

    def all(self) -> list[User]:
        return sorted((_user(orjson.loads(raw)) for raw in self.r.hvals(self.keys.users)), key=lambda u: u.username)

    def any_manager(self) -> bool:
        return any(u.role is UserRole.MANAGER for u in self.all())

    def authenticate(self, username: str, password: str) -> User | None:
        raw = self.r.hget(self.keys.users, username) if USERNAME.match(username or "") else None
        record = orjson.loads(raw) if raw else None
        try:
            _hasher.verify(record["hash"] if record else _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        user = _user(record) if record else None
        return None if user is None or user.disabled else user

    # --- integration tokens -----------------------------------------------------------------

    def issue_token(self, username: str, label: str = "") -> str:
        if self.get(username) is None:
            raise AccountError(f"username: no account {username!r}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.r.hset(self.keys.api_tokens, digest(token),
                    orjson.dumps({"user": username, "label": label, "created_at": int(time.time() * 1000)}))
        return token

    def user_for_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        raw = self.r.hget(self.keys.api_tokens, digest(token))
        user = None if raw is None else self.get(orjson.loads(raw)["user"])
        return None if user is None or user.disabled else user

    def revoke_tokens(self, username: str) -> int:
        gone = [h for h, raw in self.r.hgetall(self.keys.api_tokens).items() if orjson.loads(raw)["user"] == username]
        return self.r.hdel(self.keys.api_tokens, *gone) if gone else 0


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")


def _user(d: dict) -> User:
    return User(d["username"], d["name"], UserRole(d["role"]), d.get("staff_id"), d.get("created_at", 0),
                d.get("disabled", False))
