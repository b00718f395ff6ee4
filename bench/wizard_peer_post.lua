-- wrk script for bench/wizard_peers.py's peer, django-formtools (a template: @VISITORS@ and @PATH@ are
-- filled in per run). One visitor per thread, one connection per thread (-tN -cN): each thread POSTs
-- the wizard's first step again and again (the CSRF cookie and token, the management form's
-- current_step, four fields); a 302 to the second step is a step validated and stored in the session.
local visitors = dofile("@VISITORS@")
local threads = {}
local next_visitor = 1

function setup(thread)
  local visitor = visitors[next_visitor]
  next_visitor = next_visitor + 1
  thread:set("cookie", visitor.cookie)
  thread:set("prefix", visitor.prefix)
  table.insert(threads, thread)
end

function init(args)
  ok, errors = 0, 0
  headers = {["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded"}
end

-- The quantity is the number of the step, counted from the answers (wrk also calls request() once before
-- the run, to check it): at the end each session holds the thread's last step stored, ok or ok + 1.
function request()
  return wrk.format("POST", "@PATH@", headers, prefix .. "&entry-quantity=" .. (ok + 1))
end

function response(status, response_headers, body)
  local location = response_headers["Location"] or response_headers["location"] or ""
  if status == 302 and string.find(location, "/details/", 1, true) then
    ok = ok + 1
  else
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local total = {ok = 0, errors = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(total) do
      total[key] = total[key] + thread:get(key)
    end
  end
  io.write(string.format("BENCH ok=%d\nBENCH errors=%d\n", total.ok, total.errors))
end
