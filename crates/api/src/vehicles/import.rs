//! `POST /api/v1/vehicles/import`: the body is spooled to an unnamed
//! temporary file as it arrives, then read row by row inside the store's
//! transaction: memory holds one chunk of the upload, never the file, and a
//! slow client holds no lock.

use std::fs::File;
use std::io::{Seek, Write};

use actix_web::http::header;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use garage_domain::{FleetService, GarageFilter, ImportMode};
use serde::Serialize;

use super::csv::{CsvRows, GarageNames};
use super::wire::ImportQuery;
use crate::idempotency::{Fingerprint, Keyed};
use crate::problem::ApiError;

/// The largest import accepted: about 400,000 typical rows.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Upload bytes gathered before each write to the spool file.
const SPOOL_CHUNK: usize = 256 * 1024;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportBody {
    dry_run: bool,
    /// Data rows read.
    rows: u64,
    /// Vehicles created; on a dry run, that the import would create. 0 when
    /// any row is refused.
    imported: u64,
    /// Registered vehicles changed (`mode=upsert`); on a dry run, that it
    /// would change. 0 when any row is refused.
    updated: u64,
    /// Registered vehicles already as their rows say (`mode=upsert`). 0
    /// when any row is refused.
    unchanged: u64,
}

/// Imports vehicles from CSV, all or none.
///
/// The header line names the columns, in any order, in English or French:
/// `garage_id` (or `garage`, a garage's name), `brand` (`marque`), `model`
/// (`modèle`), `year` (`année`), `license_plate` (`immatriculation`) and
/// optionally `vin` (an export's `id`, `created_at` and `updated_at` are
/// ignored, so an export imports as is). Fields are separated by `,`, `;`
/// or tabs (found from the header line); a UTF-8 byte order mark is
/// skipped, and text that is not UTF-8 is read as Windows-1252, as Excel
/// saves it.
/// Every row is checked as a creation would be, against the database and
/// the rows before it; when any row is bad, nothing is written and every bad
/// row is reported with its line. `dry_run=true` checks without writing,
/// and reports what the import would do.
#[utoipa::path(post, path = "/api/v1/vehicles/import", tag = "vehicles", operation_id = "import_vehicles",
    params(ImportQuery, ("Idempotency-Key" = Option<String>, Header, description = "As on the creations: a retry with the same key, query and file replays the first answer instead of importing again.")),
    request_body(content = String, content_type = "text/csv",
        example = "garage_id,brand,model,year,license_plate,vin,registered_on,odometer_km\n1,Renault,Clio,2021,AB-123-CD,VF1RFB00X12345678,2021-03-15,42350\n"),
    responses(
        (status = 200, description = "Every row imported (or, on a dry run, importable)", body = ImportBody),
        (status = 409, description = "A request with this Idempotency-Key is in progress", body = crate::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each with its `line`: nothing was imported; or an Idempotency-Key used for another request", body = crate::problem::Problem, content_type = "application/problem+json"),
    ))]

pub(crate) async fn import(
    fleet: crate::edge::Fleet,
    care: crate::edge::Care,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let is_csv = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str() == "text/csv");
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType("text/csv").into());
    }
    let keyed = Keyed::of(&req)?;
    let mut fingerprint = keyed.as_ref().map(|_| Fingerprint::new(&req));
    let file = spool(payload, fingerprint.as_mut()).await?;
    let work = async {
        // An odometer in the file is read today, the fleet's day.
        let today = care.today();
        let body = run_import(&fleet, file, query.dry_run, query.mode.into(), today).await?;
        Ok(HttpResponse::Ok()
            .insert_header(header::ContentType::json())
            .body(body))
    };
    match (keyed, fingerprint) {
        (Some(keyed), Some(fingerprint)) => keyed.once(fingerprint.finish(), work).await,
        _ => work.await,
    }
}

/// Imports the spooled file; the JSON report when every row was good.
async fn run_import(
    fleet: &FleetService,
    file: File,
    dry_run: bool,
    mode: ImportMode,
    today: chrono::NaiveDate,
) -> Result<Bytes, ApiError> {
    // The header is read first: when rows may name their garage, the
    // names the caller can see are read before the rows are.
    let (mut rows, names) = web::block(move || {
        let mut rows = CsvRows::new(file);
        let names = rows.names_garages();
        (rows, names)
    })
    .await
    .map_err(|_| ApiError::Internal)?;
    if names.map_err(|err| ApiError::BadRequest(format!("{err:#}")))? {
        let garages = fleet.all_garages(GarageFilter::default()).await?;
        rows = rows.naming(GarageNames::new(
            garages.into_iter().map(|g| (g.id, g.name.into_inner())),
        ));
    }
    let report = fleet
        .import_vehicles(Box::new(rows), dry_run, mode, today)
        .await?;
    if !report.errors.is_empty() {
        return Err(ApiError::ImportRejected {
            rows: report.rows,
            dry_run,
            errors: report.errors,
        });
    }
    let body = serde_json::to_vec(&ImportBody {
        dry_run,
        rows: report.rows,
        imported: report.imported,
        updated: report.updated,
        unchanged: report.unchanged,
    })
    .map_err(|_| ApiError::Internal)?;
    Ok(Bytes::from(body))
}

fn spool_failed(err: std::io::Error) -> ApiError {
    tracing::error!(error = %err, "could not spool an import");
    ApiError::Internal
}

/// Writes the request body to an unnamed temporary file (gone when closed),
/// refusing it past `MAX_IMPORT_BYTES`, and feeds it to `fingerprint`.
async fn spool(
    mut payload: web::Payload,
    mut fingerprint: Option<&mut Fingerprint>,
) -> Result<File, ApiError> {
    let mut file = web::block(tempfile::tempfile)
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(spool_failed)?;
    let mut buffer = BytesMut::with_capacity(SPOOL_CHUNK);
    let mut total = 0usize;
    loop {
        let chunk = payload.next().await;
        let last = chunk.is_none();
        if let Some(chunk) = chunk {
            let chunk = chunk.map_err(|err| {
                ApiError::BadRequest(format!("the body could not be read: {err}"))
            })?;
            total += chunk.len();
            if total > MAX_IMPORT_BYTES {
                return Err(ApiError::PayloadTooLarge(MAX_IMPORT_BYTES));
            }
            if let Some(fingerprint) = fingerprint.as_mut() {
                fingerprint.update(&chunk);
            }
            buffer.extend_from_slice(&chunk);
        }
        if buffer.len() >= SPOOL_CHUNK || (last && !buffer.is_empty()) {
            let bytes = buffer.split().freeze();
            file = web::block(move || file.write_all(&bytes).map(|()| file))
                .await
                .map_err(|_| ApiError::Internal)?
                .map_err(spool_failed)?;
        }
        if last {
            break;
        }
    }
    web::block(move || file.rewind().map(|()| file))
        .await
        .map_err(|_| ApiError::Internal)?
        .map_err(spool_failed)
}
