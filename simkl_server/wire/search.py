"""Search, redirect and detail endpoints: their query and body parsing and their answers, the
only place their JSON keys are spelled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from simkl_server.domain.ids import EXTERNAL_ID_PRIORITY, normalize_id, parse_simkl_id, title_key
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import CatalogEpisode, CatalogItem
from simkl_server.domain.search import (
    RANDOM_YEAR_FROM,
    SITE,
    FileMatch,
    IdLookup,
    RandomFilter,
    SearchPage,
    page_url,
    slug_of,
)
from simkl_server.errors import WrongParameter
from simkl_server.wire.media import ids_object

# Query names of ids as the endpoints take them; `boxd` is Letterboxd's alias.
_ID_ALIASES = {"boxd": "letterboxd"}
SEARCH_TYPES = {"movie": MediaType.MOVIE, "tv": MediaType.SHOW, "anime": MediaType.ANIME}
_SEARCH_ENDPOINT = {MediaType.MOVIE: "movies", MediaType.SHOW: "tv", MediaType.ANIME: "anime"}
# `type` of /search/id (tmdb's space) and /redirect: what each word may match.
_KINDS = {
    "movie": frozenset({MediaType.MOVIE}),
    "show": frozenset({MediaType.SHOW, MediaType.ANIME}),
    "tv": frozenset({MediaType.SHOW}),
    "anime": frozenset({MediaType.ANIME}),
}
REDIRECT_TARGETS = frozenset({"simkl", "trailer", "twitter", "watched"})
MAX_TEXT = 1000


def optional_int(params: Mapping[str, str], name: str) -> int | None:
    """An integer query value; absent or not a number counts as absent (Simkl ignores it)."""
    value = params.get(name, "").strip()
    if not value.lstrip("+-").isdigit() or len(value) > 18:
        return None
    return int(value)


def _text(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > MAX_TEXT or "\x00" in value:
        raise WrongParameter(f"{name} is longer than {MAX_TEXT} characters or holds NUL")
    return value


def id_lookup(params: Mapping[str, str], *, kinds_param: str = "type") -> IdLookup:
    """The ids, title and year of a `/search/id` or `/redirect` query (malformed ids ignored)."""
    external = []
    for name, value in params.items():
        kind = _ID_ALIASES.get(name, name)
        if kind not in EXTERNAL_ID_PRIORITY:
            continue
        if "\x00" in value:
            raise WrongParameter(f"{name} holds NUL")  # as a NUL in a body's id is refused
        if value.strip() and len(value) <= MAX_TEXT:
            normal = normalize_id(kind, value)
            if normal is not None:
                external.append((kind, normal))
    simkl = params.get("simkl", "")
    kind_word = params.get(kinds_param, "").strip().lower()
    title = _text(params, "title")
    return IdLookup(
        simkl=parse_simkl_id(simkl) if simkl and len(simkl) <= 40 else None,
        external=tuple(external),
        tmdb_scope="tv" if kind_word in ("show", "tv", "anime") else "movie",
        title_key=title_key(title) if title else None,
        year=optional_int(params, "year"),
        kinds=_KINDS.get(kind_word),
    )


def search_id_response(item: CatalogItem | None) -> list[dict[str, Any]]:
    """`[record]`, or `[]` when nothing matched."""
    if item is None:
        return []
    record: dict[str, Any] = {"type": _record_type(item), "title": item.title}
    if item.poster is not None:
        record["poster"] = item.poster
    record["year"] = item.year
    if item.status is not None:
        record["status"] = item.status
    if item.type is not MediaType.MOVIE and item.total_episodes is not None:
        record["total_episodes"] = item.total_episodes
    if item.type is MediaType.ANIME and item.anime_type is not None:
        record["anime_type"] = item.anime_type
    record["ids"] = {"simkl": item.id, "slug": slug_of(item)}
    if item.type is MediaType.ANIME and "mal" in item.ids and item.anime_type is not None:
        mal = item.ids["mal"]
        record["mal"] = {"id": int(mal) if mal.isdigit() else mal, "type": item.anime_type}
    return [record]


def _record_type(item: CatalogItem) -> str:
    return "tv" if item.type is MediaType.SHOW else item.type.value


# ---- /search/{type} --------------------------------------------------------------------------


def search_query(params: Mapping[str, str]) -> tuple[str, int | None, int | None, bool]:
    """`q` (required; a missing one finds nothing), `page`, `limit`, `extended=full`."""
    text = _text(params, "q") or ""
    full = params.get("extended", "").strip().lower() == "full"
    return text, optional_int(params, "page"), optional_int(params, "limit"), full


def search_response(found: SearchPage, media_type: MediaType, *, full: bool) -> list[Any]:
    """The page's items in the search shape (`simkl_id` in `ids`)."""
    return [_search_item(item, media_type, full=full) for item in found.items]


