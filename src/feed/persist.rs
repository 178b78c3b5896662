//! Saving and loading a live index (the format is in the module docs of
//! [`feed`](super)).

use std::io::Write;

use super::*;
use crate::atomic::AtomicFile;

/// The format version written by [`FeedIndex::save`].
pub const FEED_INDEX_VERSION: u32 = 2;

pub(super) const MAGIC: &[u8; 8] = b"WCFEED\0\0";

pub(super) const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8;

/// A value that changes if the stable token hash ever changes: stored in
/// saved indexes so that sets hashed another way are never mixed.
pub(super) fn hash_check() -> u64 {
    crate::shingle::token_hash("wirecluster stable hash check")
}

/// What the index saves.
#[derive(Serialize, Deserialize)]
pub(super) struct Snapshot {
    /// `(Config, FeedConfig)` as JSON, so that config fields can be added
    /// without breaking the binary layout.
    config_json: String,
    next_seq: ArticleSeq,
    next_key: GroupKey,
    clock: Option<i64>,
    n_docs: u64,
    df: Vec<(u64, u64)>,
    /// Learned boilerplate sentences, in the order they were learned.
    learned: Vec<u64>,
    entries: Vec<(ArticleSeq, Entry)>,
    groups: Vec<(GroupKey, Group)>,
    stories: Vec<(StoryKey, StoryState)>,
    stats: FeedStats,
}

/// A map's entries sorted by key (hash maps are never iterated in their own
/// order, which differs between processes).
pub(super) fn sorted<K: Copy + Ord, T: Clone>(map: &AHashMap<K, T>) -> Vec<(K, T)> {
    let mut v: Vec<(K, T)> = map.iter().map(|(&k, x)| (k, x.clone())).collect();
    v.sort_unstable_by_key(|&(k, _)| k);
    v
}

impl FeedIndex {
    /// Saves the index to `path` (see the module docs for the format). The
    /// previous file stays intact until the new one is complete.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let snap = Snapshot {
            config_json: serde_json::to_string(&(self.fx.config(), &self.feed))
                .expect("configs serialize"),
            next_seq: self.next_seq,
            next_key: self.next_key,
            clock: self.clock,
            n_docs: self.n_docs,
            learned: self.learned.clone(),
            df: {
                let mut v: Vec<(u64, u64)> = self.df.iter().map(|(&t, &c)| (t, c)).collect();
                v.sort_unstable();
                v
            },
            entries: sorted(&self.entries),
            groups: sorted(&self.groups),
            stories: sorted(&self.stories),
            stats: self.stats.clone(),
        };
        let payload = postcard::to_stdvec(&snap).map_err(|e| Error::IndexFile {
            path: path.to_path_buf(),
            reason: format!("cannot encode the index: {e}"),
        })?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FEED_INDEX_VERSION.to_le_bytes());
        bytes.extend_from_slice(&hash_check().to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        let mut file = AtomicFile::create(path)?;
        if !file.replaces() {
            return Err(Error::IndexFile {
                path: path.to_path_buf(),
                reason: "not a regular file: an index is saved by renaming a new file over it"
                    .to_string(),
            });
        }
        file.write_all(&bytes).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        file.commit()
    }

    /// Loads an index written by [`FeedIndex::save`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| Error::IndexFile {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(bad(
                "not a wirecluster feed index (no WCFEED header)".to_string()
            ));
        }
        let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FEED_INDEX_VERSION {
            return Err(bad(format!(
                "feed index format version {version}; this build reads version {FEED_INDEX_VERSION}"
            )));
        }
        if u64_at(12) != hash_check() {
            return Err(bad(
                "the index was built with another token hash; rebuild it".to_string(),
            ));
        }
        let len = u64_at(20);
        let payload = &bytes[HEADER_LEN..];
        if payload.len() as u64 != len {
            return Err(bad(format!(
                "truncated or padded: the header announces {len} bytes of data, the file holds {}",
                payload.len()
            )));
        }
        if xxhash_rust::xxh3::xxh3_64(payload) != u64_at(28) {
            return Err(bad("corrupt: checksum mismatch".to_string()));
        }
        let snap: Snapshot =
            postcard::from_bytes(payload).map_err(|e| bad(format!("corrupt: {e}")))?;
        let (config, feed): (Config, FeedConfig) = serde_json::from_str(&snap.config_json)
            .map_err(|e| bad(format!("corrupt config: {e}")))?;
        let mut index = FeedIndex::new(config, feed)?;
        index.next_seq = snap.next_seq;
        index.next_key = snap.next_key;
        index.clock = snap.clock;
        index.n_docs = snap.n_docs;
        index.df = snap.df.into_iter().collect();
        index.stats = snap.stats;
        for &k in &snap.learned {
            index.fx.normalizer_mut().add_learned(k);
        }
        index.learned = snap.learned;
        // Rebuilding the postings in key order reproduces the live order:
        // arrivals append, removals keep the order of the rest.
        for (seq, e) in snap.entries {
            let mut e = e;
            e.band_keys = index.fx.band_keys(&index.fx.signature(&e.set));
            for &key in &e.band_keys {
                index.bands.entry(key).or_default().push(seq);
            }
            let item = fingerprint_item(seq, e.fingerprints.len());
            for &fp in &e.fingerprints {
                index.fingerprints.entry(fp).or_default().push(item);
            }
            index.ids.insert(e.id.clone(), seq);
            index.count_sentences(&e.sentences);
            index.entries.insert(seq, e);
        }
        for (k, g) in snap.groups {
            for &t in &g.top {
                index.terms.entry(t).or_default().push(k);
            }
            index.groups.insert(k, g);
        }
        for (k, s) in snap.stories {
            index.expiry_insert(k, &s);
            index.stories.insert(k, s);
        }
        Ok(index)
    }
}
