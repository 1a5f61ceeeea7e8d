import { Navigate, type RouteObject } from "react-router";

import { Layout } from "./components/Layout";
import { GarageDetail } from "./pages/GarageDetail";
import { GarageForm } from "./pages/GarageForm";
import { GarageList } from "./pages/GarageList";
import { Activity } from "./pages/Activity";
import { Keys } from "./pages/Keys";
import { Webhooks } from "./pages/Webhooks";
import { NotFound } from "./pages/NotFound";
import { Overview } from "./pages/Overview";
import { Reminders } from "./pages/Reminders";
import { Vehicles } from "./pages/Vehicles";
import { ImportExport } from "./pages/ImportExport";
import { VehicleEdit } from "./pages/VehicleEdit";
import { VehicleNew } from "./pages/VehicleNew";

export const routes: RouteObject[] = [
  {
    element: <Layout />,
    children: [
      { index: true, element: <Overview /> },
      { path: "garages", element: <GarageList /> },
      { path: "garages/new", element: <GarageForm /> },
      { path: "garages/:id", element: <GarageDetail /> },
      { path: "garages/:id/edit", element: <GarageForm /> },
      { path: "garages/:id/vehicles/new", element: <VehicleNew /> },
      { path: "vehicles", element: <Vehicles /> },
      { path: "keys", element: <Keys /> },
      { path: "activity", element: <Activity /> },
      { path: "reminders", element: <Reminders /> },
      { path: "webhooks", element: <Webhooks /> },
      { path: "vehicles/import-export", element: <ImportExport /> },
      // The page's former address, kept for bookmarks.
      { path: "vehicles/transfer", element: <Navigate to="/vehicles/import-export" replace /> },
      { path: "vehicles/:id/edit", element: <VehicleEdit /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
