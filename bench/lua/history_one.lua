-- POST /sync/history with one movie not yet in the user's library (a scrobbler's mark).
require("common").scenario("POST", "/sync/history")
