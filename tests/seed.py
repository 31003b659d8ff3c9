"""State no implemented endpoint writes yet (watch history, activity buckets of other areas),
seeded straight through the store, and the time conversions the examples need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from simkl_server.storage.base import WriteTx
from simkl_server.storage.dialect import statement
from tests.conftest import Api
from tests.helpers import assert_json_response


def iso_ms(text: str) -> int:
    """Epoch milliseconds of a `...Z` timestamp."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def iso_seconds(ms: int) -> str:
    """Activities' rendering of a time."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(response: Any, status: int) -> Any:
    """The JSON body of a response that must have that status."""
    assert response.status_code == status, response.text
    return assert_json_response(response)


def seed_watch_state(api: Api, username: str, item_id: int, **columns: Any) -> None:
    """Set library columns of one user's item (watch history, status)."""
    user_id = api.call(api.store.read.accounts.find_user, username)
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    update = statement(
        f"UPDATE library SET {assignments} WHERE user_id = :user_id AND item_id = :item_id"
    )
    params = {**columns, "user_id": user_id, "item_id": item_id}

    async def work(tx: WriteTx) -> None:
        await tx.conn.execute(update, params)

    api.call(api.store.transaction, work)


def seed_library_of_example(api: Api, example: dict[str, Any]) -> None:
    """Rate every row of a ratings-read example through the API, then seed its watch state."""
    body: dict[str, list[dict[str, Any]]] = {}
    for bucket, rows in example.items():
        for row in rows:
            media = row.get("movie") or row["show"]
            body.setdefault(bucket, []).append(
                {
                    "ids": {"simkl": media["ids"]["simkl"]},
                    "rating": row["user_rating"],
                    "rated_at": row["user_rated_at"],
                }
            )
    answer(api.post("/sync/ratings", json=body), 201)
    for rows in example.values():
        for row in rows:
            media = row.get("movie") or row["show"]
            seed_watch_state(
                api,
                "alice",
                media["ids"]["simkl"],
                status=row["status"],
                last_watched_at=iso_ms(row["last_watched_at"]),
                last_watched=row.get("last_watched"),
                next_to_watch=row.get("next_to_watch"),
            )


def bucket_stamps(tree: dict[str, Any]) -> dict[str, str]:
    """Every leaf bucket of an activities tree that has a time (the `all`s are derived)."""
    stamps: dict[str, str] = {}
    for block, fields in tree.items():
        if block in {"all", "settings"}:
            continue
        prefix, leaves = (
            ("custom_lists.lists", fields["lists"])
            if block == "custom_lists"
            else (
                block,
                fields,
            )
        )
        for name, at in leaves.items():
            if name != "all" and at is not None:
                stamps[f"{prefix}.{name}"] = at
    return stamps


def seed_activity_user(api: Api, username: str, tree: dict[str, Any]) -> str:
    """A user created at the tree's `settings.all` whose buckets hold the tree's times; its
    token. Buckets move in time order, as they would in real use."""
    api.clock.current_ms = iso_ms(tree["settings"]["all"])
    token = api.new_user(username)
    user_id = api.call(api.store.read.accounts.find_user, username)
    assert user_id is not None
    for bucket, at in sorted(bucket_stamps(tree).items(), key=lambda pair: pair[1]):
        api.clock.current_ms = iso_ms(at)

        async def touch(tx: WriteTx, bucket: str = bucket) -> None:
            await tx.activities.touch(user_id, [bucket], at=tx.now_ms)

        api.call(api.store.write, user_id, touch, size=1)
    return token
