"""The closing labels people's cancels and restarts gave (core.room.Correction), read back from the labels
stream the shards commit them to with the orders' effects: for `sales-assistant export-labels` and the API."""
from __future__ import annotations

import orjson
import redis

from sales_assistant.core.room import Correction
from sales_assistant.store.keys import Keys


def load_corrections(r: redis.Redis, keys: Keys, since_ms: int | None = None) -> list[Correction]:
    """Every label in the order the shards committed them; only those whose order came at or after `since_ms`.
    The stream is read whole: it grows by one entry per cancel or restart a person makes."""
    out = []
    for _, fields in r.xrange(keys.labels):
        correction = Correction(**orjson.loads(fields["d"]))
        if since_ms is None or correction.at >= since_ms:
            out.append(correction)
    return out
