"""The handlers' query parsing gives what Starlette's `request.query_params` gave them."""

from __future__ import annotations

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request

from simkl_server.api._http import query_params

QUERIES = [
    b"",
    b"client_id=abc&app-name=simkl-bench&app-version=1.0",
    b"extended=full&extended=ids",  # repeated: the last wins
    b"memos=yes&&next_watch_info=yes&",  # empty parts
    b"flag&other=",  # no `=`, and an empty value
    b"q=the+matrix&type=movie%2Cshow",  # `+` and percent escapes
    b"q=%E3%82%A2%E3%83%8B%E3%83%A1",  # UTF-8 escapes
    b"q=%FF%FE&bad=%zz&half=%E3%82",  # invalid UTF-8 and broken escapes
    b"na%6De=value&=nameless&a=b=c",  # an escaped name, no name, `=` in a value
    b"date_from=2024-01-01T00%3A00%3A00Z;x=1",  # `;` is no separator
    "caf\u00e9=cr\u00e8me".encode("latin-1"),  # raw bytes beyond ASCII
]


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [],
                    "query_string": query})  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_every_name_has_the_value_starlette_gave(query: bytes) -> None:
    """Same names, same order, same (last) value for each."""
    expected = QueryParams(query.decode("latin-1"))
    parsed = query_params(_request(query))
    assert list(parsed.items()) == list(expected.items())
    assert all(parsed.get(name) == expected.get(name) for name in ("extended", "q", "x", "nope"))
