"""The composition root: the one place that loads the configuration, opens Redis and wires the
pipeline, the workspace, the Lark card buttons and the HTTP app together.

Settings and the escalation policy are read and validated once, by `load_config`, and what is built
from them is handed down: the actors, the workspace and the web routes never load a file or open a
Redis of their own. It lives with the command line because it is the only module that may import
both the actors and the web layer; tests and benchmarks that need a service build it here too.
"""
from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sales_assistant.config.policy_file import check_teams
from sales_assistant.config.settings import (
    DEFAULT_POLICY,
    ConfigError,
    Settings,
    load_policy,
    load_roster_file,
    load_settings,
)
from sales_assistant.core.roster import Roster
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.priority import PriorityRules
from sales_assistant.store.keys import Keys
from sales_assistant.store.redis import connect, embedded_pid, ensure_embedded, stop_if_idle
from sales_assistant.store.sessions import SessionKey
from sales_assistant.store.users import Accounts

if TYPE_CHECKING:
    import redis
    from fastapi import APIRouter, FastAPI

    from sales_assistant.actors.notifier import SinkSpec
    from sales_assistant.actors.pipeline import Pipeline
    from sales_assistant.application.workspace import Workspace
    from sales_assistant.models.analysis import Analyzer
    from sales_assistant.store.inbox import Inbox
    from sales_assistant.web.app import AppServices

log = logging.getLogger("sales_assistant.bootstrap")


@dataclass(frozen=True)
class Config:
    """Everything the service reads from files and the environment, validated together."""
    settings: Settings
    policy: Policy
    priority: PriorityRules


def load_config(**overrides: Any) -> Config:
    """Settings (config file, then SA_* variables, then `overrides`), the policy file they name and the
    priority rules; raises ConfigError naming the file and the field."""
    settings = load_settings(**overrides)
    return Config(settings, load_policy(settings.policy_file), settings.priority_rules)


def check_calendar_teams(config: Config, roster: Roster) -> None:
    """ConfigError naming `calendars.<team>` when the policy file gives a calendar to a team nobody is in."""
    try:
        check_teams(config.policy, roster, str(config.settings.policy_file or DEFAULT_POLICY))
    except ValueError as e:
        raise ConfigError(str(e)) from None


# --- Redis ------------------------------------------------------------------------------------------


def redis_url(settings: Settings) -> str:
    """REDIS_URL when set, else the embedded server for `data_dir`, started if it does not run yet."""
    return settings.redis_url or ensure_embedded(settings.data_dir)


def open_redis(settings: Settings) -> redis.Redis:
    """Redis for a short command (users, report). What the command starts it stops: an embedded server it
    had to start is shut down when the command exits, unless a service has connected to it meanwhile."""
    if not settings.redis_url and embedded_pid(settings.data_dir) is None:
        atexit.register(stop_if_idle, settings.data_dir)
    return connect(redis_url(settings))


def open_accounts(settings: Settings) -> Accounts:
    return Accounts(open_redis(settings), Keys(settings.namespace))


def session_key(settings: Settings) -> SessionKey:
    """What signs the dashboard's cookie: SA_SESSION_SECRET when set, else the key file in the data dir,
    never a value kept in Redis."""
    configured = settings.session_secret.get_secret_value() if settings.session_secret is not None else None
    return SessionKey(settings.data_dir, configured)


# --- the pipeline -----------------------------------------------------------------------------------


def prepare_models(settings: Settings) -> None:
    """Build the corpus language model now, with a progress bar, rather than inside the NLP actor when
    it first needs one (once: it is cached). Nothing to do when staff checks are off or an LM file is
    configured. Raises models.lm.CorpusUnavailable when it cannot be built."""
    if settings.nlp.check_staff and settings.nlp.lm_path is None:
        from sales_assistant.models.lm import build_lm

        build_lm(show_progress=True)


def build_pipeline(config: Config, clock: str, sinks: list[SinkSpec], consume: bool = False) -> Pipeline:
    """The actor system on this configuration's Redis, not started yet (`Pipeline.start`)."""
    from sales_assistant.actors.pipeline import Pipeline

    return Pipeline(config.settings, config.policy, redis_url(config.settings), clock, sinks, consume)


# --- the HTTP service -------------------------------------------------------------------------------


