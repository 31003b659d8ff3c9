"""Build the bundled demo catalog (simkl_server/data/demo-catalog.jsonl.gz) from real open data.

A development tool, run by hand when the sources change:

    python scripts/build_demo_catalog.py --source DIR [--out PATH] [--today YYYY-MM-DD]

DIR holds `simkl-captures/*.json` (Simkl API responses recorded in 2020, public domain) and
`catalog/` with `bangumi-data-sample.json`, `anime-ids-sample.json` (Kometa Anime-IDs) and
`arm-sample.json`. Every source's licence is in simkl_server/data/NOTICE.md.

Captured items keep their real Simkl ids; anime known only from the id data get none (the
importer mints local ids). Records that share an id are merged; a record that would make one
id point at two items is dropped and counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from simkl_server.catalog.interchange import ANIME_TYPES, MOVIE_STATUSES, SHOW_STATUSES, parse_line
from simkl_server.domain.catalog import Problem
from simkl_server.domain.ids import EXTERNAL_ID_PRIORITY, item_lookup_keys, normalize_id
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogItem

DEFAULT_OUT = Path(__file__).parents[1] / "simkl_server" / "data" / "demo-catalog.jsonl.gz"
# Id kinds of the Simkl API's id table (the ones the server resolves, plus episode-level and
# the response-only `slug`); social links are dropped.
KEPT_IDS = frozenset(EXTERNAL_ID_PRIORITY) | {"crunchyroll", "hulu", "slug"}
# Older responses spell the TMDB id under these names.
ID_ALIASES = {"moviedb": "tmdb", "tmdbtv": "tmdb"}
ANIME_ID_KINDS = frozenset({"mal", "anidb", "anilist", "kitsu"})
# Ids that name one entry exactly; TMDB, TVDB and IMDb often name a whole series of seasons.
PRECISE_IDS = ANIME_ID_KINDS | {"simkl"}
CAPTURE_TYPES = {"movie": "movie", "show": "show", "tv": "show", "anime": "anime"}
CONTEXT_KEYS = {
    "movie": "movie",
    "movies": "movie",
    "show": "show",
    "shows": "show",
    "anime": "anime",
    "episode": "episode",
    "episodes": "episode",
    "seasons": "episode",
}
# A fact the sources cannot join on their own: Simkl's API documentation (its id-lookup
# example) gives Attack on Titan as simkl 39687 with MAL id 16498.
DOCUMENTED_LINKS = {39687: {"mal": "16498"}}
BANGUMI_TYPES = {"tv": "tv", "web": "ona", "movie": "movie", "ova": "ova"}
BANGUMI_IDS = {"mal": "mal", "anidb": "anidb", "aniList": "anilist"}
BANGUMI_TMDB = re.compile(r"(tv|movie)/(\d+)")
BROADCAST_OFFSET = {"ja": dt.timedelta(hours=9)}  # years count in the broadcaster's time zone


@dataclass
class Entry:
    """One catalog item being assembled."""

    type: str
    title: str
    ids: dict[str, str]
    simkl: int | None = None
    year: int | None = None
    status: str | None = None
    total_episodes: int | None = None
    anime_type: str | None = None
    release_date: str | None = None

    def index_keys(self, kinds: frozenset[str] | None = None) -> set[str]:
        """The index keys the importer will give this item (and `simkl:N`), or those of the
        given id kinds only."""
        wanted = {k: v for k, v in self.ids.items() if kinds is None or k in kinds}
        item = CatalogItem(
            id=0,
            type=MediaType(self.type),
            title=self.title,
            anime_type=self.anime_type,
            ids=wanted,
        )
        own = set(item_lookup_keys(item))
        if self.simkl is not None and (kinds is None or "simkl" in kinds):
            own.add(f"simkl:{self.simkl}")
        return own

    def line(self) -> bytes:
        """The interchange line of this item."""
        ids: dict[str, Any] = {"simkl": self.simkl} if self.simkl is not None else {}
        document = {
            "type": self.type,
            "title": self.title,
            "year": self.year,
            "ids": {**ids, **self.ids},
            "status": self.status,
            "total_episodes": self.total_episodes,
            "anime_type": self.anime_type,
            "release_date": self.release_date,
        }
        return orjson.dumps({k: v for k, v in document.items() if v is not None}) + b"\n"


@dataclass
class Catalog:
    """Entries with an index that never lets one id point at two of them."""

    entries: list[Entry] = field(default_factory=list)
    owner: dict[str, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, entry: Entry, source: str) -> None:
        """Merge the entry into the one it shares ids with, or append it, or drop it."""
        self.counts[f"{source}: read"] += 1
        outcome = self._place(entry) if entry.index_keys() else "dropped, no id"
        self.counts[f"{source}: {outcome}"] += 1

    def _place(self, entry: Entry) -> str:
        precise = self._owners(entry, PRECISE_IDS)
        if len(precise) > 1:
            return "dropped, its ids belong to two items"
        if precise:
            return self._merge_agreeing(precise.pop(), entry, PRECISE_IDS)
        others = self._owners(entry, None)
        if not others:
            return self._append(entry, "added")
        if entry.type == "anime" and entry.simkl is None:
            # Another season of a series whose TMDB/TVDB/IMDb id an earlier season holds: its
            # own anime ids make it a separate item; series-level ids stay with the first.
            entry.ids = {k: v for k, v in entry.ids.items() if k in PRECISE_IDS}
            return self._append(entry, "added without series ids an earlier item holds")
        if len(others) > 1:
            return "dropped, its ids belong to two items"
        return self._merge_agreeing(others.pop(), entry, None)

    def _merge_agreeing(self, target: int, entry: Entry, kinds: frozenset[str] | None) -> str:
        if _disagree(self.entries[target], entry, kinds):
            return "dropped, it disagrees with the item holding its ids"
        self._merge(target, entry)
        return "merged into an earlier item"

    def _append(self, entry: Entry, outcome: str) -> str:
        if not entry.index_keys():
            return "dropped, only ids another item holds"
        self.entries.append(entry)
        self._own(len(self.entries) - 1)
        return outcome

    def _owners(self, entry: Entry, kinds: frozenset[str] | None) -> set[int]:
        return {self.owner[key] for key in entry.index_keys(kinds) if key in self.owner}

    def add_ids(self, index: int, ids: dict[str, str], source: str) -> None:
        """Give an entry ids it lacks, skipping any another entry already holds."""
        added, skipped = self._adopt(index, ids)
        self.counts[f"{source}: ids added"] += added
        if skipped:
            self.counts[f"{source}: ids skipped, held by another item"] += skipped

    def _adopt(self, index: int, ids: dict[str, str]) -> tuple[int, int]:
        entry, added, skipped = self.entries[index], 0, 0
        for kind, value in ids.items():
            if kind in entry.ids:
                continue
            trial = Entry(entry.type, entry.title, {kind: value}, anime_type=entry.anime_type)
            if any(self.owner.get(key, index) != index for key in trial.index_keys()):
                skipped += 1
                continue
            entry.ids[kind] = value
            self._own(index)
            added += 1
        return added, skipped

    def find(self, key: str) -> int | None:
        """The entry holding an index key."""
        return self.owner.get(key)

    def _merge(self, index: int, entry: Entry) -> None:
        """Fill what the earlier entry lacks; what it has wins."""
        target = self.entries[index]
        if target.type == "show" and entry.type == "anime":
            target.type = "anime"  # 2020 libraries listed anime among shows
        for name in ("simkl", "year", "status", "total_episodes", "anime_type", "release_date"):
            if getattr(target, name) is None:
                setattr(target, name, getattr(entry, name))
        self._own(index)
        self._adopt(index, entry.ids)

    def _own(self, index: int) -> None:
        self.owner.update(dict.fromkeys(self.entries[index].index_keys(), index))

    def lines(self) -> list[bytes]:
        """Captured items by Simkl id, then the rest in the order they were read."""
        shared = Counter(key for entry in self.entries for key in entry.index_keys())
        if max(shared.values(), default=1) > 1:
            raise SystemExit(f"ids held by two items: {[k for k, n in shared.items() if n > 1]}")
        known = sorted((e for e in self.entries if e.simkl is not None), key=lambda e: e.simkl or 0)
        return [e.line() for e in known] + [e.line() for e in self.entries if e.simkl is None]


def _disagree(old: Entry, new: Entry, kinds: frozenset[str] | None) -> bool:
    """Whether two entries give different Simkl ids, or different values for one id kind
    (of `kinds`, or of any kind when None)."""
    if None not in (old.simkl, new.simkl) and old.simkl != new.simkl:
        return True
    return any(
        normalize_id(kind, value) != normalize_id(kind, old.ids[kind])
        for kind, value in new.ids.items()
        if kind in old.ids and (kinds is None or kind in kinds)
    )


# --- Simkl captures -----------------------------------------------------------------------


def capture_entries(folder: Path) -> Iterator[Entry]:
    """Every catalog item with a real `ids.simkl` in the recorded responses."""
    for path in sorted(folder.glob("*.json")):
        yield from _walk(orjson.loads(path.read_bytes()), None)


def _walk(node: Any, context: str | None) -> Iterator[Entry]:
    if isinstance(node, list):
        for child in node:
            yield from _walk(child, context)
        return
    if not isinstance(node, dict):
        return
    entry = _capture_entry(node, context)
    if entry is not None:
        yield entry
    inherited = entry.type if entry is not None else context
    for key, value in node.items():
        if key != "ids":
            yield from _walk(value, CONTEXT_KEYS.get(key, inherited))


def _capture_entry(node: dict[str, Any], context: str | None) -> Entry | None:
    ids, title = node.get("ids"), node.get("title")
    if not isinstance(ids, dict) or not isinstance(title, str) or not title.strip():
        return None
    simkl = ids.get("simkl")
    media_type = _capture_type(node, ids, context)
    if not isinstance(simkl, int) or simkl <= 0 or media_type is None:
        return None
    anime_type = str(node.get("anime_type") or "").lower()
    statuses = MOVIE_STATUSES if media_type == "movie" else SHOW_STATUSES
    return Entry(
        type=media_type,
        title=title.strip(),
        ids=_kept_ids(ids),
        simkl=simkl,
        year=_int(node.get("year")),
        status=node.get("status") if node.get("status") in statuses else None,
        total_episodes=_int(node.get("total_episodes")),
        anime_type=anime_type if media_type == "anime" and anime_type in ANIME_TYPES else None,
        release_date=_date(node.get("released")) if media_type == "movie" else None,
    )


def _capture_type(node: dict[str, Any], ids: dict[str, Any], context: str | None) -> str | None:
    """Explicit `type` first; then anime signs; then the key the object sits under."""
    if context == "episode" or node.get("type") == "episode":
        return None
    explicit = CAPTURE_TYPES.get(str(node.get("type")))
    if explicit is not None:
        return explicit
    if node.get("anime_type") or ANIME_ID_KINDS & set(ids):
        return "anime"
    return context if context in ("movie", "show", "anime") else None


def _kept_ids(ids: dict[str, Any]) -> dict[str, str]:
    kept: dict[str, str] = {}
    for raw_kind, value in ids.items():
        kind = ID_ALIASES.get(raw_kind, raw_kind)
        if kind in KEPT_IDS and value not in (None, "") and kind not in kept:
            kept[kind] = str(value).strip()
    return kept


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _date(value: Any) -> str | None:
    try:
        return dt.date.fromisoformat(value).isoformat() if isinstance(value, str) else None
    except ValueError:
        return None


# --- bangumi-data -------------------------------------------------------------------------


def bangumi_entries(document: dict[str, Any], today: dt.date) -> Iterator[Entry]:
    """Anime of bangumi-data, with ids, year and airing state from its dates."""
    for item in document["items"]:
        anime_type = BANGUMI_TYPES.get(item.get("type"))
        begin, end = _moment(item.get("begin")), _moment(item.get("end"))
        offset = BROADCAST_OFFSET.get(item.get("lang"), dt.timedelta())
        yield Entry(
            type="anime",
            title=_bangumi_title(item),
            ids=_bangumi_ids(item.get("sites", []), anime_type),
            year=(begin + offset).year if begin else None,
            status=_airing(begin, end, today, is_movie=anime_type == "movie"),
            anime_type=anime_type,
        )


def _bangumi_title(item: dict[str, Any]) -> str:
    translated = item.get("titleTranslate") or {}
    for language in ("en", "ja"):
        names = [name.strip() for name in translated.get(language, []) if name.strip()]
        if names:
            return str(names[0])
    return str(item["title"]).strip()


def _bangumi_ids(sites: Iterable[dict[str, Any]], anime_type: str | None) -> dict[str, str]:
    ids: dict[str, str] = {}
    tmdb_space = "movie" if anime_type == "movie" else "tv"
    for site in sites:
        value = str(site.get("id", ""))
        kind = BANGUMI_IDS.get(site.get("site", ""))
        if kind is not None and value.isdigit():
            ids.setdefault(kind, value)
        tmdb = BANGUMI_TMDB.fullmatch(value) if site.get("site") == "tmdb" else None
        if tmdb is not None and tmdb.group(1) == tmdb_space:  # season forms never match
            ids.setdefault("tmdb", tmdb.group(2))
    return ids


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _airing(
    begin: dt.datetime | None, end: dt.datetime | None, today: dt.date, *, is_movie: bool
) -> str | None:
    """Not begun → tba; a film, or a run whose end has passed → ended; otherwise airing."""
    if begin is None:
        return None
    if begin.date() > today:
        return "tba"
    if is_movie or (end is not None and end.date() <= today):
        return "ended"
    return "airing"


# --- id mappings --------------------------------------------------------------------------


def kometa_ids(mapping: dict[str, Any], entry: Entry) -> dict[str, str]:
    """Ids Kometa's Anime-IDs gives an entry through its AniDB id (ambiguous lists skipped)."""
    row = mapping.get(entry.ids.get("anidb", ""))
    if not isinstance(row, dict):
        return {}
    ids = {
        kind: _single(row.get(name))
        for kind, name in (("mal", "mal_id"), ("anilist", "anilist_id"))
    }
    imdb = str(row.get("imdb_id", "")).split(",")[0].strip()
    if entry.anime_type == "movie":
        ids |= {"imdb": imdb, "tmdb": _single(row.get("tmdb_movie_id"))}
    elif row.get("tvdb_season") in (1, -1) and row.get("tvdb_epoffset") == 0:
        # Only the entry a TV series starts with carries that series' ids; later seasons
        # map to the same ids and would take them from the first.
        ids |= {
            "tvdb": _single(row.get("tvdb_id")),
            "imdb": imdb,
            "tmdb": _single(row.get("tmdb_show_id")),
        }
    return {kind: value for kind, value in ids.items() if value}


