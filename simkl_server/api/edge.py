"""What every request passes before routing: a trailing slash dropped, apps that omit
app-name, app-version or User-Agent noted once, and `no-store` on every `/oauth2/*` answer."""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from simkl_server.api._http import query_value

log = logging.getLogger("simkl_server")
# RFC 6749 §5.1 for token answers; Simkl sends them on every /oauth2/ answer, errors included.
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_NO_STORE_NAMES = frozenset(name for name, _ in _NO_STORE)


class EdgeMiddleware:
    """Accepts a trailing slash on every route, and logs apps that omit app-name, app-version
    or User-Agent (accepted: legacy clients send none) once per app and process, not per call."""

    _MAX_REMEMBERED = 10_000

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._reported: set[tuple[str, str]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Normalise the path, note missing identification, pass the request on."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                scope["path"] = path.rstrip("/") or "/"
            if log.isEnabledFor(logging.INFO):
                self._note_identification(scope)
            if scope["path"].startswith("/oauth2/"):
                await self.app(scope, receive, _no_store(send))
                return
        await self.app(scope, receive, send)

    def _note_identification(self, scope: Scope) -> None:
        query: bytes = scope.get("query_string", b"")
        has_agent = any(name == b"user-agent" for name, _ in scope["headers"])
        if has_agent and b"app-name=" in query and b"app-version=" in query:
            return  # the common case, decided without parsing anything
        headers = dict(scope["headers"])
        missing = [name for name in ("app-name", "app-version") if not query_value(query, name)]
        if not has_agent:
            missing.append("User-Agent")
        if not missing:
            return
        client = query_value(query, "client_id") or headers.get(b"simkl-api-key", b"").decode(
            "latin-1"
        )
        key = (client, ",".join(missing))
        if key in self._reported or len(self._reported) >= self._MAX_REMEMBERED:
            return
        self._reported.add(key)
        log.info(
            "client_id %r calls without %s (accepted; not logged again for this app)",
            client or "(none)",
            ", ".join(missing),
        )


def _no_store(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = [h for h in message.get("headers", []) if h[0] not in _NO_STORE_NAMES]
            message["headers"] = [*kept, *_NO_STORE]
        await send(message)

    return sending
