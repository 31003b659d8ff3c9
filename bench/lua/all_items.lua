-- GET /sync/all-items: a user's whole library (10,000 items; 1k to 100k on the curve).
require("common").scenario("GET", "/sync/all-items")
