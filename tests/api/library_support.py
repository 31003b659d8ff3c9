"""Shared vocabulary of the library API tests: catalog ids, request helpers and fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Api

OPENAPI = Path(__file__).resolve().parent.parent / "fixtures" / "openapi"

# Items of tests/fixtures/catalog.jsonl by simkl id (episode lists where the catalog has one).
WALKING_DEAD = 2090  # ended; 11 seasons, 177 episodes (season 1: 6, season 2: 13)
GAME_OF_THRONES = 17465  # ended; 8 seasons, 73 episodes
BREAKING_BAD = 11121  # ended; 62 episodes
LAST_OF_US = 1411674  # airing; 9 + 7 episodes aired, 16 in all
THE_BEAR = 1203662  # airing; no episode list, 38 episodes
SEVERANCE = 900022  # airing; no episode list
CHARMED = 297
FUTURAMA = 3407  # airing; season 11 airs from 2026-07-27
DEMON_SLAYER = 831411  # anime, 26 episodes mapped to TVDB season 1
COWBOY_BEBOP = 37089  # anime, 26 episodes
ATTACK_ON_TITAN = 39687  # anime, no episode list, 25 episodes
SPIRITED_AWAY = 39011  # anime film
INCEPTION = 472214
DUNE_2 = 752138
TERMINATOR_3 = 53536
GODFATHER = 53434
PULP_FICTION = 54130
AVATAR_FIRE_AND_ASH = 900001  # upcoming movie


def load_official(name: str) -> dict[str, Any]:
    """One fixture file of tests/fixtures/openapi."""
    document: dict[str, Any] = json.loads((OPENAPI / f"{name}.json").read_text())
    return document


def paired_examples(operation: dict[str, Any], status: str) -> list[Any]:
    """(name, request, response) of every named example of a status."""
    requests = operation["request"]["examples"]
    responses = operation["responses"][status]["examples"]
    return [
        pytest.param(name, requests[name], responses[name], id=name)
        for name in sorted(requests)
        if name in responses
    ]


def ids(simkl: int, **fields: Any) -> dict[str, Any]:
    """A request item identified by its simkl id, with extra fields."""
    return {"ids": {"simkl": simkl}, **fields}


def post(api: Api, path: str, body: Any, *, status: int = 201, **kwargs: Any) -> Any:
    """POST a JSON body, assert the status; the answer."""
    response = api.post(path, json=body, **kwargs)
    assert response.status_code == status, response.text
    return response.json()


def get(api: Api, path: str, **kwargs: Any) -> Any:
    """GET, assert 200; the answer."""
    response = api.get(path, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def history(api: Api, body: Any, **kwargs: Any) -> Any:
    """POST /sync/history, asserting 201."""
    return post(api, "/sync/history", body, **kwargs)


def unhistory(api: Api, body: Any, **kwargs: Any) -> Any:
    """POST /sync/history/remove, asserting 201."""
    return post(api, "/sync/history/remove", body, **kwargs)


def library(api: Api, path: str = "/sync/all-items", **params: str) -> dict[int, dict[str, Any]]:
    """Every all-items row by simkl id."""
    answer = get(api, path, params=params)
    return {
        (row.get("movie") or row["show"])["ids"]["simkl"]: row
        for rows in answer.values()
        for row in rows
    }
