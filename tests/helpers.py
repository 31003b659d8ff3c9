"""Assertions shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx

ERROR_KEYS = frozenset({"error", "code", "message"})


def assert_json_response(response: httpx.Response) -> Any:
    """The decoded body of a response that must be JSON (by content type and by content)."""
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip() == "application/json", (
        f"content-type {content_type!r}, body {response.text!r}"
    )
    return response.json()


def assert_simkl_error(response: httpx.Response, status: int, error_id: str) -> dict[str, Any]:
    """Check a Simkl error answer: the status, a JSON `{"error", "code", "message"}` envelope
    with exactly those keys, `error == error_id`, `code == status` and a non-empty text
    message. Returns the body for further checks."""
    assert response.status_code == status, (
        f"expected {status} {error_id}, got {response.status_code}: {response.text!r}"
    )
    body = assert_json_response(response)
    assert isinstance(body, dict), body
    assert set(body) == ERROR_KEYS, f"envelope keys {sorted(body)}, want {sorted(ERROR_KEYS)}"
    assert body["error"] == error_id, body
    assert type(body["code"]) is int, body
    assert body["code"] == status, body
    assert isinstance(body["message"], str), body
    assert body["message"].strip(), body
    return body
