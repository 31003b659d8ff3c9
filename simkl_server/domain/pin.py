"""The PIN flow (AUTH V1), and what it shares with the AUTH V2 device flow: user codes, and a
signed-in user (or the command line) approving or declining one.

Simkl's PIN poll always answers 200: pending, "Slow down" when polled faster than the interval
(counted from the previous poll of that code), the token exactly once, and for an unknown,
expired or used code a fresh code, the shape `GET /oauth/pin` returns.
"""

from __future__ import annotations

from simkl_server.domain import grants, limits
from simkl_server.domain.models import App, UserCode, frozen
from simkl_server.domain.tokens import V1_SCOPE, Keys, new_user_code, normalize_user_code
from simkl_server.errors import ClientIdFailed, RedirectFailed, UnauthorizedClient
from simkl_server.storage.base import Store, WriteTx

CODE_LIFETIME_S = 900
POLL_INTERVAL_S = 5
# A poll this much early still counts as on time: clients sleep `interval` and then send,
# so network jitter alone must not earn a "Slow down".
POLL_GRACE_MS = 1_000
_DRAWS = 8


class UnknownCode(LookupError):
    """No live, undecided code matches what was typed."""


@frozen
class PinPending:
    """Not approved yet; `slow_down` when this poll came too soon after the last."""

    slow_down: bool = False


@frozen
class PinApproved:
    """The user approved: the access token, handed out once."""

    access_token: str


@frozen
class PinStarted:
    """A new code (a first request, or a poll of a code that is gone)."""

    user_code: str


PinPoll = PinPending | PinApproved | PinStarted


@frozen
class Approval:
    """A code a user is about to approve, and the app asking."""

    code: UserCode
    app: App


async def v1_app(store: Store, client_id: str | None) -> App:
    """The AUTH V1 app of a client_id: 412 unknown, 400 unauthorized_client for AUTH V2."""
    app = None if not client_id else await store.read.accounts.find_app(client_id)
    if app is None:
        raise ClientIdFailed
    if app.is_v2:
        raise UnauthorizedClient(
            "This client_id is an OAuth 2.0 app: use POST /oauth2/device instead of /oauth/pin"
        )
    return app


async def start(store: Store, *, client_id: str | None, redirect: str | None, address: str) -> str:
    """A new PIN for an AUTH V1 app; `redirect` (where /pin sends the user after approving)
    must be one of its registered URLs."""
    app = await v1_app(store, client_id)
    if redirect is not None and redirect not in app.redirect_uris:
        raise RedirectFailed
    now = store.clock.now_ms()
    await limits.refuse_if_over(store.read, now, (limits.NEW_CODES_PER_ADDRESS, address))
    await limits.count_failure(store, (limits.NEW_CODES_PER_ADDRESS, address))
    return await store.transaction(
        lambda tx: new_code(tx, app, scope=V1_SCOPE, redirect=redirect, device_hash=None)
    )


async def new_code(
    tx: WriteTx, app: App, *, scope: str, redirect: str | None, device_hash: str | None
) -> str:
    """Store a fresh user code for the app (a PIN, or a device code when `device_hash`)."""
    await tx.codes.purge_expired(now=tx.now_ms)
    for _ in range(_DRAWS):
        user_code = new_user_code(device=device_hash is not None)
        stored = await tx.codes.add_user_code(
            user_code=user_code,
            device_hash=device_hash,
            app_id=app.id,
            auth_version=app.auth_version,
            scope=scope,
            redirect=redirect,
            now=tx.now_ms,
            expires_at=tx.now_ms + CODE_LIFETIME_S * 1000,
        )
        if stored:
            return user_code
    raise RuntimeError("no free user code after several draws")


def polled_too_soon(code: UserCode, now: int) -> bool:
    """Whether this poll came sooner than the interval after the previous one."""
    last = code.last_poll_at
    return last is not None and now - last < POLL_INTERVAL_S * 1000 - POLL_GRACE_MS


async def poll(
    store: Store, keys: Keys, *, client_id: str | None, user_code: str, address: str
) -> PinPoll:
    """One poll of `GET /oauth/pin/{user_code}` by the app that asked for the code."""
    app = await v1_app(store, client_id)
    typed = normalize_user_code(user_code)
    now = store.clock.now_ms()
    code = await store.read.codes.by_user_code(typed, now=now)
    if code is None or code.app_id != app.id or code.auth_version != 1:
        return await _unknown(store, app, address=address, now=now)
    outcome: PinPoll = await store.transaction(lambda tx: _answer(tx, keys, code))
    return outcome


async def _answer(tx: WriteTx, keys: Keys, code: UserCode) -> PinPoll:
    if code.decision == "allowed" and code.user_id is not None:
        if not await tx.codes.delete_user_code(code.id):
            return PinPending()  # another poll is handing the token out right now
        token = await grants.v1_token(tx, keys, app_id=code.app_id, user_id=code.user_id)
        return PinApproved(token)
    if code.decision == "denied":  # the code is gone: the client sees what any gone code gets
        await tx.codes.delete_user_code(code.id)
        app = await tx.accounts.find_app_by_id(code.app_id)
        assert app is not None
        return PinStarted(await new_code(tx, app, scope=V1_SCOPE, redirect=None, device_hash=None))
    await tx.codes.polled(code.id, now=tx.now_ms)
    return PinPending(slow_down=polled_too_soon(code, tx.now_ms))


async def _unknown(store: Store, app: App, *, address: str, now: int) -> PinStarted:
    """A code that is not (or no longer) there: a fresh one, as Simkl answers; every such
    poll counts as a guess against the client and the address."""
    checks = (
        (limits.CODE_GUESSES_PER_CLIENT, str(app.id)),
        (limits.CODE_GUESSES_PER_ADDRESS, address),
    )
    await limits.refuse_if_over(store.read, now, *checks)
    await limits.count_failure(store, *checks)
    return PinStarted(
        await store.transaction(
            lambda tx: new_code(tx, app, scope=V1_SCOPE, redirect=None, device_hash=None)
        )
    )


async def pending_approval(store: Store, *, typed: str, user_id: int, address: str) -> Approval:
    """The live, undecided code a signed-in user typed, and its app (loosely typed: case,
    spaces and hyphens ignored). Unknown codes count as guesses of the user and address."""
    now = store.clock.now_ms()
    checks = (
        (limits.CODE_GUESSES_PER_CLIENT, f"user-{user_id}"),
        (limits.CODE_GUESSES_PER_ADDRESS, address),
    )
    await limits.refuse_if_over(store.read, now, *checks)
    code = await store.read.codes.by_user_code(normalize_user_code(typed), now=now)
    app = None
    if code is not None and code.decision is None:
        app = await store.read.accounts.find_app_by_id(code.app_id)
    if code is None or app is None or code.decision is not None:
        await limits.count_failure(store, *checks)
        raise UnknownCode(typed)
    return Approval(code, app)


async def decide(
    store: Store, *, typed: str, user_id: int, allowed: bool, address: str = "local"
) -> Approval:
    """Approve (or decline) a PIN or device code for a user."""
    approval = await pending_approval(store, typed=typed, user_id=user_id, address=address)

    async def work(tx: WriteTx) -> bool:
        return await tx.codes.decide(
            approval.code.id, user_id=user_id, allowed=allowed, now=tx.now_ms
        )

    if not await store.transaction(work):
        raise UnknownCode(typed)
    return approval
