//! Bulk import (CSV) and export (CSV or JSON) of vehicles.
//!
//! An import's body is spooled to an unnamed temporary file as it arrives,
//! then read row by row inside the store's transaction: memory holds one
//! chunk of the upload, never the file, and a slow client holds no lock.
//! An export streams pages of the list as they are read.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};

use actix_web::http::header::{self, ContentDisposition, DispositionParam, DispositionType};
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use chrono::SecondsFormat;
use futures_util::StreamExt;
use garage_domain::{
    Brand, FleetService, GarageId, ImportRow, LicensePlate, Limit, LineError, ModelName, ModelYear,
    NewVehicle, PageRequest, Vehicle, VehicleFilter, Vin,
};
use serde::Serialize;

use crate::dto::{ExportFormat, ExportQuery, ImportQuery, VehicleBody};
use crate::error::ApiError;
use crate::idempotency::{Fingerprint, Keyed};

/// The largest import accepted: about 400,000 typical rows.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Upload bytes gathered before each write to the spool file.
const SPOOL_CHUNK: usize = 256 * 1024;

/// The columns of an import, in any order; `vin` may be left out.
pub const IMPORT_COLUMNS: [&str; 6] = [
    "garage_id",
    "brand",
    "model",
    "year",
    "license_plate",
    "vin",
];

