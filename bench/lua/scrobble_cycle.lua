-- Scrobble cycles: each pool line is `<token index>\t<path>\t<JSON body>` (start, pause and
-- stop of one movie by one user, in that order), so one run mixes the three endpoints the way
-- a player sends them. Arguments and output as common.lua's.

local M = require("common")

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    lines[#lines + 1] = line
  end
  return lines
end

local function prepare(query, line, tokens)
  local first = line:find("\t", 1, true)
  local second = line:find("\t", first + 1, true)
  local token = tokens[tonumber(line:sub(1, first - 1)) + 1]
  local path = line:sub(first + 1, second - 1)
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["User-Agent"] = "simkl-bench/1.0",
    ["Content-Type"] = "application/json",
  }
  return wrk.format("POST", path .. query, headers, line:sub(second + 1))
end

-- common.lua's scenario() defines setup, init, request and done; init is wrapped so that every
-- line names its own path.
M.scenario("POST", "/scrobble/start")

local common_init = init
function init(args)
  common_init(args)
  local pool = read_lines(args[1])
  local tokens = read_lines(args[2])
  local query = "?client_id=" .. args[3] .. "&app-name=simkl-bench&app-version=1.0"
  local threads, first = tonumber(args[4]), tonumber(args[5])
  prepared = {}
  for n = 0, #pool - 1 do
    if n % threads == thread_index then
      prepared[#prepared + 1] = prepare(query, pool[(first + n) % #pool + 1], tokens)
    end
  end
  next_request = 0
end
