"""The HTTP ceiling: a bare ASGI app answering fixed bytes on the server's own ASGI stack.

It reads each request body to the end (as the real handlers do) and answers the status and
body captured from simkl-server for the same request, with the headers the app sent:
content-length, content-type (none when the answer had none, as a redirect) and any other the
app set (`--header`, e.g. a redirect's Location). It runs on uvicorn with the flags
`simkl-server serve` uses, so the gap between the two is the cost of everything above HTTP.

    python -m bench.bare_asgi --port 8900 --status 201 --body response.json
    python -m bench.bare_asgi --port 8900 --status 301 --content-type "" --body empty \\
        --header "location:https://simkl.com/movies/1/x" --header "cache-control:no-store"
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn

_PROTOCOL: type[asyncio.Protocol] | str = "httptools"
try:  # the protocol class `serve` runs: httptools with its limits, at their defaults
    from simkl_server.config import Settings
    from simkl_server.protocol import ConnectionLimits, protocol_class

    _PROTOCOL = protocol_class(ConnectionLimits.from_settings(Settings()))
except ImportError:  # older trees ran plain httptools (or a protocol class in server.py)
    try:
        from simkl_server.server import SimklHttpProtocol  # type: ignore[attr-defined]

        _PROTOCOL = SimklHttpProtocol
    except ImportError:
        pass


class FixedResponse:
    """An ASGI app answering every HTTP request with the same bytes."""

    def __init__(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.headers = [(b"content-length", str(len(body)).encode())]
        if content_type:
            self.headers.append((b"content-type", content_type.encode()))
        self.headers += [(name.encode(), value.encode()) for name, value in extra]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Drain the request body, then send the fixed response."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


def main() -> None:
    """Serve the fixed response on 127.0.0.1."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--content-type", default="application/json")
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--header", action="append", default=[], help="NAME:VALUE, repeatable")
    args = parser.parse_args()
    extra = [(name, value) for name, value in (h.split(":", 1) for h in args.header)]
    serve(FixedResponse(args.status, args.body.read_bytes(), args.content_type, extra), args.port)


def serve(app: Any, port: int) -> None:
    """Serve an app on 127.0.0.1 with the server, loop, parser and logging flags
    `simkl-server serve` uses."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=_PROTOCOL,
        log_level="info",
        access_log=False,
    )


if __name__ == "__main__":
    main()
