//! Documents and the JSONL reader.
//!
//! A [`Document`] is one article: an id, its text, and optional title,
//! publication time, source and URL. [`read_jsonl`] reads one JSON object per
//! line and reports the line number and reason for every line it cannot use.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, RecordError, Result};

/// A publication time, stored as whole seconds since the Unix epoch (UTC).
///
/// Parsed from RFC 3339 (`2016-09-05T20:31:00Z`, any offset), RFC 2822 as
/// RSS `pubDate` writes it (`Mon, 05 Sep 2016 20:31:00 GMT`), a date and
/// time without offset (`2016-09-05 20:31:00` or with a `T`, read as UTC), a
/// bare date (`2016-09-05`, read as midnight UTC) or epoch seconds (digits;
/// 12 digits or more are read as milliseconds); serialized as RFC 3339 in
/// UTC.
///
/// ```
/// use wirecluster::Timestamp;
/// let t: Timestamp = "2016-09-05T22:31:00+02:00".parse().unwrap();
/// assert_eq!(t, "2016-09-05T20:31:00Z".parse().unwrap());
/// assert_eq!(t.to_string(), "2016-09-05T20:31:00Z");
/// let d: Timestamp = "2016-09-05".parse().unwrap();
/// assert_eq!(t.seconds() - d.seconds(), 20 * 3600 + 31 * 60);
/// for same in ["Mon, 05 Sep 2016 20:31:00 GMT", "2016-09-05 20:31:00", "1473107460", "1473107460000"] {
///     assert_eq!(same.parse::<Timestamp>().unwrap(), t, "{same}");
/// }
/// assert!("05/09/2016".parse::<Timestamp>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// A timestamp from seconds since the Unix epoch.
    pub fn from_seconds(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    /// Seconds since the Unix epoch.
    pub fn seconds(self) -> i64 {
        self.0
    }

    /// Epoch seconds, or milliseconds when the magnitude is 10^11 or more
    /// (10^11 seconds is the year 5138; 10^11 milliseconds is 1973).
    fn from_epoch_number(v: f64) -> Self {
        let secs = if v.abs() >= 1e11 { v / 1000.0 } else { v };
        Timestamp(secs.floor() as i64)
    }
}

impl std::str::FromStr for Timestamp {
    type Err = RecordError;

