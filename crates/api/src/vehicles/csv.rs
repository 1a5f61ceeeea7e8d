//! The import's CSV reader: the header's columns, each record as a vehicle
//! or what is wrong with it, numbered by the line it starts on.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};

use garage_domain::care::Km;
use garage_domain::search::search_key;
use garage_domain::{
    Brand, GarageId, ImportRow, LicensePlate, LineError, ModelName, ModelYear, NewVehicle, Reason,
    Vin,
};

/// The columns of an import, in any order; `vin`, `registered_on` and
/// `odometer_km` may be left out.
pub const IMPORT_COLUMNS: [&str; 8] = [
    "garage_id",
    "brand",
    "model",
    "year",
    "license_plate",
    "vin",
    "registered_on",
    "odometer_km",
];

/// Columns an export writes that an import ignores, so an export imports
/// as is: the id and the times.
const EXPORT_ONLY: [&str; 3] = ["id", "created_at", "updated_at"];

/// The columns of a CSV export, in order: the import's, the garage's name
/// after its id, the vehicle's id first and its times last.
pub(crate) const EXPORT_COLUMNS: [&str; 12] = [
    "id",
    "garage_id",
    "garage",
    "brand",
    "model",
    "year",
    "license_plate",
    "vin",
    "registered_on",
    "odometer_km",
    "created_at",
    "updated_at",
];

/// A date as a spreadsheet writes it: `2021-03-15`, or the day first
/// (`15/03/2021`), as French spreadsheets do.
fn spreadsheet_date(text: &str) -> Result<chrono::NaiveDate, garage_domain::ValueError> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y")
        .ok()
        .filter(|d| (1886..=9999).contains(&chrono::Datelike::year(d)))
        .map_or_else(|| crate::wire::date(text), Ok)
}

/// A column of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    GarageId,
    Brand,
    Model,
    Year,
    LicensePlate,
    Vin,
    /// A garage's name, used when a row has no `garage_id`.
    Garage,
    RegisteredOn,
    OdometerKm,
}

impl Column {
    const ALL: [Self; 9] = [
        Self::GarageId,
        Self::Brand,
        Self::Model,
        Self::Year,
        Self::LicensePlate,
        Self::Vin,
        Self::Garage,
        Self::RegisteredOn,
        Self::OdometerKm,
    ];

