-- wrk script for bench/pingback_flood.py: WordPress pingback verifications, each thread stopping after
-- @PER_THREAD@ answers (so that the flood is a known number of requests); prints how many were 403.
-- wrk itself runs until -d: each thread leaves a file in @DONE_DIR@ as it stops, and the bench then
-- interrupts wrk (SIGINT), which prints its results.
local agent = "WordPress/6.4.2; https://blog.example.org; verifying pingback from 203.0.113.9"

function init(args)
  answered, refused = 0, 0
  wrk.headers["User-Agent"] = agent
end

function response(status, headers, body)
  answered = answered + 1
  if status == 403 then refused = refused + 1 end
  if answered == @PER_THREAD@ then
    local marker = io.open("@DONE_DIR@/" .. tostring(id) .. ".done", "w")
    marker:write(answered)
    marker:close()
    wrk.thread:stop()
  end
end

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("refused") end
  io.write(string.format("BENCH refused=%d\n", total))
end
