"""Persistence: the Store protocol, the schema, every query, and the two drivers."""