    /// Its name in errors: the English header.
    fn name(self) -> &'static str {
        match self {
            Self::GarageId => "garage_id",
            Self::Brand => "brand",
            Self::Model => "model",
            Self::Year => "year",
            Self::LicensePlate => "license_plate",
            Self::Vin => "vin",
            Self::Garage => "garage",
            Self::RegisteredOn => "registered_on",
            Self::OdometerKm => "odometer_km",
        }
    }

    /// The headers that name it, in English and French, compared by their
    /// search keys (case, accents, `_` and spaces aside).
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::GarageId => &["garage_id", "id garage", "garage id", "id du garage"],
            Self::Brand => &["brand", "marque", "make"],
            Self::Model => &["model", "modèle"],
            Self::Year => &["year", "année", "annee modele", "année modèle"],
            Self::LicensePlate => &[
                "license_plate",
                "plate",
                "immatriculation",
                "plaque",
                "plaque d'immatriculation",
            ],
            Self::Vin => &["vin", "numéro de série", "numero vin"],
            Self::Garage => &["garage", "garage name", "nom du garage", "dépôt", "depot"],
            Self::RegisteredOn => &[
                "registered_on",
                "first registration",
                "première immatriculation",
                "date de première immatriculation",
                "mise en circulation",
                "date de mise en circulation",
            ],
            Self::OdometerKm => &["odometer_km", "odometer", "km", "kilométrage", "compteur"],
        }
    }

    fn of_header(header: &str) -> Option<Self> {
        let key = search_key(header);
        Self::ALL
            .into_iter()
            .find(|c| c.aliases().iter().any(|a| search_key(a) == key))
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where each import column is in the file.
#[derive(Debug)]
struct Columns {
    index: [Option<usize>; Column::ALL.len()],
    width: usize,
}

impl Columns {
    /// Reads the header line, or says everything that is wrong with it.
    fn parse(header: &csv::ByteRecord) -> Result<Self, Vec<LineError>> {
        let mut index = [None; Column::ALL.len()];
        let mut errors = Vec::new();
        let error = LineError::whole_line;
        for (at, name) in header.iter().enumerate() {
            let name = decode(name);
            let name = name.trim();
            match Column::of_header(name) {
                Some(column) if index[column.index()].is_some() => {
                    errors.push(error(
                        Reason::Duplicate,
                        format!("column {name} appears twice"),
                    ));
                }
                Some(column) => index[column.index()] = Some(at),
                None if EXPORT_ONLY
                    .iter()
                    .any(|e| search_key(e) == search_key(name)) => {}
                None if name.is_empty() => {}
                None => errors.push(LineError {
                    column: Some(name.to_owned()),
                    reason: Reason::UnknownColumn,
                    message: format!(
                        "unknown column {name:?}; the columns are {} (or in French: {})",
                        IMPORT_COLUMNS.join(", "),
                        "immatriculation, marque, modèle, année, garage, vin, mise en circulation, kilométrage"
                    ),
                }),
            }
        }
        let missing = |column: Column| LineError {
            column: Some(column.name().to_owned()),
            reason: Reason::Required,
            message: "column is missing from the header line".into(),
        };
        if index[Column::GarageId.index()].is_none() && index[Column::Garage.index()].is_none() {
            errors.push(LineError {
                message: "column is missing from the header line (or a garage column, by name)"
                    .into(),
                ..missing(Column::GarageId)
            });
        }
        for column in [
            Column::Brand,
            Column::Model,
            Column::Year,
            Column::LicensePlate,
        ] {
            if index[column.index()].is_none() {
                errors.push(missing(column));
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

    fn has(&self, column: Column) -> bool {
        self.index[column.index()].is_some()
    }

    /// The vehicle one record describes, or every field wrong with it.
    fn vehicle(
        &self,
        record: &csv::ByteRecord,
        garages: &GarageNames,
    ) -> Result<(NewVehicle, Option<Km>), Vec<LineError>> {
        if record.len() != self.width {
            return Err(vec![LineError::whole_line(
                Reason::FieldCount {
                    max: self.width as i64,
                },
                format!(
                    "has {} fields where the header has {}",
                    record.len(),
                    self.width
                ),
            )]);
        }
        let mut errors = garage_domain::FieldErrors::new();
        let text = |column: Column| -> Option<Cow<'_, str>> {
            let at = self.index[column.index()]?;
            Some(record.get(at).map_or(Cow::Borrowed(""), decode))
        };
        let number = |text: &str| {
            text.trim().parse::<i64>().map_err(|_| {
                garage_domain::ValueError::new(Reason::InvalidFormat, "must be a whole number")
            })
        };
        let named = text(Column::Garage).filter(|t| !t.trim().is_empty());
        let garage_id = match text(Column::GarageId).filter(|t| !t.trim().is_empty()) {
            Some(id) => {
                let id = errors.check("garage_id", number(&id).and_then(GarageId::parse));
                // Both given (an export): they must name one garage, or an
                // edit of the name alone would be silently ignored.
                if let (Some(id), Some(name)) = (id, &named) {
                    if !garages.named(name).contains(&id) {
                        errors.push(
                            "garage",
                            Reason::GarageMismatch,
                            format!(
                                "names another garage than garage_id {id}; change both, or empty one"
                            ),
                        );
                    }
                }
                id
            }
            None => match named {
                Some(name) => errors.check("garage", garages.find(&name)),
                None => {
                    let field = if self.has(Column::GarageId) {
                        "garage_id"
                    } else {
                        "garage"
                    };
                    errors.push(field, Reason::Required, "is required");
                    None
                }
            },
        };
        let brand = text(Column::Brand).and_then(|t| errors.check("brand", Brand::parse(&t)));
        let model = text(Column::Model).and_then(|t| errors.check("model", ModelName::parse(&t)));
        let year = text(Column::Year)
            .and_then(|t| errors.check("year", number(&t).and_then(ModelYear::parse)));
        let plate = text(Column::LicensePlate)
            .and_then(|t| errors.check("license_plate", LicensePlate::parse(&t)));
        // An empty cell is no VIN.
        let vin = text(Column::Vin)
            .filter(|t| !t.trim().is_empty())
            .map(|t| errors.check("vin", Vin::parse(&t)));
        // An empty cell is no reading.
        let odometer = text(Column::OdometerKm)
            .filter(|t| !t.trim().is_empty())
            .map(|t| errors.check("odometer_km", number(&t).and_then(Km::parse)));
        // An empty cell is no date; French spreadsheets write 15/03/2021.
        let registered_on = text(Column::RegisteredOn)
            .filter(|t| !t.trim().is_empty())
            .map(|t| {
                errors.check(
                    "registered_on",
                    spreadsheet_date(&t).and_then(crate::wire::past_date),
                )
            });
        errors
            .finish()
            .map_err(|errors| errors.into_iter().map(LineError::from).collect::<Vec<_>>())?;
        match (garage_id, brand, model, year, plate) {
            (Some(garage_id), Some(brand), Some(model), Some(year), Some(license_plate)) => Ok((
                NewVehicle {
                    garage_id,
                    brand,
                    model,
                    year,
                    license_plate,
                    vin: vin.flatten(),
                    registered_on: registered_on.flatten(),
                },
                odometer.flatten(),
            )),
            _ => Err(vec![LineError::whole_line(
                Reason::InvalidFormat,
                "could not be read",
            )]),
        }
    }
}

/// Garages by the search key of their name, for rows that name their
/// garage instead of giving its id.
#[derive(Debug, Default, Clone)]
pub struct GarageNames(HashMap<String, Vec<GarageId>>);

impl GarageNames {
    pub fn new(garages: impl IntoIterator<Item = (GarageId, String)>) -> Self {
        let mut names: HashMap<String, Vec<GarageId>> = HashMap::new();
        for (id, name) in garages {
            names.entry(search_key(&name)).or_default().push(id);
        }
        Self(names)
    }

    /// Every garage named `name`, case and accents aside.
    fn named(&self, name: &str) -> &[GarageId] {
        self.0
            .get(&search_key(name.trim()))
            .map_or(&[], Vec::as_slice)
    }

    /// The one garage named `name`, case and accents aside.
    fn find(&self, name: &str) -> Result<GarageId, garage_domain::ValueError> {
        let name = name.trim();
        match self.named(name) {
            [one] => Ok(*one),
            [] => Err(garage_domain::ValueError::new(
                Reason::UnknownGarage,
                format!("no garage is named {name:?}"),
            )),
            many => Err(garage_domain::ValueError::new(
                Reason::AmbiguousGarage,
                format!(
                    "{} garages are named {name:?}; give its garage_id instead",
                    many.len()
                ),
            )),
        }
    }
}

/// A cell's text: UTF-8, or else Windows-1252 (what Excel saves as "CSV"
/// on Windows in Western Europe), never refused for its encoding.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| windows_1252(b)).collect()),
    };
    // The quote a spreadsheet export puts before what would read as a formula.
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => Cow::Owned(rest.to_owned()),
        _ => text,
    }
}

