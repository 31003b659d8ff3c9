"""Moving a user's library in and out: the backup file format, and copying a library from
another Simkl-compatible server over its API."""
