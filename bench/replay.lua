-- wrk script for bench/rush.py: replays a pre-generated list of requests, each once.
--
--   wrk -t32 -c32 -d120s -s bench/replay.lua http://127.0.0.1:PORT -- REQUESTS.lua OUT_DIR 32
--
-- REQUESTS.lua returns { {method, path, body, headers, kind}, ... } (written by rush.py);
-- the last argument is the number of threads, which must not exceed the number of entries.
-- Thread k of n sends entries k, k+n, k+2n… Run with as many threads as connections
-- (-t equal to -c): each thread then has exactly one connection, so request() and
-- response() alternate and the time between them is that request's latency, measured
-- with CLOCK_MONOTONIC (LuaJIT's FFI), the same clock as Python's time.monotonic_ns().
-- When a thread has had all its answers it writes OUT_DIR/thread-K.tsv (one line per
-- request: kind, start ns, end ns, status, error code) and stops; rush.py waits for
-- every file, then interrupts wrk (whose main thread would otherwise sleep out -d).
-- Requests sent after a thread's list ran out are GET /healthz, not recorded. A request
-- that got no answer because its connection closed is sent again (counted as a retry).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } od_timespec;
  int clock_gettime(int clk_id, od_timespec *tp);
]]
local ts = ffi.new("od_timespec")
local function now_ns()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000000 + tonumber(ts.tv_nsec)
end

-- setup() runs in the main thread's Lua state, once per wrk thread.
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local mine, records, requests = {}, {}, {}
local next_index, answered, started, finished, out_dir = 1, 0, nil, false, nil
local pending, retries = nil, 0
local filler

function init(args)
  local all = dofile(args[1])
  out_dir = args[2]
  local n = tonumber(args[3])
  for i = tid + 1, #all, n do
    local e = all[i]
    table.insert(mine, e)
    table.insert(requests, wrk.format(e[1], e[2], e[4], e[3]))
  end
  filler = wrk.format("GET", "/healthz")
end

local function write_records()
  local f = io.open(out_dir .. "/thread-" .. tid .. ".tsv", "w")
  f:write(table.concat(records, "\n"))
  if #records > 0 then f:write("\n") end
  f:close()
end

function request()
  if pending ~= nil then
    -- No answer came for the last request and wrk is sending again on a new
    -- connection (the old one was closed or failed): send the same entry again.
    retries = retries + 1
    started = now_ns()
    return requests[pending]
  end
  local i = next_index
  if i > #requests then
    return filler
  end
  next_index = i + 1
  pending = i
  started = now_ns()
  return requests[i]
end

function response(status, headers, body)
  if pending == nil or finished then return end
  local stop = now_ns()
  answered = answered + 1
  local code = ""
  if status >= 400 then
    code = string.match(body or "", '"error"%s*:%s*"([%w_]+)"') or ""
  end
  records[#records + 1] = mine[pending][5] .. "\t" .. started .. "\t" .. stop .. "\t" .. status .. "\t" .. code
  pending = nil
  if answered >= #mine then
    finished = true
    if retries > 0 then records[#records + 1] = "#retries\t" .. retries end
    write_records()
    wrk.thread:stop()
  end
end