    fn from_str(s: &str) -> std::result::Result<Self, RecordError> {
        use time::format_description::well_known::{Rfc2822, Rfc3339};
        let s = s.trim();
        if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
            return Ok(Timestamp(t.unix_timestamp()));
        }
        if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc2822) {
            return Ok(Timestamp(t.unix_timestamp()));
        }
        // RSS feeds often name the zone ("GMT", "UTC", "Z") where RFC 2822
        // wants "+0000".
        for zone in [" GMT", " UTC", " UT", " Z"] {
            if let Some(rest) = s.strip_suffix(zone)
                && let Ok(t) = time::OffsetDateTime::parse(&format!("{rest} +0000"), &Rfc2822)
            {
                return Ok(Timestamp(t.unix_timestamp()));
            }
        }
        let digits = s.strip_prefix('-').unwrap_or(s);
        if !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()) {
            let v: i64 = s
                .parse()
                .map_err(|_| RecordError::InvalidDate(s.to_string()))?;
            return Ok(Timestamp::from_epoch_number(v as f64));
        }
        let date_time = time::macros::format_description!(
            version = 2,
            "[year]-[month]-[day][first [ ][T]][hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
        );
        if let Ok(t) = time::PrimitiveDateTime::parse(s, &date_time) {
            return Ok(Timestamp(t.assume_utc().unix_timestamp()));
        }
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        match time::Date::parse(s, &fmt) {
            Ok(d) => Ok(Timestamp(d.midnight().assume_utc().unix_timestamp())),
            Err(_) => Err(RecordError::InvalidDate(s.to_string())),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use time::format_description::well_known::Rfc3339;
        match time::OffsetDateTime::from_unix_timestamp(self.0) {
            Ok(t) => match t.format(&Rfc3339) {
                Ok(s) => f.write_str(&s),
                Err(_) => write!(f, "@{}", self.0),
            },
            Err(_) => write!(f, "@{}", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One article.
///
/// ```
/// use wirecluster::Document;
/// let doc = Document::new("a1", "Body of the article.")
///     .with_title("Headline")
///     .with_published("2016-09-05".parse().unwrap());
/// assert_eq!(doc.title.as_deref(), Some("Headline"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Document {
    /// Unique id within one run.
    pub id: String,
    /// The article body.
    pub text: String,
    /// The headline, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// When the article was published, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<Timestamp>,
    /// The outlet or wire, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The article's address, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A gold cluster label (the `cluster` field of the input), used only by
    /// evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Other gold labels, by field name: the fields named in
    /// [`ReadOptions::label_fields`] (for evaluation at other levels, such
    /// as an `event` field for stories).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Document {
    /// A document with an id and a body; everything else unset.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            title: None,
            published: None,
            source: None,
            url: None,
            label: None,
            labels: BTreeMap::new(),
        }
    }

    /// Sets the headline.
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the publication time.
    pub fn with_published(mut self, published: Timestamp) -> Self {
        self.published = Some(published);
        self
    }

    /// Sets the source (outlet).
    pub fn with_source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Sets the gold label used by evaluation.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// How [`read_jsonl`] treats bad lines.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadOptions {
    /// `false` (default): the first bad line is an error.
    /// `true`: bad lines are skipped, and each is listed in
    /// [`ReadOutcome::skipped`] with its line number and reason.
    pub skip_invalid: bool,
    /// Fields (JSONL keys, CSV columns) kept in [`Document::labels`], for
    /// evaluation against labels other than `cluster`. Their values must be
    /// strings or numbers. Default: none.
    ///
    /// ```
    /// use wirecluster::{ReadOptions, parse_jsonl};
    /// let opts = ReadOptions { label_fields: vec!["event".into()], ..Default::default() };
    /// let out = parse_jsonl(br#"{"id": 1, "text": "Body.", "event": 7}"#, None, &opts)?;
    /// assert_eq!(out.documents[0].labels["event"], "7");
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub label_fields: Vec<String>,
}

/// A line the reader skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// The file, when the input is a directory of files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Why it was skipped.
    pub reason: RecordError,
}

/// What [`read_jsonl`] read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadOutcome {
    /// The documents, in file order.
    pub documents: Vec<Document>,
    /// Every skipped line with its reason, in file order (empty unless
    /// [`ReadOptions::skip_invalid`] is set).
    pub skipped: Vec<SkippedLine>,
    /// Lines that held only white space (not records, not errors).
    pub blank_lines: usize,
}

impl ReadOutcome {
    /// Skipped lines counted by [`RecordError::kind`], sorted by kind.
    pub fn skip_counts(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.reason.kind()).or_insert(0) += 1;
        }
        m
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Str(String),
    Int(i64),
    Uint(u64),
    Float(f64),
}

impl IdValue {
    /// The id as text; a float id beyond 2^53 (or beyond 64 bits) cannot be
    /// the number that was written, and is refused.
    fn into_string(self) -> std::result::Result<String, RecordError> {
        match self {
            IdValue::Str(s) => Ok(s),
            IdValue::Int(i) => Ok(i.to_string()),
            IdValue::Uint(u) => Ok(u.to_string()),
            IdValue::Float(f) if f.abs() >= 9_007_199_254_740_992.0 => {
                Err(RecordError::InexactId(format!("{f:e}")))
            }
            IdValue::Float(f) => Ok(f.to_string()),
        }
    }
}

/// A `published` value: text, or epoch seconds or milliseconds as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum DateValue {
    Int(i64),
    Float(f64),
    Str(String),
}

/// The fields of one input record, before checking (shared by the JSONL and
/// CSV readers).
#[derive(Deserialize)]
pub(crate) struct RawRecord {
    id: Option<IdValue>,
    #[serde(alias = "body")]
    text: Option<String>,
    #[serde(alias = "description")]
    summary: Option<String>,
    title: Option<String>,
    #[serde(alias = "date", alias = "pubDate")]
    published: Option<DateValue>,
    source: Option<String>,
    url: Option<String>,
    cluster: Option<IdValue>,
}

