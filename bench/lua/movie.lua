-- GET /movies/{id}: each pool line names its movie (`<token index>\t/movies/<id>\t`).
require("common").scenario("GET", "/movies/{id}", { api_key_header = true })
