"""Cut Simkl's official OpenAPI document down to the operations the benchmark drives.

Usage: `python -m bench.trim_openapi OFFICIAL.json > bench/openapi-trimmed.json`

The operations are those the benchmark's scenarios request: each scenario's request is looked
up in this server's own OpenAPI document, whose operationIds are Simkl's. Keeps them with every
component they reference (parameters, schemas, responses, security schemes) and their
examples; drops the prose (descriptions, doc-site extensions). The result is what Prism mocks
in the benchmark; see bench/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from bench.scenarios import SCENARIOS
from simkl_server.openapi import HTTP_METHODS, operation_for
from simkl_server.openapi import document as our_document

_DROPPED_KEYS = frozenset({"externalDocs", "x-mint", "x-codeSamples", "x-logo", "tags"})
_ORIGIN = (
    "Trimmed copy of Simkl's official OpenAPI 3.1 document (https://api.simkl.org/openapi.json): "
    "only the operations simkl-server's benchmark drives, with their schemas and examples; "
    "prose removed. Regenerate with `python -m bench.trim_openapi OFFICIAL.json`."
)


def _strip(node: Any, *, in_properties: bool = False) -> Any:
    """Drop prose and doc-site keys; `description` stays where it is a property name and
    where OpenAPI requires it (response objects get an empty one)."""
    if isinstance(node, list):
        return [_strip(value) for value in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED_KEYS and not in_properties:
            continue
        if key == "description" and not in_properties and isinstance(value, str):
            continue
        kept[key] = _strip(value, in_properties=key == "properties" and not in_properties)
    if "content" in kept and "description" in node and not in_properties:
        kept["description"] = ""  # required on response objects
    return kept


def _references(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value)
            else:
                _references(value, found)
    elif isinstance(node, list):
        for value in node:
            _references(value, found)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _patch(document: dict[str, Any]) -> None:
    """Two fixes without which Prism refuses requests that the official document's own
    examples make (each listed in bench/README.md):

    1. Remove items: the document reuses the add item (`rating` and `ids` required) for
       `POST /sync/ratings/remove`, whose examples send `{"ids": {...}}` alone and whose
       prose allows `title` + `year` instead of ids. Remove items get their own schema.
    2. The `{rating}` path segment: Prism's router splits a comma-separated path value into
       an array before validating it, so `8,9,10` fails `type: string` (and `type: array`
       crashes Prism's deserialiser); the segment is declared as a string or an array.
    """
    schemas = document["components"]["schemas"]
    item = schemas["RatingItem"]
    schemas["RatingsRemoveItem"] = {
        "type": "object",
        "properties": {key: value for key, value in item["properties"].items() if key != "rating"},
    }
    for wrapper in schemas["RatingsRemoveRequest"]["properties"].values():
        wrapper["items"] = {"$ref": "#/components/schemas/RatingsRemoveItem"}
    rating = document["components"]["parameters"]["UserRatingsRatingQuery"]
    rating["schema"] = {
        "type": ["string", "array"],
        "pattern": rating["schema"]["pattern"],
        "items": {"type": "string", "pattern": "^(10|[1-9])$"},
    }


def benchmarked_operation_ids() -> list[str]:
    """The operationIds of the scenarios' requests in our document, each once, in order (those
    the official document has)."""
    ids: list[str] = []
    for scenario in (s for s in SCENARIOS if s.official):
        found = operation_for(our_document(), scenario.method, scenario.path)
        if found is None:
            raise LookupError(f"{scenario.method} {scenario.path} is not in our document")
        if found[1]["operationId"] not in ids:
            ids.append(found[1]["operationId"])
    return ids


def official_operations(document: dict[str, Any], ids: list[str]) -> list[tuple[str, str]]:
    """(path, method) of each operationId in the official document."""
    where = {
        operation["operationId"]: (path, method)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS and "operationId" in operation
    }
    missing = [operation_id for operation_id in ids if operation_id not in where]
    if missing:
        raise LookupError(f"not in the official document: {', '.join(missing)}")
    return [where[operation_id] for operation_id in ids]


def trim(document: dict[str, Any]) -> dict[str, Any]:
    """The trimmed (and patched) document."""
    paths: dict[str, Any] = {}
    for path, method in official_operations(document, benchmarked_operation_ids()):
        paths.setdefault(path, {})[method] = document["paths"][path][method]
    refs: set[str] = set()
    _references(paths, refs)
    pending = sorted(refs)
    while pending:
        inner: set[str] = set()
        _references(_resolve(document, pending.pop()), inner)
        pending += sorted(inner - refs)
        refs |= inner
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": document["components"]["securitySchemes"]
    }
    for ref in sorted(refs):
        _, _, section, name = ref.split("/")
        components.setdefault(section, {})[name] = _resolve(document, ref)
    info = document["info"]
    trimmed: dict[str, Any] = _strip(
        {
            "openapi": document["openapi"],
            "info": {"title": info["title"], "version": info["version"]},
            "servers": [{"url": "https://api.simkl.com"}],
            "security": document.get("security", []),
            "paths": paths,
            "components": components,
        }
    )
    trimmed["info"]["description"] = _ORIGIN
    _patch(trimmed)
    return trimmed


def main() -> None:
    """Read the official document named on the command line; print the trimmed one."""
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    document = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    try:
        trimmed = trim(document)
    except LookupError as exc:
        sys.exit(f"trim_openapi: {exc}")
    json.dump(trimmed, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
