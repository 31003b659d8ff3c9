"""Hostile inputs: each gets a clear answer in the Simkl envelope and changes nothing.

"Nothing" is checked three ways before and after every request: GET /sync/ratings,
GET /sync/activities (the clock is moved first, so any write would show there) and a dump of
every table. Structurally wrong bodies get a 4xx; values that are merely unusable (an id no
item has, a number too big to be an id) are echoed in `not_found` with 201, as Simkl does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from simkl_server.catalog.load import import_file
from simkl_server.clock import FrozenClock
from simkl_server.config import Settings
from simkl_server.storage.base import open_store
from tests.conftest import FIXTURES, START_MS, Api, fresh_database, run, serve_api
from tests.helpers import assert_simkl_error
from tests.robustness import database

ADD = "/sync/ratings"
REMOVE = "/sync/ratings/remove"
BOTH = (ADD, REMOVE)
HISTORY = "/sync/history"
UNHISTORY = "/sync/history/remove"
TO_LIST = "/sync/add-to-list"
WATCHED = "/sync/watched"
# The library writes take every body the ratings writes take (bad structure is refused the
# same way, unusable values are echoed in not_found); add-to-list refuses an item without `to`
# before it matches anything, so only the structural cases apply to it.
LIBRARY_WRITES = (HISTORY, UNHISTORY)
NOT_FOUND = "not_found"  # expected outcome: 201, every item echoed in not_found, nothing applied
TERMINATOR = 53536  # in tests/fixtures/catalog.jsonl, rated by the seed
MALEFICENT = 195258  # in the catalog, not rated by the seed
MB = 1024 * 1024
ID_KINDS = ("simkl", "imdb", "tmdb", "tvdb", "mal", "letterboxd", "traktslug", "unknown_kind")
SQL_AND_HTML = (
    "' OR 1=1 --",
    '"; DROP TABLE library; --',
    "1; DELETE FROM activity",
    "<script>alert(1)</script>",
    "%' OR '%'='",
    "\\",
)


def movies(*items: Any) -> bytes:
    """A body carrying `items` under movies[]."""
    return orjson.dumps({"movies": list(items)})


@dataclass(frozen=True)
class Hostile:
    """One hostile request body and what the server must answer to it."""

    name: str
    body: Callable[[], bytes | Iterator[bytes]]
    expect: str | tuple[int, str]
    paths: tuple[str, ...] = BOTH
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def _const(body: bytes) -> Callable[[], bytes]:
    return lambda: body


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body streamed in chunks (no Content-Length): a JSON string padded to `total` bytes."""
    yield b'{"movies": [], "padding": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}'


