"""What the running server knows of its tables beyond its statements, without loading
SQLAlchemy: schema.py, which declares the tables with it, serves the migrations and the control
plane's state document."""

from __future__ import annotations

# The condition of ix_playbacks_live; a statement that looks for running sessions spells it
# exactly so (storage/playbacks.py), or SQLite does not use the index.
LIVE_PLAYBACKS = "state IN ('playing', 'checkin')"
# The control plane's own tables: kept out of the state document and cleared by their own
# endpoints (and by a reset, which starts a test afresh).
CONTROL_TABLES = frozenset({"control_settings", "control_faults", "control_journal"})
# The server's own bookkeeping: in no state document, never reset (a stamp that went back to a
# value a process already saw would let it trust a stale cache).
INTERNAL_TABLES = frozenset({"auth_stamp", "catalog_stamp", "library_stamp"})