/// The byte order mark that some tools write at the start of a UTF-8 file.
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// Parses one JSONL record (the fields of [`parse_jsonl`]); for readers that
/// take lines one at a time, such as a live feed.
///
/// ```
/// let d = wirecluster::parse_record(br#"{"id": 7, "text": "Body", "date": "2016-09-05"}"#).unwrap();
/// assert_eq!(d.id, "7");
/// assert!(wirecluster::parse_record(br#"{"id": 7}"#).is_err());
/// ```
pub fn parse_record(bytes: &[u8]) -> std::result::Result<Document, RecordError> {
    parse_line(bytes)
}

/// The record of one JSONL line (its `\n` removed), by the rule of every
/// reader of this crate: `None` for a line of white space only (no record,
/// no error), a `\r` before the line end dropped, a byte order mark skipped.
/// For drivers that split files into lines themselves.
///
/// ```
/// assert!(wirecluster::parse_jsonl_line(b"  \r").is_none());
/// let d = wirecluster::parse_jsonl_line(b"{\"id\": 1, \"text\": \"Body\"}\r").unwrap().unwrap();
/// assert_eq!(d.id, "1");
/// ```
pub fn parse_jsonl_line(line: &[u8]) -> Option<std::result::Result<Document, RecordError>> {
    record_of_line(line, &[])
}

/// The record of one JSONL line (its `\n` removed): `None` for a line of
/// white space only, which is no record and no error. A `\r` before the
/// line end is dropped. The one line rule of every JSONL reader.
pub(crate) fn record_of_line(
    line: &[u8],
    label_fields: &[String],
) -> Option<std::result::Result<Document, RecordError>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        None
    } else if label_fields.is_empty() {
        Some(parse_line(line))
    } else {
        Some(parse_line_with_labels(line, label_fields))
    }
}

/// [`parse_line`], keeping the values of `fields` as labels.
fn parse_line_with_labels(
    bytes: &[u8],
    fields: &[String],
) -> std::result::Result<Document, RecordError> {
    let map: serde_json::Map<String, serde_json::Value> = json_of_line(bytes)?;
    let mut labels = BTreeMap::new();
    for f in fields {
        match map.get(f) {
            None | Some(serde_json::Value::Null) => {}
            Some(serde_json::Value::String(v)) => {
                labels.insert(f.clone(), v.clone());
            }
            Some(serde_json::Value::Number(n)) => {
                labels.insert(f.clone(), n.to_string());
            }
            Some(_) => {
                return Err(RecordError::MalformedJson(format!(
                    "label field `{f}` is neither a string nor a number"
                )));
            }
        }
    }
    let raw: RawRecord = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| RecordError::MalformedJson(e.to_string()))?;
    let mut d = raw.into_document()?;
    d.labels = labels;
    Ok(d)
}

pub(crate) fn parse_line(bytes: &[u8]) -> std::result::Result<Document, RecordError> {
    let raw: RawRecord = json_of_line(bytes)?;
    raw.into_document()
}

/// One JSONL line as `T`: a byte order mark skipped, UTF-8 required.
fn json_of_line<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> std::result::Result<T, RecordError> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let s = std::str::from_utf8(bytes).map_err(|_| RecordError::NotUtf8)?;
    serde_json::from_str(s).map_err(|e| RecordError::MalformedJson(e.to_string()))
}