/// Columns an export writes that an import ignores, so an export imports as is.
const EXPORT_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// The columns of a CSV export.
const EXPORT_COLUMNS: [&str; 9] = [
    "id",
    "garage_id",
    "brand",
    "model",
    "year",
    "license_plate",
    "vin",
    "created_at",
    "updated_at",
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportBody {
    dry_run: bool,
    /// Data rows read.
    rows: u64,
    /// Rows written: all of them, or 0 on a dry run.
    imported: u64,
}

/// Imports vehicles from CSV, all or none.
///
/// The header line names the columns, in any order: `garage_id`, `brand`,
/// `model`, `year`, `license_plate` and optionally `vin` (an export's `id`,
/// `created_at` and `updated_at` are ignored, so an export imports as is).
/// Every row is checked as a creation would be, against the database and
/// the rows before it; when any row is bad, nothing is written and every bad
/// row is reported with its line. `dry_run=true` checks without writing.
#[utoipa::path(post, path = "/api/v1/vehicles/import", tag = "vehicles", operation_id = "import_vehicles",
    params(ImportQuery, ("Idempotency-Key" = Option<String>, Header, description = "As on the creations: a retry with the same key, query and file replays the first answer instead of importing again.")),
    request_body(content = String, content_type = "text/csv",
        example = "garage_id,brand,model,year,license_plate,vin\n1,Renault,Clio,2021,AB-123-CD,VF1RFB00X12345678\n"),
    responses(
        (status = 200, description = "Every row imported (or, on a dry run, importable)", body = ImportBody),
        (status = 409, description = "A request with this Idempotency-Key is in progress", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad rows, each with its `line`: nothing was imported; or an Idempotency-Key used for another request", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn import(
    fleet: crate::edge::Fleet,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let is_csv = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.essence_str() == "text/csv");
    if !is_csv {
        return Err(ApiError::UnsupportedMediaType("text/csv"));
    }
    let keyed = Keyed::of(&req)?;
    let mut fingerprint = keyed.as_ref().map(|_| Fingerprint::new(&req));
    let file = spool(payload, fingerprint.as_mut()).await?;
    if let (Some(keyed), Some(fingerprint)) = (&keyed, fingerprint) {
        if let Some(earlier) = keyed.claim(fingerprint.finish()).await? {
            return Ok(earlier);
        }
    }
    let outcome = run_import(&fleet, file, query.dry_run).await;
    match (keyed, &outcome) {
        (Some(keyed), Ok(body)) => {
            keyed
                .complete(crate::idempotency::StoredResponse {
                    status: 200,
                    location: None,
                    content_type: Some("application/json".into()),
                    etag: None,
                    body: String::from_utf8_lossy(body).into_owned(),
                })
                .await;
        }
        (Some(keyed), Err(_)) => keyed.release().await,
        (None, _) => {}
    }
    let body = outcome?;
    Ok(HttpResponse::Ok()
        .insert_header(header::ContentType::json())
        .body(body))
}

/// Imports the spooled file; the JSON report when every row was good.
async fn run_import(fleet: &FleetService, file: File, dry_run: bool) -> Result<Bytes, ApiError> {
    let report = fleet
        .import_vehicles(Box::new(CsvRows::new(file)), dry_run)
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

/// Where each import column is in the file.
struct Columns {
    index: [Option<usize>; 6],
    width: usize,
}

impl Columns {
    /// Reads the header line, or says everything that is wrong with it.
    fn parse(header: &csv::ByteRecord) -> Result<Self, Vec<LineError>> {
        let mut index = [None; 6];
        let mut errors = Vec::new();
        let error = LineError::whole_line;
        for (at, name) in header.iter().enumerate() {
            let name = String::from_utf8_lossy(name).trim().to_ascii_lowercase();
            match IMPORT_COLUMNS.iter().position(|c| *c == name) {
                Some(column) if index[column].is_some() => {
                    errors.push(error(format!("column {name} appears twice")));
                }
                Some(column) => index[column] = Some(at),
                None if EXPORT_ONLY.contains(&name.as_str()) => {}
                None => errors.push(error(format!(
                    "unknown column {name:?}; the columns are {}",
                    IMPORT_COLUMNS.join(", ")
                ))),
            }
        }
        for (column, name) in IMPORT_COLUMNS.iter().enumerate().take(5) {
            if index[column].is_none() {
                errors.push(LineError {
                    column: Some((*name).to_owned()),
                    message: "column is missing from the header line".into(),
                });
            }
        }
        if errors.is_empty() {
            Ok(Self {
                index,
                width: header.len(),
            })
        } else {
            Err(errors)
        }
    }

    /// The vehicle one record describes, or every field wrong with it.
    fn vehicle(&self, record: &csv::ByteRecord) -> Result<NewVehicle, Vec<LineError>> {
        if record.len() != self.width {
            return Err(vec![LineError::whole_line(format!(
                "has {} fields where the header has {}",
                record.len(),
                self.width
            ))]);
        }
        let mut errors = garage_domain::FieldErrors::new();
        let mut text = |column: usize| -> Option<&str> {
            let at = self.index[column]?;
            match std::str::from_utf8(&record[at]) {
                Ok(text) => Some(text),
                Err(_) => {
                    errors.push(IMPORT_COLUMNS[column], "is not valid UTF-8");
                    None
                }
            }
        };
        let (garage_id, brand, model, year, plate, vin) =
            (text(0), text(1), text(2), text(3), text(4), text(5));
        let number = |text: &str| {
            text.trim()
                .parse::<i64>()
                .map_err(|_| garage_domain::ValueError("must be a whole number".into()))
        };
        let garage_id =
            garage_id.and_then(|t| errors.check("garage_id", number(t).and_then(GarageId::parse)));
        let brand = brand.and_then(|t| errors.check("brand", Brand::parse(t)));
        let model = model.and_then(|t| errors.check("model", ModelName::parse(t)));
        let year = year.and_then(|t| errors.check("year", number(t).and_then(ModelYear::parse)));
        let plate = plate.and_then(|t| errors.check("license_plate", LicensePlate::parse(t)));
        // An empty cell is no VIN.
        let vin = vin
            .filter(|t| !t.trim().is_empty())
            .map(|t| errors.check("vin", Vin::parse(t)));
        errors
            .finish()
            .map_err(|errors| errors.into_iter().map(LineError::from).collect::<Vec<_>>())?;
        match (garage_id, brand, model, year, plate) {
            (Some(garage_id), Some(brand), Some(model), Some(year), Some(license_plate)) => {
                Ok(NewVehicle {
                    garage_id,
                    brand,
                    model,
                    year,
                    license_plate,
                    vin: vin.flatten(),
                })
            }
            _ => Err(vec![LineError::whole_line("could not be read")]),
        }
    }
}

/// A reader that notes where its lines end, to turn the byte offsets of
/// records into line numbers. The csv crate's own count is not one: a
/// record's position is where the previous one ended, before the blank lines
/// it skipped.
struct Lines<R> {
    inner: R,
    offset: u64,
    /// The lines read but not yet passed by a record.
    ends: VecDeque<LineEnd>,
    /// Where the line being read started, and whether it holds only a `\r`
    /// so far.
    line_start: u64,
    blank: bool,
    /// A `\r` just read: a line end unless a `\n` follows.
    pending_cr: Option<u64>,
    passed: u64,
}

struct LineEnd {
    start: u64,
    newline: u64,
    blank: bool,
}

impl<R> Lines<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            ends: VecDeque::new(),
            line_start: 0,
            blank: true,
            pending_cr: None,
            passed: 0,
        }
    }

    /// The 1-based line of the record found at byte `at`, past any blank
    /// lines there; `at` never decreases between calls.
    fn line_of(&mut self, at: u64) -> u64 {
        let mut at = at;
        while let Some(end) = self.ends.front() {
            // A record never starts on a newline: one at `at` ends the line before.
            let before = end.newline <= at;
            let skipped_blank = end.blank && end.start <= at;
            if !(before || skipped_blank) {
                break;
            }
            at = at.max(end.newline + 1);
            self.ends.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R> Lines<R> {
    fn end_line(&mut self, newline: u64) {
        self.ends.push_back(LineEnd {
            start: self.line_start,
            newline,
            blank: self.blank,
        });
        self.line_start = newline + 1;
        self.blank = true;
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for (i, byte) in buf[..n].iter().enumerate() {
            let at = self.offset + i as u64;
            // A `\r` ends a line unless a `\n` follows (then that does).
            if let Some(cr) = self.pending_cr.take() {
                if *byte != b'\n' {
                    self.end_line(cr);
                }
            }
            match byte {
                b'\n' => self.end_line(at),
                b'\r' => self.pending_cr = Some(at),
                _ => self.blank = false,
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The rows of a CSV import read from `input`, lazily; public for the
/// property tests and the fuzzer.
#[doc(hidden)]
pub fn csv_rows<R: Read + Send + 'static>(input: R) -> garage_domain::ImportRows {
    Box::new(CsvRows::new(input))
}

/// The rows of a spooled CSV file, read lazily (by the store, on a
/// blocking thread).
struct CsvRows<R> {
    reader: csv::Reader<Lines<BufReader<R>>>,
    columns: Option<Columns>,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    fn new(file: R) -> Self {
        Self {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(Lines::new(BufReader::new(file))),
            columns: None,
            record: csv::ByteRecord::new(),
            done: false,
        }
    }

    fn read(&mut self) -> Result<Option<u64>, anyhow::Error> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {
                let at = self.record.position().map_or(0, csv::Position::byte);
                Ok(Some(self.reader.get_mut().line_of(at)))
            }
            Ok(false) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err).context("reading the import")),
        }
    }
}

impl<R: Read> Iterator for CsvRows<R> {
    type Item = Result<ImportRow, anyhow::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let line = match self.read() {
            Ok(Some(line)) => line,
            Ok(None) if self.columns.is_none() => {
                self.done = true;
                return Some(Ok(ImportRow {
                    line: 1,
                    vehicle: Err(vec![LineError::whole_line(format!(
                        "the file is empty; it needs a header line: {}",
                        IMPORT_COLUMNS.join(",")
                    ))]),
                }));
            }
            Ok(None) => return None,
            Err(err) => {
                self.done = true;
                return Some(Err(err));
            }
        };
        let Some(columns) = &self.columns else {
            match Columns::parse(&self.record) {
                Ok(columns) => {
                    self.columns = Some(columns);
                    return self.next();
                }
                Err(errors) => {
                    // Without its columns no row can be read.
                    self.done = true;
                    return Some(Ok(ImportRow {
                        line,
                        vehicle: Err(errors),
                    }));
                }
            }
        };
        Some(Ok(ImportRow {
            line,
            vehicle: columns.vehicle(&self.record),
        }))
    }
}

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
                    writer.write_record(EXPORT_COLUMNS)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_numbered_by_the_line_they_start_on() {
        let data = "h1,h2\na,b\n\n\nc,\"d\n\nd\"\ne,f\r\n\r\ng,h\ri,j\r\rk,l\n";
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(Lines::new(data.as_bytes()));
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).unwrap() {
            let at = record.position().unwrap().byte();
            lines.push((record[0].to_vec(), reader.get_mut().line_of(at)));
        }
        let lines: Vec<(&[u8], u64)> = lines.iter().map(|(f, l)| (f.as_slice(), *l)).collect();
        assert_eq!(
            lines,
            [
                (&b"h1"[..], 1),
                (b"a", 2),
                (b"c", 5),
                (b"e", 8),
                (b"g", 10),
                (b"i", 11),
                (b"k", 13)
            ]
        );
    }
}
