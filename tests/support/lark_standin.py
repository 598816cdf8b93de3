"""A local stand-in for the Lark Open API calls alerts need (token, send, update a card), with failure knobs.

Real lark-oapi talks to it over HTTP on 127.0.0.1, so tests cover the SDK's token handling, headers and
JSON, not a mock of them. It mimics Lark where the sink depends on it: tenant tokens, `uuid` dedupe,
error bodies with a `code` and `msg`.

It also plays Lark towards the app: `click` presses a button on a card it holds, POSTing the
`card.action.trigger` callback encrypted and signed as Lark does (AES-256-CBC under sha256 of the
encrypt key; X-Lark-Signature = sha256(timestamp + nonce + encrypt key + body)), and applies the card
in the answer to the message, as Lark updates it in place.
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from Crypto.Cipher import AES

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
MESSAGES_PATH = "/open-apis/im/v1/messages"
MSG_TYPES = {"text", "post", "image", "file", "audio", "media", "sticker", "interactive", "share_chat", "share_user"}


class LarkStandIn:
    """`with LarkStandIn(app_id, app_secret) as lark:` serves on `lark.url` until the block ends."""

    def __init__(self, app_id: str = "cli_standin", app_secret: str = "standin-secret",
                 verification_token: str = "standin-verification-token", encrypt_key: str = "standin-encrypt-key") -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.verification_token = verification_token
        self.encrypt_key = encrypt_key
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._tokens: set[str] = set()
        self._by_uuid: dict[str, str] = {}
        self._messages: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._token_requests = 0
        self._fail_left = 0
        self._fail_status = 500
        self._limited_left = 0
        self._limit_reset_s = 0
        self._delay_s = 0.0
        self._down = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        serve = self._server.serve_forever
        self._thread = threading.Thread(target=serve, args=(0.05,), name="lark-standin", daemon=True)  # quick shutdown

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LarkStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()  # wakes handlers sleeping in set_delay
        self._server.shutdown()
        self._server.server_close()

    # --- what it saw -------------------------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)

    @property
    def updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._updates)

    @property
    def token_requests(self) -> int:
        with self._lock:
            return self._token_requests

    # --- failure knobs -----------------------------------------------------------------------

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next n message calls answer `status` with a Lark-style error body."""
        with self._lock:
            self._fail_left, self._fail_status = n, status

    def rate_limit_next(self, n: int, reset_s: int) -> None:
        """The next n message calls are refused as too frequent, as Lark's gateway does: HTTP 429, code
        99991400, and the seconds until the window frees in `x-ogw-ratelimit-reset`."""
        with self._lock:
            self._limited_left, self._limit_reset_s = n, reset_s

    def set_delay(self, seconds: float) -> None:
        """Message calls sleep this long before answering (a slow Lark)."""
        with self._lock:
            self._delay_s = seconds

    def set_down(self, down: bool) -> None:
        """Every call answers 503 with a plain-text page, like a gateway in front of a dead service."""
        with self._lock:
            self._down = down

    def revoke_tokens(self) -> None:
        """Tokens issued so far stop working (Lark answers 99991663), as after a secret reset."""
        with self._lock:
            self._tokens.clear()

    # --- playing Lark towards the app: card button callbacks --------------------------------

    def callback(self, message_id: str, value: dict[str, Any], open_id: str, *, timestamp: int | None = None,
                 sign_key: str | None = None, signed: bool = True) -> tuple[dict[str, str], bytes]:
        """Headers and body of the callback Lark sends when `open_id` presses a button with `value` on the
        card `message_id`. `sign_key` signs with another key (a forgery); `signed=False` leaves the signature out."""
        chat_id = next((m["chat_id"] for m in self.messages if m["message_id"] == message_id), "oc_unknown")
        event = {
            "schema": "2.0",
            "header": {"event_id": secrets.token_hex(16), "token": self.verification_token,
                       "create_time": str(time.time_ns() // 1000), "event_type": "card.action.trigger",
                       "tenant_key": "tenant-standin", "app_id": self.app_id},
            "event": {"operator": {"tenant_key": "tenant-standin", "open_id": open_id, "user_id": "u-" + open_id,
                                   "union_id": "on-" + open_id},
                      "token": "c-" + secrets.token_hex(8), "host": "im_message",
                      "action": {"tag": "button", "value": value},
                      "context": {"open_message_id": message_id, "open_chat_id": chat_id}},
        }
        return self._sealed(event, timestamp, sign_key, signed)

    def url_verification(self, challenge: str) -> tuple[dict[str, str], bytes]:
        """What Lark sends when the callback URL is saved in the developer console."""
        body = {"challenge": challenge, "token": self.verification_token, "type": "url_verification"}
        return self._sealed(body, None, None, signed=False)

    def click(self, url: str, message_id: str, value: dict[str, Any], open_id: str,
              **options: Any) -> tuple[int, dict[str, Any] | str]:
        """Press the button: POST the callback to `url`; a card in the answer replaces the message's card."""
        headers, body = self.callback(message_id, value, open_id, **options)
        return self.post(url, headers, body, message_id)

    def post(self, url: str, headers: dict[str, str], body: bytes,
             message_id: str | None = None) -> tuple[int, dict[str, Any] | str]:
        response = httpx.post(url, headers=headers, content=body, timeout=10)
        try:
            answer: dict[str, Any] | str = response.json()
        except ValueError:
            return response.status_code, response.text
        card = answer.get("card") if response.status_code == 200 and isinstance(answer, dict) else None
        if message_id and isinstance(card, dict) and card.get("type") == "raw":
            with self._lock:
                self._updates.append({"message_id": message_id, "content": card["data"]})
        return response.status_code, answer

    def _sealed(self, payload: dict[str, Any], timestamp: int | None, sign_key: str | None,
                signed: bool) -> tuple[dict[str, str], bytes]:
        plain = json.dumps(payload, ensure_ascii=False).encode()
        iv = secrets.token_bytes(AES.block_size)
        pad = AES.block_size - len(plain) % AES.block_size
        cipher = AES.new(hashlib.sha256(self.encrypt_key.encode()).digest(), AES.MODE_CBC, iv)
        sealed = cipher.encrypt(plain + bytes([pad]) * pad)
        body = json.dumps({"encrypt": base64.b64encode(iv + sealed).decode()}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if signed:
            stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(8)
            key = self.encrypt_key if sign_key is None else sign_key
            headers |= {"X-Lark-Request-Timestamp": stamp, "X-Lark-Request-Nonce": nonce,
                        "X-Lark-Signature": hashlib.sha256((stamp + nonce + key).encode() + body).hexdigest()}
        return headers, body

    # --- the API -----------------------------------------------------------------------------

    def _token(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._token_requests += 1
            if body.get("app_id") != self.app_id or body.get("app_secret") != self.app_secret:
                return 400, {"code": 10014, "msg": "app secret invalid"}
            token = "t-" + secrets.token_hex(16)
            self._tokens.add(token)
        return 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": 7200}

    def _before_message_call(self, authorization: str) -> tuple[int, dict[str, Any]] | None:
        """The knobs, then the token check that real Lark does before reading the body."""
        with self._lock:
            delay = self._delay_s
        if delay:
            self._closing.wait(delay)
        with self._lock:
            if self._fail_left > 0:
                self._fail_left -= 1
                return self._fail_status, {"code": self._fail_status, "msg": "injected failure"}
            if self._limited_left > 0:
                self._limited_left -= 1
                return 429, {"code": 99991400, "msg": "request trigger frequency limit"}
            if authorization.removeprefix("Bearer ") not in self._tokens:
                return 400, {"code": 99991663, "msg": "Invalid access token for authorization"}
        return None

    def _create(self, query: dict[str, list[str]], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        id_type = (query.get("receive_id_type") or [""])[0]
        if id_type not in ("chat_id", "open_id"):
            return _invalid("receive_id_type must be chat_id or open_id")
        receive_id, msg_type, content, uuid = (body.get(k) for k in ("receive_id", "msg_type", "content", "uuid"))
        if not isinstance(receive_id, str) or not receive_id:
            return _invalid("receive_id is required")
        if msg_type not in MSG_TYPES:
            return _invalid(f"unknown msg_type {msg_type!r}")
        parsed = _json_object(content)
        if parsed is None:
            return _invalid("content must be a JSON object encoded as a string")
        if uuid is not None and (not isinstance(uuid, str) or len(uuid) > 50):
            return _invalid("uuid must be a string of at most 50 characters")
        with self._lock:
            if uuid and uuid in self._by_uuid:
                return 200, _ok(self._by_uuid[uuid])
            message_id = "om_" + secrets.token_hex(12)
            if uuid:
                self._by_uuid[uuid] = message_id
            self._messages.append(
                {"chat_id": receive_id if id_type == "chat_id" else None,
                 "open_id": receive_id if id_type == "open_id" else None,
                 "msg_type": msg_type, "content": parsed, "uuid": uuid, "message_id": message_id,
                 "received_at": time.monotonic()}  # to check the sender's pacing against Lark's limits
            )
        return 200, _ok(message_id)

    def _update(self, message_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        parsed = _json_object(body.get("content"))
        if parsed is None:
            return _invalid("content must be a JSON object encoded as a string")
        with self._lock:
            if all(m["message_id"] != message_id for m in self._messages):
                return 400, {"code": 230011, "msg": "message not found"}
            self._updates.append({"message_id": message_id, "content": parsed})
        return 200, {"code": 0, "msg": "success", "data": {}}


def _ok(message_id: str) -> dict[str, Any]:
    return {"code": 0, "msg": "success", "data": {"message_id": message_id}}


def _invalid(msg: str) -> tuple[int, dict[str, Any]]:
    return 400, {"code": 230001, "msg": f"invalid request parameter: {msg}"}


def _json_object(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _handler_for(lark: LarkStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

        def _route(self, method: str) -> None:
            with lark._lock:
                down = lark._down
            if down:
                return self._reply(503, None)
            parts = urlsplit(self.path)
            body = _json_object(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode() or "{}")
            if body is None:
                return self._reply(400, {"code": 9499, "msg": "request body is not a JSON object"})
            if method == "POST" and parts.path == TOKEN_PATH:
                return self._reply(*lark._token(body))
            is_create = method == "POST" and parts.path == MESSAGES_PATH
            is_update = method == "PATCH" and parts.path.startswith(MESSAGES_PATH + "/")
            if not (is_create or is_update):
                return self._reply(404, {"code": 404, "msg": "not found"})
            refused = lark._before_message_call(self.headers.get("Authorization", ""))
            if refused:
                return self._reply(*refused)
            if is_create:
                return self._reply(*lark._create(parse_qs(parts.query), body))
            return self._reply(*lark._update(parts.path.rsplit("/", 1)[1], body))

        def _reply(self, status: int, payload: dict[str, Any] | None) -> None:
            if payload is None:
                data, ctype = b"503 Service Unavailable", "text/plain"
            else:
                data, ctype = json.dumps(payload).encode(), "application/json; charset=utf-8"
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("x-ogw-ratelimit-limit", "50")
                    self.send_header("x-ogw-ratelimit-reset", str(lark._limit_reset_s))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout), as it should

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
