-- wrk script for bench/wizard_load.py (a template: @VISITORS@ and @PATH@ are filled in per run).
-- One visitor per thread, one connection per thread (-tN -cN), so each thread's requests are
-- sequential and its step counter is exact: +1 after each 303 back to the step page.
local visitors = dofile("@VISITORS@")
local threads = {}
local next_visitor = 1

function setup(thread)
  local visitor = visitors[next_visitor]
  next_visitor = next_visitor + 1
  thread:set("cookie", visitor.cookie)
  thread:set("step", visitor.step)
  thread:set("prefix", visitor.prefix)
  table.insert(threads, thread)
end

function init(args)
  ok, errors, stale, sent = 0, 0, 0, 0
  headers = {["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}
end

function request()
  sent = sent + 1
  local body = prefix .. "&step=" .. step .. "&quantity=" .. sent
  return wrk.format("POST", "@PATH@", headers, body)
end

function response(status, response_headers, body)
  local location = response_headers["Location"] or response_headers["location"] or ""
  if status == 303 and not string.find(location, "stale", 1, true) then
    step = step + 1
    ok = ok + 1
  elseif status == 303 then
    stale = stale + 1
    errors = errors + 1
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local total = {ok = 0, errors = 0, stale = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do
      total[key] = total[key] + thread:get(key)
    end
  end
  io.write(string.format("BENCH ok=%d\nBENCH errors=%d\nBENCH stale=%d\n", total.ok, total.errors, total.stale))
end
