//! `GET /api/v1/vehicles/export`: pages of the list streamed as they are
//! read, as CSV (importable as is) or a JSON array.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use chrono::SecondsFormat;
use std::collections::HashMap;

use garage_domain::{
    FleetService, GarageFilter, GarageId, Limit, PageRequest, Vehicle, VehicleFilter, Vin,
};

use super::wire::{CsvStyle, ExportFormat, ExportQuery, VehicleBody};
use crate::problem::ApiError;

/// Exports the vehicles matching the list's filters, streamed, as CSV
/// (importable as is; `separator=semicolon&bom=true` for spreadsheets in
/// French) or as a JSON array. The file is named with the day's date.
#[utoipa::path(get, path = "/api/v1/vehicles/export", tag = "vehicles", operation_id = "export_vehicles",
    params(ExportQuery),
    responses(
        (status = 200, description = "Every matching vehicle, in id order",
            content(
                (String = "text/csv", example = "id,garage_id,garage,brand,model,year,license_plate,vin,registered_on,odometer_km,created_at,updated_at\n"),
                (Vec<VehicleBody> = "application/json"),
            ),
            headers(("Content-Disposition" = String))),
    ))]
pub(crate) async fn export(
    fleet: crate::edge::Fleet,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, style, filter) = query.into_inner().try_into_domain()?;
    // The first page is read before answering, so a database that is down
    // gets a 503 rather than a cut-off download.
    let first = fleet.list_vehicles(filter.clone(), batch(None)).await?;
    let day = fleet.today().format("%Y-%m-%d");
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Json => ("application/json", "json"),
    };
    let mut state = Export {
        fleet: fleet.into_inner(),
        filter,
        format,
        style,
        garages: HashMap::new(),
        pending: None,
        started: false,
    };
    if format == ExportFormat::Csv {
        state.name_garages(&first.items).await?;
    }
    state.pending = Some(first);
    let body = futures_util::stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk().await?;
        Some((chunk, state))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!(
                "vehicles-{day}.{extension}"
            ))],
        })
        .streaming(body))
}

fn batch(after: Option<i64>) -> PageRequest {
    PageRequest {
        limit: Limit::LARGEST,
        after,
    }
}

struct Export {
    fleet: std::sync::Arc<FleetService>,
    filter: VehicleFilter,
    format: ExportFormat,
    style: CsvStyle,
    /// The names of the garages written so far, by id.
    garages: HashMap<GarageId, String>,
    /// The page to write next; `None` once the last one is written.
    pending: Option<garage_domain::Page<Vehicle>>,
    started: bool,
}

impl Export {
    /// The next piece of the document, or `None` once it is complete. A
    /// failure mid-way ends the stream with an error, which cuts the
    /// response short: the client sees an incomplete transfer, never a
    /// document that looks whole.
    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        let page = self.pending.take()?;
        let mut out = Vec::with_capacity(64 * 1024);
        if let Err(err) = self.write(&mut out, page.items) {
            return Some(Err(err));
        }
        match page.next_after {
            Some(after) => match self.read_page(after).await {
                Ok(next) => self.pending = Some(next),
                Err(err) => {
                    tracing::error!(error = %err, "export cut short");
                    return Some(Err(std::io::Error::other(err.to_string())));
                }
            },
            None if self.format == ExportFormat::Json => out.push(b']'),
            None => {}
        }
        Some(Ok(Bytes::from(out)))
    }

    /// The page after vehicle `after`, its garages named for a CSV.
    async fn read_page(&mut self, after: i64) -> Result<garage_domain::Page<Vehicle>, ApiError> {
        let next = self
            .fleet
            .list_vehicles(self.filter.clone(), batch(Some(after)))
            .await?;
        if self.format == ExportFormat::Csv {
            self.name_garages(&next.items).await?;
        }
        Ok(next)
    }

    /// Reads the names of the garages of `vehicles` not named yet: one
    /// query per page, however many garages it holds.
    async fn name_garages(&mut self, vehicles: &[Vehicle]) -> Result<(), ApiError> {
        let mut unknown: Vec<GarageId> = vehicles
            .iter()
            .map(|v| v.garage_id)
            .filter(|g| !self.garages.contains_key(g))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        if unknown.is_empty() {
            return Ok(());
        }
        let filter = GarageFilter {
            within: Some(unknown),
            ..GarageFilter::default()
        };
        for garage in self.fleet.all_garages(filter).await? {
            self.garages.insert(garage.id, garage.name.into_inner());
        }
        Ok(())
    }

    fn write(&mut self, out: &mut Vec<u8>, items: Vec<Vehicle>) -> Result<(), std::io::Error> {
        let first = !self.started;
        self.started = true;
        match self.format {
            ExportFormat::Json => {
                if first {
                    out.push(b'[');
                }
                for (i, vehicle) in items.into_iter().enumerate() {
                    if !(first && i == 0) {
                        out.push(b',');
                    }
                    serde_json::to_writer(&mut *out, &VehicleBody::from(vehicle))?;
                }
            }
            ExportFormat::Csv => {
                if first && self.style.bom {
                    out.extend_from_slice("\u{feff}".as_bytes());
                }
                let mut writer = csv::WriterBuilder::new()
                    .delimiter(self.style.separator.byte())
                    .from_writer(out);
                if first {
                    writer.write_record(super::csv::EXPORT_COLUMNS)?;
                }
                // For a spreadsheet, no text reads as a formula.
                let bom = self.style.bom;
                fn cell(bom: bool, text: &str) -> std::borrow::Cow<'_, str> {
                    if bom {
                        super::csv::inert(text)
                    } else {
                        std::borrow::Cow::Borrowed(text)
                    }
                }
                for v in items {
                    let garage = self.garages.get(&v.garage_id).map_or("", String::as_str);
                    writer.write_record([
                        v.id.get().to_string().as_str(),
                        v.garage_id.get().to_string().as_str(),
                        &*cell(bom, garage),
                        &*cell(bom, v.brand.as_str()),
                        &*cell(bom, v.model.as_str()),
                        v.year.get().to_string().as_str(),
                        v.license_plate.as_str(),
                        v.vin.as_ref().map_or("", Vin::as_str),
                        &v.registered_on.map(|d| d.to_string()).unwrap_or_default(),
                        &v.odometer.map(|k| k.get().to_string()).unwrap_or_default(),
                        v.created_at
                            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
                            .as_str(),
                        v.updated_at
                            .to_rfc3339_opts(SecondsFormat::AutoSi, true)
                            .as_str(),
                    ])?;
                }
                writer.flush()?;
            }
        }
        Ok(())
    }
}
