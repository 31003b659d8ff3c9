-- Shared by every scenario script: loads a request pool written by bench/scenarios.py,
-- spreads it over wrk's threads and reports the run as one JSON line.
--
-- Arguments (after `--`): pool file, tokens file, client_id, thread count, first line,
-- request limit (0: run for the whole duration; else stop after that many responses).
-- A pool line is `<token index>\t<JSON body>` (the body is empty for GETs), or
-- `<token index>\t<path>\t<JSON body>` for a line that names its own path (and query), which
-- then replaces the script's; every request carries client_id, app-name and app-version in the
-- query, a Bearer token and a User-Agent. `options.api_key_header` adds the client_id as the
-- `simkl-api-key` header too (the official document secures some operations by it alone).

local M = {}
local threads_seen = 0

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  return lines
end

-- path .. the identification query (`?` or `&` as the path already has a query or not).
local function with_query(path, query)
  return path .. (path:find("?", 1, true) and "&" or "?") .. query
end

local function prepare(method, path, query, line, tokens, api_key)
  local tab = line:find("\t", 1, true)
  local token = tokens[tonumber(line:sub(1, tab - 1)) + 1]
  local body = line:sub(tab + 1)
  local second = body:find("\t", 1, true)
  if second then -- the line names its own path (a JSON body never holds a raw tab)
    path = body:sub(1, second - 1)
    body = body:sub(second + 1)
  end
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["User-Agent"] = "simkl-bench/1.0",
  }
  if api_key then
    headers["simkl-api-key"] = api_key
  end
  if body == "" then
    body = nil
  else
    headers["Content-Type"] = "application/json"
  end
  return wrk.format(method, with_query(path, query), headers, body)
end

function M.scenario(method, path, options)
  options = options or {}
  function setup(thread)
    thread:set("thread_index", threads_seen)
    threads_seen = threads_seen + 1
  end

  function init(args)
    local pool = read_lines(args[1])
    local tokens = read_lines(args[2])
    local query = "client_id=" .. args[3] .. "&app-name=simkl-bench&app-version=1.0"
    local threads, first, limit = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
    prepared = {}
    for n = 0, #pool - 1 do
      if n % threads == thread_index then
        local line = pool[(first + n) % #pool + 1]
        local api_key = options.api_key_header and args[3] or nil
        prepared[#prepared + 1] = prepare(method, path, query, line, tokens, api_key)
      end
    end
    next_request = 0
    if limit > 0 then
      local answered = 0
      function response()
        answered = answered + 1
        if answered == limit then
          -- wrk's main thread sleeps for the whole -d: the harness sends SIGINT on this line.
          io.write("BENCH_LIMIT\n")
          io.flush()
          wrk.thread:stop()
        end
      end
    end
  end

  function request()
    next_request = next_request % #prepared + 1
    return prepared[next_request]
  end

  function done(summary, latency)
    local e = summary.errors
    io.write(string.format(
      'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
        .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
        .. '"latency_us":{"min":%d,"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d}}\n',
      summary.requests, summary.duration, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout,
      latency.min, latency.mean, latency.max,
      latency:percentile(50), latency:percentile(90), latency:percentile(99)
    ))
  end
end

return M