def _single(value: Any) -> str:
    text = str(value) if value is not None else ""
    return text if text.isdigit() else ""


def arm_index(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, str]]:
    """arm's MAL ↔ AniList bridge, keyed by either id."""
    index: dict[tuple[str, str], dict[str, str]] = {}
    for row in rows:
        if "mal_id" in row and "anilist_id" in row:
            ids = {"mal": str(row["mal_id"]), "anilist": str(row["anilist_id"])}
            for kind, value in ids.items():
                index.setdefault((kind, value), ids)
    return index


def arm_ids(index: dict[tuple[str, str], dict[str, str]], entry: Entry) -> dict[str, str]:
    """The MAL or AniList id arm pairs with the one the entry has."""
    for kind in ("mal", "anilist"):
        if kind in entry.ids:
            return index.get((kind, entry.ids[kind]), {})
    return {}


# --- assembly -----------------------------------------------------------------------------


def build(source: Path, today: dt.date) -> Catalog:
    """Read every source and assemble the catalog."""
    built = Catalog()
    for entry in capture_entries(source / "simkl-captures"):
        built.add(entry, "simkl captures")
    for simkl, ids in DOCUMENTED_LINKS.items():
        index = built.find(f"simkl:{simkl}")
        if index is not None:
            built.add_ids(index, ids, "documented links")
    data = source / "catalog"
    for entry in bangumi_entries(_load(data / "bangumi-data-sample.json"), today):
        built.add(entry, "bangumi-data")
    kometa, arm = _load(data / "anime-ids-sample.json"), arm_index(_load(data / "arm-sample.json"))
    for index, entry in enumerate(built.entries):
        if entry.type == "anime":
            built.add_ids(index, kometa_ids(kometa, entry), "Kometa Anime-IDs")
            built.add_ids(index, arm_ids(arm, entry), "arm")
    return built


def _load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def write(lines: list[bytes], out: Path) -> None:
    """Gzip the lines without a timestamp, so the same input gives the same bytes."""
    for number, line in enumerate(lines, start=1):
        parsed = parse_line(line, f"line {number}")
        if isinstance(parsed, Problem):
            raise SystemExit(f"refusing to write an invalid line: {parsed}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.writelines(lines)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, build, write, print counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="folder of the inputs")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="file to write")
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="date airing states are judged at (YYYY-MM-DD; default today, UTC)",
    )
    args = parser.parse_args(argv)
    built = build(args.source, args.today)
    lines = built.lines()
    write(lines, args.out)
    for name, count in sorted(built.counts.items()):
        print(f"{name}: {count}")
    by_type = Counter(entry.type for entry in built.entries)
    with_simkl = sum(1 for entry in built.entries if entry.simkl is not None)
    print(
        f"wrote {len(lines)} items to {args.out} ({dict(sorted(by_type.items()))}; "
        f"{with_simkl} with a Simkl id)"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
