"""The control plane (`/_control/*`, only when enabled): reset, state, seed, clock, journal and
faults, for client developers' tests. Not a Simkl API: no credentials, this server's own JSON.

ControlMiddleware sits inside the edge (which logs and answers failures) and around the
router: before a request it makes the store's clock follow the database and lets a matching
fault answer; after it, the request goes to the journal. When the control plane is off the
middleware is not installed at all, so it costs the API nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkl_server import openapi
from simkl_server.api._http import JSONResponse, query_params, read_body, realm, services
from simkl_server.api.access import MASK, is_secret_name, redact_query
from simkl_server.api.errors import error_response
from simkl_server.catalog.interchange import parse_line
from simkl_server.domain import control
from simkl_server.domain.models import Fault, JournalEntry
from simkl_server.errors import (
    ClientIdFailed,
    InternalError,
    RateLimited,
    SimklError,
    UrlFailed,
    UserTokenFailed,
    WrongMethod,
    WrongParameter,
)
from simkl_server.storage.base import DatabaseUnavailable, Store, state_columns
from simkl_server.wire import control as wire

log = logging.getLogger("simkl_server")
PREFIX = "/_control"
# Bodies the journal keeps, request and response alike; a larger one is noted by its size
# (it cannot be masked reliably once cut).
JOURNAL_BODY_BYTES = 64 * 1024
DEFAULT_JOURNAL_LIMIT = 100
# Header values never kept: credentials and cookies. `simkl-api-key` carries the client_id,
# which the query shows anyway.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_PUBLIC_HEADERS = frozenset({"simkl-api-key"})
_FORM = "application/x-www-form-urlencoded"

Handler = Callable[[Request], Awaitable[Response]]


class ControlMiddleware:
    """Serves `/_control/*`; elsewhere follows the clock, answers faults and journals."""

    def __init__(self, app: ASGIApp, *, journal_size: int) -> None:
        self.app = app
        self.journal_size = journal_size
        self._document = openapi.document()
        self._handlers: dict[str, dict[str, Handler]] = {
            f"{PREFIX}/reset": {"POST": _reset},
            f"{PREFIX}/state": {"GET": _get_state, "PUT": _put_state},
            f"{PREFIX}/seed": {"POST": _seed},
            f"{PREFIX}/approve": {"POST": _approve},
            f"{PREFIX}/clock": {"GET": _get_clock, "PUT": _put_clock},
            f"{PREFIX}/journal": {"GET": self._get_journal, "DELETE": _clear_journal},
            f"{PREFIX}/faults": {"GET": _get_faults, "POST": _add_fault, "DELETE": _clear_faults},
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch control requests; follow, fault and journal every other one."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == PREFIX or path.startswith(PREFIX + "/"):
            response = await self._control(Request(scope, receive))
            await response(scope, receive, send)
            return
        store = scope["app"].services.store
        await control.follow_settings(store)
        fault = await control.fault_for(store, scope["method"], path)
        if fault is not None and fault.delay_ms:
            await asyncio.sleep(fault.delay_ms / 1000)  # the client asked for a slow answer
        await self._journaled(scope, receive, send, store, fault)

    async def _control(self, request: Request) -> Response:
        methods = self._handlers.get(request.url.path.rstrip("/"))
        if methods is None:
            return error_response(UrlFailed())
        handler = methods.get(request.method)
        if handler is None:
            response = error_response(WrongMethod())
            response.headers["Allow"] = ", ".join(sorted(methods))
            return response
        try:
            return await handler(request)
        except control.ControlError as exc:
            return error_response(WrongParameter(str(exc)))
        except SimklError as exc:
            return error_response(exc)

    async def _journaled(
        self, scope: Scope, receive: Receive, send: Send, store: Store, fault: Fault | None
    ) -> None:
        sent_body = bytearray()
        answer = bytearray()
        status = 500

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(sent_body) <= JOURNAL_BODY_BYTES:
                sent_body.extend(message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and len(answer) <= JOURNAL_BODY_BYTES:
                answer.extend(message.get("body", b""))
            await send(message)

        try:
            if fault is not None and fault.respond != control.ONLY_DELAY:
                await _drain(receiving)  # what the app sent belongs in the journal too
                await self._fault_response(scope, fault)(scope, receiving, sending)
            else:
                await self.app(scope, receiving, sending)
        finally:
            entry = _entry(scope, (bytes(sent_body), bytes(answer)), status, fault)
            try:
                await control.record(store, entry, cap=self.journal_size)
            except DatabaseUnavailable as exc:  # answered already: only the entry is lost
                log.warning("journal entry lost: %s", exc)

    def _fault_response(self, scope: Scope, fault: Fault) -> Response:
        """Simkl's own answer for the failure the fault names."""
        if fault.respond in ("empty", "null"):
            status = _success_status(self._document, scope["method"], scope["path"])
            body = b"" if fault.respond == "empty" else b"null"
            return Response(body, status, media_type="application/json")
        if fault.respond == "rate_limit":
            response = error_response(RateLimited("Too many requests: slow down"))
            response.headers["Retry-After"] = str(fault.retry_after_s)
            return response
        if fault.respond == "client_id_failed":
            return error_response(ClientIdFailed())
        if fault.respond == "user_token_failed":
            response = error_response(UserTokenFailed())
            host = realm(Request(scope))
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="{host}", error="user_token_failed"'
            )
            return response
        return error_response(InternalError())

    async def _get_journal(self, request: Request) -> Response:
        raw = query_params(request).get("limit", str(DEFAULT_JOURNAL_LIMIT))
        if not raw.isdigit() or not 1 <= int(raw) <= self.journal_size:
            raise control.ControlError(f"limit is a number from 1 to {self.journal_size}")
        entries = await _store(request).read.control.journal(int(raw))
        return JSONResponse([wire.journal_answer(entry) for entry in entries])


