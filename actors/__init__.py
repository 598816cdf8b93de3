"""Ray actor shells: ingest, room shards, supervisor, notifier, and the pipeline that wires them."""


def actor_name(namespace: str, role: str) -> str:
    """Named actors let a restarted actor (or the web app) find its peers."""
    return f"{namespace}:{role}"
