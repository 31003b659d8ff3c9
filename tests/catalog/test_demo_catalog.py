"""The bundled demo catalog imports cleanly and holds the items the demo user rates."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from simkl_server.demo import DEMO_RATINGS, DEMO_USERNAME, ensure_demo
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import RatingsQuery
from simkl_server.storage.base import Store
from tests.catalog.support import catalog_items, import_path, on_store

DATA = Path(str(resources.files("simkl_server").joinpath("data")))
DEMO_CATALOG = DATA / "demo-catalog.jsonl.gz"


def test_the_demo_catalog_imports_without_problems_and_reimports_unchanged(
    empty_database: str,
) -> None:
    first = import_path(empty_database, DEMO_CATALOG)
    second = import_path(empty_database, DEMO_CATALOG)
    assert first.problems == []
    assert first.inserted > 2000
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, first.inserted)
    items = catalog_items(empty_database)
    t3, walking_dead, titan = items[53536], items[2090], items[39687]
    assert (t3.type, t3.title, t3.ids["imdb"]) == (
        MediaType.MOVIE,
        "Terminator 3: Rise of the Machines",
        "tt0181852",
    )
    assert (walking_dead.type, walking_dead.ids["tvdb"]) == (MediaType.SHOW, "153021")
    assert titan.type is MediaType.ANIME
    assert {titan.ids[k] for k in ("mal", "anidb", "tvdb")} == {"16498", "9541", "267440"}


def test_the_demo_set_up_rates_its_three_items(empty_database: str) -> None:
    async def set_up(store: Store) -> tuple[int, dict[int, int | None]]:
        credentials = await ensure_demo(store)
        user_id = await store.read.accounts.find_user(DEMO_USERNAME)
        assert user_id is not None
        rows = await store.read.ratings.rows(
            user_id, RatingsQuery(types=frozenset(MediaType)), now=store.clock.now_ms()
        )
        return credentials.catalog_items, {row.item.id: row.user_rating for row in rows}

    size, rated = on_store(empty_database, set_up)
    assert size == len(catalog_items(empty_database))
    assert rated == {simkl: rating for _, simkl, rating in DEMO_RATINGS}


def test_every_source_is_credited() -> None:
    notice = (DATA / "NOTICE.md").read_text(encoding="utf-8")
    for credit in (
        "The Unlicense",
        "srgsf/simkl-client",
        "bangumi-data",
        "Creative Commons Attribution 4.0",
        "Copyright (c) 2025 meisnate12",
        "arm by kawaiioverflow (P-Chan), MIT",
    ):
        assert credit in notice
