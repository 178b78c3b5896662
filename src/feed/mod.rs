//! Live feeds: an incremental index that assigns each arriving article to a
//! duplicate group and a story as it comes.
//!
//! [`FeedIndex`] keeps the live articles' shingle sets, LSH band keys,
//! containment fingerprints and story vectors in inverted indexes, so an
//! insert touches only the articles it shares a band, a fingerprint or a top
//! term with; nothing is compared all-pairs and nothing is re-clustered.
//!
//! # How an article is placed
//!
//! 1. **Features** by the same code as the batch pipeline: tokens,
//!    boilerplate (the rules of
//!    [`BoilerplateConfig`](crate::BoilerplateConfig), and the sentences
//!    learned so far from the live articles with the batch's learning rule),
//!    shingles with the stable hash, signature, winnowed fingerprints, story
//!    terms.
//! 2. **Duplicate group**: candidates share an LSH band (the most recent
//!    [`Config::max_bucket`] of a bucket) or enough fingerprints; each is
//!    verified exactly with the batch rule. The article joins the group of its
//!    strongest edge (highest of Jaccard and containment), or starts a group.
//!    Joining one group only is the feed's anti-chaining guard: a round-up
//!    page that matches two groups never merges them.
//! 3. **Story**: an article that joins a group joins its story (groups move as
//!    units). An article that starts a group is weighed with the document
//!    frequencies seen so far (plus an optional [`IdfModel`]), its top terms
//!    look up groups that share at least
//!    [`StoryConfig::min_shared_terms`](crate::StoryConfig::min_shared_terms)
//!    of theirs, and each candidate group is scored as in the batch story
//!    stage (cosine × names-and-numbers agreement × time factor). A story's
//!    score is the mean over all its groups (unscored groups count 0), so a
//!    story is joined only when the article resembles it as a whole: average
//!    linkage of one new unit. The best story at or above
//!    [`FeedConfig::story_threshold`] is joined.
//! 4. **Thread** (with [`Config::thread`] on): an article that joins a story
//!    joins its thread. The first article of a new story is weighed as the
//!    batch's thread stage weighs it (headline and link words, frequencies of
//!    the last re-linking), expanded with its nearest live articles, and
//!    its story joins the thread, among those of its nearest articles, with
//!    the highest mean cosine over all of the thread's expanded vectors, when
//!    that reaches [`ThreadConfig::threshold`](crate::ThreadConfig::threshold);
//!    otherwise it is a thread of its own. The threads alone are made again
//!    with the batch thread stage once the stories started since reach
//!    [`FeedConfig::thread_relink`] of the live stories.
//! 5. **Canonical** members follow the batch policies, updated as members
//!    arrive; an assignment says when a group's or story's canonical changed.
//!
//! # Differences from the batch pipeline
//!
//! The batch pipeline sees the whole corpus at once; the feed decides once,
//! in arrival order. It does not merge two existing groups when a later
//! article bridges them, its IDF is the one seen so far, and it learns
//! boilerplate sentences as it goes (with the batch rule, from the live
//! articles), so the first few copies of a stock sentence are shingled.
//! Four rules act at placement, as the batch guards do: a containment-only
//! join into a group of several needs a second edge into it; a page that
//! reaches several groups joins its lead part (decided as by the batch
//! guard), or starts a group of its own when its match starts late in it;
//! an article that reaches, of a group, only a page placed before it does
//! not join through the page unless it is of the page's lead story (the
//! batch guard's test, made of the page's links in its group and the
//! article); and a containment edge of an article that a later one
//! contains far better is cut and the article moves (see
//! [`FeedAssignment::moved`] and [`FeedAssignment::split_off`]). Story
//! placement is one pass with no shared-neighbour score;
//! [`FeedIndex::consolidate`] weighs every live article again with the
//! frequencies of all the articles seen and re-links the live groups'
//! stories with the batch story stage, then (with the thread level on) the
//! stories' threads with the batch thread stage; placement re-links every
//! [`FeedConfig::consolidate_every`] articles, and weighs again when half
//! as many articles as are live have arrived since the last weighing.
//!
//! `wirecluster eval --feed` measures the difference on any labelled corpus
//! (figures in `BENCHMARKS.md`). Placed in file order and re-linked once at
//! the end, the live index gives the batch's groups and stories on the
//! Syria and bundled samples, with and without the thread level; as
//! placed, before that re-linking, it puts
//! `syr-003` (the same talks four days later) into the Syria story, which
//! the batch keeps apart.
//!
//! # Code layout
//!
//! The rules themselves (edge kinds, the supersede rule, candidate tests,
//! IDF, canonical choice, story linking) live in modules of their own that
//! the batch pipeline calls too; this module holds only what is live:
//! `plan` decides where an article goes without changing the index,
//! `apply` carries the decision out, `state` holds the articles, groups and
//! stories (keyed by [`ArticleSeq`](state::ArticleSeq),
//! [`GroupKey`](state::GroupKey) and [`StoryKey`](state::StoryKey)) and
//! their transitions, `learn` the boilerplate learned as articles arrive,
//! `postings` the inverted indexes, `persist` the file format.
//!
//! # Time window
//!
//! The index's clock is the latest `published` seen. A story whose newest
//! dated article is more than [`FeedConfig::window_days`] older than the
//! clock, or (for stories with no dated article) whose newest article arrived
//! more than [`FeedConfig::window_arrivals`] arrivals ago, stops taking
//! members and is evicted with all its articles; the insert that evicts it
//! lists it in [`FeedAssignment::evicted`]. Memory is then bounded by the
//! articles in the window.
//!
//! # Persistence
//!
//! [`FeedIndex::save`] writes a binary file: the magic bytes `WCFEED\0\0`, the
//! format version ([`FEED_INDEX_VERSION`]) as a little-endian `u32`, a
//! check value of the stable token hash, the payload length and its XXH3-64
//! checksum (both `u64`), then the payload (postcard, deflated). The payload
//! holds what cannot be recomputed: each article's headline and text, its
//! story vector as last weighed, its place in its group, and how many
//! learned sentences its features were computed with; the groups, stories,
//! frequencies and learned sentences; with the thread level on, each
//! article's link and thread vectors and the stories' threads. Shingle sets, signatures, band keys,
//! fingerprints and terms are recomputed from the text on load, with the
//! boilerplate learned when each article arrived, so the file is smaller
//! than the input (21.1 MB for a 25.8 MB input of 20,302 articles) and a
//! loaded index continues exactly where the saved one stopped. The save goes
//! through [`AtomicFile`](crate::AtomicFile): an interrupted save leaves the
//! previous file intact.
//!
//! [`FeedIndex::checkpoint`] appends only what changed, the operations since
//! the last save or checkpoint, to a log beside the file (`INDEX.log`),
//! which [`FeedIndex::load`] replays; when the log has grown past four times
//! the file (and 32 MB) a checkpoint is a whole save instead, which removes
//! the log. [`FeedIndex::load`] refuses other versions, other hash schemes,
//! truncated and corrupt files, and logs that do not continue the file,
//! with an [`Error::IndexFile`] naming the problem; a last log record cut
//! short by a crash is a checkpoint that did not happen.

