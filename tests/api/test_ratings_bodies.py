"""What the ratings writes do with the bodies strangers send: any content type read as JSON,
malformed JSON and wrongly typed items refused with `wrong_parameter`, bodies over the size
limit and batches over the item limit refused, and nothing applied by a refused request.
(What every operation's requests go through is tests/contract/test_request_surface.py.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import TERMINATOR_3, UserState, by_simkl, rate, user_state
from tests.conftest import Api, serve_api
from tests.helpers import assert_simkl_error

VALID_ITEM = by_simkl(TERMINATOR_3, rating=3)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_post_body_is_read_as_json_whatever_its_content_type(
    api: Api, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = b'{"movies": [{"ids": {"simkl": 53536}, "rating": 6}]}'

    response = api.post("/sync/ratings", content=body, headers=headers)

    assert response.status_code == 201
    assert response.json()["added"]["movies"] == 1


MALFORMED_BODIES = [
    b'{"movies": [',
    b"not json",
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": 3}], }',
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": 3, "title": "\xff\xfe"}]}',
    b"\xef\xbb\xbf\xff{}",
    b'{"movies": [{"ids": {"simkl": 53536}, "title": "\\ud800", "rating": 3}]}',
    b'{"movies": [{"ids": {"simkl": 53536}, "rating": NaN}]}',
    b'[{"ids": {"simkl": 53536}, "rating": 3}]',
    b'"movies"',
    b"null",
    b"42",
]

BAD_ITEMS: list[Any] = [
    {"ids": [53536], "rating": 3},
    {"ids": "tt0181852", "rating": 3},
    {"ids": {"simkl": [53536]}, "rating": 3},
    {"ids": {"simkl": True}, "rating": 3},
    {"ids": {"imdb": {"id": "tt0181852"}}, "rating": 3},
    {"ids": {"simkl": 53536}, "title": 1999, "rating": 3},
    {"ids": {"simkl": 53536}, "title": ["Terminator"], "rating": 3},
    {"ids": {"simkl": 53536}, "title": "Termi\u0000nator", "rating": 3},
    {"ids": {"imdb": "tt01\u000081852"}, "rating": 3},
    {"ids": {"simkl": 53536}, "year": [2003], "rating": 3},
    {"ids": {"simkl": 53536}, "year": {"y": 2003}, "rating": 3},
]


@pytest.fixture
def rated(api: Api) -> tuple[Api, UserState]:
    """Alice has rated Terminator 3 an 8; the API and the state refused requests must keep."""
    rate(api, {"movies": [by_simkl(TERMINATOR_3, rating=8)]})
    before = user_state(api)
    api.clock.advance(60_000)
    return api, before


@pytest.mark.parametrize("path", ["/sync/ratings", "/sync/ratings/remove"])
@pytest.mark.parametrize("body", MALFORMED_BODIES)
def test_a_malformed_body_is_wrong_parameter_and_nothing_applies(
    rated: tuple[Api, UserState], path: str, body: bytes
) -> None:
    api, before = rated

    response = api.post(path, content=body, headers={"Content-Type": "application/json"})

    assert_simkl_error(response, 400, "wrong_parameter")
    assert user_state(api) == before


@pytest.mark.parametrize("path", ["/sync/ratings", "/sync/ratings/remove"])
@pytest.mark.parametrize("wrapper", ["movies", "shows", "anime"])
@pytest.mark.parametrize("bad_item", BAD_ITEMS)
def test_a_wrongly_typed_item_is_wrong_parameter_and_nothing_applies(
    rated: tuple[Api, UserState], path: str, wrapper: str, bad_item: Any
) -> None:
    api, before = rated
    body = {"movies": [VALID_ITEM], wrapper: [VALID_ITEM, bad_item]}

    response = api.post(path, json=body)

    assert_simkl_error(response, 400, "wrong_parameter")
    assert user_state(api) == before


def test_a_body_over_the_size_limit_is_413(catalog_database: str) -> None:
    with serve_api(catalog_database, max_body_bytes=256) as small:
        fits = {"movies": [by_simkl(TERMINATOR_3, rating=8)]}
        too_big = {"movies": [by_simkl(TERMINATOR_3, rating=3, title="x" * 300)]}
        assert small.post("/sync/ratings", json=fits).status_code == 201
        before = user_state(small)
        small.clock.advance(60_000)

        declared = small.post("/sync/ratings", json=too_big)
        streamed = small.post("/sync/ratings/remove", content=iter([b'{"movies": [', b" " * 300]))

        assert_simkl_error(declared, 413, "body_too_large")
        assert_simkl_error(streamed, 413, "body_too_large")
        assert user_state(small) == before


def test_more_items_than_the_batch_limit_is_max_items(catalog_database: str) -> None:
    with serve_api(catalog_database, max_batch_items=3) as limited:
        at_limit = {"movies": [VALID_ITEM] * 2, "anime": [{"ids": {"mal": 16498}, "rating": 9}]}
        over = {"movies": [VALID_ITEM] * 2, "shows": [VALID_ITEM], "anime": [VALID_ITEM]}
        answer = rate(limited, at_limit)["added"]
        assert (answer["movies"], answer["shows"]) == (2, 1)
        before = user_state(limited)

        for path in ("/sync/ratings", "/sync/ratings/remove"):
            assert_simkl_error(limited.post(path, json=over), 400, "max_items")
        assert user_state(limited) == before
