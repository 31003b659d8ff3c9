-- GET /redirect: each pool line names its query (`<token index>\t/redirect?to=simkl&…\t`);
-- the answers are 301 / 302, which wrk does not count as errors (only statuses from 400 up).
require("common").scenario("GET", "/redirect", { api_key_header = true })