def build_workspace(config: Config, inbox: Inbox, now: Callable[[], int]) -> Workspace:
    from sales_assistant.application.workspace import Workspace
    from sales_assistant.store.outbox import Outbox
    from sales_assistant.store.repository import RedisRepository

    s = config.settings
    return Workspace(RedisRepository(inbox.r, inbox.keys), inbox, s.timezone, now, rules=config.priority,
                     threshold_minutes=s.over_threshold_minutes, policy=config.policy,
                     says=Outbox(inbox.r, inbox.keys))


def build_services(config: Config, inbox: Inbox, advance: Callable[[int], int] | None = None) -> AppServices:
    """What the routes work with. `advance`: the supervisor's clock when the pipeline runs on virtual
    time (ticks then come from POST /api/clock/tick); None on wall time."""
    from sales_assistant.web.app import AppServices, ServiceClock

    clock = ServiceClock(advance)
    return AppServices(config.settings, inbox, build_workspace(config, inbox, clock.now),
                       Accounts(inbox.r, inbox.keys), clock, session_key(config.settings),
                       language_checks(config.settings, inbox))


def language_checks(settings: Settings, inbox: Inbox) -> Callable[[], Analyzer]:
    """The checks POST /api/check runs (`sales-assistant check --url`): the service's closing model, and its
    typo and phrasing checks with the roster's names and the domain words protected, as the NLP actors
    have them. Loaded on the first call (a few seconds, once), then kept: a service nobody asks pays nothing."""
    loaded: list[Analyzer] = []
    loading = threading.Lock()  # two first calls at once load the models once

    def analyzer() -> Analyzer:
        with loading:
            if not loaded:
                from sales_assistant.models.analysis import load_analyzer
                from sales_assistant.store.state import load_roster

                roster = load_roster(inbox.r, inbox.keys)
                names = [s.name for s in roster.staff.values()] + [r.topic for r in roster.rooms.values() if r.topic]
                nlp = settings.nlp
                loaded.append(load_analyzer(
                    settings.closing_model, typo_model=nlp.typo_model if nlp.check_staff else None,
                    phrasing=nlp.check_staff, lm_path=nlp.lm_path, protected_words=names + list(nlp.domain_words),
                    lang=settings.lang))
            return loaded[0]
    return analyzer


def card_routes(settings: Settings, workspace: Workspace) -> list[APIRouter]:
    """The route Lark calls when someone presses a button on an alert card (the card callback URL in the
    Lark developer console), when the callback's verification token and encrypt key are configured."""
    lark = settings.lark
    if not (lark.verification_token.get_secret_value() and lark.encrypt_key.get_secret_value()):
        if "lark" in settings.sinks:
            log.warning("lark.verification_token / lark.encrypt_key not set: card buttons will not be answered")
        return []
    from sales_assistant.connectors.lark_actions import build_card_callbacks
    from sales_assistant.web.lark_routes import lark_router

    return [lark_router(build_card_callbacks(lark, workspace))]


def build_app(config: Config, pipeline: Pipeline, http_ticks: bool, card_buttons: bool) -> FastAPI:
    """The HTTP app on a started pipeline. `http_ticks`: POST /api/clock/tick advances the pipeline's
    virtual time (else the service tells wall time); `card_buttons`: answer the Lark cards' buttons."""
    from sales_assistant.web.app import create_app

    services = build_services(config, pipeline.inbox, pipeline.advance if http_ticks else None)
    return create_app(services, card_routes(config.settings, services.workspace) if card_buttons else ())


def start_service(config: Config, clock: str) -> tuple[Pipeline, FastAPI]:
    """The live service: the pipeline consuming the webhook's inbox, the configured sinks, the roster
    file loaded (rooms already known keep their state), and the app to serve. Raises ConfigError for a
    bad roster file or a calendar of an unknown team, and CorpusUnavailable when the language model cannot be built."""
    from sales_assistant.actors.notifier import sink_specs
    from sales_assistant.store.state import load_staff

    settings = config.settings
    roster = load_roster_file(settings.roster_file).to_roster() if settings.roster_file else None
    if roster is not None:
        check_calendar_teams(config, roster)  # before anything slow: a misspelt team stops the start at once
    prepare_models(settings)
    pipeline = build_pipeline(config, clock, sink_specs(settings), consume=True)
    if roster is not None:
        pipeline.load_roster(roster, overwrite_rooms=False)
    else:  # without a roster file, the staff the service already knows are the teams to check against
        check_calendar_teams(config, Roster(load_staff(pipeline.r, pipeline.keys)))
    pipeline.start()
    return pipeline, build_app(config, pipeline, http_ticks=clock == "virtual", card_buttons=True)