def pagination_headers(found: SearchPage) -> dict[str, str]:
    """The `X-Pagination-*` headers of a page."""
    return {
        "X-Pagination-Page": str(found.page),
        "X-Pagination-Limit": str(found.limit),
        "X-Pagination-Page-Count": str(found.page_count),
        "X-Pagination-Item-Count": str(found.total),
    }


def _search_item(item: CatalogItem, media_type: MediaType, *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"title": item.title}
    if media_type is MediaType.ANIME:
        out["title_romaji"] = item.title
        if item.anime_type is not None:
            out["type"] = item.anime_type
    out["year"] = item.year
    out["endpoint_type"] = _SEARCH_ENDPOINT[media_type]
    out["poster"] = item.poster
    ids: dict[str, Any] = {"simkl_id": item.id, "slug": slug_of(item)}
    if "tmdb" in item.ids:
        ids["tmdb"] = item.ids["tmdb"]
    out["ids"] = ids
    if full:
        out["url"] = f"/{_SEARCH_ENDPOINT[media_type]}/{item.id}/{slug_of(item)}"
        if media_type is not MediaType.MOVIE:
            out["ep_count"] = item.total_episodes
            if item.status is not None:
                out["status"] = item.status
        out["rank"] = None
    return out


# ---- /search/file ----------------------------------------------------------------------------


def file_request(document: Any) -> tuple[str, int] | None:
    """`file` (or the legacy `File`) and `part` (1 by default); None without a file name."""
    if not isinstance(document, dict):
        return None
    name = document.get("file", document.get("File"))
    if not isinstance(name, str) or not name.strip():
        return None
    if len(name) > MAX_TEXT or "\x00" in name:
        raise WrongParameter(f"file is longer than {MAX_TEXT} characters or holds NUL")
    part = document.get("part", 1)
    if isinstance(part, str) and part.strip().isdigit():
        part = int(part)
    if not isinstance(part, int) or isinstance(part, bool) or not 1 <= part <= 1000:
        part = 1
    return name, part


def file_response(found: FileMatch | None) -> Any:
    """`{"type": "movie", "movie": ...}`, `{"type": "show", "show": ...}`, or the show and the
    episode (`{"type": "episode", ...}`); `[]` for no match."""
    if found is None:
        return []
    media = {"title": found.item.title, "year": found.item.year, "ids": ids_object(found.item)}
    if found.item.type is MediaType.MOVIE:
        return {"type": "movie", "movie": media}
    if found.number is None:
        return {"type": "show", "show": media}
    episode: dict[str, Any] = {"season": found.season, "episode": found.number}
    episode["title"] = _episode_title(found.episode, found.number)
    episode["multipart"] = False
    episode["ids"] = _episode_ids(found.episode)
    return {"type": "episode", "show": media, "episode": episode}


def _episode_title(episode: CatalogEpisode | None, number: int) -> str:
    """The episode's title, `Episode N` when the catalog has none (as Simkl names them)."""
    if episode is not None and episode.title:
        return episode.title
    return f"Episode {number}"


def _episode_ids(episode: CatalogEpisode | None) -> dict[str, Any]:
    if episode is None or episode.tvdb_id is None:
        return {}
    return {"tvdb": str(episode.tvdb_id)}


# ---- /search/random --------------------------------------------------------------------------


def random_request(
    params: Mapping[str, str], document: Any
) -> tuple[RandomFilter, int | None, str | None]:
    """Filters from the query or a JSON body (either works); `limit` None: one item."""
    merged: dict[str, str] = dict(params)
    if isinstance(document, dict):
        for name, value in document.items():
            if isinstance(value, (str, int)) and not isinstance(value, bool):
                merged.setdefault(str(name), str(value))
    kind = SEARCH_TYPES.get(merged.get("type", "").strip().lower())
    year_from = optional_int(merged, "year_from")
    limit = optional_int(merged, "limit")
    service = _SERVICES.get(merged.get("service", "").strip().lower())
    wanted = RandomFilter(
        service=service[0] if service else None,
        media_type=kind,
        year_from=year_from if "year_from" in merged else RANDOM_YEAR_FROM,
        year_to=optional_int(merged, "year_to"),
    )
    asked = merged.get("service", "").strip().lower()
    return wanted, limit if limit is not None and limit > 0 else None, asked if service else None


def random_response(items: Sequence[CatalogItem], *, many: bool, service: str | None = None) -> Any:
    """`{simkl_id, simkl_url}` (with the service's id and link when asked for one), a list of
    them with `limit`, `{"error": "not_found"}` for none."""
    if not items:
        return {"error": "not_found"}
    picked = [_random_pick(item, service) for item in items]
    return picked if many else picked[0]


def _random_pick(item: CatalogItem, service: str | None) -> dict[str, Any]:
    pick: dict[str, Any] = {"simkl_id": item.id, "simkl_url": page_url(item)}
    link = _SERVICES.get(service or "")
    if link is not None and link[0] in item.ids:
        pick[f"{service}_id"] = item.ids[link[0]]
        pick[f"{service}_url"] = link[1].format(item.ids[link[0]])
    return pick


