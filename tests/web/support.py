"""Driving the pages over HTTP as a browser would: cookies kept, forms' CSRF tokens read."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import Api

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


def csrf(html: str) -> str:
    """The CSRF token of a page's first form."""
    found = _CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


def submit(api: Api, page_path: str, action: str, fields: dict[str, str], **kwargs: Any) -> Any:
    """Open a page, then post one of its forms with the page's CSRF token."""
    opened = api.client.get(page_path)
    assert opened.status_code == 200, opened.text[:500]
    data = {"csrf_token": csrf(opened.text), **fields}
    return api.client.post(action, data=data, follow_redirects=False, **kwargs)


def sign_up(api: Api, username: str = "carol", password: str = PASSWORD) -> Any:
    """Create an account on /signup (signing it in)."""
    done = submit(
        api,
        "/signup",
        "/signup",
        {"username": username, "password": password, "password2": password, "next": "/"},
    )
    assert done.status_code == 303, done.text[:500]
    return done


def sign_in(api: Api, username: str = "carol", password: str = PASSWORD, nxt: str = "/") -> Any:
    """Sign in on /signin."""
    return submit(
        api, "/signin", "/signin", {"username": username, "password": password, "next": nxt}
    )
