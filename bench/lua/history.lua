-- POST /sync/history: a 100-item batch (movies, shows by episodes or whole, some not found),
-- or one ten-season show with every episode listed.
require("common").scenario("POST", "/sync/history")
