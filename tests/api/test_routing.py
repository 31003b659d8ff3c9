"""The URL table's index of fixed paths: a request reaches the route Starlette's scan would
have picked, and what the index cannot answer in full (another method) is still the scan's."""

from __future__ import annotations

from simkl_server.api._http import FixedPathRouter
from simkl_server.app import create_app
from simkl_server.config import Settings
from tests.conftest import Api


def test_every_indexed_path_names_the_first_route_that_could_match_it() -> None:
    app = create_app(Settings(database_url="sqlite:///unused.db"))
    router = app.router
    assert isinstance(router, FixedPathRouter)
    assert {"/sync/activities", "/sync/ratings/remove", "/scrobble/stop"} <= set(router.fixed)
    for path, route in router.fixed.items():
        first = next(r for r in router.routes if r.path_regex.match(path))  # type: ignore[attr-defined]
        assert first is route, path


def test_a_method_an_indexed_route_lacks_still_gets_405_with_allow(api: Api) -> None:
    response = api.client.delete("/sync/activities", params={"client_id": api.client_id})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json()["error"] == "wrong_method"


def test_an_indexed_path_and_its_case_variant_still_answer_as_before(api: Api) -> None:
    assert api.get("/sync/activities").status_code == 200
    # Not in the index (another spelling): the scan answers it, as it always did.
    assert api.get("/sync/Activities").status_code == 404