mod apply;
mod learn;
mod log;
mod persist;
mod plan;
mod postings;
mod state;
mod threads;
mod types;

pub use persist::FEED_INDEX_VERSION;
pub use types::{
    DocStatus, DuplicateMatch, EvictedStory, FeedAssignment, FeedConfig, FeedQuery, FeedStats,
    StoryMatch,
};

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ahash::{AHashMap, AHashSet};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::canonical::{self, MAX_COMPARED, MostCompleteParts};
use crate::config::Config;
use crate::document::{Document, Timestamp};
use crate::error::{Error, Result};
use crate::features::{FeatureExtractor, Figures};
use crate::normalize::{self, Normalizer};
use crate::signals::{self, IdfModel};
use crate::similarity::{Overlap, intersection_size};
use crate::sparse::{self, SparseVec};
use crate::story::{self, PairSignals};
use crate::verify::{self, EdgeKind};

use plan::Prepared;
use postings::{Posting, fingerprint_item, remove_posting};
use state::{ArticleSeq, Entry, Group, GroupKey, StoryKey, StoryState};
use threads::{ThreadModel, ThreadState};

/// An incremental index over a live feed of articles.
///
/// ```
/// use wirecluster::{Config, Document, FeedConfig, FeedIndex};
/// let mut index = FeedIndex::new(Config::default(), FeedConfig::default())?;
/// let wire = "The central bank raised its key interest rate by half a point on Tuesday, \
///             citing inflation that has run above its target for a year. Economists \
///             had expected a smaller move after weak retail figures.";
/// let a = index.insert(&Document::new("wire", wire))?;
/// assert!(a.new_group && a.new_story);
/// let b = index.insert(&Document::new("reprint", format!("By Staff\n{wire}\nSubscribe now")))?;
/// assert!(!b.new_group && !b.new_story);
/// assert_eq!(b.duplicate_of.unwrap().id, "wire");
/// assert_eq!(index.get("reprint").unwrap().group_size, 2);
/// index.remove("wire")?;
/// assert_eq!(index.get("reprint").unwrap().duplicate_group, "reprint");
/// # Ok::<(), wirecluster::Error>(())
/// ```
///
/// With the thread level on, every article also has a thread: headlines of
/// one running story, each in its own words, share one.
///
/// ```
/// use wirecluster::{Config, Document, FeedConfig, FeedIndex};
/// let mut config = Config::default();
/// config.thread.enabled = true;
/// let mut index = FeedIndex::new(config, FeedConfig::default())?;
/// for (id, headline) in [
///     ("a", "eBay rejects Icahn slate of directors"),
///     ("b", "Fed official says weak data caused by weather"),
///     ("c", "Icahn slate rejected by eBay board"),
///     ("d", "Weather to blame for weak data, Fed official says"),
///     ("e", "eBay says Icahn nominees unqualified"),
/// ] {
///     index.insert(&Document::new(id, headline).with_title(headline))?;
/// }
/// index.consolidate();
/// let thread = |id: &str| index.get(id).unwrap().thread;
/// assert_eq!(thread("a"), thread("e"));
/// assert_eq!(thread("b"), thread("d"));
/// assert_ne!(thread("a"), thread("b"));
/// # Ok::<(), wirecluster::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FeedIndex {
    /// The batch config, the boilerplate learned so far, the hasher.
    fx: FeatureExtractor,
    feed: FeedConfig,
    next_seq: ArticleSeq,
    /// The key of the next new group (and of the story it may start).
    next_key: GroupKey,
    clock: Option<i64>,
    n_docs: u64,
    df: AHashMap<u64, u64>,
    /// Articles placed since the story vectors were last weighed again
    /// ([`FeedIndex::consolidate`]).
    since_weighed: u64,
    /// Learned boilerplate sentences in learning order (the normalizer holds
    /// them as a set).
    learned: Vec<u64>,
    /// Per sentence not yet learned: live articles holding it, and distinct
    /// contexts among them.
    sentence_docs: AHashMap<u64, (u32, u32)>,
    /// Live articles per (sentence, context).
    sentence_contexts: AHashMap<(u64, u64), u32>,
    entries: AHashMap<ArticleSeq, Entry>,
    ids: AHashMap<String, ArticleSeq>,
    groups: AHashMap<GroupKey, Group>,
    stories: AHashMap<StoryKey, StoryState>,
    /// Threads by key, with the thread level on (empty otherwise).
    threads: AHashMap<StoryKey, ThreadState>,
    thread_model: ThreadModel,
    /// LSH band key to the articles holding it, in arrival order.
    bands: AHashMap<u64, Posting<ArticleSeq>>,
    /// Fingerprint to its holders' [`postings::fingerprint_item`]s.
    fingerprints: AHashMap<u64, Posting<u64>>,
    /// Story top term to the groups indexed under it.
    terms: AHashMap<u64, Posting<GroupKey>>,
    /// Stories with a dated article, by their newest date.
    dated_expiry: BTreeSet<(i64, StoryKey)>,
    /// Stories with no dated article, by their newest arrival.
    undated_expiry: BTreeSet<(ArticleSeq, StoryKey)>,
    stats: FeedStats,
    /// Inserts, removals and re-linkings asked for over the index's life.
    ops: u64,
    /// Those since the last save or checkpoint, once the index was saved or
    /// loaded (for [`FeedIndex::checkpoint`]).
    journal: Option<Vec<log::Op>>,
    /// About how many bytes the journal holds.
    journal_bytes: u64,
    /// The file the index was last saved to or loaded from.
    persisted: Option<persist::Persisted>,
}

