"""simkl-server: a self-hostable, stateful server that speaks the Simkl API."""

__version__ = "0.1.0"
