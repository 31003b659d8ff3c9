"""The control plane's rules: the settable clock, faults on demand, the journal's ring, the
state document, reset and seed. The control plane is for client developers' tests: it is off
unless enabled, and nothing here runs when it is off."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import orjson

from simkl_server.clock import ControlledClock, new_secret
from simkl_server.domain import grants, pin, redirects
from simkl_server.domain.auth import AccountError, create_user_in
from simkl_server.domain.catalog import CatalogRecord, ImportReport, import_records
from simkl_server.domain.models import (
    AppKind,
    Fault,
    JournalEntry,
    frozen,
    replace,
)
from simkl_server.domain.tokens import V1_SCOPE, WRITE_SCOPE, Keys, token_hash
from simkl_server.storage.base import StateRefused, Store, WriteTx

CLOCK = "clock"
STATE_FORMAT = "simkl-server-state"
STATE_VERSION = 1
# What a fault may answer with; `none` only delays the request, which then goes on.
RESPONSES = frozenset(
    {"rate_limit", "client_id_failed", "user_token_failed", "empty", "null", "server_error",
     "none"}
)  # fmt: skip
ONLY_DELAY = "none"


class ControlError(ValueError):
    """A control request the rules refuse; the message says why (answered 400)."""


@frozen
class ClockSetting:
    """The clock as the database holds it: a fixed instant or none, plus an offset."""

    fixed_ms: int | None = None
    offset_ms: int = 0

    def text(self) -> str:
        """The JSON the setting is stored as."""
        return orjson.dumps({"fixed_ms": self.fixed_ms, "offset_ms": self.offset_ms}).decode()

    @classmethod
    def parse(cls, text: str | None) -> ClockSetting:
        """The stored JSON read back (the system clock when there is none)."""
        if text is None:
            return cls()
        stored = orjson.loads(text)
        return cls(stored.get("fixed_ms"), int(stored.get("offset_ms", 0)))


@frozen
class ClockChange:
    """What a PUT of the clock asks: fix it, set its offset, move it on, or restore it."""

    now_ms: int | None = None
    offset_ms: int | None = None
    advance_ms: int | None = None
    system: bool = False

    def applied_to(self, current: ClockSetting) -> ClockSetting:
        """The setting after this change."""
        if self.system:
            return ClockSetting()
        fixed, offset = current.fixed_ms, current.offset_ms
        if self.now_ms is not None:
            fixed, offset = self.now_ms, 0
        if self.offset_ms is not None:
            offset = self.offset_ms
        if self.advance_ms is not None:
            offset += self.advance_ms
        return ClockSetting(fixed, offset)


async def follow_settings(store: Store) -> None:
    """Make the store's clock what the database says (each request, before anything reads
    the time), so every process sharing the database keeps one clock."""
    clock = store.clock
    if isinstance(clock, ControlledClock):
        setting = ClockSetting.parse((await store.read.control.settings()).get(CLOCK))
        clock.follow(setting.fixed_ms, setting.offset_ms)


async def clock_setting(store: Store) -> ClockSetting:
    """The clock's setting as stored."""
    return ClockSetting.parse((await store.read.control.settings()).get(CLOCK))


async def change_clock(store: Store, change: ClockChange) -> ClockSetting:
    """Store the changed setting and follow it at once."""

    async def work(tx: WriteTx) -> ClockSetting:
        current = ClockSetting.parse((await tx.control.settings()).get(CLOCK))
        changed = change.applied_to(current)
        await tx.control.put_setting(CLOCK, None if changed == ClockSetting() else changed.text())
        return changed

    setting = await store.transaction(work)
    await follow_settings(store)
    return setting


def new_fault(
    *,
    method: str,
    path: str,
    respond: str,
    times: int | None,
    probability: float | None,
    seed: int,
    delay_ms: int,
    retry_after_s: int,
) -> Fault:
    """A fault to store, checked: a known answer, `times` or `probability` (one time when
    neither is given)."""
    if respond not in RESPONSES:
        raise ControlError(f"respond is one of {', '.join(sorted(RESPONSES))}")
    if times is not None and probability is not None:
        raise ControlError("give times or probability, not both")
    if probability is not None and not 0 <= probability <= 1:
        raise ControlError("probability is between 0 and 1")
    if probability is None and times is None:
        times = 1
    return Fault(
        id=0,
        method=method.upper(),
        path=path,
        respond=respond,
        times_left=times,
        probability=probability,
        seed=seed,
        delay_ms=delay_ms,
        retry_after_s=retry_after_s,
        hits=0,
    )


