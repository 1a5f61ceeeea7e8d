//! A vehicle on the wire: what clients send to create, change, search,
//! import and export vehicles, and what they receive.

use chrono::{DateTime, NaiveDate, Utc};
use garage_domain::{
    Brand, FieldErrors, GarageId, LicensePlate, ModelName, ModelYear, NewVehicle, PageRequest,
    PlateFragment, Vehicle, VehicleChanges, VehicleFilter, VehicleSortKey, Vin,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::ApiError;
use crate::wire::{
    bad_query, change, nullable, optional, required, sort_of, sorted_page_request, validated,
};

crate::wire::path_id!(
    garage_domain::VehicleId,
    "id",
    "The vehicle's id",
    "vehicle"
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVehicle {
    /// An existing garage with room for one more vehicle.
    #[schema(value_type = i64, required = true, minimum = 1)]
    garage_id: Option<i64>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, example = "Renault")]
    brand: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1, max_length = 50, example = "Clio")]
    model: Option<String>,
    /// From 1886 to next year.
    #[schema(value_type = i64, required = true, minimum = 1886, example = 2021)]
    year: Option<i64>,
    /// Letters, digits, spaces, hyphens and dots; stored as its 2 to 12
    /// letters and digits, upper-cased. Unique.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9 .-]+$", example = "AB-123-CD")]
    license_plate: Option<String>,
    /// Optional: 17 letters (not I, O or Q) and digits, any case; unique.
    #[schema(value_type = Option<String>, pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$", example = "VF1RFB00X12345678")]
    vin: Option<String>,
    /// Optional: the first registration, `YYYY-MM-DD`; some care plans
    /// count from it (the contrôle technique).
    #[schema(value_type = Option<String>, format = Date, example = "2021-03-15")]
    registered_on: Option<String>,
}

impl CreateVehicle {
    pub fn try_into_domain(self) -> Result<NewVehicle, ApiError> {
        let mut errors = FieldErrors::new();
        let garage_id = required(&mut errors, "garage_id", self.garage_id, GarageId::parse);
        let brand = required(&mut errors, "brand", self.brand, |s| Brand::parse(&s));
        let model = required(&mut errors, "model", self.model, |s| ModelName::parse(&s));
        let year = required(&mut errors, "year", self.year, ModelYear::parse);
        let plate = required(&mut errors, "license_plate", self.license_plate, |s| {
            LicensePlate::parse(&s)
        });
        let vin = self.vin.map(|v| errors.check("vin", Vin::parse(&v)));
        let registered_on = self.registered_on.map(|d| {
            errors.check(
                "registered_on",
                crate::wire::date(&d).and_then(crate::wire::past_date),
            )
        });
        validated(errors, || {
            Some(NewVehicle {
                garage_id: garage_id?,
                brand: brand?,
                model: model?,
                year: year?,
                license_plate: plate?,
                vin: optional(vin)?,
                registered_on: optional(registered_on)?,
            })
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVehicle {
    /// Another garage moves the vehicle there, if it has room.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i64, minimum = 1)]
    garage_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    brand: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    model: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = i64, minimum = 1886)]
    year: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, pattern = "^[A-Za-z0-9 .-]+$")]
    license_plate: Option<Option<String>>,
    /// `null` removes the VIN.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
    vin: Option<Option<String>>,
    /// `YYYY-MM-DD`; `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = Date)]
    registered_on: Option<Option<String>>,
}

