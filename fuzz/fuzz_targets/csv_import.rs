//! An import's CSV reader: any bytes give rows or row errors, numbered by
//! ascending lines, never a panic.
#![no_main]

use garage_api::vehicles::csv_rows;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut last = 0;
    for row in csv_rows(std::io::Cursor::new(data.to_vec())) {
        let Ok(row) = row else { break };
        assert!(row.line > last || (row.line == 1 && last == 0));
        last = row.line;
    }
});
