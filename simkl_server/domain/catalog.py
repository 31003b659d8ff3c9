"""Catalog import rules: match by ids, merge, refuse conflicts, mint local ids.

Items that arrive without a Simkl id get one from LOCAL_ID_BASE upwards: real Simkl ids are
well below it, so a locally minted id can never collide with a real one imported later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice

from simkl_server.domain.ids import item_lookup_keys, title_key
from simkl_server.domain.models import CatalogItem, MediaType
from simkl_server.storage.base import CatalogUpsert, Store

LOCAL_ID_BASE = 1_000_000_000
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class CatalogRecord:
    """One item read from a catalog file; `where` names its place for reports."""

    where: str
    type: MediaType
    title: str
    ids: dict[str, str]
    simkl: int | None = None
    year: int | None = None
    status: str | None = None
    total_episodes: int | None = None
    anime_type: str | None = None
    release_date: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """A line or record that was skipped, and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    """What an import did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """One line for humans."""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {len(self.problems)}"
        )


async def import_records(
    store: Store,
    records: Iterable[CatalogRecord | Problem],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import records chunk by chunk, each chunk in a fixed number of queries."""
    report = ImportReport()
    highest = await store.max_catalog_id(at_least=LOCAL_ID_BASE)
    minter = _Minter(highest + 1 if highest is not None else LOCAL_ID_BASE)
    for chunk in _chunks(records, CHUNK):
        good = [r for r in chunk if isinstance(r, CatalogRecord)]
        report.problems += [r for r in chunk if isinstance(r, Problem)]
        await _import_chunk(store, good, report, minter)
        if on_progress is not None:
            on_progress(len(chunk))
    return report


def _chunks(
    records: Iterable[CatalogRecord | Problem], size: int
) -> Iterator[list[CatalogRecord | Problem]]:
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass(slots=True)
class _Minter:
    next_id: int

    def mint(self) -> int:
        self.next_id += 1
        return self.next_id - 1


async def _import_chunk(
    store: Store, records: list[CatalogRecord], report: ImportReport, minter: _Minter
) -> None:
    keyed = [(record, item_lookup_keys(_as_item(record, 0))) for record in records]
    owners = await store.catalog_owners({key for _, keys in keyed for key in keys})
    wanted = {r.simkl for r in records if r.simkl is not None} | set(owners.values())
    items = await store.catalog_items(wanted) if wanted else {}
    changed: dict[int, CatalogItem] = {}
    for record, keys in keyed:
        target = _target(record, keys, owners)
        if isinstance(target, Problem):
            report.problems.append(target)
            continue
        before = items.get(target) if target is not None else None
        merged = _merge(before, record, target if target is not None else minter.mint())
        if merged == before:
            report.unchanged += 1
            continue
        if before is None:
            report.added += 1
        elif merged.id not in changed:
            report.updated += 1
        items[merged.id] = changed[merged.id] = merged
        owners.update(dict.fromkeys(item_lookup_keys(merged), merged.id))
    await store.upsert_catalog(
        [
            CatalogUpsert(item, title_key(item.title), item_lookup_keys(item))
            for item in changed.values()
        ]
    )


def _target(record: CatalogRecord, keys: list[str], owners: dict[str, int]) -> int | Problem | None:
    """The item a record updates (None: a new item), or the conflict that stops it."""
    if not keys and record.simkl is None:
        return Problem(record.where, "no simkl id and no external id that identifies the item")
    claimed = {owners[key] for key in keys if key in owners}
    if record.simkl is not None:
        claimed.add(record.simkl)
    if len(claimed) > 1:
        others = ", ".join(str(i) for i in sorted(claimed))
        return Problem(record.where, f"conflict: its ids belong to different items ({others})")
    return next(iter(claimed), None)


def _merge(before: CatalogItem | None, record: CatalogRecord, item_id: int) -> CatalogItem:
    """New ids are added, given fields overwrite, absent fields keep their value."""
    fresh = _as_item(record, item_id)
    if before is None:
        return fresh
    return replace(
        before,
        type=fresh.type,
        title=fresh.title,
        ids={**before.ids, **fresh.ids},
        **{
            name: value
            for name in ("year", "status", "total_episodes", "anime_type", "release_date")
            if (value := getattr(fresh, name)) is not None
        },
    )


def _as_item(record: CatalogRecord, item_id: int) -> CatalogItem:
    return CatalogItem(
        id=item_id,
        type=record.type,
        title=record.title,
        year=record.year,
        status=record.status,
        total_episodes=record.total_episodes,
        anime_type=record.anime_type,
        release_date=record.release_date,
        ids=dict(record.ids),
    )
