"""Golden checkers of the catalog reads: /search/id, /search/{type}, /search/file,
/search/random and the detail and episode endpoints.

Each example runs against a catalog of its own (a fresh database) holding the example's items
as the catalog format can describe them, built from the example itself, plus decoys the
example's request must not pick. Simkl's records carry facts the catalog does not keep; the
checkers normalise exactly those parts of the expected answer:

- dropped: `all_titles`, `ratings`, `title_en`, `description`, `img`, the detail records'
  fields outside the catalog (overview, genres, trailers, ...), and request-only ids
  (`crunchyroll`, `netflix`, `hulu`) in `ids`;
- `rank` is null (no popularity data), an episode's `ids` hold its TVDB id or nothing (the
  catalog keeps no simkl ids of episodes), and an anime's `Ended` status is the catalog's
  `ended`;
- episode dates are rendered in UTC with milliseconds, the form the TV example uses (the anime
  examples print the same instants in +09:00), and `aired` says whether that date has passed
  (the special example says false of a 2017 date);
- random picks are compared as sets (their order starts at a random place).
"""

from __future__ import annotations

import copy
import json
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from simkl_server.catalog.interchange import parse_line
from simkl_server.domain.catalog import import_records
from tests.conftest import Api, serve_api
from tests.contract.goldens.base import Context, Example, Golden, without_message
from tests.helpers import assert_simkl_error
from tests.seed import answer

REQUEST_ONLY = ("crunchyroll", "netflix", "hulu")
_TYPE_OF_RECORD = {"movie": "movie", "tv": "show", "show": "show", "anime": "anime"}
_TYPE_OF_ENDPOINT = {"movies": "movie", "tv": "show", "anime": "anime"}


def catalog_api(context: Context, records: list[dict[str, Any]]) -> Api:
    """The app on a database of its own whose catalog holds exactly these records."""
    url = context.request.getfixturevalue("empty_database")
    stack = ExitStack()
    context.request.addfinalizer(stack.close)
    api = stack.enter_context(serve_api(url))
    parsed = [parse_line(json.dumps(record), f"example[{i}]") for i, record in enumerate(records)]
    report = api.call(import_records, api.store, parsed)
    assert not report.problems, report.problems
    return api


def _shown_ids(ids: dict[str, Any]) -> dict[str, Any]:
    return {kind: value for kind, value in ids.items() if kind not in REQUEST_ONLY}


def _decoy(simkl: int, kind: str = "movie", **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "title": f"Decoy {simkl}",
        "year": 2015,
        "ids": {"simkl": simkl},
        **fields,
    }


# ---- /search/id ----------------------------------------------------------------------------

# What each example asks (the ids come from the other examples of the same titles).
SEARCH_ID_QUERIES: dict[str, dict[str, str]] = {
    "imdb_movie": {"imdb": "tt1375666"},
    "mal_anime": {"mal": "38000"},
    "simkl_id_roundtrip": {"simkl": "472214"},
    "tmdb_movie": {"tmdb": "27205", "type": "movie"},
    "tmdb_tv": {"tmdb": "1399", "type": "show"},
    "tvdb_tv": {"tvdb": "153021"},
    "unknown_id_empty_array": {"imdb": "tt0000001"},
}
# The external id each record carries so its query finds it.
_LOOKUP_IDS = {
    472214: {"imdb": "tt1375666", "tmdb": "27205"},
    17465: {"tmdb": "1399"},
    2090: {"tvdb": "153021"},
}


