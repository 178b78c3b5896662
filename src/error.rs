//! The crate's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in wirecluster.
///
/// Each variant carries the values needed to act on it: the file and line of a
/// bad input record, the offending id, the config field and its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved (empty when reading a stream).
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// One input record is unusable.
    #[error("{}line {line}: {reason}", path_prefix(.path))]
    BadRecord {
        /// The input file, if the records came from a file.
        path: Option<PathBuf>,
        /// 1-based line number of the record.
        line: usize,
        /// Why the record was rejected.
        reason: RecordError,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid config: {field} = {value}: {reason}")]
    Config {
        /// The field name, as in [`Config`](crate::Config).
        field: &'static str,
        /// The rejected value, printed.
        value: String,
        /// What the value must satisfy.
        reason: &'static str,
    },
    /// Two documents handed to the clusterer share an id.
    #[error("duplicate document id {id:?} (documents {first} and {second}, 0-based)")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Index of the first document with this id.
        first: usize,
        /// Index of the second document with this id.
        second: usize,
    },
    /// No document has this id.
    #[error("no document has id {id:?}")]
    UnknownId {
        /// The id asked for.
        id: String,
    },
    /// A document with this id is already in the feed index.
    #[error("document id {id:?} is already in the index")]
    AlreadyIndexed {
        /// The repeated id.
        id: String,
    },
    /// A saved feed index cannot be read: not an index file, another format
    /// version, or truncated or corrupt.
    #[error("{}: {reason}", path.display())]
    IndexFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A saved IDF model cannot be read: not a model, or another format
    /// version.
    #[error("{}: {reason}", path.display())]
    IdfFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A config file cannot be read as a [`Config`](crate::Config): not
    /// JSON or TOML of its fields, or TOML without the `toml` feature.
    #[error("{}: {reason}", path.display())]
    ConfigFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A step of a distributed run ([`crate::distributed`]) was given data
    /// that another step of the same config did not make.
    #[error("distributed run: {reason}")]
    Distributed {
        /// What is wrong.
        reason: String,
    },
    /// Evaluation needs a label on every document.
    #[error("document {id:?} has no `{field}` label; evaluation needs one on every document")]
    MissingLabel {
        /// The unlabelled document.
        id: String,
        /// The label field.
        field: String,
    },
}

impl Error {
    /// An I/O error on `path`: `.map_err(Error::io(path))`.
    pub(crate) fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error + Copy + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

fn path_prefix(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("{}: ", p.display()),
        None => String::new(),
    }
}

/// Why one input line was rejected by the reader.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum RecordError {
    /// The line is not valid JSON or not a JSON object of the expected shape.
    MalformedJson(String),
    /// A CSV row has the wrong number of fields or a field of the wrong type.
    MalformedCsv(String),
    /// The record has no `text` (or `body`) field.
    MissingText,
    /// The record's text is empty or only white space.
    EmptyText,
    /// The record has no usable `id`.
    MissingId,
    /// An earlier line already used this id.
    DuplicateId {
        /// The repeated id.
        id: String,
        /// The line that used it first.
        first_line: usize,
    },
    /// A live feed index already holds an article with this id.
    AlreadyIndexed(String),
    /// `published` is in none of the accepted forms (see
    /// [`Timestamp`](crate::Timestamp)).
    InvalidDate(String),
    /// A numeric `id` that JSON numbers cannot hold exactly (beyond 2^53 as
    /// a float, or beyond 64 bits): write it as a string.
    InexactId(String),
    /// The line is not valid UTF-8.
    NotUtf8,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordError::MalformedJson(e) => write!(f, "malformed JSON: {e}"),
            RecordError::MalformedCsv(e) => write!(f, "malformed CSV row: {e}"),
            RecordError::MissingText => write!(
                f,
                "missing `text` (or `body`; for headline-only records `summary`, `description` or `title`) field"
            ),
            RecordError::EmptyText => write!(f, "empty `text`"),
            RecordError::MissingId => write!(f, "missing or empty `id`"),
            RecordError::DuplicateId { id, first_line } => {
                write!(f, "duplicate id {id:?} (first used on line {first_line})")
            }
            RecordError::AlreadyIndexed(id) => {
                write!(f, "id {id:?} is already in the live index")
            }
            RecordError::InvalidDate(s) => {
                write!(
                    f,
                    "invalid `published` {s:?}: expected RFC 3339, RFC 2822, YYYY-MM-DD, \
                     YYYY-MM-DD HH:MM:SS or epoch seconds or milliseconds"
                )
            }
            RecordError::InexactId(s) => write!(
                f,
                "numeric id {s} cannot be held exactly by a JSON number: write it as a string"
            ),
            RecordError::NotUtf8 => write!(f, "line is not valid UTF-8"),
        }
    }
}

impl RecordError {
    /// A short stable name for the kind of problem, used in skip counts.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordError::MalformedJson(_) => "malformed_json",
            RecordError::MalformedCsv(_) => "malformed_csv",
            RecordError::MissingText => "missing_text",
            RecordError::EmptyText => "empty_text",
            RecordError::MissingId => "missing_id",
            RecordError::DuplicateId { .. } => "duplicate_id",
            RecordError::AlreadyIndexed(_) => "already_indexed",
            RecordError::InvalidDate(_) => "invalid_date",
            RecordError::InexactId(_) => "inexact_id",
            RecordError::NotUtf8 => "not_utf8",
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T> = std::result::Result<T, Error>;
