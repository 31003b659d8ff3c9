"""The one media-kind vocabulary: what an item is, which request array it arrived in, and every
map between those and the words Simkl uses for them on the wire and in /sync/activities.

Simkl spells one idea several ways: a catalog item is a `movie`, `show` or `anime`; requests
carry items in `movies[]`, `shows[]` or `anime[]`; write responses fold anime into `shows`
and echo `"type": "movie"` or `"show"`; reads group rows under `movies`, `shows`, `anime`;
activities name blocks `movies`, `tv_shows`, `anime`. Every such map lives here.
"""

from __future__ import annotations

from enum import StrEnum


class MediaType(StrEnum):
    """What a catalog item is."""

    MOVIE = "movie"
    SHOW = "show"
    ANIME = "anime"

    @property
    def plural(self) -> str:
        """The key read endpoints group rows of this type under (`movies`, `shows`, `anime`)."""
        return _PLURAL[self]

    @property
    def activity_block(self) -> str:
        """The /sync/activities block this type's changes move (`movies`, `tv_shows`, `anime`)."""
        return _ACTIVITY_BLOCK[self]


class Wrapper(StrEnum):
    """The top-level array a request item arrived in."""

    MOVIES = "movies"
    SHOWS = "shows"
    ANIME = "anime"

    @property
    def response_bucket(self) -> str:
        """Where write responses count and echo this array's items: anime folds into shows."""
        return "movies" if self is Wrapper.MOVIES else "shows"

    @property
    def echo_type(self) -> str:
        """The `type` Simkl adds to an echoed item: `movie`, or `show` for shows and anime."""
        return "movie" if self is Wrapper.MOVIES else "show"

    @property
    def tmdb_scope(self) -> str:
        """TMDB numbers movies and TV separately; the array says which space an id is in."""
        return "movie" if self is Wrapper.MOVIES else "tv"

    def accepts(self, media_type: MediaType, anime_type: str | None) -> bool:
        """`movies[]` resolves movies and anime films; `shows[]`/`anime[]` shows and anime."""
        if self is Wrapper.MOVIES:
            return is_movie_like(media_type, anime_type)
        return media_type is not MediaType.MOVIE


class ListStatus(StrEnum):
    """A library (watchlist) status."""

    WATCHING = "watching"
    PLANTOWATCH = "plantowatch"
    COMPLETED = "completed"
    HOLD = "hold"
    DROPPED = "dropped"


# Request arrays in the order Simkl processes (and echoes) them.
WRAPPERS: tuple[Wrapper, ...] = (Wrapper.MOVIES, Wrapper.SHOWS, Wrapper.ANIME)
RESPONSE_BUCKETS: tuple[str, ...] = ("movies", "shows")
# Stored words to members by plain lookup: calling the enum is several times slower, per row.
MEDIA_TYPE_OF_WORD: dict[str, MediaType] = {member.value: member for member in MediaType}
LIST_STATUS_OF_WORD: dict[str, ListStatus] = {member.value: member for member in ListStatus}
SETTINGS_BUCKET = "settings.all"

_PLURAL = {MediaType.MOVIE: "movies", MediaType.SHOW: "shows", MediaType.ANIME: "anime"}
_ACTIVITY_BLOCK = {MediaType.MOVIE: "movies", MediaType.SHOW: "tv_shows", MediaType.ANIME: "anime"}
TYPE_OF_PLURAL: dict[str, MediaType] = {plural: media for media, plural in _PLURAL.items()}


def is_movie_like(media_type: MediaType, anime_type: str | None) -> bool:
    """Movies, and anime films (which clients may send under `movies[]`)."""
    return media_type is MediaType.MOVIE or (
        media_type is MediaType.ANIME and anime_type == "movie"
    )


def tmdb_scope_of(media_type: MediaType, anime_type: str | None) -> str:
    """The TMDB space a catalog item's tmdb id lives in."""
    return "movie" if is_movie_like(media_type, anime_type) else "tv"


def rated_bucket(media_type: MediaType) -> str:
    """The activity bucket a rating of that type moves when added, changed or removed."""
    return f"{media_type.activity_block}.rated_at"


def list_bucket(media_type: MediaType, status: ListStatus) -> str:
    """The activity bucket that moves when an item of that type enters or leaves a list."""
    return f"{media_type.activity_block}.{status.value}"


def removed_bucket(media_type: MediaType) -> str:
    """The activity bucket that moves when an item of that type leaves the library entirely."""
    return f"{media_type.activity_block}.removed_from_list"