WRONG = (400, "wrong_parameter")
CASES: list[Hostile] = [
    # Size and depth.
    Hostile("nesting 100k arrays", _const(b"[" * 100_000), WRONG),
    Hostile("nesting 100k under movies", _const(b'{"movies":' + b"[" * 100_000), WRONG),
    Hostile("nesting 100k objects", _const(b'{"a":' * 100_000), WRONG),
    Hostile("nesting 1000 closed", _const(b'{"x":' + b"[" * 1000 + b"]" * 1000 + b"}"), WRONG),
    Hostile(
        "nesting 1000 as item", _const(b'{"movies":' + b"[" * 1000 + b"]" * 1000 + b"}"), WRONG
    ),
    Hostile(
        "10 MB body",
        lambda: b'{"movies": [], "padding": "' + b"x" * (10 * MB) + b'"}',
        (413, "body_too_large"),
    ),
    Hostile("10 MB chunked, no Content-Length", lambda: _chunks(10 * MB), (413, "body_too_large")),
    Hostile(
        "20k items",
        lambda: movies(*([{"ids": {"simkl": TERMINATOR}, "rating": 1}] * 20_000)),
        (400, "max_items"),
    ),
    Hostile("300k empty objects", lambda: b'{"x": [' + b"{}," * 300_000 + b"{}]}", WRONG),
    # Wrong types at every level.
    Hostile("top-level array", _const(b"[]"), WRONG),
    Hostile("top-level string", _const(b'"movies"'), WRONG),
    Hostile("top-level number", _const(b"42"), WRONG),
    Hostile("top-level null", _const(b"null"), WRONG),
    Hostile("top-level true", _const(b"true"), WRONG),
    Hostile("wrapper object", _const(b'{"movies": {"ids": {"simkl": 53536}}}'), WRONG),
    Hostile("wrapper string", _const(b'{"movies": "53536"}'), WRONG),
    Hostile("wrapper number", _const(b'{"shows": 53536}'), WRONG),
    Hostile("item string", _const(movies("tt0181852")), WRONG),
    Hostile("item number", _const(movies(TERMINATOR)), WRONG),
    Hostile("item null", _const(movies(None)), WRONG),
    Hostile("item array", _const(movies([{"ids": {"simkl": TERMINATOR}}])), WRONG),
    Hostile(
        "valid item then a bad one",
        _const(movies({"ids": {"simkl": MALEFICENT}, "rating": 5}, "x")),
        WRONG,
    ),
    Hostile("ids list", _const(movies({"ids": [TERMINATOR]})), WRONG),
    Hostile("ids string", _const(movies({"ids": "53536"})), WRONG),
    Hostile("ids number", _const(movies({"ids": TERMINATOR})), WRONG),
    Hostile("id value list", _const(movies({"ids": {"simkl": [TERMINATOR]}})), WRONG),
    Hostile("id value object", _const(movies({"ids": {"imdb": {"id": "tt0181852"}}})), WRONG),
    Hostile("id value bool", _const(movies({"ids": {"simkl": True}})), WRONG),
    Hostile("id value fraction", _const(movies({"ids": {"tmdb": 296.5}})), WRONG),
    Hostile("title number", _const(movies({"title": 1984, "year": 1984})), WRONG),
    Hostile("title object", _const(movies({"title": {"en": "Maleficent"}, "year": 2014})), WRONG),
    Hostile("year object", _const(movies({"title": "Maleficent", "year": {"y": 2014}})), WRONG),
    Hostile("year list", _const(movies({"title": "Maleficent", "year": [2014]})), WRONG),
    Hostile(
        "rating object",
        _const(movies({"ids": {"simkl": MALEFICENT}, "rating": {"value": 5}})),
        NOT_FOUND,
        paths=(ADD,),
    ),
    Hostile(
        "rating list",
        _const(movies({"ids": {"simkl": MALEFICENT}, "rating": [5]})),
        NOT_FOUND,
        paths=(ADD,),
    ),
    Hostile(
        "rated_at number",
        _const(movies({"ids": {"simkl": MALEFICENT}, "rating": 5, "rated_at": 1_700_000_000})),
        NOT_FOUND,
        paths=(ADD,),
    ),
    # Encoding.
    Hostile("invalid UTF-8", _const(b'{"movies": [{"title": "\xff\xfe", "year": 2014}]}'), WRONG),
    Hostile("invalid UTF-8 in a key", _const(b'{"movies\xc3": []}'), WRONG),
    Hostile("overlong UTF-8", _const(b'{"movies": [{"title": "\xc0\xaf"}]}'), WRONG),
    Hostile("lone surrogate escape", _const(b'{"movies": [{"title": "\\ud800"}]}'), WRONG),
    Hostile("UTF-16 body", _const('{"movies": []}'.encode("utf-16")), WRONG),
    Hostile("NUL byte raw in a string", _const(b'{"movies": [{"title": "a\x00b"}]}'), WRONG),
    Hostile("NUL byte outside strings", _const(b'{"movies": []}\x00'), WRONG),
    Hostile("NUL escape in an id", _const(movies({"ids": {"imdb": "tt0181852\u0000"}})), WRONG),
    Hostile("NUL escape in simkl id", _const(movies({"ids": {"simkl": "53536\u0000"}})), WRONG),
    Hostile("NUL escape in a title", _const(movies({"title": "Male\u0000ficent"})), WRONG),
    Hostile("NUL escape in an id kind", _const(movies({"ids": {"sim\u0000kl": 53536}})), NOT_FOUND),
    Hostile(
        "NUL escape in an ignored field",
        _const(movies({"ids": {"simkl": 1}, "note": "\u0000"})),
        NOT_FOUND,
    ),
    # Huge integers.
    *(
        Hostile(
            f"simkl {name}", _const(b'{"movies": [{"ids": {"simkl": %s}}]}' % literal), NOT_FOUND
        )
        for name, literal in (
            ("2**64", b"18446744073709551616"),
            ("2**64-1", b"18446744073709551615"),
            ("2**63", b"9223372036854775808"),
            ("-2**63-1", b"-9223372036854775809"),
            ("1e300", b"1e300"),
            ("2**70", b"1180591620717411303424"),
            ("-2**70", b"-1180591620717411303424"),
        )
    ),
    Hostile(
        "simkl 10**400", _const(b'{"movies": [{"ids": {"simkl": 1%s}}]}' % (b"0" * 400)), WRONG
    ),
    Hostile("simkl 5000-digit string", _const(movies({"ids": {"simkl": "5" * 5000}})), NOT_FOUND),
    Hostile("tmdb 5000-digit string", _const(movies({"ids": {"tmdb": "2" * 5000}})), NOT_FOUND),
    Hostile("tvdb 5000-digit string", _const(movies({"ids": {"tvdb": "3" * 5000}})), NOT_FOUND),
    Hostile("imdb 5000 digits", _const(movies({"ids": {"imdb": "tt" + "4" * 5000}})), NOT_FOUND),
    Hostile(
        "year 5000-digit string",
        _const(movies({"title": "Maleficent", "year": "2" * 5000})),
        NOT_FOUND,
    ),
    Hostile(
        "year 10**30",
        _const(b'{"movies": [{"title": "Maleficent", "year": 1' + b"0" * 30 + b"}]}"),
        NOT_FOUND,
    ),
    Hostile(
        "rating 5000-digit string",
        _const(movies({"ids": {"simkl": MALEFICENT}, "rating": "7" * 5000})),
        NOT_FOUND,
        paths=(ADD,),
    ),
    Hostile(
        "rating 2**64",
        _const(b'{"movies": [{"ids": {"simkl": 195258}, "rating": 18446744073709551616}]}'),
        NOT_FOUND,
        paths=(ADD,),
    ),
    Hostile(
        "?rating= 5000 digits",
        _const(movies({"ids": {"simkl": MALEFICENT}})),
        NOT_FOUND,
        paths=(ADD,),
        params={"rating": "7" * 5000},
    ),
    # Titles too long to fold (NFKC makes U+FDFA 18 characters) are refused before folding.
    Hostile("title 1,001 characters", _const(movies({"title": "a" * 1001, "year": 2014})), WRONG),
    Hostile(
        "title 1 MiB of U+FDFA",
        _const(movies({"title": "\ufdfa" * (MB // 3), "year": 2014})),
        WRONG,
    ),
    Hostile(
        "title 1,000 characters of U+FDFA",
        _const(movies({"title": "\ufdfa" * 1000, "year": 2014})),
        NOT_FOUND,
    ),
    # SQL and HTML metacharacters simply match nothing.
    *(
        Hostile(
            f"metacharacters {text}",
            _const(
                movies(
                    *({"ids": {kind: text}} for kind in ID_KINDS),
                    {"title": text, "year": 2014},
                    {"title": text},
                )
            ),
            NOT_FOUND,
        )
        for text in SQL_AND_HTML
    ),
    Hostile(
        "metacharacters in an id kind",
        _const(movies({"ids": {"simkl') OR 1=1 --": TERMINATOR}})),
        NOT_FOUND,
    ),
    # Duplicate keys: which one a client meant is unknowable, so neither is applied.
    Hostile(
        "duplicate wrapper",
        _const(b'{"movies": [], "movies": [{"ids": {"simkl": 195258}, "rating": 3}]}'),
        WRONG,
    ),
    Hostile(
        "duplicate wrapper, escaped spelling",
        _const(b'{"movies": [], "m\\u006fvies": [{"ids": {"simkl": 195258}, "rating": 3}]}'),
        WRONG,
    ),
    Hostile(
        "duplicate rating",
        _const(b'{"movies": [{"ids": {"simkl": 195258}, "rating": 3, "rating": 9}]}'),
        WRONG,
    ),
    Hostile(
        "duplicate ids",
        _const(b'{"movies": [{"ids": {"simkl": 195258}, "ids": {"simkl": 53536}}]}'),
        WRONG,
    ),
    Hostile(
        "duplicate id kind",
        _const(b'{"movies": [{"ids": {"simkl": 195258, "simkl": 53536}, "rating": 2}]}'),
        WRONG,
    ),
    Hostile(
        "duplicate key with escaped colons around",
        _const(b'{"a": "\\u003a", "a": "\\u003a", "movies": [{"ids": {"simkl": 195258}}]}'),
        WRONG,
    ),
    # Bodies that are not JSON, whatever they claim to be.
    Hostile(
        "form body",
        _const(b"movies%5B0%5D%5Bids%5D%5Bsimkl%5D=195258&rating=3"),
        WRONG,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    Hostile(
        "multipart body",
        _const(b'--b\r\nContent-Disposition: form-data; name="movies"\r\n\r\n[]\r\n--b--\r\n'),
        WRONG,
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    ),
    Hostile("XML body", _const(b"<movies><movie simkl='195258'/></movies>"), WRONG),
    Hostile("truncated JSON", _const(b'{"movies": [{"ids": {"simkl": 195258}'), WRONG),
    Hostile("trailing garbage", _const(b'{"movies": []} {"movies": []}'), WRONG),
    Hostile("NaN", _const(b'{"movies": [{"ids": {"simkl": NaN}}]}'), WRONG),
    Hostile("single quotes", _const(b"{'movies': []}"), WRONG),
    Hostile("comment", _const(b'{"movies": [] /* hi */}'), WRONG),
    Hostile(
        "Content-Length not a number",
        _const(b'{"movies": []}'),
        WRONG,
        headers={"Content-Length": "1e3"},
    ),
]


def _library_paths(case: Hostile) -> tuple[str, ...]:
    """The library writes a ratings case applies to as well."""
    if case.paths != BOTH or case.params:
        return ()
    if case.expect == NOT_FOUND:
        return LIBRARY_WRITES
    return (*LIBRARY_WRITES, TO_LIST)


def _show(**fields: Any) -> bytes:
    return orjson.dumps({"shows": [{"ids": {"simkl": 2090}, **fields}]})


LIBRARY_CASES: list[Hostile] = [
    Hostile("seasons object", _const(_show(seasons={"number": 1})), WRONG, LIBRARY_WRITES),
    Hostile("seasons of strings", _const(_show(seasons=["1"])), WRONG, LIBRARY_WRITES),
    Hostile("season number object", _const(_show(seasons=[{"number": {}}])), WRONG, LIBRARY_WRITES),
    Hostile(
        "season without number", _const(_show(seasons=[{}])), (400, "empty_field"), LIBRARY_WRITES
    ),
    Hostile(
        "season 2**64",
        _const(
            b'{"shows": [{"ids": {"simkl": 2090}, "seasons": [{"number": 18446744073709551616}]}]}'
        ),
        WRONG,
        LIBRARY_WRITES,
    ),
    Hostile("episode -1", _const(_show(episodes=[{"number": -1}])), WRONG, LIBRARY_WRITES),
    Hostile(
        "episode number text", _const(_show(episodes=[{"number": "one"}])), WRONG, LIBRARY_WRITES
    ),
    Hostile("episode NUL", _const(_show(episodes=[{"number": "1\u0000"}])), WRONG, LIBRARY_WRITES),
    Hostile(
        "150k episodes in one item",
        lambda: _show(episodes=[{"number": n % 1000} for n in range(150_000)]),
        (400, "max_items"),
        LIBRARY_WRITES,
    ),
    Hostile("status number", _const(_show(status=3)), WRONG, (HISTORY,)),
    Hostile("status unknown", _const(_show(status="finished")), WRONG, (HISTORY,)),
    Hostile("memo string", _const(_show(memo="nice")), WRONG, (HISTORY,)),
    Hostile("memo text object", _const(_show(memo={"text": {"x": 1}})), WRONG, (HISTORY,)),
    Hostile("memo NUL", _const(_show(memo={"text": "a\u0000b"})), WRONG, (HISTORY,)),
    Hostile("rewatch_id text", _const(_show(rewatch_id="7482")), WRONG, (HISTORY,)),
    Hostile("rewatch_status unknown", _const(_show(rewatch_status="paused")), WRONG, (HISTORY,)),
    Hostile(
        "watched_at object",
        _const(movies({"ids": {"simkl": MALEFICENT}, "watched_at": {}})),
        NOT_FOUND,
        (HISTORY,),
    ),
    Hostile(
        "watched_at nonsense",
        _const(movies({"ids": {"simkl": MALEFICENT}, "watched_at": "soon"})),
        NOT_FOUND,
        (HISTORY,),
    ),
    Hostile(
        "episode watched_at nonsense",
        _const(_show(episodes=[{"number": 1, "watched_at": "1e9"}])),
        NOT_FOUND,
        (HISTORY,),
    ),
    Hostile(
        "to missing",
        _const(movies({"ids": {"simkl": MALEFICENT}})),
        (400, "empty_field"),
        (TO_LIST,),
    ),
    Hostile(
        "to top-level only",
        _const(b'{"movies": [{"ids": {"simkl": 195258}}], "to": "completed"}'),
        (400, "empty_field"),
        (TO_LIST,),
    ),
    Hostile(
        "to object",
        _const(movies({"ids": {"simkl": MALEFICENT}, "to": {"list": 1}})),
        WRONG,
        (TO_LIST,),
    ),
    Hostile(
        "to upper case",
        _const(movies({"ids": {"simkl": MALEFICENT}, "to": "COMPLETED"})),
        WRONG,
        (TO_LIST,),
    ),
    Hostile(
        "added_at nonsense",
        _const(movies({"ids": {"simkl": 195258}, "to": "dropped", "added_at": "x"})),
        (201, ""),
        (TO_LIST,),
    ),
]


async def _load_catalog(url: str) -> None:
    store = await open_store(Settings(database_url=url), FrozenClock(START_MS))
    try:
        await import_file(store, FIXTURES / "catalog.jsonl")
    finally:
        await store.close()


@pytest.fixture(scope="module")
def hostile_database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database of this module's own: nothing else resets it between the cases."""
    for url in fresh_database(backend, tmp_path_factory.mktemp(f"hostile-{backend}")):
        run(_load_catalog, url)
        yield url


@pytest.fixture(scope="module")
def hostile_api(hostile_database: str) -> Iterator[Api]:
    """One app, user and seeded library shared by every case: no case may change them."""
    with serve_api(hostile_database) as api:
        _seed(api)
        yield api


def _seed(api: Api) -> None:
    """State a hostile request could damage: a rated movie, a rated show."""
    seeded = api.post(
        ADD,
        json={
            "movies": [{"ids": {"simkl": TERMINATOR}, "rating": 8}],
            "shows": [{"title": "Breaking Bad", "year": 2008, "rating": 10}],
        },
    )
    assert seeded.status_code == 201, seeded.text
    assert seeded.json()["added"]["movies"] == 1


def _outcome(api: Api, database_url: str) -> tuple[Any, ...]:
    """Everything a write could change: both read endpoints and every table."""
    ratings = api.get("/sync/ratings")
    activities = api.get("/sync/activities")
    assert ratings.status_code == activities.status_code == 200
    return ratings.json(), activities.json(), database.dump(database_url)


def _assert_nothing_applied(path: str, response: Any, body: bytes) -> None:
    """201, every item echoed as sent in not_found, nothing counted."""
    assert response.status_code == 201, response.text[:500]
    answer = response.json()
    sent = json.loads(body)  # integers exact, as the server must echo them
    echoed = answer["not_found"]["movies"] + answer["not_found"]["shows"]
    wrappers = ("movies", "shows") if path == UNHISTORY else ("movies", "shows", "anime")
    assert len(echoed) == sum(len(sent.get(key, [])) for key in wrappers)
    if path == ADD:
        assert answer["added"] == {"movies": 0, "shows": 0, "statuses": []}
    elif path == HISTORY:
        assert answer["added"] == {"movies": 0, "shows": 0, "episodes": 0, "statuses": []}
    else:
        assert answer["deleted"] == {"movies": 0, "shows": 0} | (
            {"episodes": 0} if path == UNHISTORY else {}
        )
    originals = [(o, "movie") for o in sent.get("movies", [])]
    originals += [(o, "show") for o in sent.get("shows", [])]
    for item, (original, kind) in zip(echoed, originals, strict=True):
        # Metacharacters come back as sent (history echoes `rating`, not `type`, as Simkl).
        extra = {"rating": original.get("rating")} if path == HISTORY else {"type": kind}
        assert item == {**original, **extra}


@pytest.mark.parametrize(
    ("case", "path"),
    [
        pytest.param(case, path, id=f"{path}:{case.name}")
        for case in [*CASES, *LIBRARY_CASES]
        for path in (*case.paths, *(_library_paths(case) if case in CASES else ()))
    ],
)
def test_hostile_body(hostile_api: Api, hostile_database: str, case: Hostile, path: str) -> None:
    api = hostile_api
    api.clock.advance(60_000)  # a write now would move the activities
    before = _outcome(api, hostile_database)
    body = case.body()
    response = api.post(path, content=body, headers=case.headers, params=case.params)
    if case.expect == (201, ""):  # applied nothing: the only item is echoed in not_found
        assert response.status_code == 201, response.text
        assert response.json()["added"] == {"movies": [], "shows": []}
    elif isinstance(case.expect, tuple):
        assert_simkl_error(response, *case.expect)
    else:
        assert isinstance(body, bytes)
        _assert_nothing_applied(path, response, body)
    assert _outcome(api, hostile_database) == before


@pytest.mark.parametrize(
    ("name", "body", "params", "expect"),
    [
        ("object", b'{"movies": []}', {}, WRONG),
        ("item string", b'["tt0181852"]', {}, WRONG),
        ("item null", b"[null]", {}, WRONG),
        ("season text", b'[{"ids": {"simkl": 2090}, "season": "one", "episode": 1}]', {}, WRONG),
        (
            "episode 2**64",
            b'[{"ids": {"simkl": 2090}, "episode": 18446744073709551616}]',
            {},
            WRONG,
        ),
        ("ids list", b'[{"ids": [2090]}]', {}, WRONG),
        ("flat id object", b'[{"simkl": {"id": 2090}}]', {}, WRONG),
        (
            "101 items with episodes",
            orjson.dumps([{"ids": {"simkl": 2090}}] * 101),
            {"extended": "episodes"},
            (400, "max_items"),
        ),
        ("nesting 100k", b"[" * 100_000, {}, WRONG),
        ("duplicate key", b'[{"ids": {"simkl": 2090, "simkl": 17465}}]', {}, WRONG),
    ],
)
def test_hostile_watched_lookup(
    hostile_api: Api,
    hostile_database: str,
    *,
    name: str,
    body: bytes,
    params: dict[str, str],
    expect: tuple[int, str],
) -> None:
    """The lookup reads nothing it should not and changes nothing, whatever it is sent."""
    api = hostile_api
    api.clock.advance(60_000)
    before = _outcome(api, hostile_database)
    assert_simkl_error(api.post(WATCHED, content=body, params=params), *expect)
    assert _outcome(api, hostile_database) == before


@dataclass(frozen=True)
class HostileRequest:
    """A hostile URL, query or header, and the status (and error id) it must get."""

    name: str
    method: str
    path: str
    expect: tuple[int, str | None]
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str | bytes] = field(default_factory=dict)
    client_id: str | None = "default"
    token: str | None = "default"
    body: bytes = b""


LONG = "9" * 5000
REQUESTS: list[HostileRequest] = [
    HostileRequest(
        "client_id NUL", "GET", "/sync/activities", (412, "client_id_failed"), client_id="\x00"
    ),
    HostileRequest(
        "client_id 10k",
        "GET",
        "/sync/activities",
        (412, "client_id_failed"),
        client_id="a" * 10_000,
    ),
    HostileRequest(
        "client_id SQL",
        "GET",
        "/sync/activities",
        (412, "client_id_failed"),
        client_id="' OR 1=1 --",
    ),
    HostileRequest(
        "client_id invalid UTF-8",
        "GET",
        "/sync/activities?client_id=%ff%fe",
        (412, "client_id_failed"),
        client_id=None,
    ),
    HostileRequest(
        "api-key header latin-1",
        "GET",
        "/sync/activities",
        (412, "client_id_failed"),
        client_id=None,
        headers={"simkl-api-key": b"\xff\xfe"},
    ),
    HostileRequest(
        "token NUL", "GET", "/sync/activities", (401, "user_token_failed"), token="\x00"
    ),
    HostileRequest(
        "token SQL", "GET", "/sync/activities", (401, "user_token_failed"), token="' OR '1'='1"
    ),
    HostileRequest(
        "token 10k", "GET", "/sync/activities", (401, "user_token_failed"), token="t" * 10_000
    ),
    HostileRequest(
        "token latin-1",
        "GET",
        "/sync/activities",
        (401, "user_token_failed"),
        token=None,
        headers={"Authorization": b"Bearer \xff\xfe"},
    ),
    HostileRequest(
        "rating segment 5000 digits", "GET", f"/sync/ratings/movies/{LONG}", (200, None)
    ),
    HostileRequest("rating segment NUL", "GET", "/sync/ratings/movies/%00", (200, None)),
    HostileRequest("type segment invalid UTF-8", "GET", "/sync/ratings/%ff%fe", (200, None)),
    HostileRequest("type segment SQL", "GET", "/sync/ratings/movies' OR 1=1 --/8", (200, None)),
    HostileRequest(
        "date_from NUL",
        "GET",
        "/sync/ratings",
        (400, "wrong_parameter"),
        params={"date_from": "\x00"},
    ),
    HostileRequest(
        "date_from 5000 digits",
        "GET",
        "/sync/ratings",
        (400, "wrong_parameter"),
        params={"date_from": LONG},
    ),
    HostileRequest(
        "date_from year 99999",
        "GET",
        "/sync/ratings",
        (400, "wrong_parameter"),
        params={"date_from": "99999-01-01"},
    ),
    HostileRequest(
        "date_from SQL",
        "GET",
        "/sync/ratings",
        (400, "wrong_parameter"),
        params={"date_from": "2020' OR 1=1"},
    ),
    HostileRequest("unknown path", "GET", "/sync/ratings/movies/8/extra", (404, "url_failed")),
    HostileRequest("path with NUL", "GET", "/sync/%00", (404, "url_failed")),
    HostileRequest("path traversal", "GET", "/sync/../../etc/passwd", (404, "url_failed")),
    HostileRequest("wrong method", "DELETE", "/sync/ratings", (405, "wrong_method")),
    # Sign-in endpoints: refused before any flow state is written.
    HostileRequest(
        "pin client_id NUL", "GET", "/oauth/pin", (412, "client_id_failed"), client_id="\x00"
    ),
    HostileRequest(
        "pin client_id SQL", "GET", "/oauth/pin", (412, "client_id_failed"), client_id="' OR 1=1 --"
    ),
    HostileRequest(
        "pin redirect 10k",
        "GET",
        "/oauth/pin",
        (403, "redirect_failed"),
        params={"redirect": "https://x/" + "a" * 10_000},
    ),
    HostileRequest(
        "pin poll SQL code, unknown client",
        "GET",
        "/oauth/pin/' OR 1=1 --",
        (412, "client_id_failed"),
        client_id="nope",
    ),
    HostileRequest(
        "token nesting 50k", "POST", "/oauth/token", (400, "wrong_parameter"), body=b"[" * 50_000
    ),
    HostileRequest(
        "token 1 MB body",
        "POST",
        "/oauth/token",
        (413, "body_too_large"),
        body=b'{"code": "' + b"x" * MB + b'"}',
    ),
    HostileRequest(
        "token code SQL",
        "POST",
        "/oauth/token",
        (401, "secret_error"),
        body=orjson.dumps(
            {"grant_type": "authorization_code", "code": "' OR 1=1 --", "client_secret": "x"}
        ),
    ),
    HostileRequest(
        "token code NUL",
        "POST",
        "/oauth/token",
        (400, "wrong_parameter"),
        body=orjson.dumps({"grant_type": "authorization_code", "code": "a\x00b"}),
    ),
    HostileRequest(
        "token code array",
        "POST",
        "/oauth/token",
        (400, "wrong_parameter"),
        body=b"grant_type=authorization_code&code=a&code=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    HostileRequest(
        "token Basic garbage",
        "POST",
        "/oauth/token",
        (400, "wrong_parameter"),
        headers={"Authorization": "Basic !!!not base64"},
        body=b"{}",
    ),
    HostileRequest(
        "token client_id 10k",
        "POST",
        "/oauth/token",
        (412, "client_id_failed"),
        client_id=None,
        body=orjson.dumps({"client_id": "c" * 10_000, "code": "x"}),
    ),
    HostileRequest(
        "?rating= NUL on add",
        "POST",
        ADD,
        (201, None),
        params={"rating": "\x00"},
        body=movies({"ids": {"simkl": MALEFICENT}}),
    ),
    # The catalog reads: search words, ids, file names and pages a stranger sends.
    *[
        HostileRequest(f"search q {name}", "GET", "/search/movie", (200, None), params={"q": q})
        for name, q in [
            ("FTS operators", '" OR * NEAR( ) AND NOT ^ col:x'),
            ("tsquery operators", "a & b | !c <-> d:* ' \\"),
            ("SQL", "'; DROP TABLE catalog_items; --"),
            ("1,000 one-letter words", "a " * 499),
            ("U+FDFA x 1000", "\ufdfa" * 1000),
            ("LIKE wildcards", "%_%_%"),
        ]
    ],
    HostileRequest("search q NUL", "GET", "/search/tv", WRONG, params={"q": "a\x00b"}),
    HostileRequest("search q 5,000", "GET", "/search/tv", WRONG, params={"q": LONG}),
    HostileRequest(
        "search page/limit huge",
        "GET",
        "/search/tv",
        (200, None),
        params={"q": "dead", "page": LONG, "limit": "-" + LONG},
    ),
    *[
        HostileRequest(f"search/id {kind} 5,000", "GET", "/search/id", (200, None), params=p)
        for kind, p in [
            ("simkl", {"simkl": LONG}),
            ("tvdb", {"tvdb": LONG}),
            ("imdb", {"imdb": "tt" + LONG}),
        ]
    ],
    HostileRequest("search/id title NUL", "GET", "/search/id", WRONG, params={"title": "x\x00"}),
    *[
        HostileRequest(f"{path} {kind} NUL", "GET", path, WRONG, params={kind: value})
        for path in ("/search/id", "/redirect")
        for kind, value in [("letterboxd", "\x00"), ("imdb", "tt0181852\x00"), ("tvdb", "\x00")]
    ],
    HostileRequest(
        "search/file NUL", "POST", "/search/file", WRONG, body=b'{"file": "a\\u0000.mkv"}'
    ),
    HostileRequest(
        "search/file deep path",
        "POST",
        "/search/file",
        (200, None),
        body=b'{"file": "' + b"../" * 300 + b'x.S01E01.mkv", "part": 1' + b"0" * 30 + b"}",
    ),
    HostileRequest(
        "search/random limit huge", "POST", "/search/random", (200, None), params={"limit": LONG}
    ),
    HostileRequest("redirect to 5,000", "GET", "/redirect", WRONG, params={"to": LONG}),
    HostileRequest("movies id 5,000", "GET", "/movies/" + LONG, (404, "id_err")),
    HostileRequest("episodes id 5,000", "GET", "/tv/episodes/" + LONG, (200, None)),
]


def _scrobble(body: Any) -> bytes:
    return orjson.dumps(body)


INCEPTION_REF = {"ids": {"simkl": 472214}}
# The scrobble endpoints and the playback list (the scrobble lock's own row is bookkeeping,
# given back after every call, and not among the tables compared).
REQUESTS += [
    *(
        HostileRequest(f"{path} {name}", "POST", path, expect, body=body)
        for path in ("/scrobble/start", "/scrobble/pause", "/scrobble/stop", "/scrobble/checkin")
        for name, expect, body in (
            ("title NUL", (400, "wrong_parameter"), _scrobble({"movie": {"title": "\x00"}})),
            (
                "title 10k",
                (400, "wrong_parameter"),
                _scrobble({"movie": {"title": "x" * 10_000}, "progress": 1}),
            ),
            ("progress 1e308", (400, "wrong_parameter"), b'{"movie": {}, "progress": 1e308}'),
            ("progress NaN", (400, "wrong_parameter"), b'{"movie": {}, "progress": NaN}'),
            (
                "progress 5000 digits",
                (400, "wrong_parameter"),
                b'{"movie": {"ids": {"simkl": 472214}}, "progress": ' + b"9" * 5000 + b"}",
            ),
            (
                "season 2**40",
                (400, "wrong_parameter"),
                _scrobble(
                    {"show": {"ids": {"simkl": 2090}}, "episode": {"season": 2**40, "number": 1}}
                ),
            ),
            (
                "episode tvdb SQL",
                (400, "wrong_parameter"),
                _scrobble(
                    {"show": {"ids": {"simkl": 2090}}, "episode": {"ids": {"tvdb": "1 OR 1=1"}}}
                ),
            ),
            (
                "simkl SQL",
                (404, "id_err"),
                _scrobble({"movie": {"ids": {"simkl": "1; DELETE FROM playbacks"}}, "progress": 1}),
            ),
            ("movie array", (400, "wrong_parameter"), _scrobble({"movie": [INCEPTION_REF]})),
            ("body array", (400, "wrong_parameter"), _scrobble([{"movie": INCEPTION_REF}])),
            ("episode string", (400, "wrong_parameter"), _scrobble({"anime": {}, "episode": "1"})),
        )
    ),
    HostileRequest(
        "playback id 30 digits", "DELETE", "/sync/playback/" + "9" * 30, (404, "url_failed")
    ),
    HostileRequest("playback id NUL", "DELETE", "/sync/playback/%00", (404, "url_failed")),
    HostileRequest("playback id negative", "DELETE", "/sync/playback/-1", (404, "url_failed")),
    HostileRequest("playback id unknown", "DELETE", "/sync/playback/123456", (404, "empty")),
    HostileRequest(
        "playback limit 30 digits", "GET", "/sync/playback", (200, None), params={"limit": LONG}
    ),
    HostileRequest(
        "playback date_from NUL",
        "GET",
        "/sync/playback",
        (400, "wrong_parameter"),
        params={"date_from": "\x00"},
    ),
    HostileRequest(
        "playback date_to 5000 digits",
        "GET",
        "/sync/playback",
        (400, "wrong_parameter"),
        params={"date_to": LONG},
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in REQUESTS])
def test_hostile_request(hostile_api: Api, hostile_database: str, case: HostileRequest) -> None:
    api = hostile_api
    api.clock.advance(60_000)
    before = _outcome(api, hostile_database)
    response = api.request(
        case.method,
        case.path,
        params=case.params,
        headers=case.headers,
        client_id=case.client_id,
        token=case.token,
        content=case.body,
    )
    status, error = case.expect
    if error is None:
        assert response.status_code == status, response.text[:500]
        assert response.headers["content-type"] == "application/json"
        response.json()
    else:
        assert_simkl_error(response, status, error)
    assert _outcome(api, hostile_database) == before


def _rated(api: Api) -> dict[int, int]:
    rows = api.get("/sync/ratings/movies").json().get("movies", [])
    return {row["movie"]["ids"]["simkl"]: row["user_rating"] for row in rows}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Type": "text/plain"}, id="text/plain"),
        pytest.param({"Content-Type": "application/x-www-form-urlencoded"}, id="form"),
        pytest.param({"Content-Type": ""}, id="empty"),
        pytest.param({}, id="absent"),
    ],
)
def test_json_body_is_read_whatever_its_content_type(api: Api, headers: dict[str, str]) -> None:
    """The spec's advice for clients that omit or mislabel it: parse the body as JSON anyway."""
    response = api.post(
        ADD, content=movies({"ids": {"simkl": MALEFICENT}, "rating": 6}), headers=headers
    )
    assert response.status_code == 201, response.text
    assert _rated(api) == {MALEFICENT: 6}


@pytest.mark.parametrize("body", [b"", b"  \r\n\t ", b"{}"], ids=["empty", "whitespace", "{}"])
@pytest.mark.parametrize("path", BOTH)
def test_empty_body_changes_nothing(
    api: Api, catalog_database: str, body: bytes, path: str
) -> None:
    """The spec: an empty body (or `{}`) is a 201 with zero counts, like Simkl's history add."""
    api.clock.advance(60_000)
    before = _outcome(api, catalog_database)
    response = api.post(path, content=body)
    assert response.status_code == 201, response.text
    counts = response.json()["added" if path == ADD else "deleted"]
    assert (counts["movies"], counts["shows"]) == (0, 0)
    assert _outcome(api, catalog_database) == before


def test_duplicate_key_detection_has_no_false_positives(api: Api) -> None:
    """Colons in titles and timestamps, escaped colons, the same keys in every item and at
    several levels: none of it is a repeated key."""
    body = (
        b'{"movies": [{"title": "Dune: Part Two", "year": 2024, "rating": 9, '
        b'"rated_at": "2024-03-01T12:30:00.000Z", "ids": {"simkl": 752138}}, '
        b'{"title": "Maleficent\\u003a", "ids": {"simkl": 195258, "imdb": "tt1587310"}, '
        b'"rating": 7, "rated_at": "2024-03-01T12\\u003a30:00Z", "note": {"rating": 1}}], '
        b'"shows": [], "anime": [], "rating": ":::"}'
    )
    response = api.post(ADD, content=body)
    assert response.status_code == 201, response.text
    assert response.json()["added"]["movies"] == 2
    assert _rated(api) == {752138: 9, MALEFICENT: 7}


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/sync/ratings", "GET, HEAD, POST"),
        ("/sync/activities", "GET, HEAD, POST"),
        ("/sync/ratings/movies/8", "GET, HEAD, POST"),
    ],
)
def test_wrong_method_names_the_allowed_ones(hostile_api: Api, path: str, allowed: str) -> None:
    """RFC 9110: a 405 carries Allow, listing every route's methods on that path."""
    response = hostile_api.request("DELETE", path)
    assert_simkl_error(response, 405, "wrong_method")
    assert response.headers["allow"] == allowed
