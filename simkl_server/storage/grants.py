"""Grant and token queries, and the per-request authentication (one indexed lookup)."""

from __future__ import annotations

from simkl_server.domain.models import Grant, V1Grant, V2Grant
from simkl_server.storage.credentials import Authentication
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection

AUTHENTICATE = statement(
    "SELECT a.id, a.auth_version, t.user_id, t.scope, t.expires_at FROM apps a "
    "LEFT JOIN tokens t ON t.token_hash = :token_hash AND t.app_id = a.id "
    "WHERE a.client_id = :client_id"
)
STAMP = statement("SELECT n FROM auth_stamp WHERE id = 1")
FIND_V1 = statement(
    "SELECT id, generation, revoked_at FROM grants "
    "WHERE app_id = :app_id AND user_id = :user_id AND auth_version = 1"
)
INSERT_V1 = statement(
    "INSERT INTO grants (app_id, user_id, auth_version, scope, generation, created_at) "
    "VALUES (:app_id, :user_id, 1, 'public', 0, :now) RETURNING id"
)
RENEW_V1 = statement("UPDATE grants SET revoked_at = NULL, created_at = :now WHERE id = :grant_id")
INSERT_V2 = statement(
    "INSERT INTO grants (app_id, user_id, auth_version, scope, refresh_hash, "
    "refresh_expires_at, created_at) VALUES (:app_id, :user_id, 2, :scope, :refresh_hash, "
    ":refresh_expires_at, :now) RETURNING id"
)
FIND_BY_REFRESH = statement(
    "SELECT id, app_id, user_id, scope, refresh_expires_at FROM grants "
    "WHERE refresh_hash = :refresh_hash"
)
SLIDE_REFRESH = statement(
    "UPDATE grants SET refresh_expires_at = :refresh_expires_at WHERE id = :grant_id"
)
INSERT_TOKEN = statement(
    "INSERT INTO tokens (token_hash, grant_id, app_id, user_id, scope, expires_at, created_at) "
    "VALUES (:token_hash, :grant_id, :app_id, :user_id, :scope, :expires_at, :now) "
    "ON CONFLICT (token_hash) DO NOTHING"
)
DELETE_GRANT_TOKENS = statement("DELETE FROM tokens WHERE grant_id = :grant_id")
GRANT_OF_TOKEN = statement(
    "SELECT grant_id FROM tokens WHERE token_hash = :token_hash AND app_id = :app_id"
)
GRANT_OF_ANY_TOKEN = statement("SELECT grant_id FROM tokens WHERE token_hash = :token_hash")
GRANT_OF_REFRESH = statement(
    "SELECT id FROM grants WHERE refresh_hash = :refresh_hash AND app_id = :app_id"
)
# A revoked V1 grant is kept with the next generation, so its next token is a new one.
REVOKE_V1 = statement(
    "UPDATE grants SET revoked_at = :now, generation = generation + 1 "
    "WHERE id = :grant_id AND auth_version = 1"
)
DELETE_V2 = statement("DELETE FROM grants WHERE id = :grant_id AND auth_version = 2")
OWNER_OF = statement("SELECT user_id FROM grants WHERE id = :grant_id AND revoked_at IS NULL")
_LIST = (
    "SELECT g.id, a.name, a.client_id, u.username, g.auth_version, g.scope, g.created_at "
    "FROM grants g JOIN apps a ON a.id = g.app_id JOIN users u ON u.id = g.user_id "
    "WHERE g.revoked_at IS NULL"
)
LIST_OF_USER = statement(_LIST + " AND g.user_id = :user_id ORDER BY g.created_at, g.id")
LIST_ALL = statement(_LIST + " ORDER BY g.id")


