//! The thread level: stories grouped as a news aggregator groups them, one
//! thread for every angle of one running story ("eBay rejects Icahn's
//! slate", "Why spinning off PayPal makes sense").
//!
//! Threads are built from what every record has, feeds of headlines
//! included: each document's **thread terms** are the words of its headline
//! (or, without one, of the first words of its text) and of its link's path
//! (`…/ebay-rejects-icahn-slate-of-directors.html`). Headlines are too short
//! for their words alone to tie the angles of a story together, so each
//! document's vector is **expanded** with those of its nearest neighbours
//! (pseudo-relevance feedback): the angles of one story share neighbours even
//! where they share few words. Threads are then cut by average linkage over
//! the expanded vectors, seeded with the stories (a thread never splits a
//! story), merging only along links to each document's nearest neighbours
//! (sub-quadratic), with the exact mean cosine of all document pairs of the
//! two threads (computed from their sum vectors), so that a hub term cannot
//! chain threads together.

use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::normalize::for_each_token;
use crate::shingle::token_hash;
use crate::sparse::{self, SparseVec};
use crate::story::HeapItem;

/// Settings of the thread level.
///
/// The defaults were chosen on the dev half (crc32 of the story id even) of
/// the UCI news aggregator headlines only; see DESIGN.md.
///
/// ```
/// use wirecluster::{Clusterer, Config, Document};
/// let mut cfg = Config::default();
/// cfg.thread.enabled = true;
/// let docs: Vec<Document> = ["eBay rejects Icahn slate", "Icahn slate rejected by eBay"]
///     .iter()
///     .enumerate()
///     .map(|(i, h)| Document::new(i.to_string(), *h).with_title(*h))
///     .collect();
/// let out = Clusterer::new(cfg)?.cluster(&docs)?;
/// // Every document names its thread, and the thread lists its story.
/// let t = &out.threads[0];
/// assert_eq!(out.assignments[0].thread, t.id);
/// assert!(t.stories.contains(&out.assignments[0].story));
/// # Ok::<(), wirecluster::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThreadConfig {
    /// Build threads at all (when off, each story is its own thread).
    /// Default: `false` (on full articles the level adds about a fifth to
    /// the time of a run; see BENCHMARKS.md).
    pub enabled: bool,
    /// Average-linkage cut: threads merge while the mean cosine of their
    /// documents' expanded vectors is at least this. Default: 0.1.
    pub threshold: f64,
    /// Nearest neighbours whose vectors expand a document's. Default: 50.
    pub neighbours: usize,
    /// Weight of the neighbours' mean vector in the expansion. Default: 2.
    pub expansion: f64,
    /// An expanded vector keeps its this many heaviest terms. Default: 15.
    pub max_terms: usize,
    /// Nearest neighbours (by headline and link words) a document links to;
    /// threads merge only along such links. Default: 6.
    pub links: usize,
    /// A term held by more documents than this (in one time bucket of
    /// `time_window_days`, or among the undated) finds neighbours there only
    /// among the this many it weighs most in (ties by id): it bounds the
    /// work per document as the corpus grows. Default: 200.
    pub max_posting: usize,
    /// Words from the start of the text that stand in for a missing
    /// headline. Default: 25.
    pub lead_words: usize,
    /// A headline with fewer words than this (stop words and figures
    /// aside) is topped up with the first `lead_words` of the text after
    /// it: a dateline or byline scraped as the headline ("Saturday, August
    /// 24, 2013") says nothing of the story. Default: 3.
    pub min_headline_words: usize,
    /// Dated documents further apart than this many days are never
    /// neighbours. Default: 30.
    pub time_window_days: f64,
}

impl Default for ThreadConfig {
    fn default() -> Self {
        ThreadConfig {
            enabled: false,
            threshold: 0.1,
            neighbours: 50,
            expansion: 2.0,
            max_terms: 15,
            links: 6,
            max_posting: 200,
            lead_words: 25,
            min_headline_words: 3,
            time_window_days: 30.0,
        }
    }
}

/// The words of a link's path that can be words of a headline: the path
/// without host, query, fragment and file extension, split at every
/// character that is not a letter or digit, keeping the parts of at least
/// three characters made of letters only and not in mixed case beyond a
/// capital first letter (ids such as `H2EvwJSK` and `gIQA` are dropped).
///
/// ```
/// let w = wirecluster::url_words("http://www.ifamagazine.com/news/us-open-stocks-fall-after-fed-official-hints-294436.html?x=1");
/// assert_eq!(w, ["news", "open", "stocks", "fall", "after", "fed", "official", "hints"]);
/// ```
pub fn url_words(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = match path.rfind('.') {
        Some(i) if !path[i..].contains('/') => &path[..i],
        _ => path,
    };
    path.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3 && w.chars().all(char::is_alphabetic))
        .filter(|w| !w.chars().skip(1).any(char::is_uppercase))
        .map(str::to_lowercase)
        .collect()
}

/// What the thread level reads of a document: the batch lends it from a
/// [`Document`], the live index from its entries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadDoc<'a> {
    pub id: &'a str,
    pub title: Option<&'a str>,
    pub text: &'a str,
    pub url: Option<&'a str>,
    /// Seconds since the epoch.
    pub published: Option<i64>,
}