impl FeedIndex {
    /// An empty index with validated configs.
    pub fn new(config: Config, feed: FeedConfig) -> Result<Self> {
        config.validate()?;
        feed.validate()?;
        Ok(FeedIndex {
            fx: FeatureExtractor::new(&config, Normalizer::new(&config.normalize)),
            feed,
            next_seq: ArticleSeq(0),
            next_key: GroupKey(0),
            clock: None,
            n_docs: 0,
            df: AHashMap::new(),
            since_weighed: 0,
            learned: Vec::new(),
            sentence_docs: AHashMap::new(),
            sentence_contexts: AHashMap::new(),
            entries: AHashMap::new(),
            ids: AHashMap::new(),
            groups: AHashMap::new(),
            stories: AHashMap::new(),
            threads: AHashMap::new(),
            thread_model: ThreadModel::default(),
            bands: AHashMap::new(),
            fingerprints: AHashMap::new(),
            terms: AHashMap::new(),
            dated_expiry: BTreeSet::new(),
            undated_expiry: BTreeSet::new(),
            stats: FeedStats::default(),
            ops: 0,
            journal: None,
            journal_bytes: 0,
            persisted: None,
        })
    }

    /// Starts the document frequencies from a saved model (for example one
    /// written by `wirecluster cluster --save-idf`), so that early articles
    /// are weighed as if the model's corpus had been seen.
    pub fn with_idf(mut self, idf: &IdfModel) -> Self {
        self.n_docs += idf.documents;
        for (&t, &c) in &idf.df {
            *self.df.entry(t).or_insert(0) += c;
        }
        self
    }

