-- POST /sync/ratings/remove with a batch (100 or 1,000 items: mixed id kinds, title+year,
-- some not found), each batch taken from the user's own library.
require("common").scenario("POST", "/sync/ratings/remove")
