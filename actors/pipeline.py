"""The actor system: Ray, the actors and the driver's handle on them, for replay, demo, run and bench.

It is handed what it runs on (settings, the validated escalation policy, the Redis URL) by the
composition root, cli/bootstrap.py, and loads nothing itself: every actor gets the same policy and
the same Redis the rest of the service sees.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from sales_assistant.actors import actor_name
from sales_assistant.actors.ingest import IngestActor
from sales_assistant.actors.nlp import CheckActor, NlpActor
from sales_assistant.actors.notifier import NotifierActor, SinkSpec
from sales_assistant.actors.shard import ShardActor
from sales_assistant.actors.supervisor import SupervisorActor
from sales_assistant.config.settings import Settings
from sales_assistant.core.messages import Message, Order
from sales_assistant.core.roster import Roster
from sales_assistant.policies.escalation import Policy
from sales_assistant.store.inbox import Inbox
from sales_assistant.store.keys import Keys
from sales_assistant.store.language_health import mark_service_start
from sales_assistant.store.redis import connect
from sales_assistant.store.report import build_report
from sales_assistant.store.state import NLP_GROUP, save_roster
from sales_assistant.store.streams import caught_up

log = logging.getLogger("sales_assistant.pipeline")
SHARD_CPUS = 0.001  # see Pipeline._start_shards; 1,000 shards ask for one CPU in all


def init_ray(settings: Settings, log_to_driver: bool = True) -> None:
    if ray.is_initialized():
        return
    if settings.ray_address:
        ray.init(address=settings.ray_address, namespace="sales-assistant", log_to_driver=log_to_driver)
    else:
        ray.init(include_dashboard=False, namespace="sales-assistant", log_to_driver=log_to_driver,
                 configure_logging=False)


def shard_placement(settings: Settings, here: str, nodes: list[dict]) -> list[dict]:
    """The Ray options that place each shard actor (one dict per shard), from `placement` and `shard_labels`.

    "spread": shard i on the i-th qualifying node, in turn. "pack": all on one node, the driver's if it
    qualifies, else the first that does. Both name the node (softly: if it dies, Ray restarts the shard
    elsewhere) because Ray's own strategies do not place a few light actors where one expects: DEFAULT
    puts them on any node, and SPREAD left all four shards on one of two nodes in a test run.
    `shard_labels` limits both to nodes started with those labels (`ray start --labels rooms=yes`).
    `here`: the driver's node id; `nodes`: as `ray.nodes()` gives them."""
    wanted = settings.shard_labels
    fits = sorted(n["NodeID"] for n in nodes if n["Alive"] and wanted.items() <= n.get("Labels", {}).items())
    if not fits:
        raise RuntimeError(f"no alive Ray node has the labels {wanted} (shard_labels): start one with "
                           f"`ray start --labels {','.join(f'{k}={v}' for k, v in wanted.items())}`")
    options: dict = {"label_selector": dict(wanted)} if wanted else {}
    if settings.placement == "spread":
        chosen = [fits[i % len(fits)] for i in range(settings.shards)]
    else:
        chosen = [here if here in fits else fits[0]] * settings.shards
    return [options | {"scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=True)} for node in chosen]


def check_placement(count: int, nodes: list[dict]) -> list[dict]:
    """The Ray options that place each staff-check actor: the alive nodes in turn, so that a cluster's
    nodes share the checks (softly, as for the shards: a dead node's actor is restarted elsewhere)."""
    alive = sorted(n["NodeID"] for n in nodes if n["Alive"])
    return [{"scheduling_strategy": NodeAffinitySchedulingStrategy(alive[i % len(alive)], soft=True)}
            for i in range(count)]


def misplaced(placement: list[dict], landed: list[str], alive: set[str]) -> list[int]:
    """The shards that run elsewhere than their placement names, though that node is alive (a soft
    affinity is a wish, not a promise). A shard whose node has died is right to be elsewhere."""
    return [i for i, (o, node) in enumerate(zip(placement, landed, strict=True))
            if node != o["scheduling_strategy"].node_id and o["scheduling_strategy"].node_id in alive]


class Pipeline:
    def __init__(self, settings: Settings, policy: Policy, redis_url: str, clock: str, sinks: list[SinkSpec],
                 consume: bool = False) -> None:
        """`redis_url`: a Redis that answers (cli/bootstrap.py starts the embedded one). `clock`: "virtual"
        (event time; replay, tests) or "wall" (live). `consume`: the ingest reads the inbox by itself (the
        service) instead of being pumped by the driver."""
        if clock not in ("virtual", "wall"):
            raise ValueError(f"clock must be 'virtual' or 'wall', not {clock!r}")
        self.settings, self.policy, self.clock, self.sink_specs, self.consume = settings, policy, clock, sinks, consume
        self.redis_url = redis_url
        self.r = connect(redis_url)
        self.keys = Keys(settings.namespace)
        self.inbox = Inbox(self.r, self.keys, settings.max_backlog)
        self.actors: dict[str, object] = {}

    def load_roster(self, roster: Roster, overwrite_rooms: bool) -> None:
        save_roster(self.r, self.keys, roster, overwrite_rooms)

    def start(self, log_to_driver: bool = True) -> Pipeline:
        init_ray(self.settings, log_to_driver)
        s, url, ns = self.settings, self.redis_url, self.settings.namespace
        # Where the shards go on a cluster (settings `placement`, `shard_labels`); one node: all there.
        shards = self._start_shards()
        supervisor = SupervisorActor.options(name=actor_name(ns, "supervisor"), num_cpus=0).remote(
            url, ns, self.policy, self.clock)
        notifier = NotifierActor.options(name=actor_name(ns, "notifier"), num_cpus=0).remote(
            url, ns, self.sink_specs, alert_log_days=s.alert_log_days, policy=self.policy)
        mark_service_start(self.r, self.keys, int(time.time() * 1000))  # fallbacks since start count from here
        nlp = None
        if s.closing_model != "keywords":
            nlp = NlpActor.options(name=actor_name(ns, "nlp"), num_cpus=0).remote(s.closing_model)
        checks = self._start_checks() if s.nlp.check_staff else []
        ingest = IngestActor.options(name=actor_name(ns, "ingest"), num_cpus=0).remote(
            url, ns, s.shards, s.closing_model, s.batch_size, self.clock, self.consume, s.nlp.ready_timeout_s,
            s.nlp.closing_confident)
        self.actors = {"supervisor": supervisor, "notifier": notifier, "ingest": ingest,
                       **{f"shard-{i}": a for i, a in enumerate(shards)}, **({"nlp": nlp} if nlp else {}),
                       **{f"check-{i}": a for i, a in enumerate(checks)}}
        # Not the NLP actors: they may take a while to load their models (the ingest waits for the closing one before
        # its first batch), while the service already answers (GET /api/health says "nlp": "loading").
        ray.get([supervisor.ping.remote(), notifier.ping.remote(), ingest.ping.remote()])
        return self

    def _start_shards(self) -> list:
        """The shard actors, each asked to run on the node its placement names; a warning names any that did not."""
        s, url, ns = self.settings, self.redis_url, self.settings.namespace
        placement = shard_placement(s, ray.get_runtime_context().get_node_id(), ray.nodes())
        # A sliver of CPU, not none: Ray 2.60 ignores a soft node affinity for an actor that asks for no
        # resources at all and puts it on a random node (measured: 4–5 of 8 where named, 8 of 8 with this).
        shards = [ShardActor.options(name=actor_name(ns, f"shard-{i}"), num_cpus=SHARD_CPUS, **placement[i])
                  .remote(i, s.shards, url, ns, s.timezone, s.nlp.check_staff, self._followup_days())
                  for i in range(s.shards)]
        landed = ray.get([a.node_id.remote() for a in shards])
        if wrong := misplaced(placement, landed, {n["NodeID"] for n in ray.nodes() if n["Alive"]}):
            log.warning("shards %s run on another node than placement %r names: %s", wrong, s.placement,
                        [landed[i] for i in wrong])
        return shards

    def _start_checks(self) -> list:
        """`nlp.check_actors` staff-check actors over the cluster's nodes, one consumer of the staff-texts
        group each. A sliver of CPU, as the shards have, so that Ray keeps to the node each one is given."""
        s, url, ns = self.settings, self.redis_url, self.settings.namespace
        placement = check_placement(s.nlp.check_actors, ray.nodes())
        sample = s.nlp.check_sample_under_lag.to_policy() if s.nlp.check_sample_under_lag else None
        return [CheckActor.options(name=actor_name(ns, f"check-{i}"), num_cpus=SHARD_CPUS, **placement[i]).remote(
                    i, url, ns, s.nlp.typo_model, str(s.nlp.lm_path) if s.nlp.lm_path else None,
                    list(s.nlp.domain_words), s.timezone, s.lang, s.nlp.check_claim_idle_s, sample)
                for i in range(s.nlp.check_actors)]

    def _followup_days(self) -> dict[str, int]:
        """Stage -> idle days before a follow-up: the shards keep each room's due moment by it."""
        return {str(stage): days for stage, days in self.policy.followup_days.items()}

    # --- driving ----------------------------------------------------------------------------------

    def push(self, items: list[Message | Order]) -> list[bool]:
        return self.inbox.push(items)

    def replay(self, items: list[Message | Order], chunk: int,
               after_chunk: Callable[[int], None] | None = None) -> None:
        """Feed items in event-time order through the real pipeline; nothing sleeps."""
        for i in range(0, len(items), chunk):
            self.push(items[i:i + chunk])
            self.pump()
            if after_chunk:
                after_chunk(min(i + chunk, len(items)))

    def pump(self) -> int:
        return ray.get(self.actors["ingest"].pump.remote())

    def advance(self, now_ms: int) -> int:
        return ray.get(self.actors["supervisor"].advance.remote(now_ms))

    def wait_delivered(self, timeout_s: float = 30.0) -> bool:
        """Every staff message checked (when the checks run) and every alert and suggestion handed over."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            nlp_done = not self.settings.nlp.check_staff or caught_up(self.r, self.keys.staff_texts, NLP_GROUP)
            if nlp_done and ray.get(self.actors["notifier"].drained.remote()):
                return True
            time.sleep(0.02)
        return False

    def report(self, first: date, last: date, now_ms: int | None = None) -> dict:
        s = self.settings
        return build_report(self.r, self.keys, first, last, s.timezone, s.over_threshold_minutes, now_ms,
                            policy=self.policy)

    def stop(self) -> None:
        for actor in self.actors.values():
            ray.kill(actor, no_restart=True)
        self.actors = {}