def matches(fault: Fault, method: str, path: str) -> bool:
    """Whether a fault is meant for a request (method `*` is any; the path a glob)."""
    if fault.method not in ("*", method):
        return False
    return fnmatchcase(path, fault.path)


def fires(fault: Fault, hit: int) -> bool:
    """Whether the fault's `hit`-th match fails: always for counted faults, else a draw that
    the seed and the hit number decide (the same sequence in every process)."""
    if fault.probability is None:
        return True
    return random.Random(f"{fault.seed}:{hit}").random() < fault.probability


async def fault_for(store: Store, method: str, path: str) -> Fault | None:
    """The fault that answers this request, if any, its use counted in the database."""
    for fault in await store.read.control.faults():
        if fault.times_left == 0 or not matches(fault, method, path):
            continue
        if await _claimed(store, fault):
            return fault
    return None


async def _claimed(store: Store, fault: Fault) -> bool:
    """Count the match; whether the fault answers it."""
    hit = await store.transaction(lambda tx: tx.control.claim_fault(fault))
    return hit is not None and fires(fault, hit)


async def record(store: Store, entry: JournalEntry, *, cap: int) -> None:
    """Add a request to the journal's ring, stamped with the server's clock."""
    await store.transaction(lambda tx: tx.control.record(replace(entry, at=tx.now_ms), cap=cap))


async def dump_state(store: Store) -> dict[str, Any]:
    """The whole state, every table the schema declares but the control plane's own."""
    tables = await store.snapshot(lambda session: session.control.dump())
    return {"format": STATE_FORMAT, "version": STATE_VERSION, "tables": tables}


async def load_state(store: Store, document: Any, columns: Mapping[str, Sequence[str]]) -> None:
    """Replace the state with a document `dump_state` wrote; ControlError, nothing changed,
    when it is not one."""
    if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
        raise ControlError(f"a state document has format {STATE_FORMAT!r}")
    if document.get("version") != STATE_VERSION:
        raise ControlError(f"this server reads state version {STATE_VERSION}")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise ControlError("tables is an object of table name -> rows")
    for name, rows in tables.items():
        if name not in columns:
            raise ControlError(f"unknown table {name!r}")
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ControlError(f"{name}: rows are a list of objects")
        for row in rows:
            unknown = set(row) - set(columns[name])
            if unknown:
                raise ControlError(f"{name}: unknown column {sorted(unknown)[0]!r}")
    try:
        await store.replace_state(tables)
    except StateRefused as exc:
        raise ControlError(f"the database refused a row of {exc}") from None


async def reset(store: Store, *, catalog: bool, accounts: bool) -> None:
    """Every user's data, grants and activity gone (and the control plane's faults, journal
    and clock); the catalog and the accounts (users, apps) too only when asked."""
    await store.reset(keep_catalog=not catalog, keep_accounts=not accounts)


@frozen
class SeedApp:
    """An app to create; what is not given is generated."""

    name: str
    client_id: str | None = None
    client_secret: str | None = None
    redirect_uris: tuple[str, ...] = ()
    auth_version: int = 1


@frozen
class SeedToken:
    """A token to issue; AUTH V1 apps may be given its value."""

    username: str
    client_id: str
    access_token: str | None = None


@frozen
class Seed:
    """What a test needs created in one call."""

    apps: Sequence[SeedApp] = ()
    users: Sequence[str] = ()
    tokens: Sequence[SeedToken] = ()
    catalog: Sequence[CatalogRecord] = ()


@dataclass(slots=True)
class Seeded:
    """What a seed created: apps with their secrets, user ids, tokens, the catalog import."""

    apps: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[dict[str, Any]] = field(default_factory=list)
    catalog: ImportReport | None = None


