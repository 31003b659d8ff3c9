"""Robustness: hostile inputs, concurrency, crashes and several server processes."""