impl UpdateVehicle {
    pub fn try_into_domain(self) -> Result<VehicleChanges, ApiError> {
        let mut errors = FieldErrors::new();
        let vin = self
            .vin
            .map(|v| v.map(|v| errors.check("vin", Vin::parse(&v))));
        let registered_on = self.registered_on.map(|d| {
            d.map(|d| {
                errors.check(
                    "registered_on",
                    crate::wire::date(&d).and_then(crate::wire::past_date),
                )
            })
        });
        let changes = VehicleChanges {
            garage_id: change(&mut errors, "garage_id", self.garage_id, GarageId::parse),
            brand: change(&mut errors, "brand", self.brand, |s| Brand::parse(&s)),
            model: change(&mut errors, "model", self.model, |s| ModelName::parse(&s)),
            year: change(&mut errors, "year", self.year, ModelYear::parse),
            license_plate: change(&mut errors, "license_plate", self.license_plate, |s| {
                LicensePlate::parse(&s)
            }),
            vin: None,
            registered_on: None,
        };
        validated(errors, || {
            Some(VehicleChanges {
                vin: match vin {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(parsed)) => Some(Some(parsed?)),
                },
                registered_on: match registered_on {
                    None => None,
                    Some(None) => Some(None),
                    Some(Some(parsed)) => Some(Some(parsed?)),
                },
                ..changes
            })
        })
    }
}

/// Declares a query of vehicles: its own fields first, then the filters
/// the list and the export share (plate, brand, garage, VIN), declared and
/// documented here once. serde cannot flatten them in: the query refuses
/// unknown parameters.
macro_rules! vehicle_query {
    ($(#[$meta:meta])* $name:ident { $($(#[$field_meta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Deserialize, IntoParams)]
        #[into_params(parameter_in = Query)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$field_meta])* $field: $ty,)*
            /// A plate in any spelling.
            plate: Option<String>,
            /// Part of a plate: letters and digits in a row, any spelling.
            #[param(min_length = 1, max_length = 30)]
            plate_contains: Option<String>,
            /// Model years from this one.
            #[param(minimum = 1886)]
            year_min: Option<i64>,
            /// Model years up to this one.
            #[param(minimum = 1886)]
            year_max: Option<i64>,
            /// A brand, any case.
            #[param(min_length = 1, max_length = 50)]
            brand: Option<String>,
            #[param(minimum = 1)]
            garage_id: Option<i64>,
            /// A VIN, any case.
            #[param(pattern = "^[A-HJ-NPR-Za-hj-npr-z0-9]{17}$")]
            vin: Option<String>,
        }

        impl $name {
            /// The filters, each checked, what is wrong recorded.
            fn take_filter(&mut self, errors: &mut FieldErrors) -> VehicleFilter {
                vehicle_filter(
                    errors,
                    Filters {
                        plate: self.plate.take(),
                        plate_contains: self.plate_contains.take(),
                        brand: self.brand.take(),
                        garage_id: self.garage_id.take(),
                        vin: self.vin.take(),
                        year_min: self.year_min.take(),
                        year_max: self.year_max.take(),
                    },
                )
            }
        }
    };
}

/// The filters of the vehicle list and the export, as sent.
struct Filters {
    plate: Option<String>,
    plate_contains: Option<String>,
    brand: Option<String>,
    garage_id: Option<i64>,
    vin: Option<String>,
    year_min: Option<i64>,
    year_max: Option<i64>,
}

/// The filters of the vehicle list and the export, checked.
fn vehicle_filter(errors: &mut FieldErrors, f: Filters) -> VehicleFilter {
    // A range bound is held to the years a vehicle may have.
    let year = |errors: &mut FieldErrors, field: &str, y: Option<i64>| {
        y.and_then(|y| errors.check(field, ModelYear::parse(y)))
    };
    VehicleFilter {
        plate: f
            .plate
            .and_then(|p| errors.check("plate", LicensePlate::parse(&p))),
        plate_contains: f
            .plate_contains
            .and_then(|p| errors.check("plate_contains", PlateFragment::parse(&p))),
        brand: f
            .brand
            .and_then(|b| errors.check("brand", Brand::parse(&b)))
            .map(Brand::into_inner),
        garage_id: f
            .garage_id
            .and_then(|g| errors.check("garage_id", GarageId::parse(g))),
        vin: f.vin.and_then(|v| errors.check("vin", Vin::parse(&v))),
        year_min: year(errors, "year_min", f.year_min),
        year_max: year(errors, "year_max", f.year_max),
        ..VehicleFilter::default()
    }
}

