"""The control plane's JSON: what its requests may hold and how its answers look (these are
this server's own shapes, not Simkl's)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from simkl_server.domain.catalog import CatalogRecord, Problem
from simkl_server.domain.control import (
    ClockChange,
    ClockSetting,
    ControlError,
    Seed,
    SeedApp,
    Seeded,
    SeedToken,
    new_fault,
)
from simkl_server.domain.models import Fault, JournalEntry
from simkl_server.wire.timestamps import format_ms, parse_iso

MAX_DELAY_MS = 60_000
MAX_SEED_ITEMS = 10_000
_INT64 = 2**63 - 1


def _object(body: Any, what: str) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ControlError(f"{what} is a JSON object")
    return body


def _only(found: Mapping[str, Any], known: set[str]) -> None:
    """Refuse a field this body does not take: a misspelt option must not run the request
    as if it were absent (a reset that was meant to keep something)."""
    unknown = set(found) - known
    if unknown:
        raise ControlError(f"unknown field {sorted(unknown)[0]!r}")


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ControlError(f"{name} is an integer from {low} to {high}")
    return value


def _flag(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ControlError(f"{name} is true or false")
    return value


def _text(value: Any, name: str, *, max_chars: int = 200) -> str:
    if not isinstance(value, str) or not value or len(value) > max_chars:
        raise ControlError(f"{name} is a text of 1-{max_chars} characters")
    return value


def reset_flags(body: Any) -> tuple[bool, bool]:
    """(catalog, accounts) of a reset body: what goes as well."""
    found = _object(body, "a reset body")
    _only(found, {"catalog", "accounts"})
    return _flag(found, "catalog"), _flag(found, "accounts")


def decision(body: Any) -> tuple[str, str, bool]:
    """(user_code, username, allow) of `{"user_code", "username", "allow": true}`."""
    found = _object(body, "an approval")
    _only(found, {"user_code", "username", "allow"})
    allowed = found.get("allow", True)
    if not isinstance(allowed, bool):
        raise ControlError("allow is true or false")
    return (
        _text(found.get("user_code"), "user_code", max_chars=64),
        _text(found.get("username"), "username"),
        allowed,
    )


def clock_change(body: Any) -> ClockChange:
    """`{"now": ISO}`, `{"offset_s": N}`, `{"advance_s": N}` or `{"system": true}`."""
    found = _object(body, "a clock body")
    known = {"now", "offset_s", "advance_s", "system"}
    if not found or set(found) - known:
        raise ControlError("give now, offset_s, advance_s or system")
    if found.get("system") is True:
        return ClockChange(system=True)
    now_ms = None
    if "now" in found:
        now_ms = parse_iso(found["now"]) if isinstance(found["now"], str) else None
        if now_ms is None:
            raise ControlError("now is an ISO 8601 UTC time such as 2024-05-01T18:00:00Z")
    return ClockChange(
        now_ms=now_ms,
        offset_ms=_seconds(found, "offset_s"),
        advance_ms=_seconds(found, "advance_s"),
    )


def _seconds(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > 1e10:
        raise ControlError(f"{name} is a number of seconds")
    return round(value * 1000)


def clock_answer(setting: ClockSetting, now_ms: int) -> dict[str, Any]:
    """The clock as GET and PUT answer it."""
    return {
        "now": format_ms(now_ms),
        "now_ms": now_ms,
        "fixed": setting.fixed_ms is not None,
        "offset_s": setting.offset_ms / 1000,
        "system": setting == ClockSetting(),
    }


def fault(body: Any) -> Fault:
    """A fault from `{"method", "path", "respond", "times" | "probability" + "seed",
    "delay_ms", "retry_after_s"}`."""
    found = _object(body, "a fault")
    _only(found, {"method", "path", "respond", "times", "probability", "seed", "delay_ms",
                  "retry_after_s"})  # fmt: skip
    probability = found.get("probability")
    if probability is not None and (
        isinstance(probability, bool) or not isinstance(probability, int | float)
    ):
        raise ControlError("probability is a number between 0 and 1")
    times = found.get("times")
    return new_fault(
        method=_text(found.get("method", "*"), "method", max_chars=16),
        path=_text(found.get("path", "*"), "path", max_chars=1000),
        respond=_text(found.get("respond"), "respond", max_chars=32),
        times=None if times is None else _int(times, "times", 1, 1_000_000),
        probability=None if probability is None else float(probability),
        seed=_int(found.get("seed", 0), "seed", -_INT64, _INT64),
        delay_ms=_int(found.get("delay_ms", 0), "delay_ms", 0, MAX_DELAY_MS),
        retry_after_s=_int(found.get("retry_after_s", 1), "retry_after_s", 0, 86_400),
    )


def fault_answer(found: Fault) -> dict[str, Any]:
    """A fault as the control plane shows it."""
    return {
        "id": found.id,
        "method": found.method,
        "path": found.path,
        "respond": found.respond,
        "times": found.times_left,
        "probability": found.probability,
        "seed": found.seed,
        "delay_ms": found.delay_ms,
        "retry_after_s": found.retry_after_s,
        "hits": found.hits,
    }


def seed(body: Any, parse_line: Any) -> Seed:
    """What `POST /_control/seed` asks for; `parse_line` reads one catalog interchange line
    (an object or its JSON text) into a record or a problem."""
    found = _object(body, "a seed")
    _only(found, {"apps", "users", "tokens", "catalog"})
    lists = {name: found.get(name, []) for name in ("apps", "users", "tokens", "catalog")}
    for name, value in lists.items():
        if not isinstance(value, list) or len(value) > MAX_SEED_ITEMS:
            raise ControlError(f"{name} is a list of at most {MAX_SEED_ITEMS} entries")
    records: list[CatalogRecord] = []
    for position, line in enumerate(lists["catalog"], start=1):
        text = line if isinstance(line, str) else orjson.dumps(line).decode()
        record = parse_line(text, f"catalog[{position - 1}]")
        if isinstance(record, Problem):
            raise ControlError(str(record))
        records.append(record)
    return Seed(
        apps=[_seed_app(entry) for entry in lists["apps"]],
        users=[_text(_object(u, "a user").get("username"), "username") for u in lists["users"]],
        tokens=[_seed_token(entry) for entry in lists["tokens"]],
        catalog=records,
    )


def _seed_app(entry: Any) -> SeedApp:
    found = _object(entry, "an app")
    uris = found.get("redirect_uris", [])
    if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
        raise ControlError("redirect_uris is a list of URIs")
    optional = {
        name: _text(found[name], name) for name in ("client_id", "client_secret") if name in found
    }
    return SeedApp(
        name=_text(found.get("name"), "name", max_chars=100),
        client_id=optional.get("client_id"),
        client_secret=optional.get("client_secret"),
        redirect_uris=tuple(uris),
        auth_version=_int(found.get("auth_version", 1), "auth_version", 1, 2),
    )


def _seed_token(entry: Any) -> SeedToken:
    found = _object(entry, "a token")
    token = found.get("access_token")
    return SeedToken(
        username=_text(found.get("username"), "username"),
        client_id=_text(found.get("client_id"), "client_id"),
        access_token=None if token is None else _text(token, "access_token"),
    )


def seeded_answer(seeded: Seeded) -> dict[str, Any]:
    """What a seed created."""
    answer: dict[str, Any] = {"apps": seeded.apps, "users": seeded.users, "tokens": seeded.tokens}
    if seeded.catalog is not None:
        answer["catalog"] = {
            "inserted": seeded.catalog.inserted,
            "updated": seeded.catalog.updated,
            "unchanged": seeded.catalog.unchanged,
            "conflicts": seeded.catalog.conflicts,
            "bad_rows": seeded.catalog.bad_rows,
            "problems": [str(problem) for problem in seeded.catalog.problems],
        }
    return answer


def journal_answer(entry: JournalEntry) -> dict[str, Any]:
    """A journal entry: bodies as JSON when they are JSON, else as text."""
    headers: dict[str, str] = {}
    for name, value in entry.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {
        "id": entry.id,
        "at": format_ms(entry.at),
        "method": entry.method,
        "path": entry.path,
        "query": entry.query,
        "headers": headers,
        "body": _shown(entry.body),
        "status": entry.status,
        "response_body": _shown(entry.response_body),
        "fault": entry.fault,
    }


def _shown(text: str | None) -> Any:
    if text is None or text == "":
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text
