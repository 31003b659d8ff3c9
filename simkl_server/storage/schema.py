"""The tables, declared once with SQLAlchemy Core; the migrations and the control plane's state
document build on them (the server's statements are written out in each area's module, and
storage/tables.py holds what they share with this declaration).

Timestamps are integer milliseconds since the Unix epoch (UTC) on both databases, so
ordering and `date_from` comparisons are exact and identical everywhere.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)

from simkl_server.storage.tables import LIVE_PLAYBACKS

metadata = MetaData()

catalog_items = Table(
    "catalog_items",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("type", String(8), nullable=False),
    Column("title", Text, nullable=False),
    Column("title_key", Text, nullable=False),
    Column("year", Integer),
    Column("status", String(16)),
    Column("total_episodes", Integer),
    Column("anime_type", String(16)),
    Column("release_date", String(10)),
    # External ids as a JSON object of strings, exactly as responses render them.
    Column("ids", Text, nullable=False),
    # Image path as Simkl spells it ("51/5152376528f644b91") and runtime in minutes.
    Column("poster", Text),
    Column("runtime", Integer),
    Index("ix_catalog_items_title_key", "title_key"),
)

# A show's or anime's episodes, when the catalog knows them (season 0 holds specials; anime
# are numbered flat in season 1, as AniDB does). `aired_at` in epoch milliseconds, NULL when
# not scheduled yet; `tvdb_season`/`tvdb_number` map anime episodes to TVDB's numbering.
catalog_episodes = Table(
    "catalog_episodes",
    metadata,
    Column(
        "item_id",
        BigInteger,
        ForeignKey("catalog_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("season", Integer, primary_key=True, autoincrement=False),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("title", Text),
    Column("aired_at", BigInteger),
    Column("runtime", Integer),
    Column("tvdb_id", BigInteger),
    Column("tvdb_season", Integer),
    Column("tvdb_number", Integer),
    Column("anidb_id", BigInteger),
    sqlite_with_rowid=False,
)

# One row per external id: the index every batch resolves against in one query.
catalog_ids = Table(
    "catalog_ids",
    metadata,
    Column("key", Text, primary_key=True),
    Column(
        "item_id",
        BigInteger,
        ForeignKey("catalog_items.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Index("ix_catalog_ids_item_id", "item_id"),
    sqlite_with_rowid=False,
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("account_type", String(8), nullable=False, server_default="free"),
    # argon2 hash; NULL for accounts made on the command line without a password.
    Column("password_hash", Text),
)

# A registered client. Secrets are kept as SHA-256 (NULL: a public or device app has none);
# redirect URIs as a JSON array of strings, read with the app in one lookup.
apps = Table(
    "apps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("client_id", String(128), nullable=False, unique=True),
    Column("secret_hash", String(64)),
    Column("redirect_uris", Text, nullable=False, server_default="[]"),
    Column("kind", String(8), nullable=False, server_default="server"),
    Column("auth_version", SmallInteger, nullable=False, server_default="1"),
    Column("owner_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_apps_owner_id", "owner_id"),
)

# What a user approved for an app. AUTH V1: one per (app, user), kept after revocation so the
# next grant gets a new generation (and so a new token). AUTH V2: one per authorization, with
# its refresh token's hash.
grants = Table(
    "grants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("auth_version", SmallInteger, nullable=False),
    Column("scope", String(32), nullable=False),
    Column("generation", Integer, nullable=False, server_default="0"),
    Column("refresh_hash", String(64), unique=True),
    Column("refresh_expires_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger),
    Index("ix_grants_user_id", "user_id"),
    Index(
        "uq_grants_v1_app_user",
        "app_id",
        "user_id",
        unique=True,
        sqlite_where=text("auth_version = 1"),
        postgresql_where=text("auth_version = 1"),
    ),
)

# Live access tokens by hash: one indexed lookup authenticates a request.
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("grant_id", Integer, ForeignKey("grants.id", ondelete="CASCADE"), nullable=False),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("expires_at", BigInteger),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_tokens_grant_id", "grant_id"),
    sqlite_with_rowid=False,
)

# One row whose `n` moves whenever a credential may have stopped working: a token deleted or
# changed, an app or a user deleted or changed (triggers of migration 0007 add one). Each
# process caches the authentications it has seen succeed and trusts them while `n` stands
# still. Internal to the server: neither the state document nor a reset touches it.
auth_stamp = Table(
    "auth_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

# One row whose `n` moves whenever the catalog's items, their ids or their episodes change
# (triggers of migrations 0009 and 0010). On PostgreSQL each process keeps the catalog lookups
# it has made, and a write that relies on one checks that `n` still stands; on both databases
# a small library read kept whole is answered again only while it stands. Internal, like
# auth_stamp.
catalog_stamp = Table(
    "catalog_stamp",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

# Per user, a counter that moves whenever any of the user's library rows is written or
# deleted, by any statement of any process (triggers of migration 0010). A small library read
# kept whole is answered again while it, the auth stamp and the catalog stamp stand. No foreign
# key: a user's row outlives the user, so a counter never starts again from 1 under an id.
library_stamp = Table(
    "library_stamp",
    metadata,
    Column("user_id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
)

# PIN codes (AUTH V1) and device codes (AUTH V2) until they are used or expire.
user_codes = Table(
    "user_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("device_hash", String(64), unique=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("auth_version", SmallInteger, nullable=False),
    Column("scope", String(32), nullable=False),
    Column("redirect", Text),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("last_poll_at", BigInteger),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE")),
    Column("decision", String(8)),
    Index("ix_user_codes_expires_at", "expires_at"),
)

# Authorization codes of both OAuth flows until exchanged (any attempt consumes one).
auth_codes = Table(
    "auth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("app_id", Integer, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("auth_version", SmallInteger, nullable=False),
    Column("scope", String(32), nullable=False),
    Column("redirect_uri", Text),
    Column("challenge", Text),
    Column("challenge_method", String(16)),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_auth_codes_expires_at", "expires_at"),
    sqlite_with_rowid=False,
)

# Browser sessions by the hash of the cookie's value.
sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sessions_user_id", "user_id"),
    sqlite_with_rowid=False,
)

# Attempt counters for rate limits on guessing (user codes, passwords), one fixed window each.
attempts = Table(
    "attempts",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)

library = Table(
    "library",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", BigInteger, ForeignKey("catalog_items.id"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("user_rating", SmallInteger),
    Column("user_rated_at", BigInteger),
    # When the rating was last set or removed: what the ratings delta (`date_from`) reads.
    Column("rating_changed_at", BigInteger),
    Column("added_at", BigInteger, nullable=False),
    Column("list_changed_at", BigInteger, nullable=False),
    Column("last_watched_at", BigInteger),
    Column("last_watched", String(16)),
    Column("next_to_watch", String(16)),
    # Kept with the entry so a library read needs no count over the episodes.
    Column("watched_episodes", Integer, nullable=False, server_default="0"),
    # The user's memo: text (at most 140 characters) and whether only they may see it.
    Column("memo_text", Text),
    Column("memo_private", Boolean),
    Index("ix_library_user_rating_changed", "user_id", "rating_changed_at"),
    # What the all-items delta (`date_from`) reads.
    Index("ix_library_user_list_changed", "user_id", "list_changed_at"),
    # Deleting a catalog item (learned items undone, a catalog replaced) checks that no library
    # row names it: without this index each check read the whole table.
    Index("ix_library_item_id", "item_id"),
    sqlite_with_rowid=False,
)

# Watched episodes of a library entry; `watched_at` NULL for episodes marked by a whole-show
# action without a date of their own (Simkl's "virtual" episode rows).
user_episodes = Table(
    "user_episodes",
    metadata,
    Column("user_id", Integer, primary_key=True),
    Column("item_id", BigInteger, primary_key=True),
    Column("season", Integer, primary_key=True, autoincrement=False),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("watched_at", BigInteger),
    ForeignKeyConstraint(
        ["user_id", "item_id"], ["library.user_id", "library.item_id"], ondelete="CASCADE"
    ),
    sqlite_with_rowid=False,
)

# Rewatch sessions (Simkl PRO / VIP): one row per session, its episodes below.
rewatches = Table(
    "rewatches",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("item_id", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("last_watched_at", BigInteger),
    Column("changed_at", BigInteger, nullable=False),
    ForeignKeyConstraint(
        ["user_id", "item_id"], ["library.user_id", "library.item_id"], ondelete="CASCADE"
    ),
    Index("ix_rewatches_user_item", "user_id", "item_id"),
)

rewatch_episodes = Table(
    "rewatch_episodes",
    metadata,
    Column(
        "rewatch_id", BigInteger, ForeignKey("rewatches.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("season", Integer, primary_key=True, autoincrement=False),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("watched_at", BigInteger),
    sqlite_with_rowid=False,
)

# One row per (user, bucket) such as "movies.rated_at"; domain and top-level `all` are derived.
activity = Table(
    "activity",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("bucket", String(48), primary_key=True),
    Column("at", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Scrobble state, one row per (user, item, episode); movies use season = number = -1. `state`:
# `playing` (started), `paused` (a resumable playback), `checkin` (completes at `expires_at`),
# `ended` (nothing open). `scrobbled_at` is the last watch a stop recorded: the duplicate-stop
# window is measured from it.
playbacks = Table(
    "playbacks",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", BigInteger, ForeignKey("catalog_items.id"), nullable=False),
    Column("season", Integer, nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", String(8), nullable=False),
    Column("progress", Integer, nullable=False),  # hundredths of a percent
    Column("started_at", BigInteger, nullable=False),
    Column("paused_at", BigInteger),
    Column("expires_at", BigInteger),
    Column("scrobbled_at", BigInteger),
    Column("rewatch", Boolean, nullable=False, server_default=text("false")),
    Index("ux_playbacks_user_item", "user_id", "item_id", "season", "number", unique=True),
    Index("ix_playbacks_user_paused", "user_id", "paused_at"),
    Index("ix_playbacks_item_id", "item_id"),  # as ix_library_item_id
    # The running sessions alone: ended playbacks pile up, one per movie or episode scrobbled.
    Index(
        "ix_playbacks_live",
        "user_id",
        "expires_at",
        sqlite_where=text(LIVE_PLAYBACKS),
        postgresql_where=text(LIVE_PLAYBACKS),
    ),
)

# The 20-second per-user scrobble lock: held while a scrobble write runs, and for at most
# `held_until` should its process die, so every server process sees it.
scrobble_locks = Table(
    "scrobble_locks",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("held_until", BigInteger, nullable=False),
    sqlite_with_rowid=False,
)
# Title search (migration 0005) keeps its own objects outside this metadata: on SQLite an FTS5
# table `catalog_search` (and the shadow tables FTS5 makes for it) with triggers on
# catalog_items, on PostgreSQL the expression index `catalog_search_title` (storage/search.py).
UNDECLARED_PREFIX = "catalog_search"
# The control plane (off unless enabled; for client developers' tests). Its tables hold the
# test harness's own state, not the service's: the state document and the reset leave them
# to their own endpoints.
# One row per setting, such as the clock ({"fixed_ms", "offset_ms"}), JSON in `value`.
control_settings = Table(
    "control_settings",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Text, nullable=False),
)

# Failures on demand: the first live fault whose method and path pattern match answers.
# `times_left` NULL: decided by `probability` (drawn from `seed` and the hit count).
control_faults = Table(
    "control_faults",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("respond", String(32), nullable=False),
    Column("times_left", Integer),
    Column("probability", Float),
    Column("seed", BigInteger, nullable=False, server_default="0"),
    Column("delay_ms", Integer, nullable=False, server_default="0"),
    Column("retry_after_s", Integer, nullable=False, server_default="1"),
    Column("hits", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
)

# The last requests the server received, newest last by id; a ring of at most the configured
# number of rows (older ones are deleted as new ones come). Secrets masked before they land.
control_journal = Table(
    "control_journal",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("at", BigInteger, nullable=False),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("query", Text, nullable=False),
    Column("headers", Text, nullable=False),
    Column("body", Text),
    Column("status", Integer, nullable=False),
    Column("response_body", Text),
    Column("fault", String(32)),
)