class GrantQueries:
    """Grant and token statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def authenticate(self, client_id: str, token_hash: str | None) -> Authentication | None:
        """The app of a client_id and the token of that app with this hash, if any."""
        params = {"client_id": client_id, "token_hash": token_hash}
        row = await self._conn.fetchrow(AUTHENTICATE, params)
        return None if row is None else Authentication(*row)

    async def stamp(self) -> int:
        """The auth stamp: it moves whenever a credential may have stopped working."""
        row = await self._conn.fetchrow(STAMP, {})
        return 0 if row is None else int(row[0])

    async def find_v1(self, *, app_id: int, user_id: int) -> V1Grant | None:
        """The AUTH V1 grant of that pair, revoked or not."""
        row = await self._conn.fetchrow(FIND_V1, {"app_id": app_id, "user_id": user_id})
        return None if row is None else V1Grant(*row)

    async def create_v1(self, *, app_id: int, user_id: int, now: int) -> int:
        """A new AUTH V1 grant, generation 0; its id."""
        row = await self._conn.fetchrow(
            INSERT_V1, {"app_id": app_id, "user_id": user_id, "now": now}
        )
        assert row is not None
        return int(row[0])

    async def renew_v1(self, grant_id: int, *, now: int) -> None:
        """Make a revoked AUTH V1 grant live again (its generation already moved on)."""
        await self._conn.execute(RENEW_V1, {"grant_id": grant_id, "now": now})

    async def create_v2(
        self, *, app_id: int, user_id: int, scope: str, refresh_hash: str, refresh_expires_at: int,
        now: int,
    ) -> int:  # fmt: skip
        """A new AUTH V2 grant with its refresh token; its id."""
        params = {
            "app_id": app_id,
            "user_id": user_id,
            "scope": scope,
            "refresh_hash": refresh_hash,
            "refresh_expires_at": refresh_expires_at,
            "now": now,
        }
        row = await self._conn.fetchrow(INSERT_V2, params)
        assert row is not None
        return int(row[0])

    async def find_by_refresh(self, refresh_hash: str) -> V2Grant | None:
        """The AUTH V2 grant a refresh token belongs to."""
        row = await self._conn.fetchrow(FIND_BY_REFRESH, {"refresh_hash": refresh_hash})
        return None if row is None else V2Grant(*row)

    async def slide_refresh(self, grant_id: int, *, expires_at: int) -> None:
        """Move a refresh token's expiry."""
        params = {"grant_id": grant_id, "refresh_expires_at": expires_at}
        await self._conn.execute(SLIDE_REFRESH, params)

    async def add_token(
        self, *, token_hash: str, grant_id: int, app_id: int, user_id: int, scope: str,
        expires_at: int | None, now: int,
    ) -> None:  # fmt: skip
        """Store an access token's hash under its grant (a no-op if already there)."""
        params = {
            "token_hash": token_hash,
            "grant_id": grant_id,
            "app_id": app_id,
            "user_id": user_id,
            "scope": scope,
            "expires_at": expires_at,
            "now": now,
        }
        await self._conn.execute(INSERT_TOKEN, params)

    async def drop_tokens(self, grant_id: int) -> None:
        """Every access token of a grant stops working."""
        await self._conn.execute(DELETE_GRANT_TOKENS, {"grant_id": grant_id})

    async def grant_of(self, *, token_hash: str, app_id: int) -> int | None:
        """The grant of an access or refresh token of that app."""
        params = {"token_hash": token_hash, "app_id": app_id}
        row = await self._conn.fetchrow(GRANT_OF_TOKEN, params)
        if row is None:
            row = await self._conn.fetchrow(
                GRANT_OF_REFRESH, {"refresh_hash": token_hash, "app_id": app_id}
            )
        return None if row is None else int(row[0])

    async def grant_of_any(self, token_hash: str) -> int | None:
        """The grant of an access token, whichever app it belongs to."""
        row = await self._conn.fetchrow(GRANT_OF_ANY_TOKEN, {"token_hash": token_hash})
        return None if row is None else int(row[0])

    async def owner(self, grant_id: int) -> int | None:
        """The user of a live grant."""
        row = await self._conn.fetchrow(OWNER_OF, {"grant_id": grant_id})
        return None if row is None else int(row[0])

    async def revoke(self, grant_id: int, *, now: int) -> None:
        """End a grant: its tokens go; an AUTH V1 grant stays with the next generation, an
        AUTH V2 grant (and so its refresh token) is deleted."""
        await self._conn.execute(DELETE_GRANT_TOKENS, {"grant_id": grant_id})
        await self._conn.execute(REVOKE_V1, {"grant_id": grant_id, "now": now})
        await self._conn.execute(DELETE_V2, {"grant_id": grant_id})

    async def of_user(self, user_id: int) -> list[Grant]:
        """A user's live grants, oldest first."""
        rows = await self._conn.fetch(LIST_OF_USER, {"user_id": user_id})
        return [Grant(*row) for row in rows]

    async def all_live(self) -> list[Grant]:
        """Every live grant."""
        return [Grant(*row) for row in await self._conn.fetch(LIST_ALL, {})]
