//! `GET /api/v1/vehicles/export`: pages of the list streamed as they are
//! read, as CSV (importable as is) or a JSON array.

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes};
use actix_web::HttpResponse;
use chrono::SecondsFormat;
use garage_domain::{FleetService, Limit, PageRequest, Vehicle, VehicleFilter, Vin};

use super::wire::{ExportFormat, ExportQuery, VehicleBody};
use crate::problem::ApiError;

/// Exports the vehicles matching the list's filters, streamed, as CSV
/// (importable as is) or as a JSON array.
#[utoipa::path(get, path = "/api/v1/vehicles/export", tag = "vehicles", operation_id = "export_vehicles",
    params(ExportQuery),
    responses(
        (status = 200, description = "Every matching vehicle, in id order",
            content(
                (String = "text/csv", example = "id,garage_id,brand,model,year,license_plate,vin,created_at,updated_at\n"),
                (Vec<VehicleBody> = "application/json"),
            ),
            headers(("Content-Disposition" = String))),
    ))]
pub(crate) async fn export(
    fleet: crate::edge::Fleet,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let (format, filter) = query.into_inner().try_into_domain()?;
    // The first page is read before answering, so a database that is down
    // gets a 503 rather than a cut-off download.
    let first = fleet.list_vehicles(filter.clone(), batch(None)).await?;
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Json => ("application/json", "json"),
    };
    let state = Export {
        fleet: fleet.into_inner(),
        filter,
        format,
        pending: Some(first),
        started: false,
    };
    let body = futures_util::stream::unfold(state, |mut state| async move {
        let chunk = state.next_chunk().await?;
        Some((chunk, state))
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(format!("vehicles.{extension}"))],
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
            Some(after) => match self
                .fleet
                .list_vehicles(self.filter.clone(), batch(Some(after)))
                .await
            {
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
                let mut writer = csv::Writer::from_writer(out);
                if first {
                    writer.write_record(super::csv::export_columns())?;
                }
                for v in items {
                    writer.write_record([
                        v.id.get().to_string().as_str(),
                        v.garage_id.get().to_string().as_str(),
                        v.brand.as_str(),
                        v.model.as_str(),
                        v.year.get().to_string().as_str(),
                        v.license_plate.as_str(),
                        v.vin.as_ref().map_or("", Vin::as_str),
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
