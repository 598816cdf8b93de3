"""Ray actor shells: ingest, room shards, supervisor, notifier, and the pipeline that wires them."""
import os


class Pingable:
    """Every actor answers `ping`: the pipeline waits on it at start-up, the benchmarks sum the memory of
    every process it names."""

    def ping(self) -> int:
        """Alive? Answers with the process id."""
        return os.getpid()


def actor_name(namespace: str, role: str) -> str:
    """Named actors let a restarted actor (or the web app) find its peers."""
    return f"{namespace}:{role}"


def settle_heap() -> None:
    """Move everything alive now out of the garbage collector's sight and collect less often.

    A shard holds hundreds of thousands of long-lived rooms; every full collection walked all of
    them. Measured on the in-process pipeline: 7.0k -> 9.8k messages/s. Our objects hold no
    reference cycles worth hunting often, and refcounting frees the rest at once.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
