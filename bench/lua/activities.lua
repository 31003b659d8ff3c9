-- GET /sync/activities: the call every client makes before any other.
require("common").scenario("GET", "/sync/activities")