async def _drain(receive: Receive) -> None:
    """Read the request's body for the journal, up to what it keeps (the rest is left
    unread: the server discards it)."""
    size = 0
    while size <= JOURNAL_BODY_BYTES:
        message = await receive()
        size += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _success_status(document: dict[str, Any], method: str, path: str) -> int:
    """The status the operation answers when it works (200 for what the document lacks)."""
    found = openapi.operation_for(document, method, path)
    if found is None:
        return 200
    codes = [int(code) for code in found[1].get("responses", {}) if code.startswith("2")]
    return min(codes, default=200)


def _store(request: Request) -> Store:
    return services(request).store


async def _json(request: Request) -> Any:
    body = await read_body(request, limit=services(request).settings.max_body_bytes)
    if not body.strip():
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise WrongParameter("The request body is not valid JSON") from None


async def _reset(request: Request) -> Response:
    catalog, accounts = wire.reset_flags(await _json(request))
    await control.reset(_store(request), catalog=catalog, accounts=accounts)
    return JSONResponse({"reset": True, "catalog": catalog, "accounts": accounts})


async def _get_state(request: Request) -> Response:
    return JSONResponse(await control.dump_state(_store(request)))


async def _put_state(request: Request) -> Response:
    document = await _json(request)
    await control.load_state(_store(request), document, state_columns())
    return JSONResponse(await control.dump_state(_store(request)))


async def _seed(request: Request) -> Response:
    wanted = wire.seed(await _json(request), parse_line)
    seeded = await control.seed(_store(request), services(request).keys, wanted)
    return JSONResponse(wire.seeded_answer(seeded), status_code=201)


async def _approve(request: Request) -> Response:
    user_code, username, allowed = wire.decision(await _json(request))
    app_name = await control.decide_code(
        _store(request), user_code=user_code, username=username, allowed=allowed
    )
    return JSONResponse({"user_code": user_code, "username": username, "allowed": allowed,
                         "app": app_name})  # fmt: skip