    /// The batch config in use.
    pub fn config(&self) -> &Config {
        self.fx.config()
    }

    /// The feed config in use.
    pub fn feed_config(&self) -> &FeedConfig {
        &self.feed
    }

    /// Live articles.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no article is live.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Counts of inserts, removals, evictions and live items.
    pub fn stats(&self) -> FeedStats {
        FeedStats {
            documents: self.entries.len(),
            groups: self.groups.len(),
            stories: self.stories.len(),
            ..self.stats.clone()
        }
    }

    /// Inserts one article and says where it went. Fails if an article with
    /// the same id is live (evicted and removed ids may come again).
    pub fn insert(&mut self, doc: &Document) -> Result<FeedAssignment> {
        if self.ids.contains_key(&doc.id) {
            return Err(Error::AlreadyIndexed { id: doc.id.clone() });
        }
        let p = self.prepare(doc);
        let a = self.place(doc, p);
        self.record(|| log::Op::Insert(log::LoggedDoc::of(doc)));
        Ok(a)
    }

    /// Inserts articles in order, computing their features on all cores. The
    /// result is the same as inserting them one by one. Fails, inserting
    /// nothing, if an id repeats within `docs` or is live already.
    pub fn insert_batch(&mut self, docs: &[Document]) -> Result<Vec<FeedAssignment>> {
        let mut seen: AHashSet<&str> = AHashSet::with_capacity(docs.len());
        for d in docs {
            if self.ids.contains_key(&d.id) || !seen.insert(&d.id) {
                return Err(Error::AlreadyIndexed { id: d.id.clone() });
            }
        }
        let prepared: Vec<Prepared> = docs.par_iter().map(|d| self.prepare(d)).collect();
        Ok(docs
            .iter()
            .zip(prepared)
            .map(|(d, p)| {
                let a = self.place(d, p);
                self.record(|| log::Op::Insert(log::LoggedDoc::of(d)));
                a
            })
            .collect())
    }

