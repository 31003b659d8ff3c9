"""Flow state queries: PIN and device codes, and authorization codes."""

from __future__ import annotations

from simkl_server.domain.models import AuthCode, UserCode
from simkl_server.storage.dialect import statement
from simkl_server.storage.drivers import Connection

_USER_CODE_COLUMNS = (
    "id, user_code, app_id, auth_version, scope, redirect, expires_at, last_poll_at, "
    "user_id, decision"
)
INSERT_USER_CODE = statement(
    "INSERT INTO user_codes (user_code, device_hash, app_id, auth_version, scope, redirect, "
    "created_at, expires_at) VALUES (:user_code, :device_hash, :app_id, :auth_version, :scope, "
    ":redirect, :now, :expires_at) ON CONFLICT DO NOTHING RETURNING id"
)
BY_USER_CODE = statement(
    f"SELECT {_USER_CODE_COLUMNS} FROM user_codes WHERE user_code = :user_code "
    "AND expires_at > :now"
)
BY_DEVICE_HASH = statement(
    f"SELECT {_USER_CODE_COLUMNS} FROM user_codes WHERE device_hash = :device_hash"
)
POLLED = statement("UPDATE user_codes SET last_poll_at = :now WHERE id = :code_id")
DECIDE = statement(
    "UPDATE user_codes SET user_id = :user_id, decision = :decision "
    "WHERE id = :code_id AND decision IS NULL AND expires_at > :now RETURNING id"
)
DELETE_USER_CODE = statement("DELETE FROM user_codes WHERE id = :code_id RETURNING id")
EXPIRED_USER_CODES = statement("DELETE FROM user_codes WHERE expires_at <= :now")
INSERT_AUTH_CODE = statement(
    "INSERT INTO auth_codes (code_hash, app_id, user_id, auth_version, scope, redirect_uri, "
    "challenge, challenge_method, created_at, expires_at) VALUES (:code_hash, :app_id, "
    ":user_id, :auth_version, :scope, :redirect_uri, :challenge, :challenge_method, :now, "
    ":expires_at)"
)
# Deleted as it is read: any exchange attempt uses a code up.
CONSUME_AUTH_CODE = statement(
    "DELETE FROM auth_codes WHERE code_hash = :code_hash RETURNING app_id, user_id, "
    "auth_version, scope, redirect_uri, challenge, challenge_method, expires_at"
)
EXPIRED_AUTH_CODES = statement("DELETE FROM auth_codes WHERE expires_at <= :now")


class CodeQueries:
    """Flow state statements on one connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add_user_code(
        self, *, user_code: str, device_hash: str | None, app_id: int, auth_version: int,
        scope: str, redirect: str | None, now: int, expires_at: int,
    ) -> bool:  # fmt: skip
        """Store a new code; False if that user code is taken (the caller draws another)."""
        params = {
            "user_code": user_code,
            "device_hash": device_hash,
            "app_id": app_id,
            "auth_version": auth_version,
            "scope": scope,
            "redirect": redirect,
            "now": now,
            "expires_at": expires_at,
        }
        return await self._conn.fetchrow(INSERT_USER_CODE, params) is not None

    async def by_user_code(self, user_code: str, *, now: int) -> UserCode | None:
        """The live code a user typed (in its normalised form)."""
        row = await self._conn.fetchrow(BY_USER_CODE, {"user_code": user_code, "now": now})
        return None if row is None else UserCode(*row)

    async def by_device_hash(self, device_hash: str) -> UserCode | None:
        """The code a device polls with, expired or not."""
        row = await self._conn.fetchrow(BY_DEVICE_HASH, {"device_hash": device_hash})
        return None if row is None else UserCode(*row)

    async def polled(self, code_id: int, *, now: int) -> None:
        """Note a poll (the interval is counted from it)."""
        await self._conn.execute(POLLED, {"code_id": code_id, "now": now})

    async def decide(self, code_id: int, *, user_id: int, allowed: bool, now: int) -> bool:
        """Record a user's answer to a live, undecided code; False if it was not that."""
        params = {
            "code_id": code_id,
            "user_id": user_id,
            "decision": "allowed" if allowed else "denied",
            "now": now,
        }
        return await self._conn.fetchrow(DECIDE, params) is not None

    async def delete_user_code(self, code_id: int) -> bool:
        """Remove a code; False if another poll removed it first."""
        return await self._conn.fetchrow(DELETE_USER_CODE, {"code_id": code_id}) is not None

    async def add_auth_code(
        self, *, code_hash: str, app_id: int, user_id: int, auth_version: int, scope: str,
        redirect_uri: str | None, challenge: str | None, challenge_method: str | None,
        now: int, expires_at: int,
    ) -> None:  # fmt: skip
        """Store a new authorization code's hash."""
        params = {
            "code_hash": code_hash,
            "app_id": app_id,
            "user_id": user_id,
            "auth_version": auth_version,
            "scope": scope,
            "redirect_uri": redirect_uri,
            "challenge": challenge,
            "challenge_method": challenge_method,
            "now": now,
            "expires_at": expires_at,
        }
        await self._conn.execute(INSERT_AUTH_CODE, params)

    async def consume_auth_code(self, code_hash: str) -> AuthCode | None:
        """Take an authorization code out of the store, whatever becomes of the exchange."""
        row = await self._conn.fetchrow(CONSUME_AUTH_CODE, {"code_hash": code_hash})
        return None if row is None else AuthCode(*row)

    async def purge_expired(self, *, now: int) -> None:
        """Forget codes past their lifetime."""
        await self._conn.execute(EXPIRED_USER_CODES, {"now": now})
        await self._conn.execute(EXPIRED_AUTH_CODES, {"now": now})
