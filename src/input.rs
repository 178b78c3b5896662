//! Input formats beyond plain JSONL: gzip-compressed JSONL, CSV with named
//! columns, and a directory of `.txt` files.
//!
//! Every reader reports bad records with the file and line, and follows
//! [`ReadOptions::skip_invalid`]; nothing is dropped silently.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::document::{self, Document, RawRecord, ReadOptions, ReadOutcome};
use crate::error::{Error, RecordError, Result};

/// The kind of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputFormat {
    /// One JSON object per line.
    Jsonl,
    /// JSONL compressed with gzip (`.gz`).
    JsonlGz,
    /// CSV with a header row naming the columns `id`, `text` (or `body`),
    /// and optionally `title`, `published` (or `date`), `source`, `url`,
    /// `cluster`.
    Csv,
    /// A directory of `.txt` files: the file name (without `.txt`) is the
    /// id, the first line the title, the rest the text. Other files are
    /// ignored; files are read in name order.
    TextDir,
}

impl InputFormat {
    /// The format of a path: a directory, `.gz`, `.csv`, or else JSONL.
    ///
    /// ```
    /// use wirecluster::InputFormat;
    /// assert_eq!(InputFormat::of("a.jsonl.gz"), InputFormat::JsonlGz);
    /// assert_eq!(InputFormat::of("a.CSV"), InputFormat::Csv);
    /// assert_eq!(InputFormat::of("a.jsonl"), InputFormat::Jsonl);
    /// ```
    pub fn of(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        if path.is_dir() {
            return InputFormat::TextDir;
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("gz") => InputFormat::JsonlGz,
            Some("csv") => InputFormat::Csv,
            _ => InputFormat::Jsonl,
        }
    }
}

/// Reads documents from a file or directory in the format [`InputFormat::of`]
/// detects.
///
/// ```no_run
/// use wirecluster::{read_input, ReadOptions};
/// let out = read_input("articles.csv", &ReadOptions::default())?;
/// # Ok::<(), wirecluster::Error>(())
/// ```
pub fn read_input(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadOutcome> {
    let path = path.as_ref();
    match InputFormat::of(path) {
        InputFormat::Jsonl | InputFormat::JsonlGz => document::read_jsonl(path, opts),
        InputFormat::Csv => read_csv(path, opts),
        InputFormat::TextDir => read_text_dir(path, opts),
    }
}

/// The first bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `reader`, decompressed when it starts as a gzip stream does (the one
/// rule of every JSONL reader: compression is told by the bytes, not the
/// name).
/// Returns the reader and whether it is compressed.
fn gunzip_if_compressed<R: BufRead + Send + 'static>(
    mut reader: R,
) -> std::io::Result<(Box<dyn BufRead + Send>, bool)> {
    let head = reader.fill_buf()?;
    let gzip = !head.is_empty() && head.starts_with(&GZIP_MAGIC[..head.len().min(2)]);
    Ok(if gzip {
        let decoder = flate2::bufread::MultiGzDecoder::new(reader);
        (Box::new(BufReader::with_capacity(1 << 20, decoder)), true)
    } else {
        (Box::new(reader), false)
    })
}

/// An I/O error of an input; one of a compressed input says so.
fn input_error(path: &Path, e: std::io::Error, compressed: bool) -> Error {
    let e = if compressed {
        std::io::Error::new(
            e.kind(),
            format!("gzip: {e} (a truncated or damaged file?)"),
        )
    } else {
        e
    };
    Error::io(path)(e)
}

/// Reads JSONL from any reader, such as standard input, gzip-compressed or
/// not (told by its first bytes); `name` names it in errors. See
/// [`parse_jsonl`](crate::parse_jsonl) for the records.
///
/// ```
/// use wirecluster::{read_jsonl_from, ReadOptions};
/// let input: &[u8] = b"{\"id\": 1, \"text\": \"One.\"}\n";
/// let out = read_jsonl_from(input, "<stdin>".as_ref(), &ReadOptions::default())?;
/// assert_eq!(out.documents[0].id, "1");
/// # Ok::<(), wirecluster::Error>(())
/// ```
pub fn read_jsonl_from(
    reader: impl Read + Send + 'static,
    name: &Path,
    opts: &ReadOptions,
) -> Result<ReadOutcome> {
    let mut bytes = Vec::new();
    let (mut reader, compressed) = gunzip_if_compressed(BufReader::with_capacity(1 << 20, reader))
        .map_err(|e| input_error(name, e, false))?;
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| input_error(name, e, compressed))?;
    document::parse_jsonl(&bytes, Some(name), opts)
}

