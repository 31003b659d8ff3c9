-- GET /sync/all-items of a 100-item library (a small user's whole sync).
require("common").scenario("GET", "/sync/all-items")
