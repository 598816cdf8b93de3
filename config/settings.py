"""Application settings: config/app.yaml (or the file SA_CONFIG names), overridden by environment
variables (SA_*, with __ for nesting, plus REDIS_URL and RAY_ADDRESS). A bad value fails at start
with the field named.

The settings are typed end to end and validated once, at start-up: the priority weights
(config/priority_file.py) with the rest, the escalation policy by `load_policy` (config/policy.yaml
unless `policy_file` names another). The service's time zone is `timezone` here, its one home;
everything that shows or buckets a time receives it from these settings.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from sales_assistant.config.policy_file import PolicyFile
from sales_assistant.config.priority_file import PriorityFile
from sales_assistant.config.roster_file import RosterFile
from sales_assistant.connectors.lark import LarkSettings
from sales_assistant.core.timeutil import known_zone
from sales_assistant.policies.check_sampling import SampleUnderLag
from sales_assistant.policies.escalation import Policy
from sales_assistant.policies.priority import PriorityRules

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_CONFIG = CONFIG_DIR / "app.yaml"
DEFAULT_POLICY = CONFIG_DIR / "policy.yaml"  # the built-in ladder: the one place it is written down


class ConfigError(ValueError):
    """A configuration file or value is wrong; the message names the file and the field."""


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    max_body_bytes: int = Field(5_000_000, gt=0)
    rate_per_token_per_s: float = Field(200, ge=0)  # webhook requests per second per bearer token; 0: no limit
    burst: int = Field(2000, ge=1)  # requests a token may send at once before the rate applies
    secure_cookies: bool = False  # set behind HTTPS: the session cookie is then never sent in clear (doctor warns)
    api_docs: bool = False  # serve /docs, /redoc and /openapi.json (the demo turns them on)
    session_hours: int = Field(12, ge=1, le=24 * 30)


class CheckSampleSettings(BaseModel):
    lag_s: float = Field(gt=0)  # sampling starts when a staff text has waited longer than this
    keep: float = Field(gt=0, le=1)  # the share of staff texts still checked while sampling

    def to_policy(self) -> SampleUnderLag:
        return SampleUnderLag(self.lag_s, self.keep)


class NlpSettings(BaseModel):
    check_staff: bool = True  # typo and phrasing checks on what staff write, suggestions to the rep
    typo_model: Literal["ngram", "ngram-docs", "ngram-mixed", "ngram+mlm", "ngram-docs+mlm",
                        "ngram-mixed+mlm"] = "ngram+mlm"  # models/typo: which corrector
    lm_path: Path | None = None  # character LM (ARPA); None: the corpus LM, built once and cached
    domain_words: list[str] = []  # product and company names the typo check must never "correct"
    # How long the ingest waits, before its first batch, for the NLP actor to load its models; past it, it
    # consumes with the built-in closing list (counted as nlp_fallback) until the actor answers.
    ready_timeout_s: float = Field(300.0, gt=0, le=3600)
    # A customer's message labelled closing with a score below this started no clock on a doubtful verdict: the
    # room keeps the judgement, shown as "判定为结束语 (0.74)" with a button that restarts the clock.
    closing_confident: float = Field(0.999, gt=0, le=1)
    # Staff checks run in this many actors (actors/nlp.py: CheckActor), anywhere on a Ray cluster, sharing
    # the staff-texts stream through its consumer group: a cluster adds check capacity by adding nodes.
    check_actors: int = Field(1, ge=1, le=256)
    # Past this age of the oldest unchecked staff text, /api/health says "behind" and the dashboard a banner.
    check_lag_warn_s: float = Field(60.0, gt=0)
    # A check actor takes over another's unacknowledged staff texts once they are this old (a dead actor's).
    check_claim_idle_s: float = Field(120.0, gt=0)
    # Closing labels that fell back to the built-in list per minute (over the last 5) that raise a banner.
    fallback_warn_per_min: float = Field(1.0, ge=0)
    # A team's choice, off (None) by default: past `lag_s` of staff-check lag, check only the share `keep` of
    # the staff texts (the same ones on every replay: chosen by message id), acknowledge the rest as skipped
    # (stats staff_skipped, shown by /api/health, the dashboard and doctor). policies/check_sampling.py.
    check_sample_under_lag: CheckSampleSettings | None = None


class BridgeSettings(BaseModel):
    # The WeChat bridge (bridges/wechaty) calls at least every few seconds (its outbox poll); silent longer
    # than this, /api/health says so and the dashboard shows a banner. Never heard from: no banner.
    silent_after_s: float = Field(120.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SA_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path(".data")
    redis_url: str | None = Field(None, validation_alias=AliasChoices("REDIS_URL", "SA_REDIS_URL"))
    ray_address: str | None = Field(None, validation_alias=AliasChoices("RAY_ADDRESS", "SA_RAY_ADDRESS"))
    namespace: str = Field("sa", pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    shards: int = Field(2, ge=1, le=1024)
    # Where Ray puts the shard actors (actors/pipeline.py: shard_placement): "spread" over a cluster's nodes in
    # turn, or "pack" them on one node (the driver's if it qualifies). shard_labels: only nodes started with
    # these labels (`ray start --labels rooms=yes`) host shards.
    placement: Literal["spread", "pack"] = "spread"
    shard_labels: dict[str, str] = {}
    batch_size: int = Field(500, ge=1, le=10_000)
    max_backlog: int = Field(2_000_000, ge=1000)
    timezone: str = "Asia/Shanghai"  # IANA name: business days, hours, and every time a person reads
    over_threshold_minutes: float = Field(2.0, gt=0)
    # The alert log (dashboard 警报, reports, `/api/alerts`) keeps this many days; older alerts every sink has
    # acknowledged are trimmed (actors/notifier.py: AlertLogRetention).
    alert_log_days: int = Field(90, ge=1, le=3650)
    lang: Literal["zh", "en"] = "zh"
    policy_file: Path | None = None
    roster_file: Path | None = None
    closing_model: Literal["keywords", "learned", "learned-model"] = "learned"
    nlp: NlpSettings = NlpSettings()
    sinks: list[Literal["console", "jsonl", "lark", "null"]] = ["console"]
    alerts_jsonl: Path | None = None
    lark: LarkSettings = LarkSettings()
    http: HttpSettings = HttpSettings()
    bridge: BridgeSettings = BridgeSettings()
    ingest_token: SecretStr | None = None
    api_token: SecretStr | None = None  # a manager-level token for scripts; users' own tokens come from `users token`
    # Signs the dashboard's session cookie; unset: a random key in <data_dir>/session.key (0600), never in Redis.
    # Set it when several hosts serve the dashboard; `users rotate-secret` replaces the file's key.
    session_secret: SecretStr | None = None
    priority: PriorityFile = PriorityFile()  # policies/priority.py weights and word lists; keys left out: defaults

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        return known_zone(name)

    def alerts_path(self) -> Path:
        return self.alerts_jsonl or self.data_dir / "alerts.jsonl"

    @property
    def priority_rules(self) -> PriorityRules:
        """The validated `priority:` section as the domain's rules."""
        return self.priority.to_rules()


