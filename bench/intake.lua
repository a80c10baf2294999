-- wrk's script for the intake figures (bench/surge.py): every request posts new mentions, each with an external_id
-- and an author of its own, so each mention opens an incident; done() prints the run's totals as one JSON line.
-- Arguments after `--`: PATH PREFIX BATCH. BATCH 0 posts one mention as the body; N posts {"mentions": [N of them]}.
local threads = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  target = args[1]
  prefix = args[2] .. "t" .. number .. "n"
  batch = tonumber(args[3])
  counter = 0
  wrk.headers["Content-Type"] = "application/json"
end

local function mention()
  counter = counter + 1
  local id = prefix .. counter
  return '{"channel":"twitter","external_id":"' .. id .. '","text":"My order arrived broken",'
    .. '"posted_at":"2026-11-23T09:00:00Z","author":{"handle":"@' .. id .. '","followers":10}}'
end

function request()
  local body
  if batch == 0 then
    body = mention()
  else
    local items = {}
    for i = 1, batch do
      items[i] = mention()
    end
    body = '{"mentions":[' .. table.concat(items, ",") .. "]}"
  end
  return wrk.format("POST", target, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
      .. '"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
