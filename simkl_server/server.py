"""Serving the app: uvicorn with uvloop and its httptools parser, where a request it cannot
parse (broken framing, conflicting Content-Length and Transfer-Encoding, a bad chunk) is refused
in the Simkl envelope instead of uvicorn's plain-text body."""

from __future__ import annotations

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from simkl_server.app import create_app
from simkl_server.config import Settings
from simkl_server.errors import WrongParameter
from simkl_server.wire.errors import error_body

_BODY = error_body(WrongParameter("Malformed HTTP request (framing, headers or chunked body)"))


class SimklHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a Simkl 400 for unparsable requests."""

    def send_400_response(self, msg: str) -> None:
        """Answer 400 wrong_parameter and close: the connection's framing is lost."""
        lines = [b"HTTP/1.1 400 Bad Request"]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: " + str(len(_BODY)).encode("ascii"),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + _BODY)
        self.transport.close()


def run(settings: Settings) -> None:
    """Serve the app on the settings' host and port until interrupted."""
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=SimklHttpProtocol,
        log_level=settings.log_level,
        access_log=False,
    )
