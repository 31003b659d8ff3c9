"""My library: the signed-in user's lists (watching, plan to watch, on hold, completed,
dropped) with each item's progress, filtered by list and type; what they watched, newest
first; and a remove button per row that goes through the same domain call as
`POST /sync/history/remove`. The ratings page shows the lists' counts and the latest watches
too (`LibrarySummary`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simkl_server.api._http import services
from simkl_server.domain import history
from simkl_server.domain.kinds import ListStatus, MediaType
from simkl_server.domain.library import read_library
from simkl_server.domain.models import LibraryQuery, LibraryRow, LibraryView
from simkl_server.web._pages import (
    FormRefused,
    Page,
    form,
    page,
    posted_item,
    redirect,
    sign_in_first,
)

LISTS = {
    ListStatus.WATCHING: "Watching",
    ListStatus.PLANTOWATCH: "Plan to watch",
    ListStatus.HOLD: "On hold",
    ListStatus.COMPLETED: "Completed",
    ListStatus.DROPPED: "Dropped",
}
RECENT = 20  # watches the library page lists; the ratings page shows the first few
RECENT_ON_RATINGS = 5


@dataclass(frozen=True, slots=True)
class Filters:
    """What the table shows, read leniently from the query (unknown values: no filter)."""

    status: ListStatus | None
    media_type: MediaType | None

    @classmethod
    def of(cls, request: Request) -> Filters:
        """The filters of a request's query string."""
        query = request.query_params
        status = next((s for s in LISTS if s.value == query.get("list", "")), None)
        media_type = next((t for t in MediaType if t.value == query.get("type", "")), None)
        return cls(status, media_type)

    def keeps(self, row: LibraryRow) -> bool:
        """Whether the row passes the filters."""
        return (self.status is None or row.status is self.status) and (
            self.media_type is None or row.item.type is self.media_type
        )


@dataclass(frozen=True, slots=True)
class LibrarySummary:
    """How many items each list holds, and the latest watches (newest first)."""

    counts: list[tuple[ListStatus, str, int]]
    recent: list[LibraryRow]
    total: int


def summary(rows: list[LibraryRow], *, recent: int = RECENT) -> LibrarySummary:
    """The lists' counts and the `recent` latest watches of a library's rows."""
    counts = [(s, label, sum(1 for r in rows if r.status is s)) for s, label in LISTS.items()]
    watched = [row for row in rows if row.last_watched_at is not None]
    watched.sort(key=lambda row: -(row.last_watched_at or 0))
    return LibrarySummary(counts, watched[:recent], len(rows))


async def library_rows(current: Page) -> list[LibraryRow]:
    """Every row of the signed-in user's library, as `/sync/all-items` reads it."""
    assert current.user is not None
    settings, store, _ = services(current.request)
    read = await read_library(
        store,
        user_id=current.user.user_id,
        query=LibraryQuery(frozenset(MediaType)),
        view=LibraryView(),
        max_episodes=settings.max_read_episodes,
    )
    return read.rows


def progress(row: LibraryRow) -> str:
    """`3 / 10 episodes` for a show or anime, `watched` for a watched movie."""
    if row.item.type is MediaType.MOVIE:
        return "watched" if row.last_watched_at is not None else ""
    total = max(row.item.total_episodes or 0, row.watched_episodes)
    return f"{row.watched_episodes} / {total or '?'} episodes"


async def _render(current: Page, *, error: str | None = None, status: int = 200) -> Response:
    rows = await library_rows(current)
    filters = Filters.of(current.request)
    shown = [row for row in rows if filters.keeps(row)]
    shown.sort(key=lambda row: (-(row.last_watched_at or 0), -row.added_at))
    return current.render(
        "library.html",
        status=status,
        rows=shown,
        summary=summary(rows),
        filters=filters,
        lists=LISTS,
        types=list(MediaType),
        progress=progress,
        error=error,
    )


async def library_page(request: Request) -> Response:
    """GET /library: the signed-in user's lists and watches (signed out: the sign-in page)."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    return await _render(current)


async def remove(request: Request) -> Response:
    """POST /library/remove: take one item out of the library, as
    `POST /sync/history/remove` would (its watched episodes and rating go with it)."""
    current = await page(request)
    if current.user is None:
        return sign_in_first(request)
    try:
        item = posted_item(await form(request, current))
    except FormRefused as exc:
        return await _render(current, error=str(exc), status=403)
    except ValueError:
        return await _render(current, error="No such item.", status=400)
    await history.remove_history(
        services(request).store, user_id=current.user.user_id, items=[item]
    )
    query = request.url.query
    return redirect(f"/library?{query}" if query else "/library")


ROUTES = [
    Route("/library", library_page, methods=["GET"]),
    Route("/library/remove", remove, methods=["POST"]),
]
