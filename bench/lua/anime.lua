-- GET /anime/{id}: each pool line names its anime (`<token index>\t/anime/<id>\t`).
require("common").scenario("GET", "/anime/{id}", { api_key_header = true })
