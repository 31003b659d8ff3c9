"""The layer rules of the package, read from each module's imports (the architecture's table)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import simkl_server

PACKAGE = simkl_server.__name__
PACKAGE_DIR = Path(simkl_server.__file__).parent
ROOT = ""  # the package itself: its __init__ holds the version and imports nothing

# What each layer may import of ours, as module prefixes relative to the package.
API_MAY_IMPORT = (
    ROOT,  # the version
    "logs",
    "api",
    "web",
    "domain",
    "wire",
    "errors",
    "config",
    "clock",
    "storage.base",
    "openapi",
    # The control plane's seed reads catalog interchange lines, as `catalog import` does.
    "catalog.interchange",
)
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    ROOT: (),
    "config": (),
    "errors": (),
    "clock": (),
    "logs": (),
    "keys": ("config",),  # the secret key: from the settings, or the file they name
    "domain": ("domain", "storage.base", "errors", "clock"),
    "wire": ("wire", "domain", "errors"),
    "storage": ("storage", "domain.models", "domain.kinds", "config", "clock"),
    "api": API_MAY_IMPORT,
    "web": API_MAY_IMPORT,
    "catalog": ("catalog", "domain", "storage.base"),
    # Library transfer (backup files, copies from another server): like the catalog's files.
    "transfer": (ROOT, "transfer", "domain", "errors"),
    "openapi": ("openapi", ROOT),
    "protocol": ("config", "errors", "wire.errors"),
}
# Composition roots: they wire the layers together, so they may import anything.
COMPOSITION = {"app", "cli", "server", "demo", "__main__", "testing"}
# Third-party packages a layer must not reach for (the rules stay free of SQL and HTTP).
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "domain": ("sqlalchemy", "asyncpg", "starlette", "uvicorn"),
    "wire": ("sqlalchemy", "asyncpg", "starlette", "uvicorn"),
    "api": ("sqlalchemy", "asyncpg"),
    "web": ("sqlalchemy", "asyncpg"),
}


def module_name(path: Path) -> str:
    """`domain.ratings` for simkl_server/domain/ratings.py; ROOT for the package's __init__."""
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def layer_of(module: str) -> str:
    """The layer a module belongs to: its first name inside the package."""
    return module.split(".", 1)[0]


def absolute(module: str, *, is_package: bool, level: int, target: str | None) -> str:
    """The absolute dotted name an import statement inside `module` names."""
    if level == 0:
        return target or ""
    base = [PACKAGE, *module.split(".")] if module else [PACKAGE]
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imported(module: str, source: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """Every (line, absolute module name) that `source` imports, wherever the statement is."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            name = absolute(module, is_package=is_package, level=node.level, target=node.module)
            for alias in node.names:
                submodule = f"{name}.{alias.name}"
                found.append((node.lineno, submodule if own(submodule) in MODULES else name))
    return sorted(found)


def own(name: str) -> str | None:
    """The name relative to the package, or None when it is not ours."""
    if name == PACKAGE:
        return ROOT
    if name.startswith(PACKAGE + "."):
        return name.removeprefix(PACKAGE + ".")
    return None


def within(module: str, prefix: str) -> bool:
    """Whether `module` is `prefix` or lies inside it."""
    return module == prefix or (prefix != ROOT and module.startswith(prefix + "."))


def violations(module: str, source: str, *, is_package: bool = False) -> list[str]:
    """What breaks the layer rules in one module's source, one line per import."""
    layer, full_name = layer_of(module), f"{PACKAGE}.{module}" if module else PACKAGE
    if layer in COMPOSITION:
        return []
    if layer not in MAY_IMPORT:
        return [f"{full_name} belongs to no layer: give it one in tests/test_layers.py"]
    allowed, banned = MAY_IMPORT[layer], FORBIDDEN_LIBRARIES.get(layer, ())
    problems = []
    for line, name in imported(module, source, is_package=is_package):
        ours = own(name)
        if ours is None and name.split(".", 1)[0] not in banned:
            continue
        if ours is not None and any(within(ours, prefix) for prefix in allowed):
            continue
        problems.append(f"{full_name} line {line} imports {name}")
    return problems


@pytest.mark.parametrize("module", sorted(MODULES), ids=lambda module: module or PACKAGE)
def test_each_module_imports_only_what_its_layer_may(module: str) -> None:
    path = MODULES[module]
    problems = violations(module, path.read_text(), is_package=path.name == "__init__.py")
    assert not problems, "\n".join(problems)


def test_a_rule_breaking_import_is_named_with_its_module_and_line() -> None:
    source = "from simkl_server.storage.ratings import RatingsQueries\nimport sqlalchemy\n"

    assert violations("domain.ratings", source) == [
        "simkl_server.domain.ratings line 1 imports simkl_server.storage.ratings",
        "simkl_server.domain.ratings line 2 imports sqlalchemy",
    ]


def test_relative_and_package_imports_resolve_to_the_module_named() -> None:
    source = "from . import ratings\nfrom ..storage import base\nfrom ..api import _http\n"

    assert imported("domain.users", source) == [
        (1, "simkl_server.domain.ratings"),
        (2, "simkl_server.storage.base"),
        (3, "simkl_server.api._http"),
    ]
    assert violations("domain.users", source) == [
        "simkl_server.domain.users line 3 imports simkl_server.api._http"
    ]


def test_a_module_outside_every_layer_is_refused() -> None:
    assert violations("tools.thing", "") == [
        "simkl_server.tools.thing belongs to no layer: give it one in tests/test_layers.py"
    ]


def test_composition_roots_may_import_anything() -> None:
    assert violations("app", "from simkl_server.storage.drivers import open_driver\n") == []