impl RawRecord {
    /// Checks the record: id and text present, date valid.
    ///
    /// The text is `text` (alias `body`); a record without one is
    /// headline-only, and its text is `summary` (alias `description`), else
    /// its `title`.
    pub(crate) fn into_document(self) -> std::result::Result<Document, RecordError> {
        let raw = self;
        let id = raw
            .id
            .map(IdValue::into_string)
            .transpose()?
            .unwrap_or_default();
        if id.trim().is_empty() {
            return Err(RecordError::MissingId);
        }
        let present = |t: &Option<String>| t.as_ref().is_some_and(|t| !t.trim().is_empty());
        let any_given = raw.text.is_some() || raw.summary.is_some() || raw.title.is_some();
        let text = if present(&raw.text) {
            raw.text
        } else if present(&raw.summary) {
            raw.summary
        } else if present(&raw.title) {
            raw.title.clone()
        } else if any_given {
            return Err(RecordError::EmptyText);
        } else {
            return Err(RecordError::MissingText);
        };
        let text = text.unwrap_or_default();
        let published = match raw.published {
            None => None,
            Some(DateValue::Str(p)) if p.trim().is_empty() => None,
            Some(DateValue::Str(p)) => Some(p.parse::<Timestamp>()?),
            Some(DateValue::Int(v)) => Some(Timestamp::from_epoch_number(v as f64)),
            Some(DateValue::Float(v)) if v.is_finite() => Some(Timestamp::from_epoch_number(v)),
            Some(DateValue::Float(v)) => return Err(RecordError::InvalidDate(v.to_string())),
        };
        Ok(Document {
            id,
            text,
            title: raw.title.filter(|t| !t.trim().is_empty()),
            published,
            source: raw.source,
            url: raw.url,
            label: raw.cluster.map(IdValue::into_string).transpose()?,
            labels: BTreeMap::new(),
        })
    }
}

/// Parses JSONL from bytes: one object per line with `id` (string or number),
/// `text` (alias `body`), and optional `title`, `summary` (alias
/// `description`), `published` (alias `date`, `pubDate`; any form
/// [`Timestamp`] reads, or epoch seconds or milliseconds as a number; null
/// or empty for unknown), `source`, `url` and `cluster` (a gold label). A
/// headline-only record (no `text`) takes its summary, else its title, as
/// its text. A byte order mark at the start is skipped. Unknown fields are
/// ignored. Lines are parsed in parallel; the result is in line order.
///
/// `path` only labels errors.
///
/// ```
/// use wirecluster::{parse_jsonl, ReadOptions};
/// let input = b"{\"id\": 1, \"text\": \"hello world\"}\n{\"id\": 2}\n";
/// let err = parse_jsonl(input, None, &ReadOptions::default()).unwrap_err();
/// assert_eq!(err.to_string(), "line 2: missing `text` (or `body`; for headline-only records `summary`, `description` or `title`) field");
///
/// let opts = ReadOptions { skip_invalid: true, ..Default::default() };
/// let out = parse_jsonl(input, None, &opts).unwrap();
/// assert_eq!(out.documents[0].id, "1");
/// assert_eq!(out.skipped[0].line, 2);
/// ```
pub fn parse_jsonl(bytes: &[u8], path: Option<&Path>, opts: &ReadOptions) -> Result<ReadOutcome> {
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    // A byte at a time, on one core whatever the threads, finding the
    // lines cost about 6 ms of the 80 ms that reading the 20k corpus takes.
    let lines: Vec<(usize, &[u8])> = crate::normalize::line_ranges(bytes)
        .enumerate()
        .map(|(i, r)| (i + 1, &bytes[r]))
        .collect();
    let parsed: Vec<Option<std::result::Result<Document, RecordError>>> = lines
        .par_iter()
        .map(|&(_, l)| record_of_line(l, &opts.label_fields))
        .collect();

    let blank = parsed.iter().filter(|p| p.is_none()).count();
    let records = lines
        .iter()
        .zip(parsed)
        .filter_map(|(&(line, _), p)| p.map(|r| (line, None, r)))
        .collect();
    let mut out = collect_records(records, path, opts)?;
    out.blank_lines = blank;
    // A trailing newline yields one empty final "line" that is not a line.
    if bytes.ends_with(b"\n") || bytes.is_empty() {
        out.blank_lines = out.blank_lines.saturating_sub(1);
    }
    Ok(out)
}

/// A parsed record: its line, its own file when that differs from the
/// input's (a directory of text files), and the document or why it is not
/// one.
pub(crate) type ParsedRecord = (
    usize,
    Option<PathBuf>,
    std::result::Result<Document, RecordError>,
);

