"""What every page shares: templates, the signed-in user, forms with CSRF protection, and the
security headers (no framing, no caching, no referrer: consent pages carry codes and state).

CSRF: each form carries an HMAC of the server key over the browser's binding (its session
cookie once signed in, else a random `simkl_csrf` cookie), checked on every POST. Cookies are
HttpOnly, SameSite=Lax, and Secure when this server is reached over https.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from simkl_server.api._http import base_url, read_body, services
from simkl_server.domain import sessions
from simkl_server.domain.kinds import MediaType, Wrapper
from simkl_server.domain.models import ItemRef, SyncItem
from simkl_server.domain.sessions import SignedIn
from simkl_server.wire.oauth import ParamError, parameters

SESSION_COOKIE = "simkl_session"
CSRF_COOKIE = "simkl_csrf"
MAX_FORM_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
templates = Environment(
    loader=PackageLoader("simkl_server.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _datetime(ms: int | None) -> str:
    """A stored time as the pages show it (UTC, to the minute)."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


templates.filters["datetime"] = _datetime


class FormRefused(Exception):
    """A form that cannot be accepted: expired CSRF token, malformed body."""


class Page:
    """One request's page context: who is signed in, and the CSRF token its forms carry."""

    def __init__(self, request: Request, user: SignedIn | None) -> None:
        self.request = request
        self.user = user
        self.nonce: str | None = None  # a new anonymous CSRF binding to set as a cookie

    @property
    def binding(self) -> str:
        """What this browser's CSRF tokens are tied to."""
        if self.user is not None:
            return f"session:{self.request.cookies.get(SESSION_COOKIE, '')}"
        nonce = self.request.cookies.get(CSRF_COOKIE) or self.nonce
        if not nonce:
            self.nonce = nonce = secrets.token_urlsafe(24)
        return f"anonymous:{nonce}"

    @property
    def csrf_token(self) -> str:
        """The hidden field every form of this page carries."""
        return services(self.request).keys.csrf_token(self.binding)

    def render(self, template: str, *, status: int = 200, **context: Any) -> Response:
        """A page, with the security headers and any cookie the page needs."""
        html = templates.get_template(template).render(page=self, **context)
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if self.nonce is not None:
            set_cookie(self.request, response, CSRF_COOKIE, self.nonce, max_age=None)
        return response


async def page(request: Request) -> Page:
    """The page context of a request."""
    store = services(request).store
    return Page(request, await sessions.signed_in(store, request.cookies.get(SESSION_COOKIE)))


async def form(request: Request, current: Page) -> dict[str, str]:
    """A POSTed form's fields, after its CSRF token is checked."""
    body = await read_body(request, limit=MAX_FORM_BYTES)
    try:
        found = parameters(body, "application/x-www-form-urlencoded")
    except ParamError:
        raise FormRefused("The form could not be read.") from None
    fields = {name: value for name, value in found.items() if isinstance(value, str)}
    token = fields.get("csrf_token", "")
    if not services(request).keys.csrf_matches(token, current.binding):
        raise FormRefused("This form has expired or did not come from this site. Reload it.")
    return fields


def posted_item(fields: dict[str, str]) -> SyncItem:
    """The catalog item a page's remove form names by `simkl` and `type` (ValueError: none),
    as a sync write would send it."""
    simkl = int(fields.get("simkl", ""))
    media_type = MediaType(fields.get("type", ""))
    wrapper = Wrapper.MOVIES if media_type is MediaType.MOVIE else Wrapper.SHOWS
    return SyncItem({"ids": {"simkl": simkl}}, ItemRef(wrapper=wrapper, simkl=simkl))


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    """An HttpOnly, SameSite=Lax cookie, Secure over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=base_url(request).startswith("https:"),
        path="/",
    )


def redirect(location: str) -> Response:
    """303 See Other to a page of this server (after a POST, or to sign in)."""
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})


def sign_in_first(request: Request) -> Response:
    """Send a signed-out visitor to the sign-in page, and back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(f"/signin?{urlencode({'next': here})}")


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this server only (never `//host` or a URL)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 0x20 for c in value):
        return "/"
    return value