/// What makes a spreadsheet read a cell as a formula.
pub(crate) const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell for a spreadsheet: text that would read as a formula gets a
/// quote before it (which the import takes off again).
pub(crate) fn inert(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One byte of Windows-1252 (the WHATWG table): Latin-1, except 0x80–0x9F.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9f => HIGH[usize::from(byte - 0x80)],
        other => char::from(other),
    }
}

/// The field separator of a file, from its first line: the most frequent
/// of `;`, `,` and tab outside quotes (`,` on a tie); and whether it
/// starts with a UTF-8 byte order mark.
fn sniff(head: &[u8]) -> (u8, bool) {
    let bom = head.starts_with(&[0xef, 0xbb, 0xbf]);
    let head = if bom { &head[3..] } else { head };
    let mut counts = [0_usize; 3];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let separators = [b',', b';', b'\t'];
    let best = (0..3).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    (separators[best], bom)
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
    /// The header's refusal, read early, for the first row to report.
    refused: Option<(u64, Vec<LineError>)>,
    garages: GarageNames,
    record: csv::ByteRecord,
    done: bool,
}

impl<R: Read> CsvRows<R> {
    /// Reads `file` as a spreadsheet saves it: `,`, `;` or tab between
    /// fields (found from the header line), with or without a UTF-8 byte
    /// order mark.
    pub(crate) fn new(file: R) -> Self {
        let mut input = BufReader::with_capacity(64 * 1024, file);
        let (delimiter, bom) = input.fill_buf().map_or((b',', false), sniff);
        if bom {
            input.consume(3);
        }
        Self {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(Lines::new(input)),
            columns: None,
            refused: None,
            garages: GarageNames::default(),
            record: csv::ByteRecord::new(),
            done: false,
        }
    }

