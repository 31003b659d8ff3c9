"""What a packaged install says about itself: one version, the licence it ships."""

from __future__ import annotations

from importlib import metadata

import simkl_server


def test_the_installed_version_is_the_one_the_package_declares() -> None:
    assert metadata.version("simkl-server") == simkl_server.__version__


def test_the_licence_is_mit() -> None:
    assert metadata.metadata("simkl-server")["License-Expression"] == "MIT"