/// Reads JSONL records one line at a time, from a file or any reader,
/// gzip-compressed or not (told by its first bytes): for live feeds, where
/// each record is placed as it comes. Lines of white space only are passed
/// over. [`read_input`] reads a whole file faster, on all cores.
///
/// Each item is an I/O error (which ends the input), or a record's 1-based
/// line number with the record or why it is not one.
///
/// ```
/// use wirecluster::RecordReader;
/// let input: &[u8] = b"{\"id\": 1, \"text\": \"One.\"}\n\n{\"id\": 2}\n";
/// let mut records = RecordReader::new(input, "<stdin>")?;
/// let (line, first) = records.next().unwrap()?;
/// assert_eq!((line, first.unwrap().id.as_str()), (1, "1"));
/// let (line, second) = records.next().unwrap()?;
/// assert_eq!(line, 3);
/// assert!(second.is_err(), "a record without text");
/// assert!(records.next().is_none());
/// # Ok::<(), wirecluster::Error>(())
/// ```
pub struct RecordReader {
    reader: Box<dyn BufRead + Send>,
    compressed: bool,
    name: PathBuf,
    line: usize,
    buf: Vec<u8>,
    failed: bool,
}

impl std::fmt::Debug for RecordReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordReader")
            .field("name", &self.name)
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}

impl RecordReader {
    /// Records from `reader`; `name` names it in errors.
    pub fn new(reader: impl Read + Send + 'static, name: impl Into<PathBuf>) -> Result<Self> {
        let name = name.into();
        let (reader, compressed) = gunzip_if_compressed(BufReader::with_capacity(1 << 20, reader))
            .map_err(|e| input_error(&name, e, false))?;
        Ok(RecordReader {
            reader,
            compressed,
            name,
            line: 0,
            buf: Vec::new(),
            failed: false,
        })
    }

    /// Records from the file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(Error::io(path))?;
        RecordReader::new(file, path)
    }

    /// The name errors give the input.
    pub fn name(&self) -> &Path {
        &self.name
    }
}

impl Iterator for RecordReader {
    type Item = Result<(usize, std::result::Result<Document, RecordError>)>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.failed {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {
                    self.line += 1;
                    let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
                    if let Some(record) = document::record_of_line(line, &[]) {
                        return Some(Ok((self.line, record)));
                    }
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(input_error(&self.name, e, self.compressed)));
                }
            }
        }
        None
    }
}

/// A quoted CSV field that would take the rows after it as its text.
#[derive(Debug, PartialEq, Eq)]
enum QuoteProblem {
    /// Opened on this line and never closed.
    Unclosed(usize),
    /// Opened on one line and closed on a later one inside a field (not
    /// before a comma or a line end): a stray quote that a later stray
    /// quote happens to close.
    ClosedInsideField { opened: usize, closed: usize },
}

/// The first quoted CSV field that would swallow rows, if any. Such a quote
/// makes the CSV reader take every row after it, up to a closing quote, as
/// the field's text: rows would be lost without a word. A quoted field may
/// hold line breaks; it must end at a comma or a line end (RFC 4180).
fn quote_problem(bytes: &[u8]) -> Option<QuoteProblem> {
    let (mut line, mut opened_at) = (1, 0);
    let (mut in_quotes, mut field_start, mut just_closed) = (false, true, false);
    for &b in bytes {
        if just_closed && line > opened_at && !matches!(b, b'"' | b',' | b'\n' | b'\r') {
            return Some(QuoteProblem::ClosedInsideField {
                opened: opened_at,
                closed: line,
            });
        }
        let closing = in_quotes && b == b'"';
        if closing {
            in_quotes = false;
        } else if b == b'"' && (field_start || just_closed) {
            // A quote opens a field at its start; right after a closing
            // quote it is the second half of an escaped `""`.
            if field_start {
                opened_at = line;
            }
            in_quotes = true;
        }
        just_closed = closing;
        if b == b'\n' {
            line += 1;
        }
        field_start = !in_quotes && matches!(b, b',' | b'\n');
    }
    in_quotes.then_some(QuoteProblem::Unclosed(opened_at))
}

