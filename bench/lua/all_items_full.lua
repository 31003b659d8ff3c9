-- GET /sync/all-items?extended=full: a 10,000-item watch history with its watched episodes.
require("common").scenario("GET", "/sync/all-items?extended=full")
