"""The served demo's live afternoon: a thread that hands the rest of the demo day to the pipeline as
the wall clock reaches each message, and moves the pipeline's virtual time along with the wall clock.

Virtual time, not the wall clock, drives the demo's pipeline so that the morning can be replayed at
once; this feed then keeps the two together, and each step also applies the dashboard's own orders
(cancel, snooze, take over) within a quarter second. It is stopped before the pipeline is: a step
must never run against actors that are being killed.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sales_assistant.actors.pipeline import Pipeline
    from sales_assistant.core.messages import Message, Order

log = logging.getLogger("sales_assistant.demo")


class DemoFeed:
    """Use as `with DemoFeed(pipeline, later_items, show): serve()`; the items must be in time order."""

    def __init__(self, pipeline: Pipeline, items: list[Message | Order], after_step: Callable[[], None],
                 period_s: float = 0.25, wall: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        self.pipeline, self.after_step, self.period_s, self.wall = pipeline, after_step, period_s, wall
        self.waiting = list(items)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-feed", daemon=True)

    def step(self) -> None:
        """Push what is due by now, let the ingest take it, advance virtual time to now."""
        now = self.wall()
        due = 0
        while due < len(self.waiting) and self.waiting[due].ts <= now:
            due += 1
        if due:
            self.pipeline.push(self.waiting[:due])
            del self.waiting[:due]
        self.pipeline.pump()
        self.pipeline.advance(now)
        self.after_step()

    def _run(self) -> None:
        while not self._stopping.wait(self.period_s):
            try:
                self.step()
            except Exception:  # noqa: BLE001 - the demo keeps going through a hiccup
                log.exception("demo feed step failed")

    def __enter__(self) -> DemoFeed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(10)
