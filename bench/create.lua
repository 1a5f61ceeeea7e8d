-- POST vehicles with plates unique per thread and request.
package.path = "bench/?.lua;" .. package.path
local common = require("common")
local garages = tonumber(os.getenv("BENCH_GARAGES") or "1000")
local counter = 0
prefix = "T"

-- Plates: a letter, the thread's number and the run's id, then a counter,
-- so no two requests of any run share one.
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("prefix", "T" .. threads .. (os.getenv("BENCH_RUN") or "AAAA"))
end

request = function()
  counter = counter + 1
  local body = string.format(
    '{"garage_id": %d, "brand": "Bench", "model": "Load", "year": 2024, "license_plate": "%s%06d"}',
    math.random(1, garages), prefix, counter)
  return wrk.format("POST", "/api/v1/vehicles", { ["Content-Type"] = "application/json" }, body)
end

done = common.done
