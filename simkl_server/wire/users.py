"""The /users/settings body."""

from __future__ import annotations

from typing import Any

from simkl_server.domain.models import UserProfile
from simkl_server.wire.timestamps import format_ms


def settings_response(profile: UserProfile) -> dict[str, Any]:
    """`{"user": {...}, "account": {...}, "connections": {...}}`; profile fields this server
    does not keep are blank, and it connects no social account (spec §7)."""
    return {
        "user": {
            "name": profile.username,
            "joined_at": format_ms(profile.created_at),
            "gender": "",
            "avatar": "",
            "bio": "",
            "loc": None,
            "age": "",
        },
        "account": {
            "id": profile.id,
            "timezone": profile.timezone,
            "type": profile.account_type,
            "anime_title_language": "en",
        },
        "connections": {"facebook": False},
    }
