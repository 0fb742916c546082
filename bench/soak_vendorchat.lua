-- wrk script for bench/soak.sh: a mixed vendorchat load that keeps the database at a steady
-- size. Per 10 requests: 5 chat messages (tenant questions, both vendors), 1 vendor read,
-- 1 vendor list, 1 knowledge list, 1 knowledge row created and 1 deleted again (each write
-- changes the knowledge generation, so the chat's retrieval index is rebuilt as in real use).
-- The ids to delete come from the create responses.
local questions = {
  "每月繳費日期是什麼時候？", "逾期繳費會怎樣", "押金是多少", "最短租期是多久",
  "客服專線是多少", "如何報修", "可以刷卡嗎", "提前解約怎麼辦",
}
local created = {} -- knowledge ids to delete
local i = 0
local json = {["Content-Type"] = "application/json"}

request = function()
  i = i + 1
  local slot = i % 10
  if slot < 5 then
    local body = string.format('{"message":"%s","vendor_id":%d}',
                               questions[(i % #questions) + 1], (i % 2) + 1)
    return wrk.format("POST", "/chat/v1/message", json, body)
  elseif slot == 5 then
    return wrk.format("GET", "/api/v1/vendors/" .. ((i % 2) + 1))
  elseif slot == 6 then
    return wrk.format("GET", "/api/v1/vendors")
  elseif slot == 7 then
    return wrk.format("GET", "/api/v1/knowledge?page=" .. (i % 3 + 1) .. "&limit=20")
  elseif slot == 8 then
    local body = string.format(
      '{"question_summary":"soak question %d","answer":"soak answer %d",' ..
      '"scope":"global","keywords":["soak%d"]}', i, i, i % 100)
    return wrk.format("POST", "/api/v1/knowledge", json, body)
  elseif #created > 0 then
    return wrk.format("DELETE", "/api/v1/knowledge/" .. table.remove(created, 1))
  end
  return wrk.format("GET", "/api/v1/intents")
end

response = function(status, hdrs, body)
  local id = string.match(body, '^{"id":(%d+),"question_summary":"soak question')
  if id then created[#created + 1] = id end
end