async def seed(store: Store, keys: Keys, wanted: Seed) -> Seeded:
    """Create the apps, users and tokens in one transaction (nothing, with ControlError, when
    one cannot be), then import the catalog lines."""
    seeded = Seeded()

    async def work(tx: WriteTx) -> None:
        for app in wanted.apps:
            seeded.apps.append(await _seed_app(tx, app))
        for username in wanted.users:
            user_id = await create_user_in(tx, username=username, password_hash=None)
            seeded.users.append({"username": username, "id": user_id})
        for token in wanted.tokens:
            seeded.tokens.append(await _seed_token(tx, keys, token))

    if wanted.apps or wanted.users or wanted.tokens:
        try:
            await store.transaction(work)
        except AccountError as exc:
            raise ControlError(str(exc)) from None
    if wanted.catalog:
        seeded.catalog = await import_records(store, wanted.catalog)
    return seeded


async def _seed_app(tx: WriteTx, app: SeedApp) -> dict[str, Any]:
    if app.auth_version not in (1, 2):
        raise AccountError("auth_version is 1 or 2")
    try:
        uris = redirects.validate(list(app.redirect_uris))
    except redirects.RedirectUriError as exc:
        raise AccountError(str(exc)) from None
    client_id = app.client_id or new_secret(32)
    if await tx.accounts.find_app(client_id) is not None:
        raise AccountError(f"an app with client_id {client_id!r} exists")
    secret = app.client_secret or new_secret(32)
    created = await tx.accounts.create_app(
        name=app.name,
        client_id=client_id,
        secret_hash=token_hash(secret),
        redirect_uris=uris,
        kind=AppKind.SERVER,
        auth_version=app.auth_version,
        owner_id=None,
        created_at=tx.now_ms,
    )
    return {
        "id": created.id,
        "name": created.name,
        "client_id": client_id,
        "client_secret": secret,
        "redirect_uris": list(uris),
        "auth_version": app.auth_version,
    }


async def _seed_token(tx: WriteTx, keys: Keys, wanted: SeedToken) -> dict[str, Any]:
    user_id = await tx.accounts.find_user(wanted.username)
    if user_id is None:
        raise AccountError(f"no user named {wanted.username!r}")
    app = await tx.accounts.find_app(wanted.client_id)
    if app is None:
        raise AccountError(f"no app with client_id {wanted.client_id!r}")
    answer: dict[str, Any] = {"username": wanted.username, "client_id": wanted.client_id}
    if app.is_v2:
        if wanted.access_token is not None:
            raise AccountError("an AUTH V2 app's tokens are generated (give no access_token)")
        tokens = await grants.new_v2_grant(tx, app_id=app.id, user_id=user_id, scope=WRITE_SCOPE)
        return {**answer, "access_token": tokens.access_token,
                "refresh_token": tokens.refresh_token}  # fmt: skip
    if wanted.access_token is None:
        return {**answer, "access_token": await grants.v1_token(
            tx, keys, app_id=app.id, user_id=user_id)}  # fmt: skip
    found = await tx.grants.find_v1(app_id=app.id, user_id=user_id)
    grant_id = (
        found.id
        if found is not None
        else await tx.grants.create_v1(app_id=app.id, user_id=user_id, now=tx.now_ms)
    )
    await tx.grants.add_token(
        token_hash=token_hash(wanted.access_token),
        grant_id=grant_id,
        app_id=app.id,
        user_id=user_id,
        scope=V1_SCOPE,
        expires_at=None,
        now=tx.now_ms,
    )
    return {**answer, "access_token": wanted.access_token}


async def decide_code(store: Store, *, user_code: str, username: str, allowed: bool) -> str:
    """Approve (or decline) a PIN or device code for a user, as the user would on the /pin
    page; the app's name."""
    user_id = await store.read.accounts.find_user(username)
    if user_id is None:
        raise ControlError(f"no user named {username!r}")
    try:
        approval = await pin.decide(
            store, typed=user_code, user_id=user_id, allowed=allowed, address="control"
        )
    except pin.UnknownCode:
        raise ControlError(f"no live code {user_code!r} is waiting") from None
    return approval.app.name
