"""This server's own OpenAPI document, assembled once from the fragments in this folder.

`common.json` holds what every operation shares; every other `*.json` here is an area fragment
(`paths`, `components`, `tags`). A name defined twice across fragments is refused. See README.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import orjson

import simkl_server

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
COMMON = "common.json"
FRAGMENT_KEYS = frozenset({"paths", "components", "tags"})


class FragmentError(ValueError):
    """A fragment that cannot be merged into the document."""


def fragment_files(folder: Traversable | None = None) -> list[Traversable]:
    """The area fragments of a folder (this package by default), in name order."""
    folder = folder or resources.files(__package__)
    return sorted(
        (entry for entry in folder.iterdir() if _is_fragment(entry.name)),
        key=lambda entry: entry.name,
    )


def _is_fragment(name: str) -> bool:
    return name.endswith(".json") and name != COMMON


def _decode(file: Traversable) -> dict[str, Any]:
    decoded = orjson.loads(file.read_bytes())
    if not isinstance(decoded, dict):
        raise FragmentError(f"{file.name}: a fragment is a JSON object")
    return decoded


def _merge_names(into: dict[str, Any], names: dict[str, Any], where: str, owner: str) -> None:
    """Add `names` to `into`, refusing any name `into` already holds."""
    for name, value in names.items():
        if name in into:
            raise FragmentError(f"{owner}: {where} {name!r} is already defined")
        into[name] = value


def _merge_tags(into: list[dict[str, Any]], tags: Iterable[dict[str, Any]], owner: str) -> None:
    """Append tag objects, refusing a tag name already declared."""
    declared = {tag["name"] for tag in into}
    for tag in tags:
        if tag["name"] in declared:
            raise FragmentError(f"{owner}: tag {tag['name']!r} is already defined")
        declared.add(tag["name"])
        into.append(tag)


def assemble(common: dict[str, Any], fragments: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One document: `common` plus every fragment (by file name), each name defined once."""
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {
        section: dict(names) for section, names in common.get("components", {}).items()
    }
    tags: list[dict[str, Any]] = list(common.get("tags", []))
    for owner, fragment in fragments.items():
        unknown = set(fragment) - FRAGMENT_KEYS
        if unknown:
            raise FragmentError(f"{owner}: only {sorted(FRAGMENT_KEYS)} belong in a fragment")
        _merge_names(paths, fragment.get("paths", {}), "path", owner)
        for section, names in fragment.get("components", {}).items():
            _merge_names(components.setdefault(section, {}), names, section[:-1], owner)
        _merge_tags(tags, fragment.get("tags", []), owner)
    info = {key: value for key, value in common["info"].items() if key != "version"}
    head = {key: value for key, value in common.items() if key not in {"components", "tags"}}
    return {
        **head,
        "info": {"title": info.pop("title"), "version": simkl_server.__version__, **info},
        "tags": tags,
        "paths": paths,
        "components": components,
    }


def assemble_folder(folder: Traversable) -> dict[str, Any]:
    """The document made of one folder's `common.json` and fragments."""
    fragments = {file.name: _decode(file) for file in fragment_files(folder)}
    return assemble(_decode(folder.joinpath(COMMON)), fragments)


@cache
def document_bytes() -> bytes:
    """The document as served at /openapi.json (assembled on first use, then kept)."""
    assembled = assemble_folder(resources.files(__package__))
    return orjson.dumps(assembled, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def document() -> dict[str, Any]:
    """The document, decoded (a fresh copy each call)."""
    decoded: dict[str, Any] = orjson.loads(document_bytes())
    return decoded


def operation_for(
    document: dict[str, Any], method: str, path: str
) -> tuple[str, dict[str, Any]] | None:
    """The path template and operation of a document that a request goes to, if any: the first
    template that matches the path and takes the method, a literal segment winning over a
    parameter (`/a/b` before `/a/{x}`), as the router matches."""
    path = path.rstrip("/") or "/"
    templates = sorted(document["paths"], key=lambda t: ["{" in part for part in t.split("/")])
    for template in templates:
        operation = document["paths"][template].get(method.lower())
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if isinstance(operation, dict) and re.fullmatch(pattern, path):
            return template, operation
    return None
