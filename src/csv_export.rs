//! The one CSV writer of every export (audit log, bulk results): cells that a spreadsheet would
//! run as a formula — starting with `=`, `+`, `-`, `@`, a tab or a carriage return, as OWASP's
//! CSV-injection guidance lists them — get a leading `'`, which spreadsheets show as text.
//! A certificate CN or device name comes from the cloud, so anyone who can name one could
//! otherwise plant `=HYPERLINK(…)` in an admin's spreadsheet.
//!
//! Knows nothing of what the rows are.

use serde::Serialize;

/// Characters that make a spreadsheet read a cell as a formula (or, tab and CR, let it hide one).
const FORMULA_LEADS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell` as a spreadsheet must see it: prefixed with `'` when it starts like a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_LEADS) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A CSV writer whose every cell goes through [`neutralise`].
pub struct SafeCsvWriter<W: std::io::Write> {
    inner: csv::Writer<W>,
}

impl<W: std::io::Write> SafeCsvWriter<W> {
    /// A writer over `out` (RFC 4180 quoting, as the csv crate does it).
    pub fn new(out: W) -> Self {
        SafeCsvWriter {
            inner: csv::Writer::from_writer(out),
        }
    }

    /// Writes one record (header or row).
    pub fn write_record<I, S>(&mut self, cells: I) -> Result<(), csv::Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells
            .into_iter()
            .map(|c| neutralise(c.as_ref()).into_owned())
            .collect();
        self.inner.write_record(&cells)
    }

    /// Writes `rows` as serde would (a header from the first row's field names, then one line
    /// each), every cell neutralised. The rows are serialised into CSV first and read back cell by
    /// cell, so the header and field order are exactly the csv crate's.
    pub fn serialize_all<T: Serialize>(&mut self, rows: &[T]) -> Result<(), csv::Error> {
        let mut plain = csv::Writer::from_writer(Vec::new());
        for row in rows {
            plain.serialize(row)?;
        }
        let bytes = plain
            .into_inner()
            .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes.as_slice());
        for record in reader.records() {
            let record = record?;
            self.write_record(record.iter())?;
        }
        Ok(())
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> Result<(), csv::Error> {
        self.inner.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_leads_are_prefixed_and_nothing_else_changes() {
        for (cell, expected) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=x", "'\t=x"),
            ("\r=x", "'\r=x"),
            ("plain", "plain"),
            ("a=b", "a=b"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(neutralise(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn serialized_rows_keep_their_header_and_order() {
        #[derive(Serialize)]
        struct Row {
            name: String,
            count: u32,
        }
        let mut out = Vec::new();
        let mut w = SafeCsvWriter::new(&mut out);
        w.serialize_all(&[
            Row {
                name: "=cmd".into(),
                count: 1,
            },
            Row {
                name: "ok, \"quoted\"".into(),
                count: 2,
            },
        ])
        .expect("write");
        w.flush().expect("flush");
        drop(w);
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "name,count\n'=cmd,1\n\"ok, \"\"quoted\"\"\",2\n"
        );
    }
}
