import { useSearchParams } from "react-router";

import { AllVehicles } from "./AllVehicles";
import { VehicleSearch } from "./VehicleSearch";

/** `/vehicles`: one plate or VIN looked up from the header, else every vehicle. */
export function Vehicles() {
  const [params] = useSearchParams();
  return params.has("plate") || params.has("vin") ? <VehicleSearch /> : <AllVehicles />;
}
