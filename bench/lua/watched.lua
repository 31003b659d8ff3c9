-- POST /sync/watched: a JSON array of items, some in the user's library, some not.
require("common").scenario("POST", "/sync/watched")
