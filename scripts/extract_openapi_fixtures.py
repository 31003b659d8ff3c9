"""Extract test fixtures from Simkl's official OpenAPI 3.1 document (a developer tool).

    python scripts/extract_openapi_fixtures.py PATH/TO/simkl-openapi.json [--out DIR]

For each operation this server's own OpenAPI document (simkl_server/openapi) lists under an
operationId the official document also has, it writes `<operationId>.json` into
tests/fixtures/openapi/: the request examples by name, the response examples by status and
name, and every JSON Schema involved (request body, parameters, responses) with `$ref`s
inlined. The shared error responses go to `errors.json`, a few component schemas to
`schemas.json`. Only shapes and values are kept: `description`, `summary`, `title`,
`example(s)` inside schemas and `x-*` extensions are dropped.

Tests read the generated files and never this script nor the official document.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from simkl_server.openapi import HTTP_METHODS
from simkl_server.openapi import document as our_document

ERROR_RESPONSES = (
    "BadRequest",
    "Unauthorized",
    "NotFound",
    "ClientIdFailed",
    "RateLimited",
    "ServerError",
)
# Component schemas the tests use beyond the operations' own: the documented library row (the
# ratings read returns the same rows) and the error envelope (for statuses an operation omits).
SCHEMAS = ("AllItemsResponse", "ErrorResponse")
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "openapi"

# Annotation keywords that carry prose or sample data rather than shape.
_DROPPED = frozenset(
    {"description", "summary", "title", "example", "examples", "$comment", "externalDocs"}
)
# Keywords whose value is a map of names to schemas (the names are data, never keywords).
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
# Keywords whose value is one schema, or a list of schemas.
_SCHEMA_ONE = frozenset(
    {
        "items",
        "additionalProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
        "unevaluatedItems",
        "unevaluatedProperties",
        "additionalItems",
        "contentSchema",
    }
)
_SCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})


class Resolver:
    """Follows local `$ref`s (`#/components/...`) of one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def target(self, ref: str) -> Any:
        """The value a local reference points at."""
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref!r}")
        node: Any = self.document
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def deref(self, node: Any) -> Any:
        """A reference object replaced by what it points at (transitively)."""
        seen: set[str] = set()
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen:
                raise ValueError(f"reference cycle at {ref}")
            seen.add(ref)
            node = self.target(ref)
        return node

    def schema(self, node: Any, stack: tuple[str, ...] = ()) -> Any:
        """A JSON Schema with every `$ref` inlined and every annotation keyword dropped."""
        if isinstance(node, bool):
            return node
        if not isinstance(node, dict):
            raise TypeError(f"not a schema: {node!r}")
        out: dict[str, Any] = {}
        ref = node.get("$ref")
        if ref is not None:
            if ref in stack:
                raise ValueError(f"recursive schema at {ref}; inline it by hand")
            resolved = self.schema(self.target(ref), (*stack, ref))
            rest = {k: v for k, v in node.items() if k != "$ref" and not _dropped(k)}
            if not rest:
                return resolved
            out["allOf"] = [resolved]
            node = rest
        for key, value in node.items():
            if _dropped(key) or key == "$ref":
                continue
            if key in _SCHEMA_MAPS:
                out[key] = {name: self.schema(sub, stack) for name, sub in value.items()}
            elif key in _SCHEMA_ONE:
                out[key] = self.schema(value, stack)
            elif key in _SCHEMA_LIST:
                out[key] = [self.schema(sub, stack) for sub in value]
            else:
                out[key] = value
        return out


def _dropped(key: str) -> bool:
    return key in _DROPPED or key.startswith("x-")


def media_examples(resolver: Resolver, media: dict[str, Any]) -> dict[str, Any]:
    """The named examples (values only), the unnamed `example` if any, and the schema."""
    out: dict[str, Any] = {}
    named = {
        name: resolver.deref(example)["value"]
        for name, example in sorted(media.get("examples", {}).items())
        if "value" in resolver.deref(example)
    }
    if named:
        out["examples"] = named
    if "example" in media:
        out["example"] = media["example"]
    if "schema" in media:
        out["schema"] = resolver.schema(media["schema"])
    return out


