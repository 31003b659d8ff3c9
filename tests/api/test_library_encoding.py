"""Large library reads: encoded a row at a time and streamed a part at a time (so a large
library never holds every rendered row at once), the bytes exactly what encoding the whole
document gives, for every view, with memos, episodes, rewatch sessions and anime mappings in
the rows; emptied once encoded, or once the client has gone; full garbage collections held
off while they run. (`tests/robustness/test_streamed_reads.py` reads the chunks off a real
server.)"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncGenerator, Iterator
from typing import cast

import orjson
import pytest
from starlette.responses import StreamingResponse

from simkl_server.api._http import encode_read, large_read
from simkl_server.domain.library import LibraryRead
from simkl_server.domain.models import LibraryView
from tests.api.library_support import (
    BREAKING_BAD,
    COWBOY_BEBOP,
    DEMON_SLAYER,
    INCEPTION,
    LAST_OF_US,
    PULP_FICTION,
    WALKING_DEAD,
    history,
    ids,
    post,
)
from tests.api.test_rewatches import REWATCH, first_session, set_plan
from tests.conftest import Api

VIEWS = [
    {},
    {"extended": "full"},
    {"extended": "full", "episode_watched_at": "yes", "episode_runtime": "yes"},
    {"extended": "full", "include_all_episodes": "yes", "episode_tvdb_id": "yes"},
    {"extended": "full_anime_seasons", "memos": "yes", "next_watch_info": "yes"},
    {"extended": "ids_only"},
    {"extended": "simkl_ids_only"},
    {"allow_rewatch": "yes"},
    {"allow_rewatch": "yes", "extended": "full", "episode_watched_at": "yes"},
]


@pytest.fixture
def varied(api: Api) -> Api:
    """Movies and shows in several lists, episodes, a memo, an anime and a rewatch session."""
    set_plan(api, "vip")
    first_session(api)
    season = [{"number": 1, "episodes": [{"number": 1}, {"number": 2}]}]
    history(
        api,
        {
            "movies": [
                ids(INCEPTION, memo={"text": "again", "is_private": True}),
                ids(PULP_FICTION),
            ],
            "shows": [ids(WALKING_DEAD, seasons=season), ids(BREAKING_BAD), ids(LAST_OF_US)],
            "anime": [ids(COWBOY_BEBOP, episodes=[{"number": 3}])],
        },
    )
    post(api, "/sync/add-to-list", {"anime": [ids(DEMON_SLAYER, to="plantowatch")]})
    history(api, {"movies": [ids(INCEPTION)]}, params=REWATCH)
    return api


@pytest.mark.parametrize("params", VIEWS, ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("path", ["/sync/all-items", "/sync/all-items/shows", "/sync/ratings"])
def test_a_library_read_is_the_whole_document_encoded(
    varied: Api, path: str, params: dict[str, str]
) -> None:
    response = varied.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.content == orjson.dumps(orjson.loads(response.content))
    assert response.json(), "the read is not empty"


def test_an_empty_read_keeps_its_shape(api: Api) -> None:
    assert api.get("/sync/all-items").content == b"{}"
    assert api.get("/sync/all-items/movies/watching").content == b"{}"
    assert api.get("/sync/all-items/shows").json() == {"shows": []}
    assert api.get("/sync/ratings").content == b"{}"


def test_a_read_releases_what_it_rendered(varied: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once encoded, a read rendered off the loop (one listing episodes here: a small one is
    rendered on the loop) is emptied, in slices, in the worker thread, before it is let go."""
    released: list[LibraryRead] = []
    original = LibraryRead.release

    def spy(read: LibraryRead) -> None:
        original(read)
        released.append(read)

    monkeypatch.setattr(LibraryRead, "release", spy)
    params = {"extended": "full", "allow_rewatch": "yes", "next_watch_info": "yes"}
    assert varied.get("/sync/all-items", params=params).json()
    assert varied.get("/sync/ratings", params={"extended": "full"}).status_code == 200
    assert len(released) == 2
    for read in released:
        assert read.rows == []
        assert read.episodes == {}
        assert read.catalog == {}
        assert read.next_episodes == {}
        assert not read.rewatches


def test_full_collections_wait_for_the_last_large_read() -> None:
    before = gc.get_threshold()
    with large_read():
        held = gc.get_threshold()
        assert held[:2] == before[:2]
        assert held[2] > 10**9
        with large_read():
            assert gc.get_threshold() == held
        assert gc.get_threshold() == held
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), large_read():
        raise RuntimeError
    assert gc.get_threshold() == before


def test_a_streamed_read_renders_a_part_when_it_is_wanted_and_is_freed_when_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rendered: list[int] = []
    freed = threading.Event()
    monkeypatch.setattr(LibraryRead, "release", lambda _: freed.set())

    def parts(_: LibraryRead) -> Iterator[bytes]:
        for n in range(3):
            rendered.append(n)
            yield b"part"

    async def take_one_part_then_leave() -> None:
        response = await encode_read(parts, LibraryRead([], LibraryView()))
        assert isinstance(response, StreamingResponse)
        stream = cast(AsyncGenerator[bytes, None], response.body_iterator)
        assert await anext(stream) == b"part"
        assert rendered == [0]
        await stream.aclose()  # what the server does when the client goes away

    asyncio.run(take_one_part_then_leave())
    assert freed.wait(timeout=10)
    assert rendered == [0]
