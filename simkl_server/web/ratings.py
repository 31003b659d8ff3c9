"""My ratings: the signed-in user's rated items as a table (filter by type and rating, sort
by date or title), the rating distribution as a chart, and a remove button per row that goes
through the same domain call as `POST /sync/ratings/remove`; above them, the library's lists
and latest watches (the whole library is on My library)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import services
from simkl_server.domain import ratings
from simkl_server.domain.kinds import MediaType
from simkl_server.domain.models import LibraryRow, LibraryView, RatingsQuery
from simkl_server.web._pages import (
    FormRefused,
    Page,
    form,
    page,
    posted_item,
    redirect,
    sign_in_first,
)
from simkl_server.web.library import RECENT_ON_RATINGS, library_rows, summary

ALL_RATINGS = frozenset(range(1, 11))
SORTS = {"date": "Newest first", "title": "Title A-Z"}
CHART_HEIGHT = 120


@dataclass(frozen=True, slots=True)
class Filters:
    """What the table shows, read leniently from the query (unknown values: no filter)."""

    media_type: MediaType | None
    rating: int | None
    sort: str

    @classmethod
    def of(cls, request: Request) -> Filters:
        """The filters of a request's query string."""
        query = request.query_params
        word = query.get("type", "")
        media_type = next((t for t in MediaType if t.value == word), None)
        rating_text = query.get("rating", "")
        rating = (
            int(rating_text) if rating_text.isdigit() and int(rating_text) in ALL_RATINGS else None
        )
        sort = query.get("sort", "date") if query.get("sort") in SORTS else "date"
        return cls(media_type, rating, sort)


def _shown(rows: Sequence[LibraryRow], filters: Filters) -> list[LibraryRow]:
    kept = [
        row
        for row in rows
        if (filters.media_type is None or row.item.type is filters.media_type)
        and (filters.rating is None or row.user_rating == filters.rating)
    ]
    if filters.sort == "title":
        return sorted(kept, key=lambda row: (row.item.title.casefold(), row.item.year or 0))
    return sorted(kept, key=lambda row: -(row.user_rated_at or 0))


def _bars(rows: Sequence[LibraryRow]) -> list[tuple[int, int, int]]:
    """(rating, count, bar height) for 1..10."""
    counts = Counter(row.user_rating for row in rows)
    top = max(counts.values(), default=0) or 1
    return [(r, counts[r], round(CHART_HEIGHT * counts[r] / top)) for r in range(1, 11)]


async def _render(current: Page, *, error: str | None = None, status: int = 200) -> Response:
    assert current.user is not None
    settings, store, _ = services(current.request)
    read = await ratings.read_ratings(
        store,
        user_id=current.user.user_id,
        query=RatingsQuery(frozenset(MediaType), ALL_RATINGS),
        view=LibraryView(),
        max_episodes=settings.max_read_episodes,
    )
    rows = read.rows
    filters = Filters.of(current.request)
    by_type = [row for row in rows if filters.media_type in (None, row.item.type)]
    return current.render(
        "ratings.html",
        status=status,
        rows=_shown(rows, filters),
        total=len(rows),
        bars=_bars(by_type),
        chart_height=CHART_HEIGHT,
        filters=filters,
        types=list(MediaType),
        sorts=SORTS,
        library=summary(await library_rows(current), recent=RECENT_ON_RATINGS),
        error=error,
    )


async def ratings_page(request: Request) -> Response:
    """GET /: the signed-in user's ratings (signed out: the sign-in page)."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    return await _render(current)


async def remove(request: Request) -> Response:
    """POST /ratings/remove: clear one rating, as `POST /sync/ratings/remove` would."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        item = posted_item(await form(request, current))
    except FormRefused as exc:
        return await _render(current, error=str(exc), status=403)
    except ValueError:
        return await _render(current, error="No such item.", status=400)
    await ratings.remove_ratings(
        services(request).store, user_id=current.user.user_id, items=[item]
    )
    return redirect(f"/?{request.url.query}" if request.url.query else "/")


ROUTES = [
    Route("/", ratings_page, methods=["GET"]),
    Route("/ratings/remove", remove, methods=["POST"]),
]
