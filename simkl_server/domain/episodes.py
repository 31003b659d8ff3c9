"""Which episodes a write means: the seasons and episodes it names, found by TVDB episode id,
by TVDB numbering (anime sent that way) or by season and number, against the catalog's list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from simkl_server.domain.changes import LibraryChanges
from simkl_server.domain.library import EpisodeList
from simkl_server.domain.models import CatalogEpisode, CatalogItem, EpisodeKey, SeasonTarget


def episode_targets(
    changes: LibraryChanges,
    item: CatalogItem,
    seasons: Sequence[SeasonTarget],
    *,
    watched_at: int | None,
    tvdb_numbering: bool,
) -> dict[EpisodeKey, int]:
    """The episodes the seasons name, each with its date: the episode's, else its season's,
    else the item's, else now. Where the catalog lists the item's episodes, only those count;
    a season named without episodes means its aired episodes."""
    catalog = changes.catalog_episodes(item)
    known = EpisodeIndex(catalog, changes.episodes(item), tvdb_numbering=tvdb_numbering)
    targets: dict[EpisodeKey, int] = {}
    for season in seasons:
        default = season.watched_at or watched_at or changes.now
        if season.episodes is None:
            for key in known.aired_in(season.number):
                targets[key] = default
            continue
        for episode in season.episodes:
            found = known.find(episode.season, episode.number, episode.tvdb)
            if found is not None:
                targets[found] = episode.watched_at or default
    return targets


class EpisodeIndex:
    """Finds the episode a write means: by its TVDB episode id first, by TVDB numbering for
    anime sent that way, else by season and number; the catalog's list decides what exists."""

    def __init__(
        self,
        catalog: Sequence[CatalogEpisode],
        episodes: EpisodeList,
        *,
        tvdb_numbering: bool = False,
    ) -> None:
        self._listed = {(e.season, e.number) for e in catalog}
        self._aired = episodes.aired
        self._catalog = catalog
        self._by_tvdb = {e.tvdb_id: (e.season, e.number) for e in catalog if e.tvdb_id}
        self._by_tvdb_numbers: Mapping[EpisodeKey, EpisodeKey] = (
            {
                (e.tvdb_season, e.tvdb_number): (e.season, e.number)
                for e in catalog
                if e.tvdb_season is not None and e.tvdb_number is not None
            }
            if tvdb_numbering
            else {}
        )

    def find(
        self, season: int, number: int | None, tvdb: int | None, *, strict: bool = True
    ) -> EpisodeKey | None:
        """The episode a write names (strict: only one the catalog lists, when it lists any)."""
        if tvdb is not None and tvdb in self._by_tvdb:
            return self._by_tvdb[tvdb]
        if number is None:
            return None
        key = self._by_tvdb_numbers.get((season, number), (season, number))
        if strict and self._listed and key not in self._listed:
            return None
        return key

    def aired_in(self, season: int) -> list[EpisodeKey]:
        """The aired episodes of a season (specials: every one the catalog lists)."""
        if season > 0:
            return [key for key in sorted(self._aired) if key[0] == season]
        return [(e.season, e.number) for e in self._catalog if e.season == 0]