    /// Counts an operation, and keeps it for the next checkpoint once the
    /// index was saved or loaded.
    ///
    /// The operations kept never outgrow what the log may hold before a
    /// whole save replaces it: past that, they are dropped and the next
    /// checkpoint is a whole save, so an index that is saved once and never
    /// checkpointed does not keep every article twice.
    fn record(&mut self, op: impl FnOnce() -> log::Op) {
        self.ops += 1;
        let Some(j) = &mut self.journal else { return };
        let op = op();
        self.journal_bytes += op.size();
        j.push(op);
        if let Some(p) = &self.persisted
            && p.log_len + self.journal_bytes > persist::log_bound(p.base_len)
        {
            self.journal = None;
            self.journal_bytes = 0;
            self.persisted = None;
        }
    }

    /// Replays a logged operation.
    fn apply_logged(&mut self, op: log::Op) -> Result<()> {
        match op {
            log::Op::Insert(d) => self.insert(&d.document()).map(drop),
            log::Op::Remove(id) => self.remove(&id).map(drop),
            log::Op::Consolidate => {
                self.consolidate();
                Ok(())
            }
        }
    }

    /// Where an article would go, without inserting it.
    ///
    /// ```
    /// use wirecluster::{Config, Document, FeedConfig, FeedIndex};
    /// let mut index = FeedIndex::new(Config::default(), FeedConfig::default())?;
    /// let text = "Storms closed schools and roads across the northern region on Monday, \
    ///             officials said, and more rain is expected later in the week.";
    /// index.insert(&Document::new("a", text))?;
    /// let q = index.query(&Document::new("b", text));
    /// assert_eq!(q.duplicate_group.as_deref(), Some("a"));
    /// assert!(index.get("b").is_none());
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn query(&self, doc: &Document) -> FeedQuery {
        let p = self.prepare(doc);
        let plan = self.plan(doc, &p, self.next_seq);
        FeedQuery {
            duplicate_group: plan.group.as_ref().map(|(g, _)| self.group_id(*g)),
            duplicate_of: plan.group.map(|(_, m)| m),
            story: plan
                .story
                .as_ref()
                .map(|&(s, _)| self.doc_id(self.story(s).canonical)),
            story_match: plan.story.and_then(|(_, m)| m),
        }
    }

    /// The current state of a live article.
    pub fn get(&self, id: &str) -> Option<DocStatus> {
        let &seq = self.ids.get(id)?;
        let e = &self.entry(seq);
        let g = &self.group(e.group);
        let s = &self.story(g.story);
        let thread = self.thread_canonical(g.story);
        Some(DocStatus {
            id: e.id.clone(),
            seq: seq.0,
            duplicate_group: self.doc_id(g.canonical),
            canonical: g.canonical == seq,
            group_size: g.members.len(),
            story: self.doc_id(s.canonical),
            story_canonical: s.canonical == seq,
            story_size: s.size,
            thread: self.doc_id(thread),
            thread_canonical: thread == seq,
        })
    }

    /// Every live article's state, in arrival order.
    pub fn statuses(&self) -> Vec<DocStatus> {
        let mut seqs: Vec<ArticleSeq> = self.entries.keys().copied().collect();
        seqs.sort_unstable();
        seqs.iter()
            .filter_map(|&s| self.get(&self.entry(s).id))
            .collect()
    }

