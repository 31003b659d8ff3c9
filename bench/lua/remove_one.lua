-- POST /sync/ratings/remove with one item of the user's library, id kinds rotating.
require("common").scenario("POST", "/sync/ratings/remove")
