"""Write a synthetic catalog of N items in our interchange format, for scale tests.

    python -m bench.catalog_file 1000000 catalog-1m.jsonl.gz [--seed 1]

Movies, shows and anime in the proportions of a real library (60/25/15), each with the id
kinds its sources give: movies imdb + tmdb, shows imdb + tmdb + tvdb, anime mal + anidb +
anilist (+ tvdb for series). Every id is derived from the item's index, so no id is shared by
two items and `synthetic_ids(i)` names item i's ids without reading the file. Half the items
carry a simkl id (the others get local ids on import); one show in a hundred lists ten
episodes. Written line by line: memory stays flat whatever N is.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from simkl_server.catalog.interchange import open_export

# Offsets keep each kind's ids in a range of its own and away from the demo catalog's.
IMDB_BASE = 50_000_000
NUMERIC_BASE = 5_000_000
SIMKL_BASE = 2_000_000
_WORDS = (
    "night",
    "shadow",
    "river",
    "glass",
    "summer",
    "iron",
    "crown",
    "garden",
    "signal",
    "winter",
    "echo",
    "harbor",
    "silent",
    "paper",
    "golden",
    "broken",
    "hidden",
    "last",
    "first",
    "storm",
    "city",
    "ghost",
    "little",
    "secret",
    "wild",
)


def item_type(index: int) -> str:
    """The type of item `index` (a fixed pattern, so readers need no file)."""
    slot = index % 20
    return "movie" if slot < 12 else "show" if slot < 17 else "anime"


def synthetic_ids(index: int) -> dict[str, Any]:
    """The ids item `index` carries (simkl for even indexes only)."""
    kind = item_type(index)
    number = NUMERIC_BASE + index
    ids: dict[str, Any] = {"simkl": SIMKL_BASE + index} if index % 2 == 0 else {}
    if kind == "movie":
        ids |= {"imdb": f"tt{IMDB_BASE + index}", "tmdb": str(number)}
    elif kind == "show":
        ids |= {"imdb": f"tt{IMDB_BASE + index}", "tmdb": str(number), "tvdb": str(number)}
    else:
        ids |= {"mal": str(number), "anidb": str(number), "anilist": str(number)}
        if index % 3 == 0:
            ids["tvdb"] = str(number)
    return ids


def items(stop: int, seed: int = 1, *, start: int = 0) -> Iterator[dict[str, Any]]:
    """Items `start` to `stop` - 1 of the synthetic catalog, one interchange document each.
    Every fact is a function of the index and the seed, so a catalog can grow in steps."""
    for index in range(start, stop):
        yield document(index, seed)


def document(index: int, seed: int = 1) -> dict[str, Any]:
    """The interchange document of item `index`."""
    rng = random.Random(seed * 1_000_003 + index)
    kind = item_type(index)
    title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4))).title()
    doc: dict[str, Any] = {
        "type": kind,
        "title": f"{title} {index}",
        "year": rng.randint(1950, 2026),
        "ids": synthetic_ids(index),
    }
    if kind == "movie":
        doc["status"] = "released"
    else:
        doc["status"] = rng.choice(("ended", "airing"))
        doc["total_episodes"] = rng.randint(1, 200)
    if kind == "anime":
        doc["anime_type"] = rng.choice(("tv", "tv", "ova", "movie", "ona"))
    if kind == "show" and index % 100 == 0:
        doc["episodes"] = [{"season": 1, "number": n} for n in range(1, 11)]
        doc["total_episodes"] = 10
    return doc


def write(path: Path, count: int, seed: int = 1) -> None:
    """Write the catalog to `path` (gzipped when the name ends .gz)."""
    with open_export(path) as out:
        for doc in items(count, seed):
            out.write(orjson.dumps(doc) + b"\n")


def main() -> None:
    """Command line: N PATH [--seed S]."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write(args.path, args.count, args.seed)


if __name__ == "__main__":
    main()
