"""Account queries: apps and users (with the password hash signing in checks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from simkl_server.domain.models import Account, App, AppKind, User, UserProfile
from simkl_server.storage.credentials import settle_by
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection, Row

_APP_COLUMNS = (
    "id, name, client_id, secret_hash, redirect_uris, kind, auth_version, owner_id, created_at"
)
INSERT_APP = statement(
    "INSERT INTO apps (name, client_id, secret_hash, redirect_uris, kind, auth_version, "
    "owner_id, created_at) VALUES (:name, :client_id, :secret_hash, :redirect_uris, :kind, "
    ":auth_version, :owner_id, :created_at) RETURNING id"
)
FIND_APP = statement(f"SELECT {_APP_COLUMNS} FROM apps WHERE client_id = :client_id")
APP_BY_ID = statement(f"SELECT {_APP_COLUMNS} FROM apps WHERE id = :app_id")
LIST_APPS = statement(f"SELECT {_APP_COLUMNS} FROM apps ORDER BY id")
OWNED_APPS = statement(f"SELECT {_APP_COLUMNS} FROM apps WHERE owner_id = :owner_id ORDER BY id")
DELETE_APP = statement("DELETE FROM apps WHERE client_id = :client_id RETURNING id")
DELETE_OWNED_APP = statement(
    "DELETE FROM apps WHERE client_id = :client_id AND owner_id = :owner_id RETURNING id"
)
SET_SECRET = statement(
    "UPDATE apps SET secret_hash = :secret_hash WHERE client_id = :client_id RETURNING id"
)
INSERT_USER = statement(
    "INSERT INTO users (username, created_at, password_hash) "
    "VALUES (:username, :created_at, :password_hash) RETURNING id"
)
FIND_USER = statement("SELECT id FROM users WHERE username = :username")
FIND_ACCOUNT = statement("SELECT id, username, password_hash FROM users WHERE username = :username")
SET_PASSWORD = statement("UPDATE users SET password_hash = :password_hash WHERE id = :user_id")
LIST_USERS = statement("SELECT id, username, created_at FROM users ORDER BY id")
DELETE_USER = statement("DELETE FROM users WHERE username = :username RETURNING id")
# With the auth stamp, which settles the request's cached authentication (`settle_by`).
PROFILE = statement(
    "SELECT id, username, created_at, timezone, account_type, "
    "(SELECT n FROM auth_stamp WHERE id = 1) FROM users WHERE id = :user_id"
)
USERNAME = statement("SELECT username FROM users WHERE id = :user_id")


def app_from_row(row: Row) -> App:
    """An App from the columns of _APP_COLUMNS."""
    uris: list[str] = orjson.loads(row[4])
    return App(
        id=row[0],
        name=row[1],
        client_id=row[2],
        secret_hash=row[3],
        redirect_uris=tuple(uris),
        kind=AppKind(row[5]),
        auth_version=int(row[6]),
        owner_id=row[7],
        created_at=row[8],
    )


class AccountQueries:
    """Account statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create_app(
        self,
        *,
        name: str,
        client_id: str,
        secret_hash: str | None,
        redirect_uris: Sequence[str],
        kind: AppKind,
        auth_version: int,
        owner_id: int | None,
        created_at: int,
    ) -> App:
        """Register a client application."""
        params: dict[str, Any] = {
            "name": name,
            "client_id": client_id,
            "secret_hash": secret_hash,
            "redirect_uris": orjson.dumps(list(redirect_uris)).decode(),
            "kind": kind.value,
            "auth_version": auth_version,
            "owner_id": owner_id,
            "created_at": created_at,
        }
        row = await self._conn.fetchrow(INSERT_APP, params)
        assert row is not None
        return App(
            row[0], name, client_id, secret_hash, tuple(redirect_uris), kind, auth_version,
            owner_id, created_at,
        )  # fmt: skip

    async def find_app(self, client_id: str) -> App | None:
        """The app with this client_id."""
        row = await self._conn.fetchrow(FIND_APP, {"client_id": client_id})
        return None if row is None else app_from_row(row)

    async def find_app_by_id(self, app_id: int) -> App | None:
        """The app with this database id."""
        row = await self._conn.fetchrow(APP_BY_ID, {"app_id": app_id})
        return None if row is None else app_from_row(row)

    async def list_apps(self) -> list[App]:
        """Every registered app, oldest first."""
        return [app_from_row(row) for row in await self._conn.fetch(LIST_APPS, {})]

    async def owned_apps(self, owner_id: int) -> list[App]:
        """The apps a user registered, oldest first."""
        rows = await self._conn.fetch(OWNED_APPS, {"owner_id": owner_id})
        return [app_from_row(row) for row in rows]

    async def delete_app(self, client_id: str, *, owner_id: int | None = None) -> bool:
        """Delete an app (only if that user owns it, when given) with its grants and tokens."""
        if owner_id is None:
            return await self._conn.fetchrow(DELETE_APP, {"client_id": client_id}) is not None
        params = {"client_id": client_id, "owner_id": owner_id}
        return await self._conn.fetchrow(DELETE_OWNED_APP, params) is not None

    async def set_secret(self, client_id: str, secret_hash: str) -> bool:
        """Replace an app's client secret; False when there is no such app."""
        params = {"client_id": client_id, "secret_hash": secret_hash}
        return await self._conn.fetchrow(SET_SECRET, params) is not None

    async def create_user(
        self, *, username: str, created_at: int, password_hash: str | None = None
    ) -> int:
        """Create a user; return its id."""
        params = {"username": username, "created_at": created_at, "password_hash": password_hash}
        row = await self._conn.fetchrow(INSERT_USER, params)
        assert row is not None
        return int(row[0])

    async def find_user(self, username: str) -> int | None:
        """The id of the user with this name."""
        row = await self._conn.fetchrow(FIND_USER, {"username": username})
        return None if row is None else int(row[0])

    async def find_account(self, username: str) -> Account | None:
        """The account signing in as `username`."""
        row = await self._conn.fetchrow(FIND_ACCOUNT, {"username": username})
        return None if row is None else Account(*row)

    async def set_password(self, user_id: int, password_hash: str) -> None:
        """Store a user's new password hash."""
        params = {"user_id": user_id, "password_hash": password_hash}
        await self._conn.execute(SET_PASSWORD, params)

    async def username(self, user_id: int) -> str | None:
        """The name of a user."""
        row = await self._conn.fetchrow(USERNAME, {"user_id": user_id})
        return None if row is None else str(row[0])

    async def list_users(self) -> list[User]:
        """Every user, oldest first."""
        return [User(*row) for row in await self._conn.fetch(LIST_USERS, {})]

    async def delete_user(self, username: str) -> bool:
        """Delete a user with everything they own; False when there was no such user."""
        return await self._conn.fetchrow(DELETE_USER, {"username": username}) is not None

    async def profile(self, user_id: int) -> UserProfile | None:
        """The user's account facts."""
        row = await self._conn.fetchrow(PROFILE, {"user_id": user_id})
        if row is None:
            return None
        settle_by(row[5])
        return UserProfile(*row[:5])
