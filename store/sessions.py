"""Dashboard sessions kept server-side, the key that signs their cookie, and failed-login counts.

A session is a random id in the browser's cookie and, in Redis, only its SHA-256 pointing at the
username, expiring with the session: so logout, a password change, disabling the account or
`users rotate-secret` end it at once, and a copy of Redis (AOF, RDB, backup) holds no id a browser
could present. The cookie itself is signed with a key that is never in Redis either: the configured
`SA_SESSION_SECRET`, or a random key in `<data_dir>/session.key` (mode 0600).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import secrets
from pathlib import Path

import redis

from sales_assistant.policies.login import ACCOUNT, ADDRESS, Backoff
from sales_assistant.store.keys import Keys

KEY_FILE = "session.key"


class SessionKey:
    """The cookie-signing key: the configured one, else the key file, created on first use and re-read
    whenever `rotate` (another process, `users rotate-secret`) replaced it."""

    def __init__(self, data_dir: Path, configured: str | None = None) -> None:
        self.path, self.configured = Path(data_dir) / KEY_FILE, configured or None
        self._stamp: tuple[int, int] | None = None
        self._value = ""

    def current(self) -> str:
        if self.configured:
            return self.configured
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._write(replace=False)
            st = self.path.stat()
        if (st.st_ino, st.st_mtime_ns) != self._stamp:
            self._value, self._stamp = self.path.read_text(encoding="ascii").strip(), (st.st_ino, st.st_mtime_ns)
        return self._value

    def rotate(self) -> None:
        """A new random key in the file; cookies signed with the old one are refused from the next request."""
        self._write(replace=True)

    def _write(self, replace: bool) -> None:
        # Written whole to a private temporary file, then put in place: a reader never sees half a key.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{KEY_FILE}.{secrets.token_hex(8)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        try:
            if replace:
                os.replace(tmp, self.path)
            else:
                with contextlib.suppress(FileExistsError):  # another process made it first: theirs stands
                    os.link(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


class Sessions:
    """Live dashboard sessions: started at login, ended by logout, by the account's changes, or all at once."""

    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys

    def start(self, username: str, ttl_s: int) -> str:
        """A new session for `username`, valid `ttl_s` seconds; returns the id for the cookie (kept nowhere else)."""
        sid = secrets.token_urlsafe(32)
        hashed = digest(sid)
        pipe = self.r.pipeline()
        pipe.set(self.keys.session(hashed), username, ex=ttl_s)
        pipe.sadd(self.keys.user_sessions(username), hashed)
        pipe.expire(self.keys.user_sessions(username), ttl_s)  # the newest session lives longest
        pipe.execute()
        return sid

    def user(self, sid: str) -> str | None:
        """The username of a live session, or None."""
        return self.r.get(self.keys.session(digest(sid)))

    def end(self, sid: str) -> None:
        hashed = digest(sid)
        username = self.r.getdel(self.keys.session(hashed))
        if username is not None:
            self.r.srem(self.keys.user_sessions(username), hashed)

    def end_user(self, username: str) -> int:
        """End every session of `username`; returns how many were live."""
        digests = self.r.smembers(self.keys.user_sessions(username))
        ended = self.r.delete(*(self.keys.session(d) for d in digests)) if digests else 0
        self.r.delete(self.keys.user_sessions(username))
        return ended

    def end_all(self) -> int:
        """End every session of every user; returns how many were live."""
        live = list(self.r.scan_iter(match=self.keys.session("*"), count=1000))
        doomed = live + list(self.r.scan_iter(match=self.keys.user_sessions("*"), count=1000))
        for i in range(0, len(doomed), 1000):
            self.r.delete(*doomed[i:i + 1000])
        return len(live)


class LoginAttempts:
    """Failed logins in a row, per account and per address, and how long the next attempt must wait
    (policies/login.py). Time is wall time in epoch ms, passed in."""

    def __init__(self, r: redis.Redis, keys: Keys) -> None:
        self.r, self.keys = r, keys

    def wait_s(self, username: str, address: str, now_ms: int) -> int:
        """Seconds before an attempt on `username` from `address` is heard; 0: now."""
        until = max(int(self.r.hget(key, "until") or 0) for key, _ in self._counted(username, address))
        return max(0, math.ceil((until - now_ms) / 1000))

    def failed(self, username: str, address: str, now_ms: int) -> None:
        for key, rule in self._counted(username, address):
            failures = self.r.hincrby(key, "failures", 1)
            pipe = self.r.pipeline()
            pipe.hset(key, "until", now_ms + 1000 * rule.wait_s(failures))
            pipe.expire(key, rule.memory_s)
            pipe.execute()

    def succeeded(self, username: str) -> None:
        """The account's count starts again; the address's is left to expire, so one valid account cannot
        clear the way for guesses at others."""
        self.r.delete(self.keys.login_failures("user", username))

    def _counted(self, username: str, address: str) -> tuple[tuple[str, Backoff], ...]:
        return ((self.keys.login_failures("user", username), ACCOUNT),
                (self.keys.login_failures("addr", address), ADDRESS))


def digest(secret: str) -> str:
    """How a random secret (a session id, an API token) is kept: its SHA-256; being random and long, it needs
    no slow hash, and a lookup by digest needs no scan."""
    return hashlib.sha256(secret.encode()).hexdigest()
