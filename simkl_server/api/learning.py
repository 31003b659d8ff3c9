"""The learn-mode policy the settings give every sync write."""

from __future__ import annotations

from simkl_server.config import Settings
from simkl_server.domain.learn import STRICT, LearnPolicy


def learn_policy(settings: Settings) -> LearnPolicy:
    """On only when the settings say so: `serve` turns an unset setting on; an app made
    in-process (tests, embedding) emulates Simkl strictly unless told to learn."""
    if not settings.catalog_learn:
        return STRICT
    return LearnPolicy(
        enabled=True,
        per_request=settings.catalog_learn_per_request,
        per_user_day=settings.catalog_learn_per_user_day,
        per_day=settings.catalog_learn_per_day,
    )
