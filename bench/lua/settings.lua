-- GET /users/settings: the user's profile and account, as clients read it after sign-in.
require("common").scenario("GET", "/users/settings")
