//! Saving and loading a live index (the format is in the module docs of
//! [`feed`](super)).

use std::io::{Read, Write};

use super::*;
use crate::atomic::AtomicFile;

/// The format version written by [`FeedIndex::save`].
pub const FEED_INDEX_VERSION: u32 = 5;

pub(super) const MAGIC: &[u8; 8] = b"WCFEED\0\0";

pub(super) const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 8;

/// A value that changes if the stable token hash ever changes: stored in
/// saved indexes so that sets hashed another way are never mixed.
pub(super) fn hash_check() -> u64 {
    crate::shingle::token_hash("wirecluster stable hash check")
}

/// What the index saves: what cannot be recomputed from the articles'
/// text. Postcard, then deflate.
#[derive(Serialize, Deserialize)]
pub(super) struct Snapshot {
    /// `(Config, FeedConfig)` as JSON, so that config fields can be added
    /// without breaking the binary layout.
    config_json: String,
    next_seq: ArticleSeq,
    next_key: GroupKey,
    /// Inserts, removals and re-linkings asked for over the index's life:
    /// the number of the next one the log holds.
    ops: u64,
    clock: Option<i64>,
    n_docs: u64,
    df: Vec<(u64, u64)>,
    /// Articles placed since the story vectors were last weighed again.
    since_weighed: u64,
    /// Learned boilerplate sentences, in the order they were learned.
    learned: Vec<u64>,
    entries: Vec<(ArticleSeq, StoredEntry)>,
    groups: Vec<(GroupKey, StoredGroup)>,
    stories: Vec<(StoryKey, StoryState)>,
    stats: FeedStats,
    /// The thread level's frequencies of the last re-linking, and the
    /// documents counted.
    thread_df: Vec<(u64, u64)>,
    thread_n: u64,
    /// Stories started since the threads were last made.
    thread_new_stories: u64,
}

/// An article as saved.
#[derive(Serialize, Deserialize)]
struct StoredEntry {
    id: String,
    published: Option<i64>,
    source: Option<String>,
    title: Option<String>,
    text: String,
    url: Option<String>,
    learned_at: u32,
    group: GroupKey,
    parent: Option<ArticleSeq>,
    link: Option<(f64, bool)>,
    complete: MostCompleteParts,
    /// The story vector: positions in the article's sorted terms, weights.
    vector: Vec<(u32, f32)>,
    /// The thread level's base and expanded vectors (empty and `None` with
    /// the level off).
    thread_base: SparseVec,
    thread_vector: Option<SparseVec>,
}

/// A group as saved.
#[derive(Serialize, Deserialize)]
struct StoredGroup {
    members: Vec<ArticleSeq>,
    canonical: ArticleSeq,
    top: Vec<u64>,
    story: StoryKey,
}

/// A map's entries sorted by key (hash maps are never iterated in their own
/// order, which differs between processes).
pub(super) fn sorted<K: Copy + Ord, T: Clone>(map: &AHashMap<K, T>) -> Vec<(K, T)> {
    let mut v: Vec<(K, T)> = map.iter().map(|(&k, x)| (k, x.clone())).collect();
    v.sort_unstable_by_key(|&(k, _)| k);
    v
}

/// A checkpoint whose log has grown past this many times the index file,
/// and past [`COMPACT_MIN`], saves the whole index instead. The whole saves
/// of a growing index then cost a constant share of its arrivals, and a
/// load replays a bounded number of articles: about 25,000 (a few seconds)
/// or four times those it reads from the file.
const COMPACT_AT: u64 = 4;

/// The log size below which a checkpoint never saves the whole index.
const COMPACT_MIN: u64 = 32 << 20;

/// The log size past which a whole save replaces the log.
pub(super) fn log_bound(base_len: u64) -> u64 {
    (COMPACT_AT * base_len).max(COMPACT_MIN)
}

