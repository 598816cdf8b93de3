"""How long a login must wait after failed attempts (pure rules): per account and per address, each
failure past a free allowance doubles the wait, up to a ceiling. The store counts the failures
(store/sessions.py: LoginAttempts); the login route asks this rule how long to refuse."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int  # failures allowed before any wait
    base_s: int  # the wait after the first failure past `free`; each further failure doubles it
    max_s: int  # the longest wait
    memory_s: int  # failures are forgotten after this long without a new one

    def wait_s(self, failures: int) -> int:
        """Seconds to refuse further attempts after the `failures`-th failure in a row."""
        if failures < self.free:
            return 0
        return min(self.max_s, self.base_s << min(failures - self.free, 30))


# One person mistyping stays free; a guesser at one account waits 1, 2, 4 … s, then 15 min per guess.
ACCOUNT = Backoff(free=5, base_s=1, max_s=900, memory_s=3600)
# An address tries many accounts (password spraying), or an office shares one address: a larger allowance.
ADDRESS = Backoff(free=20, base_s=1, max_s=900, memory_s=3600)
