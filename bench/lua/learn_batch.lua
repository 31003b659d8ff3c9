-- POST /sync/ratings with 100 items the catalog lacks (learn mode): every item is learned.
require("common").scenario("POST", "/sync/ratings")
