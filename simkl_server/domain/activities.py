"""Activity timestamps: which buckets moved when (the rules that move them live with each
write; the bucket names in domain/kinds.py)."""

from __future__ import annotations

from simkl_server.storage.base import Store


async def read_activities(store: Store, *, user_id: int) -> dict[str, int]:
    """Every bucket the user has, in epoch milliseconds."""
    return await store.read.activities.all(user_id)
