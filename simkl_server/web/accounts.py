"""Sign up, sign in, sign out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import client_address, services
from simkl_server.domain import sessions
from simkl_server.domain.auth import AccountError
from simkl_server.errors import RateLimited
from simkl_server.web._pages import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    FormRefused,
    Page,
    form,
    page,
    redirect,
    safe_next,
    set_cookie,
)


def _signed_in(request: Request, cookie: str, next_path: str) -> Response:
    """Go on with a brand-new session cookie (and no anonymous CSRF binding left)."""
    response = redirect(safe_next(next_path))
    set_cookie(request, response, SESSION_COOKIE, cookie, max_age=sessions.SESSION_MS // 1000)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


def _form_page(current: Page, template: str, *, error: str | None, status: int) -> Response:
    request = current.request
    return current.render(
        template,
        status=status,
        error=error,
        next=safe_next(request.query_params.get("next")),
        signup_open=services(request).settings.allow_signup,
    )


async def sign_in_page(request: Request) -> Response:
    """GET /signin: the sign-in form (signed-in visitors go straight on)."""
    current = await page(request)
    if current.user is not None:
        return redirect(safe_next(request.query_params.get("next")))
    return _form_page(current, "signin.html", error=None, status=200)


async def sign_in(request: Request) -> Response:
    """POST /signin: check the password, start a new session."""
    current = await page(request)
    try:
        fields = await form(request, current)
        cookie = await sessions.sign_in(
            services(request).store,
            username=fields.get("username", ""),
            password=fields.get("password", ""),
            address=client_address(request),
        )
    except FormRefused as exc:
        return _form_page(current, "signin.html", error=str(exc), status=403)
    except sessions.SignInFailed:
        return _form_page(current, "signin.html", error="Wrong name or password.", status=401)
    except RateLimited:
        message = "Too many attempts. Wait a few minutes, then try again."
        return _form_page(current, "signin.html", error=message, status=429)
    return _signed_in(request, cookie, fields.get("next", "/"))


async def sign_up_page(request: Request) -> Response:
    """GET /signup: the sign-up form (or why there is none)."""
    current = await page(request)
    status = 200 if services(request).settings.allow_signup else 403
    return _form_page(current, "signup.html", error=None, status=status)


async def sign_up(request: Request) -> Response:
    """POST /signup: create the account and sign it in."""
    current = await page(request)
    try:
        fields = await form(request, current)
        if fields.get("password", "") != fields.get("password2", ""):
            raise AccountError("The two passwords differ.")
        cookie = await sessions.sign_up(
            services(request).store,
            username=fields.get("username", ""),
            password=fields.get("password", ""),
            allowed=services(request).settings.allow_signup,
        )
    except FormRefused as exc:
        return _form_page(current, "signup.html", error=str(exc), status=403)
    except sessions.SignUpClosed:
        return _form_page(current, "signup.html", error="Sign-up is closed.", status=403)
    except AccountError as exc:
        return _form_page(current, "signup.html", error=str(exc), status=400)
    return _signed_in(request, cookie, fields.get("next", "/"))


async def sign_out(request: Request) -> Response:
    """POST /signout: end the session."""
    current = await page(request)
    try:
        await form(request, current)
    except FormRefused as exc:
        return current.render("error.html", status=403, title="Not signed out", message=str(exc))
    await sessions.sign_out(services(request).store, request.cookies.get(SESSION_COOKIE))
    response = redirect("/signin")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


ROUTES = [
    Route("/signin", sign_in_page, methods=["GET"]),
    Route("/signin", sign_in, methods=["POST"]),
    Route("/signup", sign_up_page, methods=["GET"]),
    Route("/signup", sign_up, methods=["POST"]),
    Route("/signout", sign_out, methods=["POST"]),
]
