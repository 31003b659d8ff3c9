-- GET /search/id: each pool line names its query (`<token index>\t/search/id?imdb=tt…\t`).
require("common").scenario("GET", "/search/id")