fn read_csv(path: &Path, opts: &ReadOptions) -> Result<ReadOutcome> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    if let Some(problem) = quote_problem(&bytes) {
        let (line, reason) = match problem {
            QuoteProblem::Unclosed(line) => (
                line,
                "a quoted field opened on this line is never closed, so every row after it \
                 would be read as its text"
                    .to_string(),
            ),
            QuoteProblem::ClosedInsideField { opened, closed } => (
                opened,
                format!(
                    "a quoted field opened on this line closes inside a field on line {closed}, \
                     so the rows in between would be read as its text (a stray quote?)"
                ),
            ),
        };
        return Err(Error::BadRecord {
            path: Some(path.to_path_buf()),
            line,
            reason: RecordError::MalformedCsv(reason),
        });
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(&bytes[..]);
    let headers = rdr.headers().map_err(|e| csv_error(path, e))?.clone();
    if !headers.iter().any(|h| h == "text" || h == "body") {
        return Err(Error::BadRecord {
            path: Some(path.to_path_buf()),
            line: 1,
            reason: RecordError::MissingText,
        });
    }
    let label_columns: Vec<(&String, Option<usize>)> = opts
        .label_fields
        .iter()
        .map(|f| (f, headers.iter().position(|h| h == f)))
        .collect();
    let mut records = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        // Where the next record starts (a quoted field may span lines).
        let line = rdr.position().line() as usize;
        match rdr.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let doc = rec
                    .deserialize::<RawRecord>(Some(&headers))
                    .map_err(|e| RecordError::MalformedCsv(e.to_string()))
                    .and_then(RawRecord::into_document)
                    .map(|mut d| {
                        for &(f, col) in &label_columns {
                            if let Some(v) = col.and_then(|c| rec.get(c)).filter(|v| !v.is_empty())
                            {
                                d.labels.insert(f.clone(), v.to_string());
                            }
                        }
                        d
                    });
                records.push((line, None, doc));
            }
            Err(e) => match e.kind() {
                csv::ErrorKind::Utf8 { .. } => {
                    records.push((line, None, Err(RecordError::NotUtf8)))
                }
                csv::ErrorKind::UnequalLengths { .. } => {
                    records.push((line, None, Err(RecordError::MalformedCsv(e.to_string()))))
                }
                _ => return Err(csv_error(path, e)),
            },
        }
    }
    document::collect_records(records, Some(path), opts)
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::io(path)(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        e.to_string(),
    ))
}

