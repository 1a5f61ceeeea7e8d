-- GET the first page of 50 garages.
package.path = "bench/?.lua;" .. package.path
local common = require("common")

request = function()
  return wrk.format("GET", "/api/v1/garages?limit=50")
end

done = common.done
