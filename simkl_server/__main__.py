"""`python -m simkl_server` runs the command-line interface."""

from simkl_server.cli import main

main()