def search_id_answers(context: Context, example: Example) -> None:
    """The example's record (with the id it is asked by) and a decoy sharing its TMDB number
    in the other TMDB space; asked by the example's id, then by the simkl id."""
    records = []
    for shown in example.response:
        simkl = shown["ids"]["simkl"]
        record = {
            "type": _TYPE_OF_RECORD[shown["type"]],
            "title": shown["title"],
            "year": shown["year"],
            "ids": {**shown["ids"], **_LOOKUP_IDS.get(simkl, {})},
            "status": shown["status"],
            "poster": shown["poster"],
        }
        for name in ("total_episodes", "anime_type"):
            if name in shown:
                record[name] = shown[name]
        if "mal" in shown:
            record["ids"]["mal"] = str(shown["mal"]["id"])
        records.append(record)
    records.append(_decoy(900_001, "show", ids={"simkl": 900_001, "tmdb": "27205"}))
    records.append(_decoy(900_002, "movie", ids={"simkl": 900_002, "tmdb": "1399"}))
    api = catalog_api(context, records)
    query = SEARCH_ID_QUERIES[example.name or ""]
    example.check(answer(api.get("/search/id", params=query, token=None), 200))
    for shown in example.response:
        by_simkl = {"simkl": str(shown["ids"]["simkl"])}
        example.check(answer(api.get("/search/id", params=by_simkl, token=None), 200), [shown])


# ---- /search/{type} ------------------------------------------------------------------------

SEARCH_TEXT = {"anime": ("anime", "cowboy bebop"), "movie": ("movie", "john wick")}
SEARCH_TEXT.update({"tv": ("tv", "breaking bad"), "empty": ("movie", "zzz no such title")})


def search_text_answers(context: Context, example: Example) -> None:
    """The example's items (and a title holding only some of the words) in the catalog,
    searched by the example's words; the headers count them."""
    kind, words = SEARCH_TEXT[(example.name or "").split("_")[0]]
    records = [_search_record(shown) for shown in example.response]
    records.append(_decoy(900_003, "show", title="Breaking News"))
    records.append(_decoy(900_004, title="John Carter"))
    api = catalog_api(context, records)
    params = {"q": words}
    if (example.name or "").endswith("extended"):
        params["extended"] = "full"
    response = api.get(f"/search/{kind}", params=params, token=None)
    expected = [_normalised_search_item(shown) for shown in example.response]
    example.check(answer(response, 200), expected)
    assert response.headers["X-Pagination-Item-Count"] == str(len(expected))
    assert response.headers["X-Pagination-Page"] == "1"


def _search_record(shown: dict[str, Any]) -> dict[str, Any]:
    kind = _TYPE_OF_ENDPOINT[shown["endpoint_type"]]
    ids = {"simkl": shown["ids"]["simkl_id"], "slug": shown["ids"]["slug"]}
    if "tmdb" in shown["ids"]:
        ids["tmdb"] = shown["ids"]["tmdb"]
    record = {"type": kind, "title": shown["title"], "year": shown["year"], "ids": ids}
    record["poster"] = shown["poster"]
    if kind == "anime":
        record["anime_type"] = shown["type"]
    if "ep_count" in shown:
        record["total_episodes"] = shown["ep_count"]
    if "status" in shown:
        record["status"] = shown["status"]
    return record


def _normalised_search_item(shown: dict[str, Any]) -> dict[str, Any]:
    item = {k: v for k, v in shown.items() if k not in ("all_titles", "ratings", "title_en")}
    if "rank" in item:
        item["rank"] = None
    return item


# ---- /search/file --------------------------------------------------------------------------


def search_file_answers(context: Context, example: Example) -> None:
    """The example's movie or show (with the episode it names, when it names one) in the
    catalog, with a decoy of a similar title; the file name sent as in the example."""
    records = [_decoy(900_005, "show", title="The Office Party")]
    shown = example.response if isinstance(example.response, dict) else {}
    media = shown.get("movie") or shown.get("show")
    if media is not None:
        records.append(_file_record(shown, media))
    api = catalog_api(context, records)
    got = answer(api.post("/search/file", json=example.request, token=None), 200)
    example.check(got, _normalised_file_answer(example.response))


