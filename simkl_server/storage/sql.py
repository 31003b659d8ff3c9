"""Every query, written once with named parameters and compiled per dialect at start-up.

Batches travel as one array parameter (`in_array`, `array_source`) or one JSON parameter of
rows (`json_rows`), so a request resolves and writes any number of items in a fixed number of
statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from simkl_server.storage.engine import Query, SqlDialect

_ITEM_COLUMNS = (
    "c.id, c.type, c.title, c.year, c.status, c.total_episodes, c.anime_type, c.release_date, c.ids"
)
_ROW_COLUMNS = (
    f"{_ITEM_COLUMNS}, l.status, l.user_rating, l.user_rated_at, "
    "l.last_watched_at, l.last_watched, l.next_to_watch"
)


@dataclass(frozen=True, slots=True)
class Queries:
    """The compiled statements of one dialect."""

    authenticate: Query
    lock_user: Query
    find_catalog: dict[tuple[bool, bool, bool], Query]
    library_states: Query
    clear_ratings: Query
    save_ratings: Query
    touch_activities: Query
    activities: Query
    ratings_rows: dict[tuple[bool, bool], Query]
    user_profile: Query
    insert_app: Query
    find_app: Query
    insert_user: Query
    find_user: Query
    token_for: Query
    insert_token: Query
    revoke_token: Query
    upsert_items: Query
    delete_item_keys: Query
    insert_item_keys: Query
    catalog_owners: Query
    catalog_items: Query
    catalog_page: Query
    catalog_size: Query
    max_catalog_id: Query
    reset_tables: tuple[Query, ...]
    reset_catalog: tuple[Query, ...]
    refresh_statistics: Query


def build_queries(d: SqlDialect) -> Queries:
    """Compile every statement for dialect `d`."""
    return Queries(
        authenticate=d.compile(
            "SELECT a.id, t.user_id FROM apps a "
            "LEFT JOIN tokens t ON t.app_id = a.id AND t.token = :token AND t.revoked_at IS NULL "
            "WHERE a.client_id = :client_id"
        ),
        lock_user=d.compile(
            "SELECT (SELECT MAX(at) FROM activity WHERE user_id = :user_id) "
            f"FROM users WHERE id = :user_id{d.lock_suffix}"
        ),
        find_catalog=_find_catalog(d),
        library_states=d.compile(
            "SELECT item_id, status, user_rating, user_rated_at FROM library "
            f"WHERE user_id = :user_id AND {d.in_array('item_id', 'item_ids', 'BIGINT')}"
        ),
        clear_ratings=d.compile(
            "UPDATE library SET user_rating = NULL, user_rated_at = NULL, rating_changed_at = :now "
            "WHERE user_id = :user_id AND user_rating IS NOT NULL "
            f"AND {d.in_array('item_id', 'item_ids', 'BIGINT')} RETURNING item_id"
        ),
        save_ratings=_save_ratings(d),
        touch_activities=d.compile(
            "INSERT INTO activity (user_id, bucket, at) "
            "SELECT CAST(:user_id AS INTEGER), value, CAST(:at AS BIGINT) "
            f"FROM ({d.array_source('buckets', 'TEXT')}) AS b "
            "WHERE true ON CONFLICT (user_id, bucket) "
            f"DO UPDATE SET at = {d.greatest('activity.at', 'excluded.at')}"
        ),
        activities=d.compile("SELECT bucket, at FROM activity WHERE user_id = :user_id"),
        ratings_rows={
            (by_rating, by_date): _ratings_rows(d, by_rating=by_rating, by_date=by_date)
            for by_rating in (False, True)
            for by_date in (False, True)
        },
        user_profile=d.compile(
            "SELECT id, username, created_at, timezone, account_type FROM users WHERE id = :user_id"
        ),
        insert_app=d.compile(
            "INSERT INTO apps (name, client_id, client_secret, redirect_uri, created_at) "
            "VALUES (:name, :client_id, :client_secret, :redirect_uri, :created_at) RETURNING id"
        ),
        find_app=d.compile(
            "SELECT id, name, client_id, client_secret, redirect_uri FROM apps "
            "WHERE client_id = :client_id"
        ),
        insert_user=d.compile(
            "INSERT INTO users (username, created_at) VALUES (:username, :created_at) RETURNING id"
        ),
        find_user=d.compile("SELECT id FROM users WHERE username = :username"),
        token_for=d.compile(
            "SELECT token FROM tokens WHERE app_id = :app_id AND user_id = :user_id "
            "AND revoked_at IS NULL ORDER BY id LIMIT 1"
        ),
        insert_token=d.compile(
            "INSERT INTO tokens (token, app_id, user_id, created_at) "
            "VALUES (:token, :app_id, :user_id, :created_at)"
        ),
        revoke_token=d.compile(
            "UPDATE tokens SET revoked_at = :revoked_at "
            "WHERE token = :token AND revoked_at IS NULL RETURNING id"
        ),
        upsert_items=_upsert_items(d),
        delete_item_keys=d.compile(
            f"DELETE FROM catalog_ids WHERE {d.in_array('item_id', 'item_ids', 'BIGINT')}"
        ),
        insert_item_keys=d.compile(
            "INSERT INTO catalog_ids (key, item_id) SELECT r.key, r.item_id FROM ("
            + d.json_rows("rows", (("key", "TEXT"), ("item_id", "BIGINT")))
            + ") AS r WHERE true"
        ),
        catalog_owners=d.compile(
            f"SELECT key, item_id FROM catalog_ids WHERE {d.in_array('key', 'keys', 'TEXT')}"
        ),
        catalog_items=d.compile(
            f"SELECT {_ITEM_COLUMNS} FROM catalog_items c "
            f"WHERE {d.in_array('c.id', 'item_ids', 'BIGINT')}"
        ),
        catalog_page=d.compile(
            f"SELECT {_ITEM_COLUMNS} FROM catalog_items c WHERE c.id > :after "
            "ORDER BY c.id LIMIT :size"
        ),
        catalog_size=d.compile("SELECT COUNT(*) FROM catalog_items"),
        max_catalog_id=d.compile("SELECT MAX(id) FROM catalog_items WHERE id >= :at_least"),
        reset_tables=tuple(
            d.compile(f"DELETE FROM {table}")
            for table in ("activity", "library", "tokens", "users", "apps")
        ),
        reset_catalog=tuple(
            d.compile(f"DELETE FROM {table}") for table in ("catalog_ids", "catalog_items")
        ),
        refresh_statistics=d.compile("ANALYZE"),
    )


def _find_catalog(d: SqlDialect) -> dict[tuple[bool, bool, bool], Query]:
    # One round trip for a whole batch: simkl ids, external-id keys and folded titles. A
    # variant per combination of what the batch carries, so a lone simkl id costs one lookup.
    branches = (
        f"SELECT 's', CAST(c.id AS TEXT), {_ITEM_COLUMNS} FROM catalog_items c "
        f"WHERE {d.in_array('c.id', 'simkl_ids', 'BIGINT')}",
        f"SELECT 'k', k.key, {_ITEM_COLUMNS} FROM catalog_ids k "
        "JOIN catalog_items c ON c.id = k.item_id "
        f"WHERE {d.in_array('k.key', 'keys', 'TEXT')}",
        f"SELECT 't', c.title_key, {_ITEM_COLUMNS} FROM catalog_items c "
        f"WHERE {d.in_array('c.title_key', 'titles', 'TEXT')}",
    )
    variants = {}
    for simkl, keys, titles in product((False, True), repeat=3):
        mask = (simkl, keys, titles)
        chosen = [branch for branch, wanted in zip(branches, mask, strict=True) if wanted]
        if chosen:
            variants[mask] = d.compile(" UNION ALL ".join(chosen))
    return variants


def _save_ratings(d: SqlDialect) -> Query:
    # New rows are filed under their computed status; existing rows keep theirs.
    rows = d.json_rows(
        "rows",
        (("item_id", "BIGINT"), ("status", "TEXT"), ("rating", "SMALLINT"), ("rated_at", "BIGINT")),
    )
    return d.compile(
        "INSERT INTO library (user_id, item_id, status, user_rating, user_rated_at, "
        "rating_changed_at, added_at, list_changed_at) "
        "SELECT CAST(:user_id AS INTEGER), r.item_id, r.status, r.rating, r.rated_at, "
        "CAST(:now AS BIGINT), CAST(:now AS BIGINT), CAST(:now AS BIGINT) "
        f"FROM ({rows}) AS r WHERE true "
        "ON CONFLICT (user_id, item_id) DO UPDATE SET user_rating = excluded.user_rating, "
        "user_rated_at = excluded.user_rated_at, rating_changed_at = excluded.rating_changed_at"
    )


def _ratings_rows(d: SqlDialect, *, by_rating: bool, by_date: bool) -> Query:
    sql = (
        f"SELECT {_ROW_COLUMNS} FROM library l JOIN catalog_items c ON c.id = l.item_id "
        f"WHERE l.user_id = :user_id AND {d.in_array('c.type', 'types', 'TEXT')}"
    )
    if by_rating:
        sql += f" AND {d.in_array('l.user_rating', 'ratings', 'SMALLINT')}"
    if by_date:
        sql += " AND l.rating_changed_at > :changed_after"
    return d.compile(sql + " ORDER BY l.item_id")


def _upsert_items(d: SqlDialect) -> Query:
    columns = (
        ("id", "BIGINT"),
        ("type", "TEXT"),
        ("title", "TEXT"),
        ("title_key", "TEXT"),
        ("year", "INTEGER"),
        ("status", "TEXT"),
        ("total_episodes", "INTEGER"),
        ("anime_type", "TEXT"),
        ("release_date", "TEXT"),
        ("ids", "TEXT"),
    )
    names = ", ".join(name for name, _ in columns)
    updates = ", ".join(f"{name} = excluded.{name}" for name, _ in columns[1:])
    return d.compile(
        f"INSERT INTO catalog_items ({names}) "
        f"SELECT {names} FROM ({d.json_rows('rows', columns)}) AS r "
        f"WHERE true ON CONFLICT (id) DO UPDATE SET {updates}"
    )