class _YamlSource(PydanticBaseSettingsSource):
    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ does the work
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = Path(os.environ.get("SA_CONFIG", DEFAULT_CONFIG))
        return read_mapping(path)


def read_mapping(path: Path) -> dict:
    """A JSON or YAML file holding one mapping, with errors that name the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        data = json.loads(text) if Path(path).suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: not valid {'JSON' if Path(path).suffix == '.json' else 'YAML'}: {e}") from None
    except RecursionError:  # both parsers recurse per nesting level
        raise ConfigError(f"{path}: nested too deeply to be a configuration") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, not {type(data).__name__}")
    return data


def explain(error: ValidationError, source: str) -> ConfigError:
    lines = []
    for err in error.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {field}: {err['msg']}")
    return ConfigError(f"{source}: invalid configuration\n" + "\n".join(lines))


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise explain(e, os.environ.get("SA_CONFIG", str(DEFAULT_CONFIG))) from None
    except SettingsError as e:  # an SA_* variable for a list or mapping that is not JSON
        raise ConfigError(f"environment: {e}; lists and mappings must be JSON, e.g. SA_SINKS='[\"console\"]'") from None


def load_policy(path: Path | None) -> Policy:
    """The escalation policy file `path`, or with None the built-in one (config/policy.yaml), validated
    into the domain's Policy: what the supervisor and the workspace receive, never re-read or re-checked."""
    path = DEFAULT_POLICY if path is None else path
    try:
        return PolicyFile.model_validate(read_mapping(path)).to_policy()
    except ValidationError as e:
        raise explain(e, str(path)) from None


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The built-in ladder (config/policy.yaml), read once."""
    return load_policy(None)


def load_roster_file(path: Path) -> RosterFile:
    try:
        return RosterFile.model_validate(read_mapping(path))
    except ValidationError as e:
        raise explain(e, str(path)) from None
