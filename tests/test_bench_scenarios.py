"""The benchmark's request pools for the catalog reads, lookups and /sync/watched, at a small
size: a line naming its own path reads back as common.lua reads it, every request goes to the
operation its scenario names and succeeds on the data set loaded, the lookups ask only what the
official document declares (so Prism, validating against it, answers them); the bare ASGI app
replays a redirect's headers."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
from starlette.testclient import TestClient

from bench import datagen, scenarios
from bench.bare_asgi import FixedResponse
from bench.scenarios import SCENARIOS, Pools, parse_line
from simkl_server.app import create_app
from simkl_server.config import Settings
from simkl_server.openapi import document, operation_for

FIXTURES = Path(__file__).parent / "fixtures" / "openapi"
LUA = Path(__file__).parents[1] / "bench" / "lua"
SPEC = datagen.Spec.tiny()
OPERATIONS = {
    "movie": "get-movies-id",
    "show": "get-tv-id",
    "anime": "get-anime-id",
    "search_id": "get-search-id",
    "redirect": "redirect",
    "watched_10": "post-sync-watched",
}


@pytest.fixture(scope="module")
def dataset() -> datagen.Dataset:
    return datagen.generate(SPEC)


@pytest.fixture(scope="module")
def pools(dataset: datagen.Dataset, tmp_path_factory: pytest.TempPathFactory) -> Pools:
    return scenarios.write_pools(tmp_path_factory.mktemp("pools"), dataset)


def lines(pools: Pools, name: str) -> list[scenarios.PoolLine]:
    return [parse_line(raw) for raw in pools.scenarios[name].path.read_bytes().splitlines()]


def test_a_line_names_its_path_or_takes_the_scenarios() -> None:
    assert parse_line(b'4\t{"movies":[]}') == scenarios.PoolLine(4, None, b'{"movies":[]}')
    assert parse_line(b"0\t") == scenarios.PoolLine(0, None, b"")
    assert parse_line(b"2\t/search/id?imdb=tt1\t") == scenarios.PoolLine(
        2, "/search/id?imdb=tt1", b""
    )
    assert parse_line(b"1\t/scrobble/stop\t{}") == scenarios.PoolLine(1, "/scrobble/stop", b"{}")


def test_each_new_scenario_requests_its_operation(pools: Pools) -> None:
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    for name, operation_id in OPERATIONS.items():
        scenario = by_name[name]
        assert scenario.official
        assert not scenario.writes
        paths = [line.path or scenario.path for line in lines(pools, name)]
        assert paths
        for path in paths:
            found = operation_for(document(), scenario.method, urlsplit(path).path)
            assert found is not None, path
            assert found[1]["operationId"] == operation_id


def test_the_scripts_send_the_api_key_header_where_the_scenarios_say() -> None:
    for scenario in SCENARIOS:
        script = (LUA / scenario.script).read_text()
        assert ("api_key_header = true" in script) is scenario.api_key_header, scenario.name
    assert {s.name for s in SCENARIOS if s.api_key_header} == {
        "movie",
        "show",
        "anime",
        "redirect",
    }


def test_detail_reads_cycle_through_distinct_items(pools: Pools) -> None:
    for name in ("movie", "show", "anime"):
        paths = [line.path for line in lines(pools, name)]
        assert len(set(paths)) == len(paths) > 50
        assert len({line.token_index for line in lines(pools, name)}) == SPEC.users


def _declared(operation_id: str) -> dict[str, dict[str, Any]]:
    fixture = json.loads((FIXTURES / f"{operation_id}.json").read_text())
    return {p["name"]: p["schema"] for p in fixture["parameters"] if p["in"] == "query"}


def _valid(schema: dict[str, Any], value: str) -> bool:
    if schema.get("type") == "integer" and not value.isdigit():
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    return "pattern" not in schema or re.search(schema["pattern"], value) is not None


@pytest.mark.parametrize("name", ["search_id", "redirect"])
def test_lookups_ask_only_what_the_official_document_declares(pools: Pools, name: str) -> None:
    declared = _declared(OPERATIONS[name])
    kinds: set[str] = set()
    for line in lines(pools, name):
        assert line.path is not None
        for key, value in parse_qsl(urlsplit(line.path).query, strict_parsing=True):
            assert key in declared, line.path
            assert _valid(declared[key], value), line.path
            kinds.add(key)
    assert {"tmdb", "mal", "title", "year"} <= kinds


def test_watched_bodies_are_small_mixed_batches(pools: Pools) -> None:
    bodies = [orjson.loads(line.body) for line in lines(pools, "watched_10")]
    assert bodies
    assert all(len(body) == scenarios.WATCHED_BATCH for body in bodies)
    types = {item.get("type") for body in bodies for item in body}
    assert types <= {None, "movie", "show", "anime"}


def test_the_bare_app_replays_a_redirect() -> None:
    app = FixedResponse(301, b"", "", [("location", "https://simkl.com/movies/1/x")])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app({"type": "http"}, receive, send))

    assert sent[0]["status"] == 301
    assert sent[0]["headers"] == [
        (b"content-length", b"0"),
        (b"location", b"https://simkl.com/movies/1/x"),
    ]


def test_the_requests_succeed_on_the_loaded_data_set(
    dataset: datagen.Dataset, pools: Pools, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    asyncio.run(datagen.load(url, dataset))
    by_name = {scenario.name: scenario for scenario in SCENARIOS}
    found = 0
    with TestClient(create_app(Settings(database_url=url))) as client:
        for name in OPERATIONS:
            scenario = by_name[name]
            for line in lines(pools, name)[:30]:
                path = line.path or scenario.path
                joiner = "&" if "?" in path else "?"
                headers = {
                    "Authorization": f"Bearer {dataset.all_users[line.token_index].token}",
                    "Content-Type": "application/json",
                }
                if scenario.api_key_header:
                    headers["simkl-api-key"] = dataset.client_id
                response = client.request(
                    scenario.method,
                    f"{path}{joiner}client_id={dataset.client_id}",
                    headers=headers,
                    content=line.body or None,
                    follow_redirects=False,
                )
                assert scenario.succeeded(response.status_code), (path, response.text)
                if name == "watched_10":
                    answers = response.json()
                    assert len(answers) == scenarios.WATCHED_BATCH
                    assert sum(a["result"] is True for a in answers) == scenarios.WATCHED_OWNED
                elif name != "redirect":
                    found += response.json() != []
    assert found > 0.9 * 30 * 4
