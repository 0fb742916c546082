-- wrk script: GET /v1/materials searching a batch number that exactly one material has
-- ("B1xxxxx" in its description), a different one on every request, so neither the total
-- nor the page can come from the sort index's order or the cache of totals: both come from
-- the search index (its trigrams, then LIKE on the candidates), cold - the worst case.
-- The bearer token comes from wrk's -H option.
math.randomseed(os.time())
request = function()
  local path = string.format("/v1/materials?search=B1%05d&sort=price&order=desc",
                             math.random(0, 99999))
  return wrk.format("GET", path)
end
