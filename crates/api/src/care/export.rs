//! The reminders as CSV, one row each.

use garage_domain::care::Reminder;

use crate::vehicles::inert;

/// Its columns, in order.
pub(crate) const COLUMNS: [&str; 10] = [
    "vehicle_id",
    "license_plate",
    "garage_id",
    "garage",
    "kind",
    "status",
    "due_on",
    "due_km",
    "odometer_km",
    "cycle",
];

/// Text cells go through [`inert`]: the file is for spreadsheets, where a
/// garage named `=HYPERLINK(…)` must stay a name.
pub(super) fn csv(reminders: &[Reminder]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    for r in reminders {
        out.write_record([
            r.vehicle.id.get().to_string(),
            inert(r.vehicle.license_plate.as_str()).into_owned(),
            r.vehicle.garage_id.get().to_string(),
            inert(r.vehicle.garage_name.as_str()).into_owned(),
            inert(r.plan.kind.as_str()).into_owned(),
            r.status.as_str().to_owned(),
            r.due.on.map(|d| d.to_string()).unwrap_or_default(),
            r.due.km.map(|k| k.get().to_string()).unwrap_or_default(),
            r.vehicle
                .odometer
                .map(|k| k.get().to_string())
                .unwrap_or_default(),
            r.plan.cycle.to_string(),
        ])?;
    }
    out.into_inner().map_err(|err| err.into_error().into())
}
