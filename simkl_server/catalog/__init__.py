"""Catalog files: our interchange format and anime-offline-database, in and out."""
