-- wrk script for bench/soak.sh: a mixed yunshui load that keeps the database at a steady size.
-- Per 20 requests: 4 material lists (search, category, sort, paging), 4 material reads, 1 order
-- list, 1 material price update, 2 orders created and up to 8 steps of orders' lives: PENDING
-- -> PROCESSING (takes stock) -> CANCELLED (puts it back) -> deleted. An order needs three
-- steps, so orders are deleted as fast as they are created; a step with no order waiting is
-- a GET /v1/auth/me instead.
-- The orders move through their life by what the responses say (wrk cannot tell which
-- request a response answers, but an order's body names its id and status).
-- Arguments (after --): the file of material ids, one per line. The bearer token comes from
-- wrk's -H option.
local ids = {}
local orders = {} -- queue of {id, status}
local i = 0
local auth

init = function(args)
  for line in io.lines(args[1]) do
    if #line > 0 then ids[#ids + 1] = line end
  end
  auth = wrk.headers["Authorization"]
end

local function headers(json)
  local h = {["Authorization"] = auth}
  if json then h["Content-Type"] = "application/json" end
  return h
end

local function material()
  return ids[math.random(#ids)]
end

local lists = {
  "/v1/materials?search=%E9%8B%BC&sort=price&order=desc&limit=20", -- 鋼
  "/v1/materials?category=steel&sort=stock&page=2&limit=20",
  "/v1/materials?sort=created_at&order=desc&page=3&limit=20",
  "/v1/materials?search=soak&status=available&limit=50",
}

local next_status = {PENDING = "PROCESSING", PROCESSING = "CANCELLED"}

request = function()
  i = i + 1
  local slot = i % 20
  if slot < 4 then
    return wrk.format("GET", lists[slot + 1], headers(false))
  elseif slot < 8 then
    return wrk.format("GET", "/v1/materials/" .. material(), headers(false))
  elseif slot == 8 then
    return wrk.format("GET", "/v1/orders?limit=20", headers(false))
  elseif slot == 9 then
    return wrk.format("PUT", "/v1/materials/" .. material(), headers(true),
                      string.format('{"price":%d.%02d}', 100 + i % 900, i % 100))
  elseif slot < 12 then
    local body = string.format(
      '{"customerName":"soak %d","customerEmail":"soak%d@example.com","items":' ..
      '[{"materialId":"%s","quantity":%d},{"materialId":"%s","quantity":1}]}',
      i, i % 1000, material(), i % 5 + 1, material())
    return wrk.format("POST", "/v1/orders", headers(true), body)
  elseif #orders > 0 then
    local o = table.remove(orders, 1)
    if o.status == "CANCELLED" then
      return wrk.format("DELETE", "/v1/orders/" .. o.id, headers(false))
    end
    return wrk.format("PUT", "/v1/orders/" .. o.id .. "/status", headers(true),
                      string.format('{"status":"%s","notes":"soak"}', next_status[o.status]))
  end
  return wrk.format("GET", "/v1/auth/me", headers(false))
end

response = function(status, hdrs, body)
  -- an order's own body (not a list): {"success":true,"data":{"id":"...","orderNumber":...
  local id = string.match(body, '^{"success":true,"data":{"id":"([%x%-]+)","orderNumber"')
  if not id then return end
  local st = string.match(body, '"status":"(%u+)"')
  if st == "PENDING" or st == "PROCESSING" or st == "CANCELLED" then
    orders[#orders + 1] = {id = id, status = st}
  end
end
