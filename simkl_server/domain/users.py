"""The account facts a user's own client reads."""

from __future__ import annotations

from simkl_server.domain.models import UserProfile
from simkl_server.errors import UserTokenFailed
from simkl_server.storage.base import Store


async def profile(store: Store, *, user_id: int) -> UserProfile:
    """The user's profile; a user deleted since the token was checked counts as a bad token."""
    found = await store.read.accounts.profile(user_id)
    if found is None:
        raise UserTokenFailed
    return found