async def _get_clock(request: Request) -> Response:
    store = _store(request)
    setting = await control.clock_setting(store)
    await control.follow_settings(store)
    return JSONResponse(wire.clock_answer(setting, store.clock.now_ms()))


async def _put_clock(request: Request) -> Response:
    store = _store(request)
    setting = await control.change_clock(store, wire.clock_change(await _json(request)))
    return JSONResponse(wire.clock_answer(setting, store.clock.now_ms()))


async def _clear_journal(request: Request) -> Response:
    await _store(request).transaction(lambda tx: tx.control.clear_journal())
    return Response(status_code=204)


async def _get_faults(request: Request) -> Response:
    faults = await _store(request).read.control.faults()
    return JSONResponse([wire.fault_answer(fault) for fault in faults])


async def _add_fault(request: Request) -> Response:
    wanted = wire.fault(await _json(request))
    store = _store(request)
    added = await store.transaction(lambda tx: tx.control.add_fault(wanted, now=tx.now_ms))
    return JSONResponse(wire.fault_answer(added), status_code=201)


async def _clear_faults(request: Request) -> Response:
    await _store(request).transaction(lambda tx: tx.control.clear_faults())
    return Response(status_code=204)


def _entry(
    scope: Scope, bodies: tuple[bytes, bytes], status: int, fault: Fault | None
) -> JournalEntry:
    """A request and its answer as the journal keeps them (stamped when it lands)."""
    body, answer = bodies
    headers = [
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
    ]
    content_type = next((value for name, value in headers if name == "content-type"), "")
    return JournalEntry(
        id=0,
        at=0,
        method=scope["method"],
        path=scope["path"],
        query=redact_query(scope.get("query_string", b"")) if scope.get("query_string") else "",
        headers=[(name, _masked_header(name, value)) for name, value in headers],
        body=masked_body(body, content_type),
        status=status,
        response_body=masked_body(answer, "application/json"),
        fault=None if fault is None else fault.respond,
    )


def _masked_header(name: str, value: str) -> str:
    if name in _SECRET_HEADERS:
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {MASK}" if rest and name.endswith("authorization") else MASK
    if name not in _PUBLIC_HEADERS and is_secret_name(name):
        return MASK
    return value


def masked_body(body: bytes, content_type: str) -> str | None:
    """A body as the journal keeps it: every secret-looking field of a JSON or form body
    masked; a body too large or not text noted by its size."""
    if not body:
        return None
    if len(body) > JOURNAL_BODY_BYTES:
        return f"<{len(body)} bytes not kept>"
    as_json = _masked_json(body)
    if as_json is not None:
        return as_json
    if content_type.startswith(_FORM):
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True)
        return urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return f"<{len(body)} bytes, not text>"
    # Not JSON, not a form: kept only when it holds no secret-looking word.
    return text if not is_secret_name(text) else f"<{len(body)} bytes not kept>"


def _masked_json(body: bytes) -> str | None:
    """A JSON body with its secret-looking fields masked; None when it is not JSON."""
    try:
        return orjson.dumps(_masked(orjson.loads(body), 0)).decode()
    except orjson.JSONDecodeError:
        return None
    except _TooDeep:
        return f"<{len(body)} bytes, nested too deep to keep>"


# JSON nests up to 1,024 levels as orjson reads it, deeper than Python's stack allows a
# recursive walk and than orjson writes (254): a body nested deeper than this is noted instead.
_KEPT_DEPTH = 200


class _TooDeep(Exception):
    """A body nested past _KEPT_DEPTH."""


def _masked(value: Any, depth: int) -> Any:
    if depth > _KEPT_DEPTH:
        raise _TooDeep
    if isinstance(value, dict):
        return {
            key: MASK if isinstance(val, str) and is_secret_name(key) else _masked(val, depth + 1)
            for key, val in value.items()
        }  # fmt: skip
    if isinstance(value, list):
        return [_masked(item, depth + 1) for item in value]
    return value
