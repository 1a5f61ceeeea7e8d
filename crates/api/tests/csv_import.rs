//! The CSV reader of imports under generated input: any bytes give rows or
//! row errors (never a panic), and every row is numbered by the line it
//! starts on, whatever blank lines, CRLF or quoted line breaks come before.

use garage_api::vehicles::csv_rows;
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Row {
    garage: i64,
    model: String,
    year: i64,
    plate: String,
    quote_model: bool,
}

fn row() -> impl Strategy<Value = Row> {
    (
        1i64..1000,
        "[A-Za-z][A-Za-z ,\"]{0,8}",
        1990i64..2025,
        "[A-Z]{2}[0-9]{1,6}",
        any::<bool>(),
    )
        .prop_map(|(garage, model, year, plate, quote_model)| Row {
            garage,
            model: model.trim().to_owned(),
            year,
            plate,
            quote_model,
        })
        .prop_filter("a model is never empty", |r| !r.model.is_empty())
}

/// How rows are separated: a newline, CRLF, and blank lines in between.
fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("\n"),
        Just("\r\n"),
        Just("\n\n"),
        Just("\r\n\r\n\n"),
        Just("\r\n\n")
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_bytes_give_rows_or_errors_never_a_panic(
        header in prop_oneof![Just(b"garage_id,brand,model,year,license_plate,vin\n".to_vec()), any::<Vec<u8>>()],
        body in any::<Vec<u8>>(),
    ) {
        let mut input = header;
        input.extend(body);
        let mut last = 0;
        for row in csv_rows(std::io::Cursor::new(input)).take(10_000) {
            let Ok(row) = row else { break };
            prop_assert!(row.line > last || (row.line == 1 && last == 0), "{} after {}", row.line, last);
            last = row.line;
        }
    }

    #[test]
    fn rows_are_numbered_by_their_first_line(
        rows in prop::collection::vec((row(), separator()), 1..30),
    ) {
        let mut text = String::from("garage_id,brand,model,year,license_plate\n");
        let mut expected = Vec::new();
        for (r, sep) in &rows {
            let line = text.matches('\n').count() as u64 + 1;
            let model = if r.quote_model || r.model.contains([',', '"']) {
                format!("\"{}\"", r.model.replace('"', "\"\""))
            } else {
                r.model.clone()
            };
            text.push_str(&format!("{},Renault,{},{},{}{}", r.garage, model, r.year, r.plate, sep));
            expected.push((line, r));
        }
        let got: Vec<_> = csv_rows(std::io::Cursor::new(text.clone().into_bytes()))
            .map(|r| r.unwrap())
            .collect();
        prop_assert_eq!(got.len(), expected.len(), "{}", text);
        for (row, (line, r)) in got.iter().zip(&expected) {
            prop_assert_eq!(row.line, *line, "{}", text);
            let vehicle = row.vehicle.as_ref().unwrap();
            prop_assert_eq!(vehicle.model.as_str(), r.model.as_str());
            prop_assert_eq!(vehicle.garage_id.get(), r.garage);
            prop_assert_eq!(i64::from(vehicle.year.get()), r.year);
            prop_assert_eq!(vehicle.license_plate.as_str(), r.plate.as_str());
        }
    }
}

/// A first-registration date, as ISO or as a French spreadsheet writes it;
/// an empty cell is none, a bad one names its column.
#[test]
fn registration_dates_are_read_as_spreadsheets_write_them() {
    let csv = "garage_id;marque;modèle;année;immatriculation;vin;mise en circulation\n\
               1;Renault;Clio;2021;AB-123-CD;;15/03/2021\n\
               1;Renault;Clio;2021;AB-124-CD;;2020-02-29\n\
               1;Renault;Clio;2021;AB-125-CD;;\n\
               1;Renault;Clio;2021;AB-126-CD;;31/02/2021\n";
    let rows: Vec<_> = csv_rows(std::io::Cursor::new(csv.as_bytes().to_vec()))
        .map(|row| row.unwrap())
        .collect();
    let dates: Vec<_> = rows
        .iter()
        .map(|row| match &row.vehicle {
            Ok(vehicle) => Ok(vehicle.registered_on.map(|d| d.to_string())),
            Err(errors) => Err(errors[0].column.clone()),
        })
        .collect();
    assert_eq!(
        dates,
        [
            Ok(Some("2021-03-15".to_owned())),
            Ok(Some("2020-02-29".to_owned())),
            Ok(None),
            Err(Some("registered_on".to_owned())),
        ]
    );
}