def _file_record(shown: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    kind = "movie" if "movie" in shown else "anime" if "mal" in media["ids"] else "show"
    record: dict[str, Any] = {
        "type": kind,
        "title": media["title"],
        "year": media["year"],
        "ids": media["ids"],
    }
    if "episode" in shown:
        episode = shown["episode"]
        record["episodes"] = [
            {"season": episode["season"], "number": n, "title": episode["title"]}
            if n == episode["episode"]
            else {"season": episode["season"], "number": n}
            for n in range(1, episode["episode"] + 1)
        ]
    return record


def _normalised_file_answer(expected: Any) -> Any:
    if not isinstance(expected, dict):
        return expected
    out = copy.deepcopy(expected)
    for block in ("movie", "show"):
        if block in out:
            out[block]["ids"] = _shown_ids(out[block]["ids"])
    if "episode" in out:
        out["episode"]["ids"] = {}
    return out


# ---- /search/random ------------------------------------------------------------------------

# Each example's filters (its own request shows none), and the decoys they must rule out.
RANDOM_QUERIES: dict[str, dict[str, str]] = {
    "default_no_params_random_domain": {},
    "filters_match_nothing_not_found": {"type": "movie", "year_from": "2100"},
    "limit_3_array_form": {"limit": "3"},
    "service_netflix_with_link": {"service": "netflix"},
    "type_anime": {"type": "anime"},
    "type_movie": {"type": "movie"},
    "type_tv": {"type": "tv"},
    "year_range_movie": {"type": "movie", "genre": "drama", "year_from": "2004", "year_to": "2010"},
}
_SEGMENT_TYPE = {"movies": "movie", "tv": "show", "anime": "anime"}


def search_random_answers(context: Context, example: Example) -> None:
    """The example's items in the catalog (year 2008, inside every range asked), and decoys
    each filter rules out: another type, a year before the range, an item without the
    service's id; an empty catalog for the example that matches nothing."""
    query = RANDOM_QUERIES[example.name or ""]
    picks = example.response if isinstance(example.response, list) else [example.response]
    records = [_random_record(pick) for pick in picks if "simkl_id" in pick]
    if "type" in query or "service" in query:
        kind = "show" if query.get("type") != "tv" else "movie"
        records.append(_decoy(900_006, kind if "type" in query else "movie", year=2008))
    if "year_from" in query:
        records.append(_decoy(900_007, "movie", year=1980))
    if not records:
        records.append(_decoy(900_008, "show", year=2008))
    api = catalog_api(context, records)
    got = answer(api.post("/search/random", params=query, token=None), 200)
    if isinstance(example.response, list):
        example.check(_by_id(got), _by_id(example.response))
    else:
        example.check(got)
    by_body = answer(api.post("/search/random", json=query, token=None), 200)
    assert _by_id(by_body if isinstance(by_body, list) else [by_body]) == _by_id(picks)


def _random_record(pick: dict[str, Any]) -> dict[str, Any]:
    segment, simkl, slug = pick["simkl_url"].split("/")[-3:]
    ids: dict[str, Any] = {"simkl": int(simkl), "slug": slug}
    if "netflix_id" in pick:
        ids["netflix"] = pick["netflix_id"]
    return {"type": _SEGMENT_TYPE[segment], "title": slug, "year": 2008, "ids": ids}


def _by_id(picks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(picks, key=lambda pick: int(pick.get("simkl_id", 0)))


# ---- detail records ------------------------------------------------------------------------

DETAIL_FIELDS = frozenset(
    {"title", "year", "type", "anime_type", "ids", "poster", "runtime", "released"}
    | {"first_aired", "status", "total_episodes"}
)
_DETAIL_PATH = {"get-movies-id": "movies", "get-tv-id": "tv", "get-anime-id": "anime"}


def detail_answers(context: Context, example: Example) -> None:
    """The example's item in the catalog with the fields the catalog has, asked for by its
    simkl id (and with `extended=full`, which changes nothing); an unknown id is `[]`."""
    segment = _DETAIL_PATH[example.operation.id]
    if not example.response:
        api = catalog_api(context, [_decoy(900_009)])
        example.check(answer(api.get(f"/{segment}/900010", token=None), 200))
        return
    expected = _normalised_detail(example.response)
    record = {k: v for k, v in expected.items() if k not in ("released", "first_aired")}
    record["release_date"] = expected.get("released") or expected.get("first_aired")
    api = catalog_api(context, [record, _decoy(900_009, "show")])
    path = f"/{segment}/{expected['ids']['simkl']}"
    example.check(answer(api.get(path, token=None), 200), expected)
    example.check(answer(api.get(path, params={"extended": "full"}, token=None), 200), expected)


def _normalised_detail(shown: dict[str, Any]) -> dict[str, Any]:
    expected = {k: v for k, v in shown.items() if k in DETAIL_FIELDS}
    expected["ids"] = _shown_ids(shown["ids"])
    if "status" in expected:
        expected["status"] = expected["status"].lower()
    return expected


def movie_not_found(context: Context, example: Example) -> None:
    """404 id_err: an id that cannot be a simkl id."""
    api = catalog_api(context, [_decoy(900_009)])
    body = assert_simkl_error(api.get("/movies/not-an-id", token=None), 404, "id_err")
    example.check(without_message(body), without_message(example.response))


# ---- episode lists -------------------------------------------------------------------------

_EPISODES_PATH = {"get-tv-episodes-id": ("tv", "show"), "get-anime-episodes-id": ("anime", "anime")}
_PARENT = 900_020


def episodes_answers(context: Context, example: Example) -> None:
    """A parent whose episodes are the example's, listed by its simkl id; 400 empty_id
    without one; an unknown id is `[]`."""
    segment, kind = _EPISODES_PATH[example.operation.id]
    if example.status == "400":
        api = catalog_api(context, [_decoy(_PARENT, kind)])
        body = assert_simkl_error(api.get(f"/{segment}/episodes/", token=None), 400, "empty_id")
        example.check(without_message(body), without_message(example.response))
        return
    episodes = [_episode_record(shown, kind) for shown in example.response]
    parent = _decoy(_PARENT, kind, episodes=episodes) if episodes else _decoy(_PARENT, kind)
    api = catalog_api(context, [parent])
    asked = _PARENT if example.response else _PARENT + 1
    got = answer(api.get(f"/{segment}/episodes/{asked}", token=None), 200)
    example.check(got, [_normalised_episode(shown, api) for shown in example.response])


def _episode_record(shown: dict[str, Any], kind: str) -> dict[str, Any]:
    special = shown["type"] == "special"
    record: dict[str, Any] = {
        "season": 0 if special else shown.get("season", 1),
        "number": shown.get("episode", 1),
        "title": shown["title"],
        "aired": shown["date"],
        "runtime": shown["runtime"],
    }
    if "tvdb" in shown:
        record["tvdb"] = shown["tvdb"]
    return record


def _normalised_episode(shown: dict[str, Any], api: Api) -> dict[str, Any]:
    out = {k: v for k, v in shown.items() if k not in ("description", "img")}
    moment = datetime.fromisoformat(shown["date"].replace("Z", "+00:00"))
    ms = int(moment.timestamp() * 1000)
    out["date"] = datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{ms % 1000:03d}Z"
    )
    out["aired"] = ms <= api.clock.now_ms()
    out["ids"] = {}
    return out


GOLDENS = {
    "get-search-id": Golden(search_id_answers),
    "get-search-type": Golden(search_text_answers),
    "post-search-file": Golden(search_file_answers),
    "post-search-random": Golden(search_random_answers),
    "get-movies-id": Golden(detail_answers, {"404": movie_not_found}),
    "get-tv-id": Golden(detail_answers),
    "get-anime-id": Golden(detail_answers),
    "get-tv-episodes-id": Golden(episodes_answers, {"400": episodes_answers}),
    "get-anime-episodes-id": Golden(episodes_answers, {"400": episodes_answers}),
}
