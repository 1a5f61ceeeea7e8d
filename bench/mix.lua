-- 50 % vehicle lists, 10 % garage pages, 20 % creates, 20 % deletes of what
-- this thread created.
package.path = "bench/?.lua;" .. package.path
local common = require("common")
local garages = tonumber(os.getenv("BENCH_GARAGES") or "1000")
local counter = 0
local created = {}
prefix = "M"

-- Plates: a letter, the thread's number and the run's id, then a counter,
-- so no two requests of any run share one.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", "M" .. threads .. (os.getenv("BENCH_RUN") or "AAAA"))
end

request = function()
  local roll = math.random(1, 100)
  if roll <= 50 then
    return wrk.format("GET", "/api/v1/garages/" .. math.random(1, garages) .. "/vehicles")
  elseif roll <= 60 then
    return wrk.format("GET", "/api/v1/garages?limit=50")
  elseif roll <= 80 or #created == 0 then
    counter = counter + 1
    local body = string.format(
      '{"garage_id": %d, "brand": "Bench", "model": "Mix", "year": 2024, "license_plate": "%s%06d"}',
      math.random(1, garages), prefix, counter)
    return wrk.format("POST", "/api/v1/vehicles", { ["Content-Type"] = "application/json" }, body)
  else
    return wrk.format("DELETE", "/api/v1/vehicles/" .. table.remove(created))
  end
end

response = function(status, headers, body)
  if status == 201 then
    local id = string.match(body, '"id":(%d+)')
    if id then table.insert(created, id) end
  end
end

done = common.done
