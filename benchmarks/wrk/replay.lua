-- Replays requests written beforehand by benchmarks/wrk.py, each sent once, and reports what
-- came back as one JSON line (read by benchmarks/wrk.py's `parse`).
--
-- wrk -s replay.lua URL -- FILE THREADS [LABEL PATTERN]...
--   FILE     records "<length>\n<raw HTTP request>", each a whole request (line, headers, body)
--   THREADS  wrk's -t: thread k of n sends records k, k + n, k + 2n, ... so none is sent twice
--   LABEL PATTERN  pairs: count the 2xx answers whose body matches the Lua PATTERN under LABEL
-- A thread that runs out of records starts again from its first (the report shows sent > records).

local threads = {}
local created = 0

function setup(thread)
  created = created + 1
  thread:set("id", created)
  table.insert(threads, thread)
end

function init(args)
  local file, total = args[1], tonumber(args[2])
  records = {}
  local f = assert(io.open(file, "rb"))
  local n = 0
  while true do
    local length = f:read("*l")
    if not length then break end
    local raw = f:read(tonumber(length))
    n = n + 1
    if (n - id) % total == 0 then records[#records + 1] = raw end
  end
  f:close()
  assert(#records > 0, "no requests for thread " .. id .. " in " .. file)
  labels, patterns, matched = {}, {}, {}
  for k = 3, #args - 1, 2 do
    labels[#labels + 1], patterns[#patterns + 1] = args[k], args[k + 1]
    matched[#matched + 1] = 0
  end
  count, sent, statuses = #records, 0, {}
  -- wrk 4.1 calls the first thread's request() once before starting, to check that it parses
  -- (script_verify_request); that request is never sent, so it must not use up a record.
  verifying = id == 1
end

function request()
  if verifying then
    verifying = false
    return records[1]
  end
  sent = sent + 1
  return records[(sent - 1) % #records + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 200 and status < 300 then
    for k = 1, #patterns do
      if body and string.find(body, patterns[k]) then matched[k] = matched[k] + 1 end
    end
  end
end

local function json(value)
  if type(value) == "table" then
    local parts = {}
    for k, v in pairs(value) do
      parts[#parts + 1] = string.format("%q:%s", tostring(k), json(v))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif type(value) == "string" then
    return string.format("%q", value)
  elseif value ~= value then
    return "null" -- NaN: no latency recorded
  end
  return tostring(value)
end

function done(summary, latency, requests)
  local out = {
    duration_us = summary.duration,
    requests = summary.requests,
    bytes = summary.bytes,
    errors = summary.errors,
    latency_us = {
      min = latency.min, mean = latency.mean, max = latency.max,
      p50 = latency:percentile(50), p90 = latency:percentile(90),
      p95 = latency:percentile(95), p99 = latency:percentile(99),
    },
    threads = {},
  }
  for _, thread in ipairs(threads) do
    local names, counts, found = thread:get("labels"), thread:get("matched"), {}
    for k = 1, #names do found[names[k]] = counts[k] end
    out.threads[#out.threads + 1] = {
      id = thread:get("id"),
      records = thread:get("count"),
      sent = thread:get("sent"),
      statuses = thread:get("statuses"),
      matched = found,
    }
  end
  io.write("wrk-result ", json(out), "\n")
end
