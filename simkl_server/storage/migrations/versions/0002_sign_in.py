"""Sign-in: hashed secrets and tokens, grants, OAuth and PIN state, sessions, attempt counters.

Apps keep their secret as a SHA-256 and gain redirect URIs (a JSON array), a kind, an auth
version and an owner; users gain a password hash. Every live token is kept, as its hash, under
an AUTH V1 grant of its (app, user), so tokens issued before this revision (the demo token
included) keep working. Revoked tokens are dropped.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def upgrade() -> None:
    """Reshape apps, users and tokens; create the new tables."""
    op.add_column("users", sa.Column("password_hash", sa.Text))
    _upgrade_apps()
    _create_grants()
    _upgrade_tokens()
    _create_flow_tables()


def _upgrade_apps() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("secret_hash", sa.String(64)))
        batch.add_column(sa.Column("redirect_uris", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="server"))
        batch.add_column(
            sa.Column("auth_version", sa.SmallInteger, nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("owner_id", sa.Integer))
        batch.create_foreign_key(
            "fk_apps_owner_id_users", "users", ["owner_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_apps_owner_id", ["owner_id"])
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, client_secret, redirect_uri FROM apps")).fetchall()
    for app_id, secret, redirect_uri in rows:
        bind.execute(
            sa.text("UPDATE apps SET secret_hash = :hash, redirect_uris = :uris WHERE id = :id"),
            {
                "hash": _sha256(secret),
                "uris": json.dumps([redirect_uri] if redirect_uri else []),
                "id": app_id,
            },
        )
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("client_secret")
        batch.drop_column("redirect_uri")


def _create_grants() -> None:
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("auth_version", sa.SmallInteger, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
        sa.Column("refresh_hash", sa.String(64), unique=True),
        sa.Column("refresh_expires_at", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )
    op.create_index("ix_grants_user_id", "grants", ["user_id"])
    op.create_index(
        "uq_grants_v1_app_user",
        "grants",
        ["app_id", "user_id"],
        unique=True,
        sqlite_where=sa.text("auth_version = 1"),
        postgresql_where=sa.text("auth_version = 1"),
    )


def _create_tokens() -> None:
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "grant_id", sa.Integer, sa.ForeignKey("grants.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_tokens_grant_id", "tokens", ["grant_id"])


def _upgrade_tokens() -> None:
    bind = op.get_bind()
    live = bind.execute(
        sa.text(
            "SELECT token, app_id, user_id, created_at FROM tokens "
            "WHERE revoked_at IS NULL ORDER BY id"
        )
    ).fetchall()
    op.drop_index("ix_tokens_app_user", table_name="tokens")
    op.drop_table("tokens")
    _create_tokens()
    grant_ids: dict[tuple[int, int], int] = {}
    for token, app_id, user_id, created_at in live:
        key = (app_id, user_id)
        if key not in grant_ids:
            grant_ids[key] = _insert_v1_grant(bind, app_id, user_id, created_at)
        bind.execute(
            sa.text(
                "INSERT INTO tokens (token_hash, grant_id, app_id, user_id, scope, created_at) "
                "VALUES (:hash, :grant_id, :app_id, :user_id, 'public', :created_at)"
            ),
            {
                "hash": _sha256(token),
                "grant_id": grant_ids[key],
                "app_id": app_id,
                "user_id": user_id,
                "created_at": created_at,
            },
        )


def _insert_v1_grant(bind: sa.Connection, app_id: int, user_id: int, created_at: int) -> int:
    bind.execute(
        sa.text(
            "INSERT INTO grants (app_id, user_id, auth_version, scope, generation, created_at) "
            "VALUES (:app_id, :user_id, 1, 'public', 0, :created_at)"
        ),
        {"app_id": app_id, "user_id": user_id, "created_at": created_at},
    )
    found = bind.execute(
        sa.text("SELECT id FROM grants WHERE app_id = :app_id AND user_id = :user_id"),
        {"app_id": app_id, "user_id": user_id},
    ).scalar_one()
    return int(found)


def _create_flow_tables() -> None:
    op.create_table(
        "user_codes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_code", sa.String(16), nullable=False, unique=True),
        sa.Column("device_hash", sa.String(64), unique=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("auth_version", sa.SmallInteger, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("redirect", sa.Text),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sa.Column("last_poll_at", sa.BigInteger),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("decision", sa.String(8)),
    )
    op.create_index("ix_user_codes_expires_at", "user_codes", ["expires_at"])
    op.create_table(
        "auth_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("auth_version", sa.SmallInteger, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("redirect_uri", sa.Text),
        sa.Column("challenge", sa.Text),
        sa.Column("challenge_method", sa.String(16)),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_auth_codes_expires_at", "auth_codes", ["expires_at"])
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "attempts",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Back to revision 0001's tables. Lossy: tokens, secrets and flow state were kept only as
    hashes, so every token and client secret must be issued again afterwards."""
    for table in ("attempts", "sessions", "auth_codes", "user_codes", "tokens", "grants"):
        op.drop_table(table)
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token", sa.String(128), nullable=False, unique=True),
        sa.Column(
            "app_id", sa.Integer, sa.ForeignKey("apps.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("revoked_at", sa.BigInteger),
    )
    op.create_index("ix_tokens_app_user", "tokens", ["app_id", "user_id"])
    with op.batch_alter_table("apps") as batch:
        batch.drop_index("ix_apps_owner_id")
        batch.drop_constraint("fk_apps_owner_id_users", type_="foreignkey")
        batch.add_column(
            sa.Column("client_secret", sa.String(128), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("redirect_uri", sa.Text))
        for column in ("secret_hash", "redirect_uris", "kind", "auth_version", "owner_id"):
            batch.drop_column(column)
    op.drop_column("users", "password_hash")
