-- GET /tv/{id}: each pool line names its show (`<token index>\t/tv/<id>\t`).
require("common").scenario("GET", "/tv/{id}", { api_key_header = true })
