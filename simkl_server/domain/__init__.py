"""The rules of the Simkl API: plain Python, no HTTP and no SQL."""
