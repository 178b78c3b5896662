//! The checkpoint log beside a saved index (`INDEX.log`): the operations
//! since the last whole save, appended in records that
//! [`FeedIndex::load`] replays.
//!
//! Layout: the magic bytes `WCFLOG\0\0`, the format version
//! ([`FEED_INDEX_VERSION`]) as a little-endian `u32` and the stable hash's
//! check value (`u64`); then records, each the number of its first
//! operation (`u64`), its operation count (`u32`), its payload length
//! (`u32`) and the payload's XXH3-64 (`u64`), then the payload (postcard). Operations are numbered over the index's life, so a record
//! whose operations the index file already holds (a crash between a whole
//! save and the log's removal) is skipped, and a gap is an error. A last
//! record cut short (a crash while appending) is ignored: that checkpoint
//! did not happen.

use std::io::{Read, Seek, SeekFrom, Write};

use super::persist::hash_check;
use super::*;

const LOG_MAGIC: &[u8; 8] = b"WCFLOG\0\0";
const LOG_HEADER_LEN: u64 = 8 + 4 + 8;
const RECORD_HEADER_LEN: usize = 8 + 4 + 4 + 8;

/// One operation on a live index, as logged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Op {
    Insert(LoggedDoc),
    Remove(String),
    Consolidate,
}

impl Op {
    /// About how many bytes it takes, in memory or in the log.
    pub(super) fn size(&self) -> u64 {
        let text = match self {
            Op::Insert(d) => {
                d.id.len()
                    + d.text.len()
                    + d.title.as_ref().map_or(0, String::len)
                    + d.source.as_ref().map_or(0, String::len)
            }
            Op::Remove(id) => id.len(),
            Op::Consolidate => 0,
        };
        text as u64 + 16
    }
}

/// What placing an article reads of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LoggedDoc {
    id: String,
    title: Option<String>,
    text: String,
    published: Option<i64>,
    source: Option<String>,
    url: Option<String>,
}

impl LoggedDoc {
    pub(super) fn of(d: &Document) -> Self {
        LoggedDoc {
            id: d.id.clone(),
            title: d.title.clone(),
            text: d.text.clone(),
            published: d.published.map(|t| t.seconds()),
            source: d.source.clone(),
            url: d.url.clone(),
        }
    }

    pub(super) fn document(self) -> Document {
        Document {
            id: self.id,
            text: self.text,
            title: self.title,
            published: self.published.map(Timestamp::from_seconds),
            source: self.source,
            url: self.url,
            label: None,
            labels: Default::default(),
        }
    }
}

/// Appends the operations numbered from `first` to the log at `path`,
/// whose complete records end at `good_len` (anything after is a record cut
/// short, dropped first); syncs it. Returns the log's new length.
pub(super) fn append(path: &Path, good_len: u64, first: u64, ops: &[Op]) -> Result<u64> {
    let bad = |reason: String| Error::IndexFile {
        path: path.to_path_buf(),
        reason,
    };
    // Not compressed: deflating took four fifths of a checkpoint's time,
    // and the log is folded into the (compressed) index file by the next
    // whole save.
    let payload = postcard::to_stdvec(ops).map_err(|e| bad(format!("cannot encode: {e}")))?;
    let len = u32::try_from(payload.len())
        .map_err(|_| bad("a checkpoint of over 4 GB: save the whole index instead".into()))?;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(Error::io(path))?;
    let created = good_len < LOG_HEADER_LEN;
    let mut record =
        Vec::with_capacity(LOG_HEADER_LEN as usize + RECORD_HEADER_LEN + payload.len());
    if created {
        record.extend_from_slice(LOG_MAGIC);
        record.extend_from_slice(&FEED_INDEX_VERSION.to_le_bytes());
        record.extend_from_slice(&hash_check().to_le_bytes());
    }
    record.extend_from_slice(&first.to_le_bytes());
    record.extend_from_slice(&(ops.len() as u32).to_le_bytes());
    record.extend_from_slice(&len.to_le_bytes());
    record.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    let start = if created { 0 } else { good_len };
    file.set_len(start).map_err(Error::io(path))?;
    file.seek(SeekFrom::Start(start)).map_err(Error::io(path))?;
    file.write_all(&record).map_err(Error::io(path))?;
    file.sync_data().map_err(Error::io(path))?;
    if created {
        // The new file's name is durable once its folder is synced.
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io(dir))?;
    }
    Ok(start + record.len() as u64)
}

/// The operations of the log at `path` numbered `next` and on, and the
/// length of its complete records (0 when there is no log).
pub(super) fn read(path: &Path, mut next: u64) -> Result<(Vec<Op>, u64)> {
    let bad = |reason: String| Error::IndexFile {
        path: path.to_path_buf(),
        reason,
    };
    let mut bytes = Vec::new();
    match std::fs::File::open(path) {
        Ok(mut f) => f.read_to_end(&mut bytes).map_err(Error::io(path))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(Error::io(path)(e)),
    };
    if (bytes.len() as u64) < LOG_HEADER_LEN {
        // A log whose header was cut short holds no record.
        return Ok((Vec::new(), 0));
    }
    if &bytes[..8] != LOG_MAGIC {
        return Err(bad("not a wirecluster checkpoint log".into()));
    }
    let u64_at = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[i..i + 8]);
        u64::from_le_bytes(b)
    };
    let u32_at =
        |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    let version = u32_at(8);
    if version != FEED_INDEX_VERSION {
        return Err(bad(format!(
            "checkpoint log format version {version}; this build reads version {FEED_INDEX_VERSION}"
        )));
    }
    if u64_at(12) != hash_check() {
        return Err(bad("the log was written with another token hash".into()));
    }
    let mut ops = Vec::new();
    let mut at = LOG_HEADER_LEN as usize;
    let mut expected = None;
    while bytes.len() - at >= RECORD_HEADER_LEN {
        let first = u64_at(at);
        let count = u32_at(at + 8) as u64;
        let len = u32_at(at + 12) as usize;
        let sum = u64_at(at + 16);
        let body = at + RECORD_HEADER_LEN;
        let end = body + len;
        if end > bytes.len() {
            break; // cut short
        }
        if xxhash_rust::xxh3::xxh3_64(&bytes[body..end]) != sum {
            if end == bytes.len() {
                break; // the last record, cut short
            }
            return Err(bad(format!(
                "corrupt: checksum mismatch in the record of operations {first}.."
            )));
        }
        if let Some(e) = expected
            && first != e
        {
            return Err(bad(format!("corrupt: operations {e}..{first} are missing")));
        }
        expected = Some(first + count);
        if first + count > next {
            if first > next {
                return Err(bad(format!(
                    "the log starts at operation {first}; the index file holds operations up to {next}"
                )));
            }
            let record: Vec<Op> = postcard::from_bytes(&bytes[body..end])
                .map_err(|e| bad(format!("corrupt: {e}")))?;
            if record.len() as u64 != count {
                return Err(bad("corrupt: a record's operation count".into()));
            }
            let skip = (next - first) as usize;
            ops.extend(record.into_iter().skip(skip));
            next = first + count;
        }
        at = end;
    }
    Ok((ops, at as u64))
}
