-- POST /sync/ratings with one item not yet in the user's library.
require("common").scenario("POST", "/sync/ratings")