impl<'a> From<&'a Document> for ThreadDoc<'a> {
    fn from(d: &'a Document) -> Self {
        ThreadDoc {
            id: &d.id,
            title: d.title.as_deref(),
            text: &d.text,
            url: d.url.as_deref(),
            published: d.published.map(|t| t.seconds()),
        }
    }
}

/// A document's thread terms, hashed and sorted, with their counts: the words of
/// its headline (or of its first `lead_words` words) and of its link
/// ([`url_words`]), English possessives cut (`Fed's` is `Fed`), without the
/// stop words of the document's language.
pub(crate) fn thread_terms(d: &ThreadDoc<'_>, cfg: &ThreadConfig) -> Vec<(u64, u32)> {
    let stop = crate::signals::stop_words();
    let mut v = Vec::new();
    let lead = |text: &str, v: &mut Vec<u64>| {
        let mut left = cfg.lead_words;
        for_each_token(&without_possessives(text), true, |t| {
            if left > 0 {
                left -= 1;
                v.push(token_hash(t));
            }
        });
    };
    match d.title.filter(|t| !t.trim().is_empty()) {
        Some(title) => {
            let mut words = Vec::new();
            for_each_token(&without_possessives(title), true, |t| {
                v.push(token_hash(t));
                if t.chars().any(char::is_alphabetic) {
                    words.push(token_hash(t));
                }
            });
            let language = stop.language_of(&v);
            let content = words
                .iter()
                .filter(|&&w| !stop.is_stop(w, language))
                .count();
            if content < cfg.min_headline_words {
                let body = d.text.trim_start();
                lead(body.strip_prefix(title.trim()).unwrap_or(body), &mut v);
            }
        }
        None => lead(d.text, &mut v),
    }
    if let Some(url) = d.url {
        for w in url_words(url) {
            for_each_token(&w, true, |t| v.push(token_hash(t)));
        }
    }
    let language = stop.language_of(&v);
    v.retain(|&t| !stop.is_stop(t, language));
    v.sort_unstable();
    let mut counted: Vec<(u64, u32)> = Vec::with_capacity(v.len());
    for t in v {
        match counted.last_mut() {
            Some((last, c)) if *last == t => *c += 1,
            _ => counted.push((t, 1)),
        }
    }
    counted
}