def response_fixture(resolver: Resolver, response: Any) -> dict[str, Any]:
    """One response: its JSON examples and schema."""
    response = resolver.deref(response)
    media = response.get("content", {}).get("application/json")
    return media_examples(resolver, media) if media is not None else {}


def parameter_fixture(resolver: Resolver, parameter: Any) -> dict[str, Any]:
    """One parameter: where it goes, whether it is required, and its schema."""
    parameter = resolver.deref(parameter)
    out = {
        "name": parameter["name"],
        "in": parameter["in"],
        "required": bool(parameter.get("required", False)),
    }
    if "schema" in parameter:
        out["schema"] = resolver.schema(parameter["schema"])
    return out


def operation_ids(document: dict[str, Any]) -> list[str]:
    """Every operationId of a document, in document order."""
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method in HTTP_METHODS
        if isinstance(operation := item.get(method), dict) and "operationId" in operation
    ]


def find_operation(document: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """Path, method and operation object of an operationId."""
    for path, item in document["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return path, method, operation
    raise KeyError(f"no operation {operation_id!r} in the document")


def shared_operations(
    official: dict[str, Any], ours: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """(operationIds both documents have, ours the official one lacks), in our order."""
    theirs = set(operation_ids(official))
    mine = operation_ids(ours)
    return [i for i in mine if i in theirs], [i for i in mine if i not in theirs]


def operation_fixture(resolver: Resolver, operation_id: str) -> dict[str, Any]:
    """Everything the tests need about one operation."""
    path, method, operation = find_operation(resolver.document, operation_id)
    out: dict[str, Any] = {"operationId": operation_id, "method": method.upper(), "path": path}
    out["parameters"] = [parameter_fixture(resolver, p) for p in operation.get("parameters", [])]
    body = resolver.deref(operation.get("requestBody")) if "requestBody" in operation else None
    if body is not None:
        content = body.get("content", {})
        # A JSON body, else the form one (the OAuth endpoints document only their form).
        media = content.get("application/json") or content.get(
            "application/x-www-form-urlencoded", {}
        )
        out["request"] = {"required": bool(body.get("required", False))}
        out["request"].update(media_examples(resolver, media))
    out["responses"] = {
        status: response_fixture(resolver, response)
        for status, response in sorted(operation.get("responses", {}).items())
    }
    out["security"] = operation.get("security", resolver.document.get("security", []))
    return out


def source_note(document: dict[str, Any], raw: bytes) -> dict[str, str]:
    """Which document the fixtures were taken from."""
    info = document.get("info", {})
    return {
        "title": str(info.get("title", "")),
        "version": str(info.get("version", "")),
        "openapi": str(document.get("openapi", "")),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }


def write_json(path: Path, value: Any) -> None:
    """Pretty, stable JSON (sorted keys, trailing newline)."""
    path.write_text(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def extract(source: Path, out_dir: Path, ours: dict[str, Any]) -> tuple[list[Path], list[str]]:
    """Write a fixture per operation both documents have, and the shared ones; return the
    paths written and our operationIds the official document lacks."""
    raw = source.read_bytes()
    document = json.loads(raw)
    if not str(document.get("openapi", "")).startswith("3.1"):
        raise ValueError("expected an OpenAPI 3.1 document")
    resolver = Resolver(document)
    note = source_note(document, raw)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    shared, ours_only = shared_operations(document, ours)
    for operation_id in shared:
        fixture = {"source": note, **operation_fixture(resolver, operation_id)}
        written.append(out_dir / f"{operation_id}.json")
        write_json(written[-1], fixture)
    responses = document["components"]["responses"]
    errors = {name: response_fixture(resolver, responses[name]) for name in ERROR_RESPONSES}
    written.append(out_dir / "errors.json")
    write_json(written[-1], {"source": note, "responses": errors})
    schemas = document["components"]["schemas"]
    named = {name: resolver.schema(schemas[name]) for name in SCHEMAS}
    written.append(out_dir / "schemas.json")
    write_json(written[-1], {"source": note, "schemas": named})
    return written, ours_only


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="Simkl's official OpenAPI document (JSON)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory")
    args = parser.parse_args(argv)
    written, ours_only = extract(args.source, args.out, our_document())
    for path in written:
        print(f"wrote {path}")
    if ours_only:
        print(f"not in the official document, so no fixture: {', '.join(ours_only)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