fn read_text_dir(dir: &Path, opts: &ReadOptions) -> Result<ReadOutcome> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::io(dir))?
        .map(|entry| entry.map(|e| e.path()).map_err(Error::io(dir)))
        .collect::<Result<Vec<_>>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "txt") && p.is_file());
    files.sort();
    let mut records = Vec::with_capacity(files.len());
    for f in files {
        let bytes = std::fs::read(&f).map_err(Error::io(&f))?;
        let id = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let doc = match String::from_utf8(bytes) {
            Err(_) => Err(RecordError::NotUtf8),
            Ok(s) => {
                let (title, text) = s.split_once('\n').unwrap_or((s.as_str(), ""));
                let (title, text) = (title.trim(), text.trim());
                if title.is_empty() && text.is_empty() {
                    Err(RecordError::EmptyText)
                } else if text.is_empty() {
                    // A one-line file: the line is the text.
                    Ok(Document::new(id, title))
                } else {
                    Ok(Document::new(id, text).with_title(title))
                }
            }
        };
        records.push((1, Some(f), doc));
    }
    document::collect_records(records, Some(dir), opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("wirecluster-input-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn skip() -> ReadOptions {
        ReadOptions {
            skip_invalid: true,
            ..Default::default()
        }
    }

    #[test]
    fn gzip_jsonl_reads_and_truncated_gzip_is_an_error() {
        let d = tmp("gz");
        let p = d.join("a.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for i in 0..50 {
            writeln!(
                enc,
                "{{\"id\":{i},\"text\":\"article number {i} about something\"}}"
            )
            .unwrap();
        }
        let bytes = enc.finish().unwrap();
        std::fs::write(&p, &bytes).unwrap();
        assert_eq!(
            read_input(&p, &ReadOptions::default())
                .unwrap()
                .documents
                .len(),
            50
        );
        std::fs::write(&p, &bytes[..bytes.len() / 2]).unwrap();
        let err = read_input(&p, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.jsonl.gz") && err.contains("gzip"), "{err}");
    }

    #[test]
    fn an_unclosed_csv_quote_is_an_error_naming_its_line() {
        let d = tmp("csv-quote");
        let p = d.join("q.csv");
        std::fs::write(
            &p,
            "id,title,body\n1,T,\"unbalanced text\n2,T2,second body\n3,T3,third\n",
        )
        .unwrap();
        for opts in [ReadOptions::default(), skip()] {
            let err = read_input(&p, &opts).unwrap_err().to_string();
            assert!(
                err.contains("q.csv: line 2") && err.contains("never closed"),
                "{err}"
            );
        }
        // A stray quote that a later stray quote closes, mid-field.
        std::fs::write(
            &p,
            "id,title,body\n1,T,\"He said hi\n2,T2,second body\n3,T3,a 5\" screen\n4,T4,fourth\n",
        )
        .unwrap();
        for opts in [ReadOptions::default(), skip()] {
            let err = read_input(&p, &opts).unwrap_err().to_string();
            assert!(
                err.contains("q.csv: line 2") && err.contains("closes inside a field on line 4"),
                "{err}"
            );
        }
        // Quotes that close, doubled quotes and quoted line breaks are fine.
        std::fs::write(
            &p,
            "id,body\n1,\"say\nthe \"\"hi\"\" \"\"\"\"\"\n2,a 5\" screen\n3,plain\n",
        )
        .unwrap();
        let out = read_input(&p, &skip()).unwrap();
        assert_eq!(out.documents.len(), 3, "{:?}", out.skipped);
    }

    #[test]
    fn label_fields_are_read_from_jsonl_keys_and_csv_columns() {
        let d = tmp("labels");
        let opts = ReadOptions {
            label_fields: vec!["event".into(), "desk".into()],
            ..Default::default()
        };
        let csv = d.join("a.csv");
        std::fs::write(&csv, "id,text,event\n1,One.,e1\n2,Two.,\n").unwrap();
        let out = read_input(&csv, &opts).unwrap();
        assert_eq!(
            out.documents[0].labels.get("event").map(String::as_str),
            Some("e1")
        );
        assert!(
            out.documents[1].labels.is_empty(),
            "an empty cell is no label"
        );
        let jsonl = d.join("a.jsonl");
        std::fs::write(
            &jsonl,
            "{\"id\": 1, \"text\": \"One.\", \"event\": 3, \"desk\": \"sport\"}\n\
             {\"id\": 2, \"text\": \"Two.\", \"event\": [1]}\n",
        )
        .unwrap();
        let out = read_input(
            &jsonl,
            &ReadOptions {
                skip_invalid: true,
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(out.documents[0].labels["event"], "3");
        assert_eq!(out.documents[0].labels["desk"], "sport");
        assert_eq!(out.skipped[0].line, 2, "a label that is a list is refused");
        // Without label fields nothing is kept.
        let out = read_input(&jsonl, &skip()).unwrap();
        assert!(out.documents[0].labels.is_empty());
    }

    #[test]
    fn csv_with_named_columns_reports_bad_rows_by_line() {
        let d = tmp("csv");
        let p = d.join("a.csv");
        std::fs::write(
            &p,
            "id,title,body,date\n1,Head,\"Some text, with a comma\",2016-09-05\n2,,,\n3,T,text,notadate\n4,x\n5,\"two\nlines\",\"body\nhere\",\n6,Headline only,,1473033600\n",
        )
        .unwrap();
        let out = read_input(&p, &skip()).unwrap();
        assert_eq!(out.documents.len(), 3);
        assert_eq!(out.documents[0].text, "Some text, with a comma");
        assert_eq!(out.documents[1].text, "body\nhere");
        // A headline-only row takes its title as its text; epoch seconds.
        assert_eq!(out.documents[2].text, "Headline only");
        assert_eq!(
            out.documents[2].published.map(|t| t.seconds()),
            Some(1_473_033_600)
        );
        assert_eq!(out.documents[0].title.as_deref(), Some("Head"));
        let reasons: Vec<_> = out
            .skipped
            .iter()
            .map(|s| (s.line, s.reason.kind()))
            .collect();
        // An empty cell is a missing field.
        assert_eq!(
            reasons,
            [
                (3, "missing_text"),
                (4, "invalid_date"),
                (5, "malformed_csv")
            ]
        );
        let err = read_input(&p, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("a.csv: line 3: missing `text` (or `body`; for headline-only records `summary`, `description` or `title`) field"),
            "{err}"
        );

        std::fs::write(&p, "id,headline\n1,x\n").unwrap();
        let err = read_input(&p, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1: missing `text`"), "{err}");
    }

    #[test]
    fn text_directory_uses_file_names_and_first_lines() {
        let d = tmp("dir");
        std::fs::write(d.join("b.txt"), "Headline B\nBody of B.\n").unwrap();
        std::fs::write(d.join("a.txt"), "Only one line").unwrap();
        std::fs::write(d.join("c.txt"), b"\xff\xfe bad").unwrap();
        std::fs::write(d.join("d.txt"), "  \n").unwrap();
        std::fs::write(d.join("notes.md"), "ignored").unwrap();
        let out = read_input(&d, &skip()).unwrap();
        let ids: Vec<_> = out.documents.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(out.documents[1].title.as_deref(), Some("Headline B"));
        assert_eq!(out.skipped.len(), 2);
        assert!(out.skipped[0].file.as_ref().unwrap().ends_with("c.txt"));
        assert_eq!(out.skipped[0].reason, RecordError::NotUtf8);
        assert_eq!(out.skipped[1].reason, RecordError::EmptyText);
        let err = read_input(&d, &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.txt: line 1: line is not valid UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn missing_paths_name_the_file() {
        let err = read_input("/nonexistent/x.jsonl", &ReadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/nonexistent/x.jsonl:"), "{err}");
    }
}
