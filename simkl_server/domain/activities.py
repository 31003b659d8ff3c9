"""Activity buckets: which timestamps of /sync/activities a change moves."""

from __future__ import annotations

from simkl_server.domain.models import ActivityDomain, ListStatus

SETTINGS_BUCKET = "settings.all"


def rated_bucket(domain: ActivityDomain) -> str:
    """The bucket that moves when a rating of that domain is added, changed or removed."""
    return f"{domain.value}.rated_at"


def list_bucket(domain: ActivityDomain, status: ListStatus) -> str:
    """The bucket that moves when an item of that domain enters or leaves a list."""
    return f"{domain.value}.{status.value}"