/// `text` with the `'s` or `’s` that ends a word removed.
fn without_possessives(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("'s") && !text.contains("’s") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if (c == '\'' || c == '’') && text[i + c.len_utf8()..].starts_with('s') {
            let after = &text[i + c.len_utf8() + 1..];
            if !after.starts_with(char::is_alphanumeric) {
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Whether two documents may be neighbours: both dated at most
/// `time_window_days` apart, or either undated.
pub(crate) fn within_window(a: Option<i64>, b: Option<i64>, cfg: &ThreadConfig) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => ((x - y).abs() as f64) <= cfg.time_window_days * 86_400.0,
        _ => true,
    }
}

/// A dated document's time bucket: its day count over the time window,
/// so that documents within the window of each other are at most one
/// bucket apart (`None` for an undated one).
pub(crate) fn time_bucket(published: Option<i64>, cfg: &ThreadConfig) -> Option<i64> {
    let width = ((cfg.time_window_days * 86_400.0).round() as i64).max(1);
    published.map(|s| s.div_euclid(width))
}

/// Whether a query in time bucket `query` reads postings of bucket `b`:
/// undated ones always, dated ones from the next buckets (an undated query
/// reads all).
pub(crate) fn reads_bucket(query: Option<i64>, b: Option<i64>) -> bool {
    match (query, b) {
        (Some(q), Some(b)) => (q - b).abs() <= 1,
        _ => true,
    }
}

/// Vectors over term ids below 2^32 in one array, 8 bytes a term: the
/// neighbour search and the expansion read many documents' vectors in no
/// order, and one array of them (half the size of [`SparseVec`]s, without a
/// pointer to follow) keeps those reads in cache at 200k documents.
struct FlatVectors {
    /// Vector `i` is `entries[offsets[i]..offsets[i + 1]]`.
    offsets: Vec<usize>,
    entries: Vec<(u32, f32)>,
}

impl FlatVectors {
    fn new(vectors: &[SparseVec]) -> Self {
        let mut offsets = Vec::with_capacity(vectors.len() + 1);
        let mut entries = Vec::with_capacity(vectors.iter().map(Vec::len).sum());
        offsets.push(0);
        for v in vectors {
            entries.extend(v.iter().map(|&(t, w)| (t as u32, w)));
            offsets.push(entries.len());
        }
        FlatVectors { offsets, entries }
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn get(&self, i: usize) -> &[(u32, f32)] {
        &self.entries[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// Documents holding each term, with its weight in their vectors, by time
/// bucket: each term's list is sorted by (bucket, document), undated
/// first, and each bucket's run is cut to the `max_posting` documents the
/// term weighs most in (ties by id). The cut bounds the work per document
/// as a corpus grows; per bucket, a dated archive of any span keeps the
/// heaviest holders near each document in time.
struct Postings {
    /// Term `t`'s list is `entries[offsets[t]..offsets[t + 1]]`.
    offsets: Vec<usize>,
    entries: Vec<(u32, f32)>,
    /// Each document's time bucket and date (seconds); both empty when no
    /// document is dated.
    buckets: Vec<Option<i64>>,
    published: Vec<Option<i64>>,
}

impl Postings {
    /// The postings of vectors over term ids below `vocabulary`.
    fn new(
        vectors: &FlatVectors,
        vocabulary: usize,
        cfg: &ThreadConfig,
        docs: &[ThreadDoc<'_>],
    ) -> Self {
        let published: Vec<Option<i64>> = docs.iter().map(|d| d.published).collect();
        let buckets: Vec<Option<i64>> = published.iter().map(|&p| time_bucket(p, cfg)).collect();
        let mut lists: Vec<Vec<(u32, f32)>> = vec![Vec::new(); vocabulary];
        for i in 0..vectors.len() {
            for &(t, w) in vectors.get(i) {
                lists[t as usize].push((i as u32, w));
            }
        }
        let max = cfg.max_posting;
        let dated = buckets.iter().any(Option::is_some);
        lists
            .par_iter_mut()
            .filter(|l| dated || l.len() > max)
            .for_each(|l| {
                let bucket = |j: u32| buckets[j as usize];
                if dated {
                    l.sort_unstable_by_key(|&(j, _)| (bucket(j), j));
                }
                if l.len() <= max {
                    return;
                }
                let mut kept = Vec::with_capacity(l.len().min(4 * max));
                for run in l.chunk_by(|a, b| bucket(a.0) == bucket(b.0)) {
                    kept.extend(cut_to_heaviest(run.to_vec(), max, |a, b| {
                        docs[a as usize].id.cmp(docs[b as usize].id)
                    }));
                }
                *l = kept;
            });
        let mut offsets = Vec::with_capacity(vocabulary + 1);
        let mut entries = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        offsets.push(0);
        for l in lists {
            entries.extend_from_slice(&l);
            offsets.push(entries.len());
        }
        let (buckets, published) = if dated {
            (buckets, published)
        } else {
            (Vec::new(), Vec::new())
        };
        Postings {
            offsets,
            entries,
            buckets,
            published,
        }
    }

    /// Term `t`'s list.
    fn list(&self, t: u32) -> &[(u32, f32)] {
        &self.entries[self.offsets[t as usize]..self.offsets[t as usize + 1]]
    }

    /// The `k` documents most similar to `i` (cosine over the postings
    /// kept, ties by index) that are within the time window.
    fn nearest(
        &self,
        i: usize,
        vectors: &FlatVectors,
        cfg: &ThreadConfig,
        k: usize,
        acc: &mut Accumulator,
    ) -> Vec<(u32, f32)> {
        if self.published.is_empty() {
            // No document is dated: whole lists, no time rule (a separate
            // loop: the bucket bounds and the rule cost 15-20% here).
            for &(t, w) in vectors.get(i) {
                for &(j, wj) in self.list(t) {
                    acc.add(j, w * wj);
                }
            }
            return nearest_neighbours(i as u32, None, acc.drain(), |_| None, cfg, k);
        }
        let q = self.buckets[i];
        for &(t, w) in vectors.get(i) {
            let list = self.list(t);
            let bucket = |p: &(u32, f32)| self.buckets[p.0 as usize];
            // Undated holders come first; then those of the next buckets.
            let undated = list.partition_point(|p| bucket(p).is_none());
            let (from, to) = match q {
                Some(b) => (
                    list.partition_point(|p| bucket(p) < Some(b - 1)),
                    list.partition_point(|p| bucket(p) <= Some(b + 1)),
                ),
                None => (undated, list.len()),
            };
            for &(j, wj) in list[..undated].iter().chain(&list[from.max(undated)..to]) {
                acc.add(j, w * wj);
            }
        }
        let published = |j: u32| self.published[j as usize];
        nearest_neighbours(
            i as u32,
            published(i as u32),
            acc.drain(),
            published,
            cfg,
            k,
        )
    }
}

/// `list` cut to the `max` entries of highest weight (ties by `by_id`), in
/// its order.
pub(crate) fn cut_to_heaviest<K: Copy + Ord>(
    mut list: Vec<(K, f32)>,
    max: usize,
    by_id: impl Fn(K, K) -> std::cmp::Ordering,
) -> Vec<(K, f32)> {
    if list.len() > max {
        list.select_nth_unstable_by(max, |a, b| {
            b.1.total_cmp(&a.1).then_with(|| by_id(a.0, b.0))
        });
        list.truncate(max);
        list.sort_unstable_by_key(|&(j, _)| j);
    }
    list
}

/// The `k` nearest neighbours of document `i` (dated `when`) among the
/// `scored` documents: those other than `i`, with a positive score, and
/// within the time window (`date_of` gives a document's date); best first,
/// ties by key.
pub(crate) fn nearest_neighbours<K: Ord + Copy>(
    i: K,
    when: Option<i64>,
    scored: impl Iterator<Item = (K, f32)>,
    date_of: impl Fn(K) -> Option<i64>,
    cfg: &ThreadConfig,
    k: usize,
) -> Vec<(K, f32)> {
    let near = |&(j, s): &(K, f32)| j != i && s > 0.0 && within_window(when, date_of(j), cfg);
    nearest_of(scored.filter(near), k)
}

/// The `k` highest-scored of `scored` (ties by key), best first.
pub(crate) fn nearest_of<K: Ord + Copy>(
    scored: impl Iterator<Item = (K, f32)>,
    k: usize,
) -> Vec<(K, f32)> {
    let mut scored: Vec<(K, f32)> = scored.collect();
    let by_score = |a: &(K, f32), b: &(K, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if scored.len() > k {
        scored.select_nth_unstable_by(k, by_score);
        scored.truncate(k);
    }
    scored.sort_unstable_by(by_score);
    // Kept for the whole stage: without the candidates' capacity.
    scored.shrink_to_fit();
    scored
}

/// Weights summed per term, emptied as they are read.
pub(crate) trait TermSums {
    fn add(&mut self, t: u64, w: f32);
    /// The terms summed and their weights; empty afterwards.
    fn take(&mut self) -> Vec<(u64, f32)>;
}

impl TermSums for ahash::AHashMap<u64, f32> {
    fn add(&mut self, t: u64, w: f32) {
        *self.entry(t).or_insert(0.0) += w;
    }

    fn take(&mut self) -> Vec<(u64, f32)> {
        self.drain().collect()
    }
}

impl TermSums for Accumulator {
    fn add(&mut self, t: u64, w: f32) {
        Accumulator::add(self, t as u32, w);
    }

    fn take(&mut self) -> Vec<(u64, f32)> {
        self.drain().map(|(t, w)| (t as u64, w)).collect()
    }
}

/// A document's base vector: each term's sublinear count (`1 + ln c`)
/// times its IDF, normalized.
pub(crate) fn weigh(
    counts: impl Iterator<Item = (u64, u32)>,
    idf: impl Fn(u64) -> f64,
) -> SparseVec {
    let mut v: SparseVec = counts
        .map(|(t, c)| (t, ((1.0 + (c as f64).ln()) * idf(t)) as f32))
        .collect();
    sparse::normalize(&mut v);
    v
}

/// Scores summed per document: a dense array and the documents touched.
struct Accumulator {
    scores: Vec<f32>,
    touched: Vec<u32>,
}

impl Accumulator {
    fn with_len(n: usize) -> Self {
        Accumulator {
            scores: vec![0.0; n],
            touched: Vec::new(),
        }
    }

    fn add(&mut self, j: u32, s: f32) {
        let j_ = j as usize;
        if self.scores[j_] == 0.0 {
            self.touched.push(j);
        }
        self.scores[j_] += s;
    }

    /// The touched documents and their scores, in the order first touched;
    /// the accumulator is empty afterwards.
    fn drain(&mut self) -> impl Iterator<Item = (u32, f32)> + '_ {
        let scores = &mut self.scores;
        self.touched.drain(..).map(move |j| {
            let s = std::mem::take(&mut scores[j as usize]);
            (j, s)
        })
    }
}

/// The thread level's result: threads as sorted lists of story indices
/// (ordered by their smallest), and each document's expanded vector.
pub(crate) struct Threads {
    pub clusters: Vec<Vec<u32>>,
    /// Over term ids: each document's expanded and base vectors.
    pub vectors: Vec<SparseVec>,
    pub base: Vec<SparseVec>,
    /// Each term id's hash and document frequency.
    pub vocabulary: Vec<u64>,
    pub df: Vec<u64>,
    /// Distinct linked document pairs.
    pub links: usize,
}

/// Threads over `stories` (lists of document indices, each sorted);
/// `lap` is called with each step's name as it ends.
pub(crate) fn link_stories(
    docs: &[ThreadDoc<'_>],
    stories: &[Vec<usize>],
    cfg: &ThreadConfig,
    lap: &mut dyn FnMut(&str),
) -> Threads {
    let n = docs.len();
    let terms: Vec<Vec<(u64, u32)>> = docs.par_iter().map(|d| thread_terms(d, cfg)).collect();
    // Terms as dense ids, in the order of their hashes (so that ties
    // between terms fall as they would by hash).
    let mut vocabulary: Vec<u64> = terms.iter().flatten().map(|&(t, _)| t).collect();
    vocabulary.par_sort_unstable();
    vocabulary.dedup();
    let ids: Vec<Vec<(u32, u32)>> = terms
        .par_iter()
        .map(|ts| {
            ts.iter()
                .map(|&(t, c)| (vocabulary.binary_search(&t).expect("a term") as u32, c))
                .collect()
        })
        .collect();
    drop(terms);
    let mut df = vec![0u64; vocabulary.len()];
    for &(t, _) in ids.iter().flatten() {
        df[t as usize] += 1;
    }
    let base: Vec<SparseVec> = ids
        .par_iter()
        .map(|ts| {
            weigh(ts.iter().map(|&(t, c)| (t as u64, c)), |t| {
                crate::signals::idf(n as u64, df[t as usize])
            })
        })
        .collect();
    drop(ids);
    lap("thread terms");
    // Expansion: the document plus the similarity-weighted mean of itself
    // and its nearest neighbours.
    let flat = FlatVectors::new(&base);
    let postings = Postings::new(&flat, vocabulary.len(), cfg, docs);
    let near: Vec<Vec<(u32, f32)>> = per_document(n, n, |acc, i| {
        postings.nearest(i, &flat, cfg, cfg.neighbours.max(cfg.links), acc)
    });
    drop(postings);
    lap("thread neighbours");
    let expanded: Vec<SparseVec> = per_document(n, vocabulary.len(), |acc, i| {
        let near = &near[i][..cfg.neighbours.min(near[i].len())];
        expand(
            flat.get(i),
            near.iter().map(|&(j, s)| (flat.get(j as usize), s)),
            cfg,
            acc,
        )
    });
    drop(flat);
    lap("thread expansion");
    let links: Vec<&[(u32, f32)]> = near.iter().map(|l| &l[..cfg.links.min(l.len())]).collect();
    let mut story_of = vec![0u32; n];
    for (s, members) in stories.iter().enumerate() {
        for &m in members {
            story_of[m] = s as u32;
        }
    }
    let story_of = &story_of;
    let mut pairs: Vec<(u32, u32)> = links
        .iter()
        .enumerate()
        .flat_map(|(i, near)| {
            let a = story_of[i];
            near.iter().map(move |&(j, _)| (a, story_of[j as usize]))
        })
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.min(b), a.max(b)))
        .collect();
    let linked_docs = links.iter().map(|l| l.len()).sum::<usize>();
    pairs.sort_unstable();
    pairs.dedup();
    let sums: Vec<SparseVec> = stories
        .par_iter()
        .map(|m| sparse::sum(m.iter().map(|&i| &expanded[i])))
        .collect();
    let sizes: Vec<u32> = stories.iter().map(|m| m.len() as u32).collect();
    let clusters = exact_average_linkage(sums, sizes, &pairs, cfg.threshold, vocabulary.len());
    Threads {
        clusters,
        vectors: expanded,
        base,
        vocabulary,
        df,
        links: linked_docs,
    }
}

/// `f(accumulator, i)` for every document `i < n`, in order, in parallel
/// over blocks of documents that each reuse one accumulator over `slots`
/// keys (a fresh one per document would zero a corpus-sized array each
/// time).
fn per_document<T: Send>(
    n: usize,
    slots: usize,
    f: impl Fn(&mut Accumulator, usize) -> T + Sync,
) -> Vec<T> {
    const BLOCK: usize = 1024;
    let blocks: Vec<Vec<T>> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| {
            let mut acc = Accumulator::with_len(slots);
            (b * BLOCK..((b + 1) * BLOCK).min(n))
                .map(|i| f(&mut acc, i))
                .collect()
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// A document's vector `own` plus `expansion` times the similarity-weighted
/// mean of its own and its neighbours' vectors (`near`: each with its
/// similarity), cut to the `max_terms` heaviest terms (ties by term) and
/// normalized.
pub(crate) fn expand<'a, T: Copy + Into<u64> + 'a>(
    own: &[(T, f32)],
    near: impl Iterator<Item = (&'a [(T, f32)], f32)> + Clone,
    cfg: &ThreadConfig,
    acc: &mut impl TermSums,
) -> SparseVec {
    let total: f64 = 1.0 + near.clone().map(|(_, s)| s as f64).sum::<f64>();
    let own_factor = (1.0 + cfg.expansion / total) as f32;
    for &(t, w) in own {
        acc.add(t.into(), w * own_factor);
    }
    for (v, s) in near {
        let f = (cfg.expansion * s as f64 / total) as f32;
        for &(t, w) in v {
            acc.add(t.into(), w * f);
        }
    }
    let mut v = acc.take();
    if v.len() > cfg.max_terms {
        let by_weight = |a: &(u64, f32), b: &(u64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        v.select_nth_unstable_by(cfg.max_terms, by_weight);
        v.truncate(cfg.max_terms);
    }
    v.sort_unstable_by_key(|&(t, _)| t);
    v.shrink_to_fit();
    sparse::normalize(&mut v);
    v
}

/// Dot product of two sparse vectors sorted by term. When one is much
/// shorter (a small thread against a large one's sum), its terms are
/// searched for in the longer one instead of walking both.
pub(crate) fn dot(a: &SparseVec, b: &SparseVec) -> f64 {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() * 16 >= long.len() {
        return sparse::cosine(short, long);
    }
    let mut rest = &long[..];
    let mut s = 0.0f64;
    for &(t, w) in short {
        let i = rest.partition_point(|&(u, _)| u < t);
        if i == rest.len() {
            break;
        }
        if rest[i].0 == t {
            s += w as f64 * rest[i].1 as f64;
        }
        rest = &rest[i..];
    }
    s
}

/// Of a merged cluster's link whose dot product is bounded: the side (a
/// cluster index) whose part is missing and the other side's exact part.
type Missing = Option<(usize, f64)>;

/// The dot product of two linked clusters' sums: exact, or an upper bound.
#[derive(Debug, Clone, Copy)]
struct Link {
    dot: f64,
    exact: bool,
}

impl Link {
    fn plus(self, other: Link) -> Link {
        Link {
            dot: self.dot + other.dot,
            exact: self.exact && other.exact,
        }
    }
}

/// One cluster's sum held densely, so that its dot products with many
/// others (a merged cluster against each of its neighbours) cost the
/// others' lengths only. The sum is the same as [`dot`]'s: the products of
/// the shared terms in term order.
struct Scattered {
    weights: Vec<f32>,
    terms: Vec<u64>,
    /// The cluster and its version held, if any.
    holds: Option<(usize, u32)>,
}

impl Scattered {
    fn new(vocabulary: usize) -> Self {
        Scattered {
            weights: vec![0.0; vocabulary],
            terms: Vec::new(),
            holds: None,
        }
    }

    /// `v · other`, where `v` is the sum of cluster `key` (with its
    /// version), dotted with many others in a row: `v` is scattered
    /// (unless held already) and `other` walked, unless `other` is so much
    /// longer that searching for `v`'s terms in it costs less.
    fn dot(&mut self, key: (usize, u32), v: &SparseVec, other: &SparseVec) -> f64 {
        if other.len() > 8 * v.len() {
            return dot(v, other);
        }
        if self.holds != Some(key) {
            for &t in &self.terms {
                self.weights[t as usize] = 0.0;
            }
            self.terms.clear();
            for &(t, w) in v {
                self.weights[t as usize] = w;
                self.terms.push(t);
            }
            self.holds = Some(key);
        }
        let mut s = 0.0f64;
        for &(t, w) in other {
            let x = self.weights[t as usize];
            if x != 0.0 {
                s += x as f64 * w as f64;
            }
        }
        s
    }
}

/// Average linkage of units with sum vectors `sums` (over term ids below
/// `vocabulary`; of `sizes` unit vectors each), merging only along `pairs`
/// (and the links they inherit): the mean cosine of two clusters is
/// `sum_a · sum_b / (size_a · size_b)`, exact over all their pairs.
/// Returns the clusters as sorted unit lists, ordered by their smallest
/// unit.
pub(crate) fn exact_average_linkage(
    mut sums: Vec<SparseVec>,
    mut sizes: Vec<u32>,
    pairs: &[(u32, u32)],
    threshold: f64,
    vocabulary: usize,
) -> Vec<Vec<u32>> {
    let n = sums.len();
    let mut scattered = Scattered::new(vocabulary);
    // For each cluster, its linked clusters and the dot product of the two
    // sums, exact or an upper bound. After a merge, `a + b` against `x` is
    // the sum of the two dot products; a side that was not linked to `x`
    // is bounded by Cauchy-Schwarz (`|sum_b| |sum_x|`), and the exact dot
    // product is computed only when the bound could reach the cut. So the
    // merges are those of exact average linkage, without scoring every
    // link of a large thread against each small one that joins it.
    let dots: Vec<f64> = pairs
        .par_iter()
        .map(|&(a, b)| dot(&sums[a as usize], &sums[b as usize]))
        .collect();
    let mut norm2: Vec<f64> = sums.par_iter().map(|v| dot(v, v)).collect();
    let mut links: Vec<ahash::AHashMap<u32, Link>> = vec![Default::default(); n];
    for (&(a, b), &d) in pairs.iter().zip(&dots) {
        let l = Link {
            dot: d,
            exact: true,
        };
        links[a as usize].insert(b, l);
        links[b as usize].insert(a, l);
    }
    let mean = |d: f64, sa: u32, sb: u32| d / (sa as f64 * sb as f64);
    let mut heap: BinaryHeap<HeapItem> = pairs
        .iter()
        .zip(&dots)
        .map(|(&(a, b), &d)| HeapItem {
            avg: mean(d, sizes[a as usize], sizes[b as usize]),
            a,
            b,
            version_a: 0,
            version_b: 0,
        })
        .filter(|c| c.avg >= threshold)
        .collect();
    let mut version = vec![0u32; n];
    let mut alive = vec![true; n];
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    while let Some(c) = heap.pop() {
        let (a, b) = (c.a as usize, c.b as usize);
        if !alive[a] || !alive[b] || version[a] != c.version_a || version[b] != c.version_b {
            continue;
        }
        // Merge b into a (the smaller id).
        alive[b] = false;
        let moved = std::mem::take(&mut members[b]);
        members[a].extend(moved);
        let mut la = std::mem::take(&mut links[a]);
        let mut lb = std::mem::take(&mut links[b]);
        // Pushed pairs are exact, and unchanged since (same versions).
        let ab = la.remove(&(b as u32)).expect("merged clusters are linked");
        debug_assert!(ab.exact);
        lb.remove(&(a as u32));
        let bound = |n2: f64, x: u32| (n2 * norm2[x as usize]).sqrt();
        // Each neighbour's link to `a + b`, and, where one side is exact and
        // the other was not linked, that side (`a` or `b`) and the exact part.
        let mut merged: Vec<(u32, Link, Missing)> = Vec::with_capacity(la.len() + lb.len());
        for (&x, &la_x) in &la {
            match lb.remove(&x) {
                Some(lb_x) => merged.push((x, la_x.plus(lb_x), None)),
                None => {
                    let lb_x = Link {
                        dot: bound(norm2[b], x),
                        exact: false,
                    };
                    merged.push((x, la_x.plus(lb_x), la_x.exact.then_some((b, la_x.dot))));
                }
            }
        }
        for (&x, &lb_x) in &lb {
            let la_x = Link {
                dot: bound(norm2[a], x),
                exact: false,
            };
            merged.push((x, la_x.plus(lb_x), lb_x.exact.then_some((a, lb_x.dot))));
        }
        let size_ab = sizes[a] + sizes[b];
        // A bound that could reach the cut is replaced by the exact dot
        // product: the missing side's alone (before the sums merge) when
        // the other is exact, which is short when a small cluster joins a
        // large one; the merged sum's otherwise.
        for (x, l, missing) in merged.iter_mut() {
            if let Some((side, known)) = *missing
                && mean(l.dot, size_ab, sizes[*x as usize]) >= threshold
            {
                *l = Link {
                    dot: known
                        + scattered.dot((side, version[side]), &sums[side], &sums[*x as usize]),
                    exact: true,
                };
            }
        }
        let sb = std::mem::take(&mut sums[b]);
        sums[a] = sparse::add(&sums[a], &sb);
        norm2[a] += norm2[b] + 2.0 * ab.dot;
        sizes[a] = size_ab;
        version[a] += 1;
        for (x, l, _) in merged.iter_mut() {
            let x = *x as usize;
            if !l.exact && mean(l.dot, sizes[a], sizes[x]) >= threshold {
                *l = Link {
                    dot: scattered.dot((a, version[a]), &sums[a], &sums[x]),
                    exact: true,
                };
            }
            let lx = &mut links[x];
            lx.remove(&(b as u32));
            lx.insert(a as u32, *l);
            let m = mean(l.dot, sizes[a], sizes[x]);
            if l.exact && m >= threshold {
                let (p, q) = (a.min(x), a.max(x));
                heap.push(HeapItem {
                    avg: m,
                    a: p as u32,
                    b: q as u32,
                    version_a: version[p],
                    version_b: version[q],
                });
            }
        }
        la.clear();
        la.extend(merged.into_iter().map(|(x, l, _)| (x, l)));
        links[a] = la;
    }
    let mut out: Vec<Vec<u32>> = members
        .into_iter()
        .enumerate()
        .filter(|(i, _)| alive[*i])
        .map(|(_, mut m)| {
            m.sort_unstable();
            m
        })
        .collect();
    out.sort_unstable_by_key(|m| m[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(terms: &[(u64, f32)]) -> SparseVec {
        let mut v = terms.to_vec();
        sparse::normalize(&mut v);
        v
    }

    #[test]
    fn url_words_keep_the_slug_and_drop_ids_hosts_and_extensions() {
        assert_eq!(
            url_words(
                "http://www.livemint.com/Politics/H2EvwJSK2VE6OF7iK1g3PP/Feds-Charles-Plosser-sees.html"
            ),
            ["politics", "feds", "charles", "plosser", "sees"]
        );
        assert!(url_words("https://example.com").is_empty());
        assert_eq!(url_words("example.com/a/quake-hits/"), ["quake", "hits"]);
    }

    #[test]
    fn thread_terms_cut_possessives_and_stop_words_and_add_the_link() {
        let mut d = Document::new("1", "");
        d.title = Some("Fed's Plosser sees a high bar".into());
        d.url = Some("http://x.com/news/plosser-taper.html".into());
        let mut other = Document::new("2", "");
        other.title = Some("Fed Plosser sees high bar news Plosser taper".into());
        assert_eq!(
            thread_terms(&(&d).into(), &ThreadConfig::default()),
            thread_terms(&(&other).into(), &ThreadConfig::default())
        );
        assert_eq!(
            without_possessives("Icahn’s slate, eBay's"),
            "Icahn slate, eBay"
        );
        assert_eq!(without_possessives("it'sy"), "it'sy");
    }

    #[test]
    fn a_headline_of_fewer_than_three_words_is_topped_up_with_the_lead() {
        let cfg = ThreadConfig::default();
        let terms = |title: &str, text: &str| {
            let d = Document::new("1", text).with_title(title);
            thread_terms(&(&d).into(), &cfg)
        };
        let body = "Saturday, August 24, 2013\nA wildfire near Wasilla destroyed homes.";
        let dated = terms("Saturday, August 24, 2013", body);
        let wildfire = terms("A wildfire near Wasilla destroyed homes", "");
        assert!(wildfire.iter().all(|t| dated.contains(t)), "{dated:?}");
        // A headline that says something is not topped up, and a record
        // whose text is its headline adds nothing twice.
        let real = terms(
            "Wildfire destroys homes",
            "Wildfire destroys homes\nNear Wasilla.",
        );
        assert_eq!(real, terms("Wildfire destroys homes", ""));
        assert_eq!(terms("Fed hikes", "Fed hikes"), terms("Fed hikes", ""));
    }

    #[test]
    fn linkage_uses_the_mean_over_all_pairs_so_a_bridge_does_not_chain() {
        // 0 and 1 share term 1; 2 shares term 2 with 1 only. 1 is half of
        // each: the clusters {0,1} and {2} average below the cut.
        let sums = vec![v(&[(1, 1.0)]), v(&[(1, 1.0), (2, 1.0)]), v(&[(2, 1.0)])];
        let out = exact_average_linkage(sums, vec![1, 1, 1], &[(0, 1), (1, 2)], 0.5, 3);
        assert_eq!(out, vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn linkage_merges_only_along_links() {
        let sums = vec![v(&[(1, 1.0)]), v(&[(1, 1.0)]), v(&[(1, 1.0)])];
        let out = exact_average_linkage(sums.clone(), vec![1, 1, 1], &[(0, 1)], 0.5, 3);
        assert_eq!(out, vec![vec![0, 1], vec![2]]);
        let out = exact_average_linkage(sums, vec![1, 1, 1], &[(0, 1), (1, 2)], 0.5, 3);
        assert_eq!(out, vec![vec![0, 1, 2]]);
    }

    #[test]
    fn long_postings_keep_the_heaviest_holders_ties_by_id() {
        let docs: Vec<Document> = ["d", "c", "b", "a"]
            .iter()
            .map(|id| Document::new(*id, ""))
            .collect();
        let vectors: Vec<SparseVec> = vec![
            vec![(0, 0.5), (1, 1.0)],
            vec![(0, 0.9)],
            vec![(0, 0.5)],
            vec![(0, 0.1)],
        ];
        let docs: Vec<ThreadDoc> = docs.iter().map(ThreadDoc::from).collect();
        let cfg = ThreadConfig {
            max_posting: 2,
            ..ThreadConfig::default()
        };
        let p = Postings::new(&FlatVectors::new(&vectors), 2, &cfg, &docs);
        // Term 0: 0.9 (c) first, then 0.5 held by d and b, b's id first.
        assert_eq!(p.list(0), [(1, 0.9), (2, 0.5)]);
        assert_eq!(p.list(1), [(0, 1.0)]);
    }

    #[test]
    fn long_postings_are_cut_per_time_bucket_so_near_holders_stay() {
        // Three heavy holders of a term long ago and two light ones now:
        // cut to two, a global cut would keep only old ones, and today's
        // query would find no neighbour within its window.
        let day = |d: i64| Some(d * 86_400);
        let when = [day(1000), day(0), day(0), day(0), day(1001)];
        let weights = [0.5, 0.9, 0.8, 0.7, 0.1];
        let docs: Vec<Document> = (0..5).map(|i| Document::new(i.to_string(), "")).collect();
        let mut tdocs: Vec<ThreadDoc> = docs.iter().map(ThreadDoc::from).collect();
        for (d, &w) in tdocs.iter_mut().zip(&when) {
            d.published = w;
        }
        let vectors: Vec<SparseVec> = weights.iter().map(|&w| vec![(0, w)]).collect();
        let cfg = ThreadConfig {
            max_posting: 2,
            ..ThreadConfig::default()
        };
        let flat = FlatVectors::new(&vectors);
        let p = Postings::new(&flat, 1, &cfg, &tdocs);
        assert_eq!(p.list(0), [(1, 0.9), (2, 0.8), (0, 0.5), (4, 0.1)]);
        let got = p.nearest(0, &flat, &cfg, 5, &mut Accumulator::with_len(5));
        assert_eq!(got, vec![(4, 0.05)]);
    }

    #[test]
    fn dot_is_the_same_whichever_way_it_walks() {
        let long: SparseVec = (0..100u64).map(|t| (t * 3, 1.0 + t as f32)).collect();
        let short: SparseVec = vec![(3, 2.0), (4, 5.0), (297, 1.0), (400, 1.0)];
        let walked = sparse::cosine(&short, &long);
        assert_eq!(dot(&short, &long), walked);
        assert_eq!(dot(&long, &short), walked);
        assert_eq!(walked, 2.0 * 2.0 + 100.0);
    }

    #[test]
    fn a_scattered_sum_dots_bit_for_bit_as_the_walk() {
        let long: SparseVec = (0..60u64).map(|t| (t * 3, 0.1 + t as f32 / 7.0)).collect();
        let others: Vec<SparseVec> = vec![
            vec![(3, 0.3), (4, 0.5), (150, 0.25), (177, 0.7)],
            (0..40u64)
                .map(|t| (t * 2, 1.0 / (1.0 + t as f32)))
                .collect(),
            (0..900u64).map(|t| (t, 0.01)).collect(),
            Vec::new(),
        ];
        let mut s = Scattered::new(900);
        for (k, o) in others.iter().enumerate() {
            let want = sparse::cosine(o, &long);
            assert_eq!(s.dot((0, 0), &long, o).to_bits(), want.to_bits(), "{k}");
            // Another cluster scattered in between clears the first.
            assert_eq!(s.dot((1 + k, 0), o, &long).to_bits(), want.to_bits(), "{k}");
        }
    }

    #[test]
    fn expansion_adds_the_neighbours_terms_weighted_by_similarity() {
        let base = [v(&[(1, 1.0)]), v(&[(1, 1.0), (2, 1.0)]), v(&[(3, 1.0)])];
        let cfg = ThreadConfig::default();
        let e = expand(
            &base[0],
            [(base[1].as_slice(), 0.7)].into_iter(),
            &cfg,
            &mut Accumulator::with_len(4),
        );
        let w = |t: u64| e.iter().find(|x| x.0 == t).map_or(0.0, |x| x.1);
        assert!(w(2) > 0.0 && w(1) > w(2), "{e:?}");
        assert_eq!(w(3), 0.0);
    }
}
