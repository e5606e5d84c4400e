-- LeEngine SLB: dynamic upstreams, canary routing and per-domain metrics for nginx.
--
-- The slb-agent pushes each domain's peers and canary rule into the shared dict
-- `leengine_upstreams` through the control server (a unix socket only root can open);
-- `balance()` reads them on every request, so upstream and canary changes need no
-- reload. Each worker keeps a parsed copy per domain and re-parses only when the
-- domain's version counter changes.
--
-- State text of one domain (the agent writes it; every value was validated there):
--   canary <version> <weight 0-100> <header-var|-> <header-value|-> <cookie-var|-> <cookie-value|->
--   peer <ip> <port> <weight> <version|->

local balancer = require("ngx.balancer")

local upstreams = ngx.shared.leengine_upstreams
local metrics = ngx.shared.leengine_metrics

local M = {}

local NGX_BUSY = -3

-- Latency buckets (seconds) for the Prometheus histogram.
local BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }

local cache = {} -- domain -> { version = n, state = parsed }
local version_keys = setmetatable({}, {
  __index = function(t, domain)
    local key = "v\t" .. domain
    t[domain] = key
    return key
  end,
})

--- Runs in the master at every config load (start and reload): counts loads.
function M.init()
  metrics:incr("config_loads", 1, 0)
end

-- Counts of this worker not yet added to the shared dict: key -> number. Adding them
-- once a second instead of on every request keeps the shared dict's lock out of the
-- request path.
local pending = {}

local function flush()
  for key, value in pairs(pending) do
    metrics:incr(key, value, 0)
  end
  pending = {}
end

function M.init_worker()
  math.randomseed(ngx.now() * 1000 + ngx.worker.pid())
  ngx.timer.every(1, flush)
end

local function count(key, value)
  pending[key] = (pending[key] or 0) + value
end

