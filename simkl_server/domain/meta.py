"""Whether this server can do its work: its database answers, at a known schema revision."""

from __future__ import annotations

import logging

from simkl_server.errors import ServiceUnavailable
from simkl_server.storage.base import DatabaseUnavailable, Store

log = logging.getLogger("simkl_server")


async def schema_revision(store: Store) -> str:
    """The schema revision of an answering database; 503 service_unavailable otherwise (the
    reason goes to the log, not to an anonymous caller)."""
    try:
        revision = await store.read.meta.schema_revision()
    except DatabaseUnavailable as exc:
        log.warning("health check failed: %s", exc)
        raise ServiceUnavailable("The database does not answer") from exc
    if revision is None:
        log.warning("health check failed: the database has no schema; run simkl-server db upgrade")
        raise ServiceUnavailable("The database has no schema")
    return revision
