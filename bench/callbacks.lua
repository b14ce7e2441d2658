-- wrk script for bench/callback_bench.py: each request is a different,
-- pre-encrypted WeCom callback read from $CALLBACKS (path TAB body per line),
-- so none is a duplicate that the app would skip.
local requests, threads = {}, {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("CALLBACKS")) do
    local path, body = line:match("^([^\t]*)\t(.*)$")
    table.insert(requests, wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body))
  end
  counter = id
end

function request()
  counter = counter + 4  -- wrk -t 4: the threads interleave, never overlap
  return requests[(counter % #requests) + 1]
end
