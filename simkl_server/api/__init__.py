"""The HTTP edge: parse, make one domain call, render. No SQL and no business rules here.

ROUTES is the one URL table: each area module lists its own routes, in match order.
"""

from __future__ import annotations

from starlette.routing import Route

from simkl_server.api import (
    activities,
    history,
    library,
    lists,
    media,
    meta,
    oauth,
    oauth2,
    ratings,
    scrobble,
    search,
    users,
    watched,
)
from simkl_server.api.auth import credentials_checked

_AREA_ROUTES: list[Route] = [
    *ratings.ROUTES,
    *history.ROUTES,
    *library.ROUTES,
    *lists.ROUTES,
    *watched.ROUTES,
    *activities.ROUTES,
    *users.ROUTES,
    *oauth.ROUTES,
    *oauth2.ROUTES,
    *meta.ROUTES,
    *scrobble.ROUTES,
    *search.ROUTES,
    *media.ROUTES,
]

ROUTES: list[Route] = [credentials_checked(route) for route in _AREA_ROUTES]