    /// Removes a live article; its group and story are updated (and dropped
    /// when it was their last member). Returns its state before removal.
    pub fn remove(&mut self, id: &str) -> Result<DocStatus> {
        let status = self
            .get(id)
            .ok_or_else(|| Error::UnknownId { id: id.to_string() })?;
        let seq = ArticleSeq(status.seq);
        self.leave_group(&[seq]);
        self.drop_entry(seq);
        self.stats.removed += 1;
        self.record(|| log::Op::Remove(id.to_string()));
        Ok(status)
    }

    /// Re-links the stories of all live groups with the batch story stage:
    /// candidates from shared top terms, pair scores, the shared-neighbour
    /// mix and average linkage at
    /// [`StoryConfig::threshold`](crate::StoryConfig::threshold), on the
    /// members' vectors weighed again with the document frequencies of all
    /// the articles seen (as the batch weighs with the whole corpus's;
    /// on arrival an article is weighed with those seen before it).
    /// Single-pass placement cannot merge two stories that a later article
    /// bridges, nor see which groups share neighbours; this can. Duplicate
    /// groups do not change. Called automatically every
    /// [`FeedConfig::consolidate_every`] articles, where the vectors are
    /// weighed again only once at least half as many articles as are live
    /// arrived since they last were; returns the number of live stories
    /// afterwards.
    pub fn consolidate(&mut self) -> usize {
        let n = self.relink(true);
        self.record(|| log::Op::Consolidate);
        n
    }

    /// Weighs every live article's story vector again with the document
    /// frequencies seen so far, as the batch weighs with those of the whole
    /// corpus, and sums the groups `keys` again: re-linked, the live groups
    /// then get the batch's stories.
    fn reweigh(&mut self, keys: &[GroupKey]) {
        let sc = &self.fx.config().story;
        let (n, boost, max_terms) = (self.n_docs, sc.entity_boost, sc.max_terms);
        let df = &self.df;
        // The IDF depends on the document frequency alone: one logarithm
        // per frequency up to a bound, not one per article and term.
        let table: Vec<f64> = (0..=n.min(1 << 16)).map(|d| signals::idf(n, d)).collect();
        let idf = |t: &u64| {
            let d = df.get(t).copied().unwrap_or(0);
            table
                .get(d as usize)
                .copied()
                .unwrap_or_else(|| signals::idf(n, d))
        };
        let weighed: Vec<(ArticleSeq, SparseVec, SparseVec)> = self
            .entries
            .par_iter()
            .map(|(&seq, e)| {
                let counts = e.terms.iter().copied().zip(e.tf.iter().copied());
                let idf_of = |i: usize, _| idf(&e.terms[i]);
                let vector = signals::weigh(counts, &e.names, &idf_of, boost, max_terms);
                let entities = signals::entity_part(&vector, &e.names);
                (seq, vector, entities)
            })
            .collect();
        for (seq, vector, entities) in weighed {
            let e = self.entry_mut(seq);
            e.vector = vector;
            e.entities = entities;
        }
        for &gk in keys {
            self.sum_group(gk);
        }
    }

    /// [`FeedIndex::consolidate`] (`weigh`: always weigh again), or as
    /// placement calls it (`weigh` false): then the vectors are weighed
    /// again once at least half as many articles as are live arrived since
    /// they last were, so that re-weighing costs about one article's
    /// weighing per arrival (a growing index is weighed again as it
    /// doubles, a full window once per half turnover).
    fn relink(&mut self, weigh: bool) -> usize {
        self.stats.consolidations += 1;
        self.stats.since_consolidation = 0;
        if self.fx.config().story.enabled && !self.groups.is_empty() {
            self.relink_stories(weigh);
        }
        if self.threads_on() && !self.stories.is_empty() {
            self.link_threads();
        }
        self.stories.len()
    }

