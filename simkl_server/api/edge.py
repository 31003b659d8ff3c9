"""What every request passes before routing and after answering: a trailing slash dropped,
one access log line, anything unexpected answered 500 with a request id (Starlette's outer
handler would answer, then re-raise it to the server, which logs it again and drops the
connection without telling a keep-alive client), apps that omit app-name, app-version or
User-Agent noted once,
`no-store` on every `/oauth2/*` answer, and what the request held (its share of the body
budget, a large-read slot) given back once it is answered."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkl_server.api._http import release_held
from simkl_server.api.access import MAX_NAME_CHARS, Identity, identity, seen
from simkl_server.api.errors import answer_failure

ACCESS_LOGGER = "simkl_server.access"
log = logging.getLogger("simkl_server")
access_logger = logging.getLogger(ACCESS_LOGGER)
# The status a request refused for its client_id gets: that app was not accepted, so it is not
# noted (and a stranger cycling client_ids fills no memory).
_REFUSED_APP = 412
# RFC 6749 §5.1 for token answers; Simkl sends them on every /oauth2/ answer, errors included.
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_NO_STORE_NAMES = frozenset(name for name, _ in _NO_STORE)


class EdgeMiddleware:
    """Accepts a trailing slash on every route; logs one line per request (method, path with
    secrets masked, status, duration, client app) through `write_access` unless `access_log`
    is off; notes apps that omit app-name, app-version or User-Agent (accepted: legacy clients
    send none) once per app and process, and only when the app was accepted.

    The apps already noted are a small LRU of short keys: a stranger sending endless distinct
    client_ids makes the server forget old ones (and note them again), never grow."""

    MAX_REMEMBERED = 4_096

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log: bool = True,
        write_access: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self._write_access = write_access or access_logger.info
        self._reported: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Normalise the path, pass the request on, then log what happened."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/") or "/"
        if scope["path"].startswith("/oauth2/"):
            send = _no_store(send)
        try:
            if self.access_log and access_logger.isEnabledFor(logging.INFO):
                await self._observed(scope, receive, send, logging_access=True)
            elif log.isEnabledFor(logging.INFO) and not _fully_identified(scope):
                await self._observed(scope, receive, send, logging_access=False)
            else:
                try:
                    await self.app(scope, receive, send)
                except Exception as exc:
                    await answer_failure(scope, receive, send, exc)
        finally:
            release_held(scope)

    async def _observed(
        self, scope: Scope, receive: Receive, send: Send, *, logging_access: bool
    ) -> None:
        started = perf_counter()
        status = 0

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        except Exception as exc:
            await answer_failure(scope, receive, send_noting_status, exc)
            status = status or 500
        except BaseException:
            status = status or 500  # cancelled: nobody is left to answer
            raise
        finally:
            self._after(scope, status, perf_counter() - started, logging_access=logging_access)

    def _after(self, scope: Scope, status: int, seconds: float, *, logging_access: bool) -> None:
        """Write the access line and note the app, once the status says how it went."""
        if not logging_access:
            if status != _REFUSED_APP:
                self._note_identification(identity(scope))
            return
        request = seen(scope)
        self._write_access(
            f"{scope['method']} {request.target} {status} {seconds * 1000:.1f}ms "
            f"{request.identity.describe()}"
        )
        if status != _REFUSED_APP:
            self._note_identification(request.identity)

    def _note_identification(self, caller: Identity) -> None:
        """Log, once per app, which identification it omits (if any); a request that names no
        app (a health check, a page, a search without client_id) is no app to note."""
        if not caller.client_id:
            return
        missing = [
            name
            for name, value in (("app-name", caller.app_name), ("app-version", caller.app_version))
            if not value
        ]
        if not caller.has_user_agent:
            missing.append("User-Agent")
        if not missing or not log.isEnabledFor(logging.INFO):
            return
        key = ((caller.client_id or "")[:MAX_NAME_CHARS], ",".join(missing))
        if key in self._reported:
            self._reported.move_to_end(key)
            return
        self._reported[key] = None
        if len(self._reported) > self.MAX_REMEMBERED:
            self._reported.popitem(last=False)
        log.info(
            "client_id %r calls without %s (accepted; not logged again for this app)",
            caller.client_id[:MAX_NAME_CHARS],  # %r escapes what it shows
            ", ".join(missing),
        )


def _fully_identified(scope: Scope) -> bool:
    """The common case, decided without parsing anything."""
    query: bytes = scope.get("query_string", b"")
    if b"app-name=" not in query or b"app-version=" not in query:
        return False
    return any(name == b"user-agent" for name, _ in scope["headers"])


def _no_store(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [h for h in message.get("headers", []) if h[0] not in _NO_STORE_NAMES]
            message["headers"] = [*kept, *_NO_STORE]
        await send(message)

    return sending
