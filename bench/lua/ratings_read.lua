-- GET /sync/ratings/movies/1,...,10: every rated movie of a 10,000-item library.
require("common").scenario("GET", "/sync/ratings/movies/1,2,3,4,5,6,7,8,9,10")