    /// The stories of the live groups made again by the batch story stage.
    fn relink_stories(&mut self, weigh: bool) {
        let mut keys: Vec<GroupKey> = self.groups.keys().copied().collect();
        keys.sort_unstable();
        if weigh || self.since_weighed * 2 >= self.entries.len() as u64 {
            self.reweigh(&keys);
            self.since_weighed = 0;
        }
        let sc = &self.fx.config().story;
        let groups: Vec<&Group> = keys.iter().map(|&k| self.group(k)).collect();
        let vectors: Vec<SparseVec> = groups
            .iter()
            .map(|g| sparse::scaled(&g.sum, g.sum_norm))
            .collect();
        let entities: Vec<SparseVec> = groups
            .iter()
            .map(|g| sparse::scaled(&g.entity_sum, g.entity_norm))
            .collect();
        let times: Vec<Option<(i64, i64)>> = groups.iter().map(|g| g.time).collect();
        let signals = story::UnitSignals {
            vectors: &vectors,
            entities: &entities,
            times: &times,
        };
        let clusters = story::link_units(&signals, &self.df, self.n_docs, sc, &mut |_| {}).clusters;
        // New stories, keyed by their smallest group key (unique: a group
        // is in one story). Their threads are made again after.
        self.threads.clear();
        for sk in self.stories.keys().copied().collect::<Vec<_>>() {
            self.drop_story(sk);
        }
        for units in clusters {
            let groups: Vec<GroupKey> = units.iter().map(|&u| keys[u as usize]).collect();
            let sk = groups[0].story_key();
            for &g in &groups {
                self.group_mut(g).story = sk;
            }
            self.start_story(sk, groups);
        }
    }

    fn doc_id(&self, seq: ArticleSeq) -> String {
        self.entry(seq).id.clone()
    }

