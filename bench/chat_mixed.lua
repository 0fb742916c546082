-- wrk script: POST /chat/v1/message cycling through several tenant questions and both vendors
local questions = {
  "每月繳費日期是什麼時候？", "逾期繳費會怎樣", "押金是多少", "最短租期是多久",
  "客服專線是多少", "如何報修", "可以刷卡嗎", "提前解約怎麼辦",
}
local i = 0
request = function()
  i = i + 1
  local q = questions[(i % #questions) + 1]
  local v = (i % 2) + 1
  local body = string.format('{"message":"%s","vendor_id":%d}', q, v)
  return wrk.format("POST", "/chat/v1/message", {["Content-Type"] = "application/json"}, body)
end
