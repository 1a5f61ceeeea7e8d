-- GET a random garage's vehicles (50 rows each).
package.path = "bench/?.lua;" .. package.path
local common = require("common")
local garages = tonumber(os.getenv("BENCH_GARAGES") or "1000")

request = function()
  return wrk.format("GET", "/api/v1/garages/" .. math.random(1, garages) .. "/vehicles")
end

done = common.done