    fn group_id(&self, g: GroupKey) -> String {
        self.doc_id(self.group(g).canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> FeedIndex {
        FeedIndex::new(Config::default(), FeedConfig::default()).unwrap()
    }

    const WIRE: &str = "Russia and the United States will work in the next few days on a deal \
        to curb fighting in Syria, the two presidents said after talks in Hangzhou on Monday. \
        A string of bombings killed dozens of people across the country, including in Hama \
        and Homs, a monitoring group said.";

    #[test]
    fn the_kept_operations_stay_under_what_the_log_may_hold() {
        let dir = std::env::temp_dir().join(format!("wirecluster-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.wcf");
        let mut ix = index();
        ix.insert(&Document::new("a", WIRE)).unwrap();
        ix.save(&path).unwrap();
        ix.insert(&Document::new("b", "Floods closed roads in the north."))
            .unwrap();
        assert_eq!(ix.journal.as_ref().map(Vec::len), Some(1));
        // As if the log were nearly full: the next article would take the
        // kept operations past it, so they are dropped, and the next
        // checkpoint saves the whole index.
        let bound = persist::log_bound(ix.persisted.as_ref().unwrap().base_len);
        ix.persisted.as_mut().unwrap().log_len = bound - 10;
        ix.insert(&Document::new(
            "c",
            "Heavy snow fell overnight in the mountains.",
        ))
        .unwrap();
        assert!(ix.journal.is_none() && ix.persisted.is_none());
        ix.insert(&Document::new("d", "Markets rose on Tuesday."))
            .unwrap();
        ix.checkpoint(&path).unwrap();
        assert!(ix.journal.as_ref().is_some_and(Vec::is_empty));
        assert_eq!(FeedIndex::load(&path).unwrap().statuses(), ix.statuses());
    }

    #[test]
    fn a_longer_reprint_becomes_canonical_and_says_so() {
        let mut ix = index();
        let short = "Russia and the United States will work in the next few days on a deal \
            to curb fighting in Syria, the two presidents said after talks in Hangzhou on Monday.";
        ix.insert(&Document::new("excerpt", short)).unwrap();
        let a = ix.insert(&Document::new("full", WIRE)).unwrap();
        assert_eq!(a.duplicate_group, "full");
        assert!(a.canonical);
        assert_eq!(a.group_canonical_changed.as_deref(), Some("excerpt"));
        assert_eq!(ix.get("excerpt").unwrap().duplicate_group, "full");
    }

    #[test]
    fn live_ids_are_refused_and_removed_ids_come_back() {
        let mut ix = index();
        ix.insert(&Document::new("a", WIRE)).unwrap();
        let err = ix.insert(&Document::new("a", "other")).unwrap_err();
        assert!(matches!(err, Error::AlreadyIndexed { .. }), "{err}");
        let batch = [Document::new("b", "x y z"), Document::new("b", "x y z")];
        assert!(ix.insert_batch(&batch).is_err());
        assert_eq!(ix.len(), 1, "a failed batch inserts nothing");
        assert!(matches!(
            ix.remove("nope").unwrap_err(),
            Error::UnknownId { .. }
        ));
        ix.remove("a").unwrap();
        assert!(ix.is_empty() && ix.stats().groups == 0 && ix.stats().stories == 0);
        assert!(ix.bands.is_empty() && ix.fingerprints.is_empty() && ix.df.is_empty());
        ix.insert(&Document::new("a", WIRE)).unwrap();
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn old_stories_are_evicted_and_reported() {
        let feed = FeedConfig {
            window_days: 2.0,
            ..FeedConfig::default()
        };
        let mut ix = FeedIndex::new(Config::default(), feed).unwrap();
        let day = |d: u32| format!("2016-09-{d:02}").parse::<Timestamp>().unwrap();
        ix.insert(&Document::new("old", WIRE).with_published(day(1)))
            .unwrap();
        let a = ix
            .insert(
                &Document::new("same-day", "Unrelated floods in the north.").with_published(day(3)),
            )
            .unwrap();
        assert!(a.evicted.is_empty(), "two days is inside the window");
        let b = ix
            .insert(&Document::new("late", WIRE).with_published(day(4)))
            .unwrap();
        assert_eq!(b.evicted.len(), 1);
        assert_eq!(b.evicted[0].members, vec!["old".to_string()]);
        assert!(b.new_group, "an evicted story takes no members");
        assert!(ix.get("old").is_none());
        assert_eq!(ix.stats().evicted_documents, 1);
    }

    #[test]
    fn undated_stories_expire_by_arrivals() {
        let feed = FeedConfig {
            window_arrivals: 2,
            ..FeedConfig::default()
        };
        let mut ix = FeedIndex::new(Config::default(), feed).unwrap();
        for i in 0..3 {
            let a = ix
                .insert(&Document::new(format!("d{i}"), format!("text number {i}")))
                .unwrap();
            assert!(a.evicted.is_empty());
        }
        let a = ix.insert(&Document::new("d3", "text number 3")).unwrap();
        assert_eq!(a.evicted.len(), 1);
        assert_eq!(a.evicted[0].members, vec!["d0".to_string()]);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let dir = std::env::temp_dir().join(format!("wirecluster-feed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("index.wcf");
        let mut ix = index();
        ix.insert(&Document::new("a", WIRE)).unwrap();
        ix.save(&path).unwrap();
        let good = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8], want: &str| {
            std::fs::write(&path, bytes).unwrap();
            let err = FeedIndex::load(&path).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        };
        check(b"{\"not\": \"an index\"}", "not a wirecluster feed index");
        let mut v = good.clone();
        v[8] = 99;
        check(&v, "format version 99");
        check(&good[..good.len() - 10], "truncated");
        let mut c = good.clone();
        let last = c.len() - 1;
        c[last] ^= 0xff;
        check(&c, "checksum");
        std::fs::write(&path, &good).unwrap();
        assert_eq!(FeedIndex::load(&path).unwrap().len(), 1);
    }
}