/// Checks ids for duplicates and applies the skip policy to parsed records,
/// in order. A record whose id an earlier accepted record holds is a
/// duplicate of that record's line. The ids are sorted with their
/// positions on all cores, so no id is copied into a map on one core.
pub(crate) fn collect_records(
    records: Vec<ParsedRecord>,
    path: Option<&Path>,
    opts: &ReadOptions,
) -> Result<ReadOutcome> {
    // Each duplicate's position and the line of the first record of its
    // id, by position.
    let duplicates: Vec<(usize, usize)> = {
        let mut ids: Vec<(&str, usize)> = records
            .iter()
            .enumerate()
            .filter_map(|(k, (_, _, r))| r.as_ref().ok().map(|d| (d.id.as_str(), k)))
            .collect();
        ids.par_sort_unstable();
        let mut duplicates: Vec<(usize, usize)> = ids
            .chunk_by(|a, b| a.0 == b.0)
            .flat_map(|run| {
                let first_line = records[run[0].1].0;
                run[1..].iter().map(move |&(_, k)| (k, first_line))
            })
            .collect();
        duplicates.sort_unstable();
        duplicates
    };
    let mut duplicates = duplicates.into_iter().peekable();
    let mut out = ReadOutcome {
        documents: Vec::with_capacity(records.len()),
        ..Default::default()
    };
    for (k, (line, file, r)) in records.into_iter().enumerate() {
        let result = r.and_then(|doc| match duplicates.next_if(|&(d, _)| d == k) {
            Some((_, first_line)) => Err(RecordError::DuplicateId {
                id: doc.id,
                first_line,
            }),
            None => Ok(doc),
        });
        match result {
            Ok(doc) => out.documents.push(doc),
            Err(reason) if opts.skip_invalid => {
                out.skipped.push(SkippedLine { line, file, reason })
            }
            Err(reason) => {
                return Err(Error::BadRecord {
                    path: file.or_else(|| path.map(Path::to_path_buf)),
                    line,
                    reason,
                });
            }
        }
    }
    Ok(out)
}

