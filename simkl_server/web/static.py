"""The pages' static files, read once from the package and served with long caching."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.errors import UrlFailed

_TYPES = {".css": "text/css; charset=utf-8"}
FILES: dict[str, tuple[bytes, str]] = {
    entry.name: (entry.read_bytes(), _TYPES[entry.name[entry.name.rfind(".") :]])
    for entry in resources.files(__package__).joinpath("static").iterdir()
    if entry.name[entry.name.rfind(".") :] in _TYPES
}


async def static_file(request: Request) -> Response:
    """GET /static/{name}: one of the files shipped with the pages."""
    found = FILES.get(request.path_params["name"])
    if found is None:
        raise UrlFailed
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


ROUTES = [Route("/static/{name}", static_file, methods=["GET"])]