/// Where a saved index is, and how long its file and its log are.
#[derive(Debug, Clone)]
pub(super) struct Persisted {
    pub(super) path: std::path::PathBuf,
    pub(super) base_len: u64,
    pub(super) log_len: u64,
}

/// The log beside an index file: `INDEX.log`.
pub(super) fn log_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".log");
    name.into()
}

impl FeedIndex {
    /// Saves the whole index to `path` (see the module docs for the
    /// format), whole or not at all: the previous file stays intact until
    /// the new one is complete. The log of [`FeedIndex::checkpoint`]s beside
    /// it (`path` + `.log`) is removed, its operations being in the new
    /// file. From then on the index keeps the articles inserted until the
    /// next checkpoint or save.
    pub fn save(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.encode(path)?;
        let mut file = AtomicFile::create(path)?;
        if !file.replaces() {
            return Err(Error::IndexFile {
                path: path.to_path_buf(),
                reason: "not a regular file: an index is saved by renaming a new file over it"
                    .to_string(),
            });
        }
        file.write_all(&bytes).map_err(Error::io(path))?;
        file.commit()?;
        let log = log_path(path);
        match std::fs::remove_file(&log) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(&log)(e));
            }
            _ => {}
        }
        self.persisted = Some(Persisted {
            path: path.to_path_buf(),
            base_len: bytes.len() as u64,
            log_len: 0,
        });
        self.journal = Some(Vec::new());
        self.journal_bytes = 0;
        Ok(())
    }

    /// Saves what changed since the last save or checkpoint to `path`: the
    /// articles inserted (and removals and re-linkings asked for) are
    /// appended to the log beside the index file (`path` + `.log`), which
    /// [`FeedIndex::load`] replays. The cost is that of the new articles,
    /// not of the whole index. When the log has grown past four times the
    /// index file (and 32 MB), or when the index was not saved to or loaded from `path`, this is a
    /// whole [`FeedIndex::save`]. A checkpoint cut short by a crash leaves
    /// the previous state: a log record that is not complete is ignored on
    /// load.
    pub fn checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let Some(persisted) = self.persisted.clone().filter(|p| p.path == path) else {
            return self.save(path);
        };
        let ops = self.journal.take().unwrap_or_default();
        if ops.is_empty() {
            self.journal = Some(ops);
            return Ok(());
        }
        let first = self.ops - ops.len() as u64;
        match log::append(&log_path(path), persisted.log_len, first, &ops) {
            Ok(log_len) => {
                self.journal = Some(Vec::new());
                self.journal_bytes = 0;
                if log_len > log_bound(persisted.base_len) {
                    return self.save(path);
                }
                if let Some(p) = &mut self.persisted {
                    p.log_len = log_len;
                }
                Ok(())
            }
            Err(e) => {
                // Nothing is dropped: the next checkpoint writes them.
                self.journal = Some(ops);
                Err(e)
            }
        }
    }

    /// The saved form: header, then the snapshot (postcard, deflated).
    fn encode(&self, path: &Path) -> Result<Vec<u8>> {
        let mut seqs: Vec<ArticleSeq> = self.entries.keys().copied().collect();
        seqs.sort_unstable();
        let entries = seqs
            .iter()
            .map(|&seq| {
                let e = self.entry(seq);
                let vector = e
                    .vector
                    .iter()
                    .map(|&(t, w)| {
                        let i = e.terms.binary_search(&t).expect("vector terms are terms");
                        (i as u32, w)
                    })
                    .collect();
                let stored = StoredEntry {
                    id: e.id.clone(),
                    published: e.published,
                    source: e.source.clone(),
                    title: e.title.clone(),
                    text: e.text.clone(),
                    url: e.url.clone(),
                    learned_at: e.learned_at,
                    group: e.group,
                    parent: e.parent,
                    link: e.link,
                    complete: e.complete,
                    vector,
                    thread_base: e.thread_base.clone(),
                    thread_vector: e.thread_vector.clone(),
                };
                (seq, stored)
            })
            .collect();
        let mut gks: Vec<GroupKey> = self.groups.keys().copied().collect();
        gks.sort_unstable();
        let groups = gks
            .iter()
            .map(|&gk| {
                let g = self.group(gk);
                let stored = StoredGroup {
                    members: g.members.clone(),
                    canonical: g.canonical,
                    top: g.top.clone(),
                    story: g.story,
                };
                (gk, stored)
            })
            .collect();
        let snap = Snapshot {
            config_json: serde_json::to_string(&(self.fx.config(), &self.feed))
                .expect("configs serialize"),
            next_seq: self.next_seq,
            next_key: self.next_key,
            ops: self.ops,
            clock: self.clock,
            n_docs: self.n_docs,
            since_weighed: self.since_weighed,
            learned: self.learned.clone(),
            df: {
                let mut v: Vec<(u64, u64)> = self.df.iter().map(|(&t, &c)| (t, c)).collect();
                v.sort_unstable();
                v
            },
            entries,
            groups,
            stories: sorted(&self.stories),
            stats: self.stats.clone(),
            thread_df: {
                let mut v: Vec<(u64, u64)> =
                    self.thread_model.df.iter().map(|(&t, &c)| (t, c)).collect();
                v.sort_unstable();
                v
            },
            thread_n: self.thread_model.n,
            thread_new_stories: self.thread_model.new_stories,
        };
        let bad = |reason: String| Error::IndexFile {
            path: path.to_path_buf(),
            reason,
        };
        let plain =
            postcard::to_stdvec(&snap).map_err(|e| bad(format!("cannot encode the index: {e}")))?;
        let mut z = flate2::write::DeflateEncoder::new(
            Vec::with_capacity(plain.len() / 3),
            flate2::Compression::fast(),
        );
        z.write_all(&plain)
            .and_then(|_| z.flush())
            .map_err(|e| bad(format!("cannot compress the index: {e}")))?;
        let payload = z
            .finish()
            .map_err(|e| bad(format!("cannot compress the index: {e}")))?;
        let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FEED_INDEX_VERSION.to_le_bytes());
        bytes.extend_from_slice(&hash_check().to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&payload).to_le_bytes());
        bytes.extend_from_slice(&payload);
        Ok(bytes)
    }

    /// Loads an index written by [`FeedIndex::save`] and replays the
    /// checkpoints logged since ([`FeedIndex::checkpoint`]). The articles'
    /// features are recomputed from their text, with the boilerplate learned
    /// when they arrived, so the index continues exactly where the saved
    /// one stopped.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        let bad = |reason: String| Error::IndexFile {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
            return Err(bad(
                "not a wirecluster feed index (no WCFEED header)".to_string()
            ));
        }
        let u64_at = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[i..i + 8]);
            u64::from_le_bytes(b)
        };
        let version = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
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
        let mut plain = Vec::new();
        flate2::read::DeflateDecoder::new(payload)
            .read_to_end(&mut plain)
            .map_err(|e| bad(format!("corrupt: {e}")))?;
        let snap: Snapshot =
            postcard::from_bytes(&plain).map_err(|e| bad(format!("corrupt: {e}")))?;
        drop(plain);
        let (config, feed): (Config, FeedConfig) = serde_json::from_str(&snap.config_json)
            .map_err(|e| bad(format!("corrupt config: {e}")))?;
        let mut index = FeedIndex::new(config, feed)?;
        index.next_seq = snap.next_seq;
        index.next_key = snap.next_key;
        index.ops = snap.ops;
        index.clock = snap.clock;
        index.n_docs = snap.n_docs;
        index.since_weighed = snap.since_weighed;
        index.df = snap.df.into_iter().collect();
        index.stats = snap.stats;
        index.thread_model.df = snap.thread_df.into_iter().collect();
        index.thread_model.n = snap.thread_n;
        index.thread_model.new_stories = snap.thread_new_stories;
        index.restore_entries(snap.entries, &snap.learned, &bad)?;
        index.learned = snap.learned;
        for (gk, g) in snap.groups {
            if g.members.is_empty() {
                return Err(bad("corrupt: an empty group".into()));
            }
            index.insert_group(gk, g.members, g.canonical, g.top, g.story);
        }
        for (k, s) in snap.stories {
            index.expiry_insert(k, &s);
            index.stories.insert(k, s);
        }
        index.rebuild_threads();
        let log = log_path(path);
        let (ops, log_len) = log::read(&log, index.ops)?;
        for op in ops {
            index.apply_logged(op).map_err(|e| Error::IndexFile {
                path: log.clone(),
                reason: format!("cannot replay: {e}"),
            })?;
        }
        index.persisted = Some(Persisted {
            path: path.to_path_buf(),
            base_len: bytes.len() as u64,
            log_len,
        });
        index.journal = Some(Vec::new());
        index.journal_bytes = 0;
        Ok(index)
    }

    /// Rebuilds the articles from their saved form: features recomputed
    /// from their text, each with the boilerplate learned when it arrived
    /// (articles come in arrival order, so that is a growing prefix of
    /// `learned`), then the postings and learning counts in arrival order,
    /// which is the live order (arrivals append, removals keep the rest in
    /// order).
    fn restore_entries(
        &mut self,
        entries: Vec<(ArticleSeq, StoredEntry)>,
        learned: &[u64],
        bad: &dyn Fn(String) -> Error,
    ) -> Result<()> {
        let mut known = 0usize;
        let mut start = 0usize;
        let mut recomputed: Vec<Prepared> = Vec::with_capacity(entries.len());
        while start < entries.len() {
            let k = entries[start].1.learned_at as usize;
            if k < known || k > learned.len() {
                return Err(bad(format!(
                    "corrupt: article {} was featured with {k} learned sentences",
                    entries[start].1.id
                )));
            }
            for &key in &learned[known..k] {
                self.fx.normalizer_mut().add_learned(key);
            }
            known = k;
            let end = start
                + entries[start..]
                    .iter()
                    .take_while(|(_, e)| e.learned_at as usize == k)
                    .count();
            let fx = &self.fx;
            recomputed.extend(
                entries[start..end]
                    .par_iter()
                    .map(|(_, e)| {
                        let mut p = Prepared::new(fx, &e.text, e.title.as_deref(), k);
                        // The tokens are not kept: only arrivals need them.
                        p.tokenized = Default::default();
                        p
                    })
                    .collect::<Vec<_>>(),
            );
            start = end;
        }
        for &key in &learned[known..] {
            self.fx.normalizer_mut().add_learned(key);
        }
        for ((seq, e), r) in entries.into_iter().zip(recomputed) {
            let terms = r.raw.terms;
            let vector: SparseVec = e
                .vector
                .iter()
                .map(|&(i, w)| terms.get(i as usize).map(|&t| (t, w)))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    bad(format!(
                        "corrupt: the text of article {} does not give its saved terms",
                        e.id
                    ))
                })?;
            let entities = signals::entity_part(&vector, &r.raw.entities);
            self.post(seq, &e.id, &r.band_keys, &r.fingerprints);
            self.count_sentences(&r.sentences);
            self.entries.insert(
                seq,
                Entry {
                    id: e.id,
                    published: e.published,
                    source: e.source,
                    title_terms: crate::headline::title_terms(e.title.as_deref()),
                    title: e.title,
                    text: e.text,
                    url: e.url,
                    thread_base: e.thread_base,
                    thread_vector: e.thread_vector,
                    learned_at: e.learned_at,
                    set: r.set,
                    figures: r.figures,
                    fingerprints: r.fingerprints,
                    band_keys: r.band_keys,
                    terms,
                    tf: r.raw.weights,
                    names: r.raw.entities,
                    sentences: r.sentences,
                    vector,
                    entities,
                    group: e.group,
                    parent: e.parent,
                    link: e.link,
                    complete: e.complete,
                },
            );
        }
        Ok(())
    }
}