/// Reads a JSONL file; see [`parse_jsonl`] for the record format.
///
/// ```no_run
/// use wirecluster::{read_jsonl, ReadOptions};
/// let out = read_jsonl("articles.jsonl", &ReadOptions::default())?;
/// println!("{} documents", out.documents.len());
/// # Ok::<(), wirecluster::Error>(())
/// ```
pub fn read_jsonl(path: impl AsRef<Path>, opts: &ReadOptions) -> Result<ReadOutcome> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(Error::io(path))?;
    crate::input::read_jsonl_from(file, path, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip() -> ReadOptions {
        ReadOptions {
            skip_invalid: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_duplicate_names_the_first_accepted_record_of_its_id() {
        // Line 1 holds id a but no text, so line 2 is the first a accepted.
        let input = b"{\"id\":\"a\"}\n{\"id\":\"a\",\"text\":\"x\"}\n{\"id\":\"b\",\"text\":\"y\"}\n{\"id\":\"a\",\"text\":\"z\"}\n\n{\"id\":\"b\",\"text\":\"w\"}\n{\"id\":\"a\",\"text\":\"v\"}\n";
        let out = parse_jsonl(input, None, &skip()).unwrap();
        let ids: Vec<&str> = out.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(out.documents[0].text, "x");
        let firsts: Vec<(usize, Option<usize>)> = out
            .skipped
            .iter()
            .map(|s| match &s.reason {
                RecordError::DuplicateId { first_line, .. } => (s.line, Some(*first_line)),
                _ => (s.line, None),
            })
            .collect();
        assert_eq!(
            firsts,
            [(1, None), (4, Some(2)), (6, Some(3)), (7, Some(2))]
        );
        // Strict: the first bad line in order fails the read.
        let err = parse_jsonl(
            &input[input.iter().position(|&b| b == b'\n').unwrap() + 1..],
            None,
            &ReadOptions::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("line 3") && err.contains("line 1"), "{err}");
    }

    /// Each skipped line with the kind of its reason.
    fn reasons(out: &ReadOutcome) -> Vec<(usize, &'static str)> {
        out.skipped
            .iter()
            .map(|s| (s.line, s.reason.kind()))
            .collect()
    }

    #[test]
    fn every_bad_line_is_reported_with_its_reason() {
        let input = concat!(
            "{\"id\":\"a\",\"text\":\"one\"}\n",
            "not json\n",
            "{\"id\":\"b\"}\n",
            "{\"id\":\"c\",\"text\":\"  \"}\n",
            "{\"id\":\"a\",\"text\":\"again\"}\n",
            "{\"id\":\"d\",\"text\":\"x\",\"published\":\"yesterday\"}\n",
            "\n",
            "{\"text\":\"no id\"}\n",
            "{\"id\":7,\"body\":\"numeric id, body alias\",\"published\":\"2016-09-05\"}\n",
        );
        let out = parse_jsonl(input.as_bytes(), None, &skip()).unwrap();
        let ids: Vec<_> = out.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "7"]);
        let reasons = reasons(&out);
        assert_eq!(
            reasons,
            [
                (2, "malformed_json"),
                (3, "missing_text"),
                (4, "empty_text"),
                (5, "duplicate_id"),
                (6, "invalid_date"),
                (8, "missing_id"),
            ]
        );
        assert_eq!(out.blank_lines, 1);
        assert_eq!(out.skip_counts()["duplicate_id"], 1);
        assert_eq!(
            out.documents[1].published,
            Some(Timestamp::from_seconds(1_473_033_600))
        );
    }

    #[test]
    fn strict_mode_fails_on_first_bad_line_naming_file_and_line() {
        let input = b"{\"id\":\"a\",\"text\":\"one\"}\n{\"id\":\"a\",\"text\":\"two\"}\n";
        let err =
            parse_jsonl(input, Some(Path::new("in.jsonl")), &ReadOptions::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in.jsonl: line 2: duplicate id \"a\" (first used on line 1)"
        );
    }

    #[test]
    fn wrong_types_and_bad_utf8_are_reported() {
        let mut input = b"{\"id\":\"a\",\"text\":5}\n".to_vec();
        input.extend_from_slice(b"{\"id\":\"b\",\"text\":\"\xff\"}\n");
        let out = parse_jsonl(&input, None, &skip()).unwrap();
        assert!(out.documents.is_empty());
        assert_eq!(out.skipped[0].reason.kind(), "malformed_json");
        assert_eq!(out.skipped[1].reason, RecordError::NotUtf8);
    }

    #[test]
    fn headline_feeds_dates_bom_and_large_ids() {
        let input = concat!(
            "\u{feff}{\"id\":\"a\",\"title\":\"Only a headline\",\"text\":null,\"pubDate\":\"Mon, 05 Sep 2016 20:31:00 GMT\"}\n",
            "{\"id\":\"b\",\"title\":\"Headline\",\"description\":\"A summary.\",\"date\":1473107460}\n",
            "{\"id\":\"c\",\"title\":\"H\",\"date\":1473107460000}\n",
            "{\"id\":\"d\",\"text\":\"x\",\"date\":\"2016-09-05 20:31:00\"}\n",
            "{\"id\":9007199254740993,\"text\":\"exact as an integer\"}\n",
            "{\"id\":9.007199254740993e15,\"text\":\"inexact as a float\"}\n",
            "{\"id\":123456789012345678901234567890,\"text\":\"beyond 64 bits\"}\n",
            "{\"id\":\"e\",\"title\":\" \"}\n",
        );
        let out = parse_jsonl(input.as_bytes(), None, &skip()).unwrap();
        let ids: Vec<_> = out.documents.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "9007199254740993"]);
        assert_eq!(out.documents[0].text, "Only a headline");
        assert_eq!(out.documents[1].text, "A summary.");
        assert_eq!(out.documents[1].title.as_deref(), Some("Headline"));
        let t = Timestamp::from_seconds(1_473_107_460);
        for d in &out.documents[..4] {
            assert_eq!(d.published, Some(t), "{}", d.id);
        }
        let reasons = reasons(&out);
        assert_eq!(
            reasons,
            [(6, "inexact_id"), (7, "inexact_id"), (8, "empty_text")]
        );
    }

    #[test]
    fn crlf_and_missing_final_newline_are_fine() {
        let input = b"{\"id\":\"a\",\"text\":\"one\"}\r\n{\"id\":\"b\",\"text\":\"two\"}";
        let out = parse_jsonl(input, None, &ReadOptions::default()).unwrap();
        assert_eq!(out.documents.len(), 2);
        assert_eq!(out.blank_lines, 0);
    }
}
