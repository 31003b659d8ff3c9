"""Account queries: apps, users and access tokens, and the per-request authentication."""

from __future__ import annotations

from simkl_server.domain.models import App, Grant, User, UserProfile
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection

AUTHENTICATE = statement(
    "SELECT a.id, t.user_id FROM apps a "
    "LEFT JOIN tokens t ON t.app_id = a.id AND t.token = :token AND t.revoked_at IS NULL "
    "WHERE a.client_id = :client_id"
)
_APP_COLUMNS = "id, name, client_id, client_secret, redirect_uri, created_at"
INSERT_APP = statement(
    "INSERT INTO apps (name, client_id, client_secret, redirect_uri, created_at) "
    "VALUES (:name, :client_id, :client_secret, :redirect_uri, :created_at) RETURNING id"
)
FIND_APP = statement(f"SELECT {_APP_COLUMNS} FROM apps WHERE client_id = :client_id")
LIST_APPS = statement(f"SELECT {_APP_COLUMNS} FROM apps ORDER BY id")
DELETE_APP = statement("DELETE FROM apps WHERE client_id = :client_id RETURNING id")
INSERT_USER = statement(
    "INSERT INTO users (username, created_at) VALUES (:username, :created_at) RETURNING id"
)
FIND_USER = statement("SELECT id FROM users WHERE username = :username")
LIST_USERS = statement("SELECT id, username, created_at FROM users ORDER BY id")
DELETE_USER = statement("DELETE FROM users WHERE username = :username RETURNING id")
PROFILE = statement(
    "SELECT id, username, created_at, timezone, account_type FROM users WHERE id = :user_id"
)
TOKEN_FOR = statement(
    "SELECT token FROM tokens WHERE app_id = :app_id AND user_id = :user_id "
    "AND revoked_at IS NULL ORDER BY id LIMIT 1"
)
INSERT_TOKEN = statement(
    "INSERT INTO tokens (token, app_id, user_id, created_at) "
    "VALUES (:token, :app_id, :user_id, :created_at)"
)
REVOKE_TOKEN = statement(
    "UPDATE tokens SET revoked_at = :revoked_at "
    "WHERE token = :token AND revoked_at IS NULL RETURNING id"
)
LIST_TOKENS = statement(
    "SELECT t.token, u.username, a.client_id, t.created_at FROM tokens t "
    "JOIN users u ON u.id = t.user_id JOIN apps a ON a.id = t.app_id "
    "WHERE t.revoked_at IS NULL ORDER BY t.id"
)


class AccountQueries:
    """Account statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def authenticate(
        self, client_id: str, token: str | None
    ) -> tuple[int, int | None] | None:
        """(app id, user id of the token or None) for a known client_id, else None."""
        row = await self._conn.fetchrow(AUTHENTICATE, {"client_id": client_id, "token": token})
        return None if row is None else (row[0], row[1])

    async def create_app(
        self,
        *,
        name: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        created_at: int,
    ) -> App:
        """Register a client application."""
        params = {
            "name": name,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": redirect_uri,
            "created_at": created_at,
        }
        row = await self._conn.fetchrow(INSERT_APP, params)
        assert row is not None
        return App(row[0], name, client_id, client_secret, redirect_uri, created_at)

    async def find_app(self, client_id: str) -> App | None:
        """The app with this client_id."""
        row = await self._conn.fetchrow(FIND_APP, {"client_id": client_id})
        return None if row is None else App(*row)

    async def list_apps(self) -> list[App]:
        """Every registered app, oldest first."""
        return [App(*row) for row in await self._conn.fetch(LIST_APPS, {})]

    async def delete_app(self, client_id: str) -> bool:
        """Delete an app and its tokens; False when there was no such app."""
        return await self._conn.fetchrow(DELETE_APP, {"client_id": client_id}) is not None

    async def create_user(self, *, username: str, created_at: int) -> int:
        """Create a user; return its id."""
        row = await self._conn.fetchrow(
            INSERT_USER, {"username": username, "created_at": created_at}
        )
        assert row is not None
        return int(row[0])

    async def find_user(self, username: str) -> int | None:
        """The id of the user with this name."""
        row = await self._conn.fetchrow(FIND_USER, {"username": username})
        return None if row is None else int(row[0])

    async def list_users(self) -> list[User]:
        """Every user, oldest first."""
        return [User(*row) for row in await self._conn.fetch(LIST_USERS, {})]

    async def delete_user(self, username: str) -> bool:
        """Delete a user with everything they own; False when there was no such user."""
        return await self._conn.fetchrow(DELETE_USER, {"username": username}) is not None

    async def profile(self, user_id: int) -> UserProfile | None:
        """The user's account facts."""
        row = await self._conn.fetchrow(PROFILE, {"user_id": user_id})
        return None if row is None else UserProfile(*row)

    async def token_for(self, *, app_id: int, user_id: int) -> str | None:
        """The live token of this (app, user) pair."""
        row = await self._conn.fetchrow(TOKEN_FOR, {"app_id": app_id, "user_id": user_id})
        return None if row is None else str(row[0])

    async def create_token(self, *, token: str, app_id: int, user_id: int, created_at: int) -> None:
        """Store a newly issued access token."""
        params = {"token": token, "app_id": app_id, "user_id": user_id, "created_at": created_at}
        await self._conn.execute(INSERT_TOKEN, params)

    async def revoke_token(self, *, token: str, revoked_at: int) -> bool:
        """Revoke a live access token; False when there was none to revoke."""
        params = {"token": token, "revoked_at": revoked_at}
        return await self._conn.fetchrow(REVOKE_TOKEN, params) is not None

    async def list_tokens(self) -> list[Grant]:
        """Every live token with its user and app, oldest first."""
        return [Grant(*row) for row in await self._conn.fetch(LIST_TOKENS, {})]
