"""Alembic migrations of the schema in storage/schema.py."""
