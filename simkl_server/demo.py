"""Demo data for `make serve`: the bundled catalog, a ready AUTH V1 app, an AUTH V2 app, a
user with a password, a token and ratings.

The demo credentials are fixed, documented values so the README's curl works as written;
they are meant for a server on loopback, never for one exposed to a network.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from simkl_server.catalog.load import import_file
from simkl_server.domain import auth, ratings
from simkl_server.domain.kinds import Wrapper
from simkl_server.domain.models import App, AppKind, ItemRef, SyncItem
from simkl_server.domain.tokens import V1_SCOPE, token_hash
from simkl_server.storage.base import Store, WriteTx

DEMO_CLIENT_ID = "simkl-server-demo-client-id"
DEMO_CLIENT_SECRET = "simkl-server-demo-client-secret"  # noqa: S105 -- documented demo value
DEMO_TOKEN = "simkl-server-demo-access-token"  # noqa: S105 -- documented demo value
DEMO_V2_CLIENT_ID = "simkl-server-demo-v2-client-id"
# Loopback redirect URIs: AUTH V2 ignores their port, so any local client can use them.
DEMO_V2_REDIRECT_URIS = ("http://127.0.0.1/callback", "http://localhost/callback")
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "simkl-server-demo-password"  # noqa: S105 -- documented demo value
# Real Simkl ids present in the bundled catalog, rated on the demo user's first start.
DEMO_RATINGS = ((Wrapper.MOVIES, 53536, 8), (Wrapper.SHOWS, 2090, 9), (Wrapper.ANIME, 39687, 10))


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    """What a demo server prints on start."""

    client_id: str
    access_token: str
    catalog_items: int

    def banner(self, host: str, port: int) -> str:
        """The lines `serve --demo` prints."""
        return (
            f"demo catalog: {self.catalog_items} items\n"
            f"demo client_id:    {self.client_id}\n"
            f"demo access_token: {self.access_token}\n"
            f"try: curl -s 'http://{host}:{port}/sync/activities?client_id={self.client_id}' "
            f"-H 'Authorization: Bearer {self.access_token}'\n"
            f"demo AUTH V2 client_id (no secret): {DEMO_V2_CLIENT_ID}\n"
            f"demo sign-in: {DEMO_USERNAME} / {DEMO_PASSWORD} at http://{host}:{port}/signin"
        )


@contextmanager
def demo_catalog() -> Iterator[Path]:
    """The path of the demo catalog shipped in the package, while the block runs."""
    source = resources.files("simkl_server").joinpath("data/demo-catalog.jsonl.gz")
    with resources.as_file(source) as path:
        yield path


async def ensure_demo(store: Store) -> DemoCredentials:
    """Create whatever part of the demo data is missing; never touch what exists."""
    if await store.read.catalog.size() == 0:
        with demo_catalog() as path:
            await import_file(store, path)
    app = await store.read.accounts.find_app(DEMO_CLIENT_ID)
    if app is None:
        app = await store.transaction(_create_demo_app)
    if await store.read.accounts.find_app(DEMO_V2_CLIENT_ID) is None:
        await store.transaction(_create_demo_v2_app)
    app_id = app.id
    user_id = await store.read.accounts.find_user(DEMO_USERNAME)
    if user_id is None:
        user_id = await auth.create_user(store, username=DEMO_USERNAME, password=DEMO_PASSWORD)
        await _rate_demo_items(store, user_id)
    if await store.read.grants.find_v1(app_id=app_id, user_id=user_id) is None:
        await store.transaction(lambda tx: _grant_demo_token(tx, app_id, user_id))
    return DemoCredentials(DEMO_CLIENT_ID, DEMO_TOKEN, await store.read.catalog.size())


async def _create_demo_app(tx: WriteTx) -> App:
    return await tx.accounts.create_app(
        name="simkl-server demo",
        client_id=DEMO_CLIENT_ID,
        secret_hash=token_hash(DEMO_CLIENT_SECRET),
        redirect_uris=(),
        kind=AppKind.SERVER,
        auth_version=1,
        owner_id=None,
        created_at=tx.now_ms,
    )


async def _create_demo_v2_app(tx: WriteTx) -> App:
    return await tx.accounts.create_app(
        name="simkl-server demo (AUTH V2)",
        client_id=DEMO_V2_CLIENT_ID,
        secret_hash=None,
        redirect_uris=DEMO_V2_REDIRECT_URIS,
        kind=AppKind.PUBLIC,
        auth_version=2,
        owner_id=None,
        created_at=tx.now_ms,
    )


async def _grant_demo_token(tx: WriteTx, app_id: int, user_id: int) -> None:
    """The documented demo token, as a grant of the demo app (not derived from the key, so the
    README's curl works on every installation)."""
    grant_id = await tx.grants.create_v1(app_id=app_id, user_id=user_id, now=tx.now_ms)
    await tx.grants.add_token(
        token_hash=token_hash(DEMO_TOKEN),
        grant_id=grant_id,
        app_id=app_id,
        user_id=user_id,
        scope=V1_SCOPE,
        expires_at=None,
        now=tx.now_ms,
    )


async def _rate_demo_items(store: Store, user_id: int) -> None:
    inputs = [
        ratings.RatingInput(SyncItem({}, ItemRef(wrapper=wrapper, simkl=simkl_id)), rating)
        for wrapper, simkl_id, rating in DEMO_RATINGS
    ]
    await ratings.add_ratings(store, user_id=user_id, inputs=inputs)