vehicle_query!(VehicleQuery {
    /// Items per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `id` (the default), `license_plate`, `brand`, `model`, `year`,
    /// `garage_id` or `updated_at`; `-` before it reverses the order.
    #[param(example = "-year")]
    sort: Option<String>,
});

impl VehicleQuery {
    pub fn try_into_domain(mut self) -> Result<(VehicleFilter, PageRequest), ApiError> {
        let mut errors = FieldErrors::new();
        let sort = sort_of::<VehicleSortKey>(&mut errors, self.sort.as_deref());
        let (page, after_value) =
            sorted_page_request(&mut errors, self.limit, self.cursor.as_deref(), sort);
        let filter = VehicleFilter {
            sort,
            after_value,
            ..self.take_filter(&mut errors)
        };
        bad_query(errors)?;
        Ok((filter, page))
    }
}

/// The formats of an export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Csv,
    Json,
}

/// What separates the fields of a CSV export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Separator {
    #[default]
    Comma,
    /// What spreadsheets in French (and most European) locales expect.
    Semicolon,
}

impl Separator {
    pub fn byte(self) -> u8 {
        match self {
            Self::Comma => b',',
            Self::Semicolon => b';',
        }
    }
}

vehicle_query!(ExportQuery {
    /// `csv` (the default) or `json` (an array of vehicles).
    #[serde(default)]
    #[param(inline)]
    format: ExportFormat,
    /// CSV only: `comma` (the default) or `semicolon`, as French spreadsheets expect.
    #[serde(default)]
    #[param(inline)]
    separator: Separator,
    /// CSV only: starts the file with a UTF-8 byte order mark, so
    /// spreadsheets read accents right.
    #[serde(default)]
    bom: bool,
});

/// How a CSV export is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvStyle {
    pub separator: Separator,
    pub bom: bool,
}

impl ExportQuery {
    pub fn try_into_domain(mut self) -> Result<(ExportFormat, CsvStyle, VehicleFilter), ApiError> {
        let mut errors = FieldErrors::new();
        let filter = self.take_filter(&mut errors);
        bad_query(errors)?;
        let style = CsvStyle {
            separator: self.separator,
            bom: self.bom,
        };
        Ok((self.format, style, filter))
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Checks every row and reports, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// `create` (the default): every row is a new vehicle, a registered
    /// plate is refused. `upsert`: a registered plate's vehicle is updated
    /// to what its row says (moved, within capacity), so an export imports
    /// again as is.
    #[serde(default)]
    #[param(inline)]
    pub mode: ImportModeParam,
}

/// What an import does with a plate already registered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportModeParam {
    #[default]
    Create,
    Upsert,
}

impl From<ImportModeParam> for garage_domain::ImportMode {
    fn from(mode: ImportModeParam) -> Self {
        match mode {
            ImportModeParam::Create => Self::Create,
            ImportModeParam::Upsert => Self::Upsert,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VehicleBody {
    id: i64,
    garage_id: i64,
    brand: String,
    model: String,
    year: u16,
    /// Canonical: upper-case letters and digits.
    license_plate: String,
    /// Upper-case, or `null`.
    vin: Option<String>,
    /// The first registration, or `null`.
    registered_on: Option<NaiveDate>,
    /// The latest odometer reading (read-only: `POST …/odometer` records one).
    odometer_km: Option<u32>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::wire::instant::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<Vehicle> for VehicleBody {
    fn from(v: Vehicle) -> Self {
        Self {
            id: v.id.get(),
            garage_id: v.garage_id.get(),
            brand: v.brand.into_inner(),
            model: v.model.into_inner(),
            year: v.year.get(),
            license_plate: v.license_plate.into_inner(),
            vin: v.vin.map(|v| v.as_str().to_owned()),
            registered_on: v.registered_on,
            odometer_km: v.odometer.map(|km| km.get()),
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::wire::page_of! {
    /// A page of vehicles.
    VehiclePage of VehicleBody
}
