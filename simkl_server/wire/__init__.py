"""Simkl's exact request and response shapes: the only place its JSON keys are spelled."""
