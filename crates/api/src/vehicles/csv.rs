//! The import's CSV reader: the header's columns, each record as a vehicle
//! or what is wrong with it, numbered by the line it starts on.

use std::collections::VecDeque;
use std::io::{BufReader, Read};

use garage_domain::{
    Brand, GarageId, ImportRow, LicensePlate, LineError, ModelName, ModelYear, NewVehicle, Reason,
    Vin,
};

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

/// The columns of a CSV export: the import's, after the id and before the times.
pub(crate) fn export_columns() -> impl Iterator<Item = &'static str> {
    EXPORT_ONLY[..1]
        .iter()
        .chain(&IMPORT_COLUMNS)
        .chain(&EXPORT_ONLY[1..])
        .copied()
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
                    errors.push(error(
                        Reason::Duplicate,
                        format!("column {name} appears twice"),
                    ));
                }
                Some(column) => index[column] = Some(at),
                None if EXPORT_ONLY.contains(&name.as_str()) => {}
                None => errors.push(error(
                    Reason::InvalidChoice,
                    format!(
                        "unknown column {name:?}; the columns are {}",
                        IMPORT_COLUMNS.join(", ")
                    ),
                )),
            }
        }
        for (column, name) in IMPORT_COLUMNS.iter().enumerate().take(5) {
            if index[column].is_none() {
                errors.push(LineError {
                    column: Some((*name).to_owned()),
                    reason: Reason::Required,
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
            return Err(vec![LineError::whole_line(
                Reason::InvalidFormat,
                format!(
                    "has {} fields where the header has {}",
                    record.len(),
                    self.width
                ),
            )]);
        }
        let mut errors = garage_domain::FieldErrors::new();
        let mut text = |column: usize| -> Option<&str> {
            let at = self.index[column]?;
            match std::str::from_utf8(&record[at]) {
                Ok(text) => Some(text),
                Err(_) => {
                    errors.push(
                        IMPORT_COLUMNS[column],
                        Reason::InvalidFormat,
                        "is not valid UTF-8",
                    );
                    None
                }
            }
        };
        let (garage_id, brand, model, year, plate, vin) =
            (text(0), text(1), text(2), text(3), text(4), text(5));
        let number = |text: &str| {
            text.trim().parse::<i64>().map_err(|_| {
                garage_domain::ValueError::new(Reason::InvalidFormat, "must be a whole number")
            })
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
            _ => Err(vec![LineError::whole_line(
                Reason::InvalidFormat,
                "could not be read",
            )]),
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
pub(crate) struct CsvRows<R> {
    reader: csv::Reader<Lines<BufReader<R>>>,
    columns: Option<Columns>,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    pub(crate) fn new(file: R) -> Self {
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
                    vehicle: Err(vec![LineError::whole_line(
                        Reason::Required,
                        format!(
                            "the file is empty; it needs a header line: {}",
                            IMPORT_COLUMNS.join(",")
                        ),
                    )]),
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
