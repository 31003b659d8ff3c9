"""Server-rendered pages: accounts, developer apps, consent, /pin, connected apps, my ratings.

ROUTES joins every page module's routes; the app adds them to the one URL table after the API's.
"""

from __future__ import annotations

from starlette.routing import Route

from simkl_server.web import accounts, apps, connected, consent, pin, ratings, static

ROUTES: list[Route] = [
    *accounts.ROUTES,
    *apps.ROUTES,
    *consent.ROUTES,
    *pin.ROUTES,
    *connected.ROUTES,
    *ratings.ROUTES,
    *static.ROUTES,
]