local function split(line)
  local fields = {}
  for field in line:gmatch("%S+") do
    fields[#fields + 1] = field
  end
  return fields
end

local function parse(text)
  local state = { all = {}, canary = nil, canary_peers = {}, stable_peers = {} }
  for line in text:gmatch("[^\n]+") do
    local f = split(line)
    if f[1] == "peer" then
      local peer = {
        ip = f[2],
        port = tonumber(f[3]),
        weight = tonumber(f[4]) or 1,
        version = f[5],
        current = 0,
      }
      peer.key = peer.ip .. ":" .. peer.port
      state.all[#state.all + 1] = peer
    elseif f[1] == "canary" then
      state.canary = {
        version = f[2],
        weight = tonumber(f[3]) or 0,
        header_var = f[4] ~= "-" and f[4] or nil,
        header_value = f[5],
        cookie_var = f[6] ~= "-" and f[6] or nil,
        cookie_value = f[7],
      }
    end
  end
  if state.canary then
    -- Each pool keeps its own round-robin state: copies, not shared peer tables.
    for _, p in ipairs(state.all) do
      local copy = { ip = p.ip, port = p.port, weight = p.weight, version = p.version, key = p.key, current = 0 }
      if p.version == state.canary.version then
        state.canary_peers[#state.canary_peers + 1] = copy
      else
        state.stable_peers[#state.stable_peers + 1] = copy
      end
    end
  end
  return state
end

local function state_of(domain)
  local version = upstreams:get(version_keys[domain])
  if not version then
    return nil
  end
  local cached = cache[domain]
  if cached and cached.version == version then
    return cached.state
  end
  local text = upstreams:get("u\t" .. domain)
  if not text then
    return nil
  end
  local state = parse(text)
  cache[domain] = { version = version, state = state }
  return state
end

-- Header beats cookie beats weight; without canary peers everything goes to the rest.
local function choose_pool(state)
  local canary = state.canary
  if not canary or #state.canary_peers == 0 then
    return state.all
  end
  local var = ngx.var
  if canary.header_var and var[canary.header_var] == canary.header_value then
    return state.canary_peers
  end
  if canary.cookie_var and var[canary.cookie_var] == canary.cookie_value then
    return state.canary_peers
  end
  if #state.stable_peers == 0 then
    return state.canary_peers
  end
  if canary.weight > 0 and math.random(100) <= canary.weight then
    return state.canary_peers
  end
  return state.stable_peers
end

-- Smooth weighted round robin (nginx's algorithm), skipping peers already tried.
local function pick(pool, tried)
  local best, total = nil, 0
  for i = 1, #pool do
    local peer = pool[i]
    if not (tried and tried[peer.key]) then
      peer.current = peer.current + peer.weight
      total = total + peer.weight
      if not best or peer.current > best.current then
        best = peer
      end
    end
  end
  if best then
    best.current = best.current - total
  end
  return best
end

-- The peers this request already tried, from $upstream_addr ("ip:port, ip:port : ...").
local function tried_peers()
  local tried = {}
  for addr in (ngx.var.upstream_addr or ""):gmatch("[%d.]+:%d+") do
    tried[addr] = true
  end
  return tried
end

--- balancer_by_lua: picks the peer for this request (and for each retry). The first
-- try touches no per-request table: retries learn what was tried from $upstream_addr.
function M.balance()
  local domain = ngx.var.leengine_domain
  local state = state_of(domain)
  if not state or #state.all == 0 then
    ngx.log(ngx.WARN, "no upstream peers for ", domain)
    -- NGX_BUSY: nginx answers 502 "no live upstreams" (an HTTP status here would be 500).
    return ngx.exit(NGX_BUSY)
  end
  local pool = choose_pool(state)
  local retry = balancer.get_last_failure() ~= nil
  local peer
  if retry then
    peer = pick(pool, tried_peers()) or pick(state.all, tried_peers()) or pick(pool, nil)
  else
    peer = pick(pool, nil)
    if #state.all > 1 then
      -- nginx caps the total with proxy_next_upstream_tries.
      balancer.set_more_tries(#state.all - 1)
    end
  end
  local ok, err = balancer.set_current_peer(peer.ip, peer.port)
  if not ok then
    ngx.log(ngx.ERR, "set_current_peer ", peer.key, ": ", err)
    return ngx.exit(500)
  end
end

local function bucket_of(seconds)
  for i = 1, #BUCKETS do
    if seconds <= BUCKETS[i] then
      return BUCKETS[i]
    end
  end
  return "+Inf"
end

-- Metric keys per domain, built once per worker: "r\t<domain>\t<class>" and so on.
local metric_keys = setmetatable({}, {
  __index = function(t, domain)
    local keys = { r = {}, b = {}, s = "s\t" .. domain }
    setmetatable(keys.r, {
      __index = function(r, class)
        local key = "r\t" .. domain .. "\t" .. class
        r[class] = key
        return key
      end,
    })
    setmetatable(keys.b, {
      __index = function(b, bucket)
        local key = "b\t" .. domain .. "\t" .. bucket
        b[bucket] = key
        return key
      end,
    })
    t[domain] = keys
    return keys
  end,
})

local CLASSES = { "1xx", "2xx", "3xx", "4xx", "5xx" }

--- log_by_lua: one count per status class, one histogram bucket, the latency sum
-- (in this worker; flushed to the shared dict every second).
function M.log()
  local domain = ngx.var.leengine_domain
  if not domain or domain == "" then
    return
  end
  local keys = metric_keys[domain]
  local class = CLASSES[math.floor(ngx.status / 100)] or "other"
  local seconds = ngx.now() - ngx.req.start_time()
  count(keys.r[class], 1)
  count(keys.b[bucket_of(seconds)], 1)
  count(keys.s, seconds)
end

--- The control server: GET /upstreams/<domain>, GET /epoch, POST /upstreams (the agent's
-- batches; the X-LeEngine-Epoch header names the agent session that pushed them).
-- A batch holds sections "@<domain>" followed by that domain's state lines; a section
-- whose only line is "delete" removes the domain.
function M.control()
  local method = ngx.req.get_method()
  local uri = ngx.var.uri
  if method == "GET" and uri:sub(1, 11) == "/upstreams/" then
    local text = upstreams:get("u\t" .. uri:sub(12))
    if not text then
      return ngx.exit(404)
    end
    ngx.header["Content-Type"] = "text/plain"
    ngx.print(text)
    return
  end
  if method == "GET" and uri == "/epoch" then
    local epoch = upstreams:get("epoch")
    if not epoch then
      return ngx.exit(404)
    end
    ngx.say(epoch)
    return
  end
  if method == "POST" and uri == "/upstreams" then
    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if not body then
      local file = ngx.req.get_body_file()
      if file then
        local f = io.open(file, "rb")
        body = f:read("*a")
        f:close()
      end
    end
    local applied, failed = 0, {}
    for section in (body or ""):gmatch("@([^@]+)") do
      local domain, rest = section:match("^([^\n]+)\n?(.*)$")
      if domain then
        local ok, err
        if rest:match("^delete\n?$") then
          upstreams:delete("u\t" .. domain)
          upstreams:delete(version_keys[domain])
          ok = true
        else
          -- safe_set never evicts another domain's peers when the dict is full.
          ok, err = upstreams:safe_set("u\t" .. domain, rest)
          if ok then
            ok, err = upstreams:incr(version_keys[domain], 1, 0)
          end
        end
        if ok then
          applied = applied + 1
        else
          failed[#failed + 1] = domain .. ": " .. tostring(err)
        end
      end
    end
    local epoch = ngx.req.get_headers()["x-leengine-epoch"]
    if type(epoch) == "string" then
      upstreams:safe_set("epoch", epoch)
    end
    if #failed > 0 then
      ngx.status = 500
      ngx.say("failed ", table.concat(failed, "; "))
      return
    end
    ngx.say("applied ", applied)
    return
  end
  return ngx.exit(404)
end

local function label(value)
  return (tostring(value):gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", "\\n"))
end

--- GET /metrics in the Prometheus text format.
function M.metrics()
  flush()
  local requests, buckets, sums = {}, {}, {}
  local domains = {}
  for _, key in ipairs(metrics:get_keys(0)) do
    local kind, domain, extra = key:match("^(%a)\t([^\t]+)\t?(.*)$")
    if kind then
      domains[domain] = true
      local value = metrics:get(key) or 0
      if kind == "r" then
        requests[#requests + 1] = { domain, extra, value }
      elseif kind == "b" then
        buckets[domain] = buckets[domain] or {}
        buckets[domain][extra] = value
      elseif kind == "s" then
        sums[domain] = value
      end
    end
  end
  local out = {}
  out[#out + 1] = "# HELP leengine_slb_requests_total Requests by domain and status class."
  out[#out + 1] = "# TYPE leengine_slb_requests_total counter"
  table.sort(requests, function(a, b)
    return a[1] .. a[2] < b[1] .. b[2]
  end)
  for _, r in ipairs(requests) do
    out[#out + 1] = string.format('leengine_slb_requests_total{domain="%s",class="%s"} %d', label(r[1]), label(r[2]), r[3])
  end
  out[#out + 1] = "# HELP leengine_slb_request_duration_seconds Request latency by domain."
  out[#out + 1] = "# TYPE leengine_slb_request_duration_seconds histogram"
  local names = {}
  for domain in pairs(domains) do
    names[#names + 1] = domain
  end
  table.sort(names)
  for _, domain in ipairs(names) do
    local counts = buckets[domain] or {}
    local cumulative = 0
    for _, le in ipairs(BUCKETS) do
      cumulative = cumulative + (counts[tostring(le)] or 0)
      out[#out + 1] = string.format('leengine_slb_request_duration_seconds_bucket{domain="%s",le="%s"} %d', label(domain), tostring(le), cumulative)
    end
    cumulative = cumulative + (counts["+Inf"] or 0)
    out[#out + 1] = string.format('leengine_slb_request_duration_seconds_bucket{domain="%s",le="+Inf"} %d', label(domain), cumulative)
    out[#out + 1] = string.format('leengine_slb_request_duration_seconds_sum{domain="%s"} %.6f', label(domain), sums[domain] or 0)
    out[#out + 1] = string.format('leengine_slb_request_duration_seconds_count{domain="%s"} %d', label(domain), cumulative)
  end
  out[#out + 1] = "# HELP leengine_slb_config_loads_total Times nginx loaded its config (start and reloads)."
  out[#out + 1] = "# TYPE leengine_slb_config_loads_total counter"
  out[#out + 1] = "leengine_slb_config_loads_total " .. (metrics:get("config_loads") or 0)
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  ngx.print(table.concat(out, "\n"), "\n")
end

return M