    /// Reads the header line now, and says whether rows may name their
    /// garage (then [`Self::naming`] must give the names first).
    pub(crate) fn names_garages(&mut self) -> Result<bool, anyhow::Error> {
        if self.columns.is_none() && self.refused.is_none() {
            match self.read()? {
                None => {}
                Some(line) => match Columns::parse(&self.record) {
                    Ok(columns) => self.columns = Some(columns),
                    Err(errors) => self.refused = Some((line, errors)),
                },
            }
        }
        Ok(self.columns.as_ref().is_some_and(|c| c.has(Column::Garage)))
    }

    /// The garages rows may name.
    pub(crate) fn naming(mut self, garages: GarageNames) -> Self {
        self.garages = garages;
        self
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
        if let Some((line, errors)) = self.refused.take() {
            self.done = true;
            return Some(Ok(ImportRow {
                line,
                vehicle: Err(errors),
                odometer: None,
            }));
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
                    odometer: None,
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
                        odometer: None,
                    }));
                }
            }
        };
        let (vehicle, odometer) = match columns.vehicle(&self.record, &self.garages) {
            Ok((vehicle, odometer)) => (Ok(vehicle), odometer),
            Err(errors) => (Err(errors), None),
        };
        Some(Ok(ImportRow {
            line,
            vehicle,
            odometer,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_leave_inert_and_come_back_whole() {
        for text in [
            "=HYPERLINK(\"x\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "Renault",
            "C3 - Aircross",
        ] {
            let cell = inert(text);
            assert_eq!(
                cell.starts_with('\''),
                text.starts_with(FORMULA_STARTS),
                "{text}"
            );
            assert_eq!(decode(cell.as_bytes()), text);
        }
        // A quote of the data's own stays.
        assert_eq!(decode(b"'t Hooft"), "'t Hooft");
    }

    #[test]
    fn the_separator_is_the_header_lines_most_frequent_outside_quotes() {
        assert_eq!(sniff(b"a,b,c\n1;2;3;4;5"), (b',', false));
        assert_eq!(sniff(b"\xef\xbb\xbfa;b;c\r\n"), (b';', true));
        assert_eq!(sniff(b"\"a;b\",c,d"), (b',', false));
        assert_eq!(sniff(b"a\tb\tc"), (b'\t', false));
        assert_eq!(sniff(b""), (b',', false));
    }

    #[test]
    fn windows_1252_reads_as_excel_wrote_it() {
        assert_eq!(decode(b"Citro\xebn \x80 \x9c"), "Citroën € œ");
        assert_eq!(decode("déjà".as_bytes()), "déjà");
    }

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