# `service` of /search/random: the id kind it needs, and the link to a title there.
_SERVICES = {
    "netflix": ("netflix", "http://www.netflix.com/title/{}"),
    "crunchy": ("crunchyroll", "https://www.crunchyroll.com/series/{}"),
    "hulu": ("hulu", "https://www.hulu.com/watch/{}"),
}


# ---- /redirect -------------------------------------------------------------------------------


def redirect_request(params: Mapping[str, str]) -> tuple[str, IdLookup, int | None, int | None]:
    """`to` (simkl by default; another word → 400), the lookup, and `season` / `episode`
    (either set: movies are ignored)."""
    target = params.get("to", "simkl") or "simkl"
    if target not in REDIRECT_TARGETS:
        raise WrongParameter("to must be one of simkl, trailer, twitter, watched")
    season, episode = optional_int(params, "season"), optional_int(params, "episode")
    lookup = id_lookup(params)
    if season is not None or episode is not None:
        kinds = lookup.kinds or _KINDS["show"]
        lookup = IdLookup(
            lookup.simkl,
            lookup.external,
            "tv",
            lookup.title_key,
            lookup.year,
            kinds - {MediaType.MOVIE} or _KINDS["show"],
        )
    return target, lookup, season, episode


def redirect_location(
    target: str,
    item: CatalogItem | None,
    params: Mapping[str, str],
    *,
    season: int | None,
    episode: int | None,
    client_id: str,
) -> str:
    """Where `/redirect` points: the item's page (its episode's with `season`/`episode`), the
    tweet intent, the page marked watched; simkl.com's search when nothing matched."""
    if item is None:
        title = params.get("title", "")[:MAX_TEXT]
        return f"{SITE}/search/?{urlencode({'type': 'all', 'q': title})}"
    url = page_url(item)
    if episode is not None or season is not None:
        number = episode if episode is not None else 1
        if item.type is MediaType.ANIME:
            url += f"/episode-{number}/"
        else:
            url += f"/season-{season if season is not None else 1}/episode-{number}/"
    if target == "twitter":
        text = item.title
        if params.get("ep_title"):
            text += f" - {params['ep_title'][:MAX_TEXT]}"
        return "https://twitter.com/intent/tweet?" + urlencode({"text": text, "url": url})
    if target == "watched":
        return f"{url}?{urlencode({'mark': 'watched', 'client_id': client_id})}"
    return url


# ---- detail records --------------------------------------------------------------------------


def detail_response(item: CatalogItem | None) -> Any:
    """The item's detail record with the fields the catalog has; `[]` for no such item."""
    if item is None:
        return []
    out: dict[str, Any] = {"title": item.title, "year": item.year, "type": item.type.value}
    if item.type is MediaType.ANIME and item.anime_type is not None:
        out["anime_type"] = item.anime_type
    ids = {"simkl": item.id, "slug": slug_of(item)}
    ids.update({k: v for k, v in item.ids.items() if k not in ("netflix", "crunchyroll", "hulu")})
    out["ids"] = ids
    if item.poster is not None:
        out["poster"] = item.poster
    if item.runtime is not None:
        out["runtime"] = item.runtime
    if item.type is MediaType.MOVIE:
        if item.release_date is not None:
            out["released"] = item.release_date
        return out
    if item.release_date is not None:
        out["first_aired"] = item.release_date
    if item.status is not None:
        out["status"] = item.status
    if item.total_episodes is not None:
        out["total_episodes"] = item.total_episodes
    return out


def episodes_response(
    episodes: Sequence[CatalogEpisode] | None, media_type: MediaType, now_ms: int
) -> list[dict[str, Any]]:
    """The episode list: regular episodes by season and number, then specials (season 0)."""
    if episodes is None:
        return []
    return [_episode(e, media_type, now_ms) for e in episodes]


def _episode(episode: CatalogEpisode, media_type: MediaType, now_ms: int) -> dict[str, Any]:
    special = episode.season == 0
    out: dict[str, Any] = {"title": _episode_title(episode, episode.number)}
    if not special:
        if media_type is MediaType.SHOW:
            out["season"] = episode.season
        out["episode"] = episode.number
    out["type"] = "special" if special else "episode"
    out["aired"] = episode.aired_at is not None and episode.aired_at <= now_ms
    if episode.aired_at is not None:
        out["date"] = _iso_ms(episode.aired_at)
    if episode.runtime is not None:
        out["runtime"] = episode.runtime
    out["ids"] = _episode_ids(episode)
    if media_type is MediaType.ANIME and episode.tvdb_season is not None:
        out["tvdb"] = {"season": episode.tvdb_season, "episode": episode.tvdb_number}
    return out


def _iso_ms(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def catalog_id(text: str) -> int | None:
    """A detail endpoint's `{id}`: a simkl id, or None when it cannot be one."""
    return parse_simkl_id(text) if len(text) <= 40 else None
