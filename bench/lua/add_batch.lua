-- POST /sync/ratings with 100 items not yet in the user's library (some not found).
require("common").scenario("POST", "/sync/ratings")
