//! The batch pipeline cut into steps that each need only part of a corpus,
//! for running it on a cluster (the Python package's `wirecluster.spark`
//! drives these steps on Apache Spark; DESIGN.md, "Scale out").
//!
//! A [`Shard`] holds one config and what the corpus-wide steps learned; a
//! driver builds the same shard on every worker. The steps, in order:
//!
//! 1. [`Shard::sentence_contexts`] per document; the driver counts, per
//!    sentence, its documents and distinct contexts, and
//!    [`Shard::learned_sentences`] names the boilerplate. Every worker then
//!    takes it with [`Shard::with_boilerplate`].
//! 2. [`Shard::sketch`] per document: band keys, fingerprints and story
//!    terms for the driver to group on, and two opaque parts for the steps
//!    below (all hashes are stable: a sketch made anywhere agrees).
//! 3. The driver pairs documents that share a band key (each bucket's
//!    members in input order, each paired with the next
//!    [`Config::max_bucket`]) or share fingerprints (counting them, over
//!    fingerprints held by at most [`Config::max_posting`] documents), and
//!    [`Shard::verify`] keeps the duplicate pairs. (Verifying first costs
//!    moving two shingle sets per candidate pair, but components of the
//!    candidate pairs are far larger: at 200k documents the largest holds
//!    19,328 documents, against 1,925 for the duplicate pairs.)
//! 4. [`Shard::group_component`] per connected component of the duplicate
//!    pairs: the supersede rule, anti-chaining, canonicals, and the
//!    component's story units with their top terms.
//! 5. With the story level on, the driver counts document frequencies of
//!    the story terms first ([`Shard::with_document_frequencies`]); it pairs
//!    units sharing [`StoryConfig::min_shared_terms`] top terms (over terms
//!    that are top terms of at most [`StoryConfig::max_posting`] units),
//!    scores each pair ([`Shard::score_pair`]), gathers each unit's scored
//!    pairs for its [`Shard::neighbours`], mixes each pair's score with
//!    both units' neighbours ([`Shard::mixed_score`]), and
//!    [`Shard::link_component`] links each component of the pairs whose
//!    mixed score reaches [`StoryConfig::threshold`] (given all mixed pairs
//!    inside it) into stories. The candidate pairs themselves form one
//!    giant component in a topical corpus (41,205 of 50,374 units at 200k
//!    documents); the pairs over the threshold form small ones (81 units
//!    at most).
//! 6. With the thread level on ([`crate::ThreadConfig`]), the thread
//!    steps:
//!    - [`Shard::thread_sketch`] per document gives its thread terms; the
//!      driver counts their documents
//!      ([`Shard::with_thread_frequencies`]), and [`Shard::thread_base`]
//!      weighs each document's base vector.
//!    - The driver lists the holders of each term per time bucket, and
//!      [`Shard::thread_cut`] keeps the heaviest.
//!    - The driver joins each document's terms with their kept holders
//!      (in the buckets it reads), and [`Shard::thread_neighbours`] sums
//!      and ranks them.
//!    - [`Shard::thread_expand`] expands each document's vector with its
//!      neighbours'.
//!    - [`Shard::thread_story`] sums each story's expanded vectors.
//!    - [`Shard::link_threads`] links the stories along the stories of
//!      each document's first neighbours. This step reads every story's
//!      sum vector at once (45,106 stories at 200k documents).
//! 7. [`Shard::assignment_line`] writes each document's line, as
//!    `wirecluster cluster` does.
//!
//! Each step calls the batch pipeline's own rules, so the result is the
//! batch result (documents are ordered by the index the driver gives them,
//! which must follow the input order).
//!
//! ```
//! use wirecluster::distributed::Shard;
//! use wirecluster::{Config, Document};
//! let mut cfg = Config::default();
//! cfg.story.enabled = false;
//! let shard = Shard::new(cfg)?;
//! let text = "The central bank raised its key interest rate by half a point on Tuesday, \
//!             citing inflation that has run above its target for a year.";
//! let a = shard.sketch(&Document::new("a", text));
//! let b = shard.sketch(&Document::new("b", format!("{text}\nSubscribe now")));
//! assert_eq!(a.band_keys, b.band_keys);
//! assert!(shard.verify(&a.pair_part, &b.pair_part, None)?);
//! let out = shard.group_component(&[(0, &a.document[..]), (1, &b.document[..])], &[(0, 1)])?;
//! let line = shard.assignment_line(&out.assignments[1].1, None, None)?;
//! assert!(line.starts_with(r#"{"id":"b","duplicate_group":"a","canonical":false"#));
//! # Ok::<(), wirecluster::Error>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::document::{Document, Timestamp};
use crate::error::{Error, Result};
use crate::features::{FeatureExtractor, Figures, Scratch};
use crate::lsh;
use crate::normalize::{self, Normalizer};
use crate::output::{Assignment, DuplicateGroup, Member};
use crate::pipeline::{Clusterer, Timer};
use crate::signals::{self, RawTerms};
use crate::sparse::SparseVec;
use crate::story::{self, StoryConfig};
use crate::thread;
use crate::verify;
use crate::{canonical, sparse};

/// One config and what the corpus-wide steps learned; see the
/// [module](self).
#[derive(Debug, Clone)]
pub struct Shard {
    clusterer: Clusterer,
    fx: FeatureExtractor,
    story: Option<StoryIdf>,
    thread: Option<ThreadDf>,
}

/// The document frequencies of thread terms.
#[derive(Debug, Clone)]
struct ThreadDf {
    df: hash_hasher::HashedMap<u64, u64>,
    n_docs: u64,
}

/// The document frequencies of story terms, as IDF.
#[derive(Debug, Clone)]
struct StoryIdf {
    idf: hash_hasher::HashedMap<u64, f64>,
    unseen: f64,
    common: hash_hasher::HashedSet<u64>,
}

/// What one document contributes to the corpus-wide steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Sketch {
    /// LSH band keys (none for a document with no content).
    pub band_keys: Vec<u64>,
    /// Winnowed containment fingerprints, sorted.
    pub fingerprints: Vec<u64>,
    /// Distinct story terms, sorted (none with the story level off).
    pub story_terms: Vec<u64>,
    /// What [`Shard::verify`] reads of this document.
    pub pair_part: Vec<u8>,
    /// What [`Shard::group_component`] reads of this document.
    pub document: Vec<u8>,
}

/// One document's features, for pipelines of one's own: everything here is
/// a stable hash (DESIGN.md, "Stable hashes"), so features computed on any
/// machine agree.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentFeatures {
    /// The shingle set, sorted.
    pub shingles: Vec<u64>,
    /// The MinHash signature ([`Config::num_perm`] values).
    pub signature: Vec<u64>,
    /// LSH band keys (none for a document with no content), then, for a
    /// document dense in figures, the band keys of its shingles with the
    /// figures masked ([`Config::figures_jaccard`]).
    pub band_keys: Vec<u64>,
    /// Winnowed containment fingerprints, sorted.
    pub fingerprints: Vec<u64>,
    /// Distinct story terms, sorted (none with the story level off).
    pub story_terms: Vec<u64>,
}

/// What [`Shard::group_component`] found in one component.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedComponent {
    /// Per document, by index: its assignment without the story fields,
    /// for [`Shard::assignment_line`].
    pub assignments: Vec<(u64, Vec<u8>)>,
    /// The story units (duplicate groups); none with the story level off.
    pub units: Vec<Unit>,
}

/// A duplicate group as a story unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The smallest index of its members: its key and its order.
    pub key: u64,
    /// Its top story terms, to pair units on.
    pub top_terms: Vec<u64>,
    /// What [`Shard::score_pair`] reads of it.
    pub score_part: Vec<u8>,
    /// What [`Shard::link_component`] reads of it.
    pub part: Vec<u8>,
}

/// A document's place in its story.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryPlace {
    /// The document's index.
    pub index: u64,
    /// The story's id.
    pub story: String,
    /// Whether the document is the story's canonical.
    pub canonical: bool,
    /// Cosine of its story vector with the canonical's.
    pub similarity: f64,
}

/// What one document contributes to the thread level
/// ([`Shard::thread_sketch`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSketch {
    /// Its distinct thread terms, sorted: the driver counts their
    /// documents for [`Shard::with_thread_frequencies`].
    pub terms: Vec<u64>,
    /// What [`Shard::thread_base`] reads of it.
    pub part: Vec<u8>,
}

/// A document's base vector over its thread terms ([`Shard::thread_base`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadBase {
    /// Its terms and weights (positive), sorted by term: its postings, and
    /// its query for [`Shard::thread_neighbours`].
    pub vector: Vec<(u64, f32)>,
    /// Its date (seconds since the epoch).
    pub published: Option<i64>,
    /// Its time bucket: postings are cut per term and bucket
    /// ([`Shard::thread_cut`]), and a dated query reads only the holders
    /// of its own and the next buckets (and the undated ones).
    pub bucket: Option<i64>,
    /// What [`Shard::thread_expand`] reads of it.
    pub part: Vec<u8>,
}

/// One shared term of a query document and a holder of that term
/// ([`Shard::thread_neighbours`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThreadMatch {
    /// The term.
    pub term: u64,
    /// Its weight in the query's base vector.
    pub weight: f32,
    /// The holder's index.
    pub holder: u64,
    /// The term's weight in the holder's base vector.
    pub holder_weight: f32,
    /// The holder's date ([`ThreadBase::published`]).
    pub holder_published: Option<i64>,
}

/// A story as a unit of the thread linkage ([`Shard::thread_story`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadUnit {
    /// The smallest index of its documents: its key and its order.
    pub key: u64,
    /// What [`Shard::link_threads`] reads of it.
    pub part: Vec<u8>,
}

/// A story's thread ([`Shard::link_threads`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadPlace {
    /// The story's [`ThreadUnit::key`].
    pub story: u64,
    /// The thread's id: its canonical document's id.
    pub thread: String,
    /// The index of the thread's canonical document.
    pub canonical: u64,
}

#[derive(Serialize, Deserialize)]
struct ThreadTermsPart {
    id: String,
    published: Option<i64>,
    counts: Vec<(u64, u32)>,
}

/// A document's base or expanded thread vector.
#[derive(Serialize, Deserialize)]
struct ThreadVectorPart {
    id: String,
    published: Option<i64>,
    vector: SparseVec,
}

#[derive(Serialize, Deserialize)]
struct ThreadStoryPart {
    size: u32,
    canonical: u64,
    id: String,
    published: Option<i64>,
    sum: SparseVec,
}

/// What verification reads: the shingles cut to their high 32 bits, kept
/// sorted with repeats, beside the true set size. Two equal shingles stay
/// equal when cut, so the repeats-counted overlap of the cut lists is at
/// least the true overlap; with the true sizes, the duplicate test (which
/// only grows with the overlap) then keeps every true duplicate pair and,
/// rarely, a pair whose cut shingles collide. [`Shard::group_component`]
/// verifies its pairs again on the whole shingles, so the result is exact
/// while a pair moves half the bytes.
#[derive(Serialize, Deserialize)]
struct PairPart {
    cut: Vec<u32>,
    size: u32,
    published: Option<i64>,
    fingerprints: u32,
    figures: Figures,
}

/// The overlap of two sorted lists with repeats (each value counted the
/// fewer times it occurs in either).
fn multiset_overlap(a: &[u32], b: &[u32]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

#[derive(Serialize, Deserialize)]
struct DocPart {
    id: String,
    text: String,
    title: Option<String>,
    published: Option<i64>,
    source: Option<String>,
    url: Option<String>,
    set: Vec<u64>,
    figures: Figures,
    counts: Vec<(u64, f32)>,
    entities: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct UnitPart {
    id: crate::Id,
    canonical_reason: std::sync::Arc<str>,
    members: Vec<UnitMember>,
    vector: SparseVec,
    entities: SparseVec,
    time: Option<(i64, i64)>,
}

#[derive(Serialize, Deserialize)]
struct ScorePart {
    vector: SparseVec,
    entities: SparseVec,
    time: Option<(i64, i64)>,
}

#[derive(Serialize, Deserialize)]
struct UnitMember {
    index: u64,
    id: String,
    title: Option<String>,
    published: Option<i64>,
    jaccard: f64,
    containment: f64,
    vector: SparseVec,
    entities: Vec<u64>,
}

fn encode(v: &impl Serialize) -> Vec<u8> {
    postcard::to_stdvec(v).expect("in-memory encoding does not fail")
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|e| Error::Distributed {
        reason: format!("a {what} that no sketch of this version made ({e})"),
    })
}

/// Keyed parts in the order of their keys: the keys and the decoded parts.
fn decode_by_key<'a, T: Deserialize<'a>>(
    items: &[(u64, &'a [u8])],
    what: &str,
) -> Result<(Vec<u64>, Vec<T>)> {
    let mut order: Vec<&(u64, &[u8])> = items.iter().collect();
    order.sort_unstable_by_key(|x| x.0);
    let parts = order
        .iter()
        .map(|x| decode(x.1, what))
        .collect::<Result<_>>()?;
    Ok((order.iter().map(|x| x.0).collect(), parts))
}

/// Packs pairs of global indices into local ones; `local` maps a global
/// index to its position, pairs not within it are an error.
fn local_pairs(pairs: &[(u64, u64)], keys: &[u64], what: &str) -> Result<Vec<(u32, u32)>> {
    let mut out = Vec::with_capacity(pairs.len());
    for &(a, b) in pairs {
        let pos = |x: u64| {
            keys.binary_search(&x).map_err(|_| Error::Distributed {
                reason: format!("a pair names {what} {x}, which is not in its component"),
            })
        };
        let (i, j) = (pos(a)? as u32, pos(b)? as u32);
        if i != j {
            out.push((i.min(j), i.max(j)));
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

impl Shard {
    /// A shard with a validated config, nothing learned yet.
    pub fn new(config: Config) -> Result<Self> {
        let clusterer = Clusterer::new(config)?;
        let cfg = clusterer.config();
        let fx = FeatureExtractor::new(cfg, Normalizer::new(&cfg.normalize));
        Ok(Shard {
            clusterer,
            fx,
            story: None,
            thread: None,
        })
    }

    /// The config in use.
    pub fn config(&self) -> &Config {
        self.clusterer.config()
    }

    /// Step 1: the sentences of a text that may be learned as boilerplate,
    /// each with its context, as distinct `(sentence, context)` pairs
    /// (none when learning is off).
    pub fn sentence_contexts(&self, text: &str) -> Vec<(u64, u64)> {
        let n = &self.config().normalize;
        if !n.boilerplate.learn {
            return Vec::new();
        }
        normalize::sentence_contexts(&normalize::tokenize(text, n), n.boilerplate.max_line_words)
    }

    /// Step 1: the sentences learned as boilerplate in a corpus of `n_docs`
    /// documents, from `(sentence, documents, distinct contexts)` counts.
    pub fn learned_sentences(&self, n_docs: u64, counts: &[(u64, u64, u64)]) -> Vec<u64> {
        let b = &self.config().normalize.boilerplate;
        if !b.learn {
            return Vec::new();
        }
        let threshold = b.min_sentence_docs(n_docs as usize) as u64;
        let mut out: Vec<u64> = counts
            .iter()
            .filter(|&&(_, docs, contexts)| {
                docs >= threshold && b.keeps_different_company(docs as usize, contexts as usize)
            })
            .map(|&(k, _, _)| k)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Step 1: the fewest documents a sentence must be in to be learned, in
    /// a corpus of `n_docs` documents (a driver may drop rarer sentences
    /// before [`Self::learned_sentences`]).
    pub fn min_sentence_docs(&self, n_docs: u64) -> u64 {
        self.config()
            .normalize
            .boilerplate
            .min_sentence_docs(n_docs as usize) as u64
    }

    /// Takes the boilerplate sentences learned from the corpus.
    pub fn with_boilerplate(mut self, learned: &[u64]) -> Self {
        for &k in learned {
            self.fx.normalizer_mut().add_learned(k);
        }
        self
    }

    /// Takes the document frequencies of story terms over a corpus of
    /// `n_docs` documents, as `(term, documents)`.
    pub fn with_document_frequencies(mut self, n_docs: u64, df: &[(u64, u64)]) -> Self {
        let map: ahash::AHashMap<u64, u64> = df.iter().copied().collect();
        let common = story::common_terms(&map, n_docs, &self.config().story);
        self.story = Some(StoryIdf {
            idf: map
                .iter()
                .map(|(&t, &d)| (t, signals::idf(n_docs, d)))
                .collect(),
            unseen: signals::idf(n_docs, 0),
            common,
        });
        self
    }

    /// One document's features, with the boilerplate learned so far.
    ///
    /// ```
    /// use wirecluster::distributed::Shard;
    /// use wirecluster::{Config, Document};
    /// let shard = Shard::new(Config::default())?;
    /// let f = shard.features(&Document::new("a", "Floods closed roads across the north on Monday, officials said."));
    /// assert_eq!(f.signature.len(), Config::default().num_perm);
    /// assert!(!f.shingles.is_empty() && !f.band_keys.is_empty());
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn features(&self, doc: &Document) -> DocumentFeatures {
        self.extract(doc).0
    }

    fn extract(&self, doc: &Document) -> (DocumentFeatures, RawTerms, Figures) {
        let t = self.fx.tokenize(&doc.text);
        let mut signature = vec![0u64; self.fx.signature_len()];
        let f = self.fx.extract(
            &t,
            &doc.text,
            doc.title.as_deref(),
            &mut Scratch::default(),
            &mut signature,
        );
        let features = DocumentFeatures {
            band_keys: self.fx.band_keys(&signature, &f.figures),
            signature,
            fingerprints: f.fingerprints,
            story_terms: f.raw.terms.clone(),
            shingles: f.set,
        };
        (features, f.raw, f.figures)
    }

    /// Step 2: one document's sketch.
    pub fn sketch(&self, doc: &Document) -> Sketch {
        let (f, raw, figures) = self.extract(doc);
        let published = doc.published.map(Timestamp::seconds);
        let mut cut: Vec<u32> = f.shingles.iter().map(|&x| (x >> 32) as u32).collect();
        cut.sort_unstable();
        let pair_part = encode(&PairPart {
            cut,
            size: f.shingles.len() as u32,
            published,
            fingerprints: f.fingerprints.len() as u32,
            figures: figures.clone(),
        });
        let document = encode(&DocPart {
            id: doc.id.clone(),
            text: doc.text.clone(),
            title: doc.title.clone(),
            published,
            source: doc.source.clone(),
            url: doc.url.clone(),
            set: f.shingles,
            figures,
            counts: raw.counts().collect(),
            entities: raw.entities,
        });
        Sketch {
            band_keys: f.band_keys,
            fingerprints: f.fingerprints,
            story_terms: f.story_terms,
            pair_part,
            document,
        }
    }

    /// Step 3: the candidate pairs of the documents sharing one band key
    /// (their indices, in any order): in index order, each paired with the
    /// next [`Config::max_bucket`].
    pub fn bucket_pairs(&self, members: &mut [u64]) -> Vec<(u64, u64)> {
        members.sort_unstable();
        let mut out = Vec::new();
        lsh::for_bucket_pairs(members, self.config().max_bucket, |a, b| out.push((a, b)));
        out
    }

    /// Steps 3 and 5: the pairs of the items holding one key (fingerprint
    /// or top term), in index order; none when more than `max_posting` hold
    /// it ([`Config::max_posting`], [`StoryConfig::max_posting`]).
    pub fn posting_pairs(members: &mut [u64], max_posting: usize) -> Vec<(u64, u64)> {
        if members.len() > max_posting {
            return Vec::new();
        }
        members.sort_unstable();
        let mut out = Vec::new();
        lsh::for_bucket_pairs(members, usize::MAX, |a, b| out.push((a, b)));
        out
    }

    /// Step 3: whether two documents (their [`Sketch::pair_part`]s) may be
    /// a duplicate pair: `true` for every duplicate pair, and for the rare
    /// other pair whose shingles collide when cut to 32 bits (see
    /// [`Shard::group_component`], which verifies exactly).
    /// `shared_fingerprints` is `None` for a pair that shares a band key,
    /// else the number of fingerprints they share (the containment-candidate
    /// test then applies first).
    pub fn verify(&self, a: &[u8], b: &[u8], shared_fingerprints: Option<usize>) -> Result<bool> {
        let cfg = self.config();
        let (a, b): (PairPart, PairPart) = (decode(a, "pair part")?, decode(b, "pair part")?);
        if let Some(shared) = shared_fingerprints
            && !verify::containment_candidate(
                shared,
                a.fingerprints as usize,
                b.fingerprints as usize,
                cfg.containment_candidate,
            )
        {
            return Ok(false);
        }
        if verify::too_far_apart(cfg, verify::time_gap(a.published, b.published)) {
            return Ok(false);
        }
        let o = crate::similarity::Overlap {
            shared: multiset_overlap(&a.cut, &b.cut).min(a.size.min(b.size) as usize),
            size_a: a.size as usize,
            size_b: b.size as usize,
        };
        Ok(verify::judge(cfg, o, &a.figures, &b.figures).is_some())
    }

    /// Step 4: the duplicate groups of one component: its documents as
    /// `(index, Sketch::document)` and its pairs by index, each verified
    /// here exactly (pairs that are no duplicates are dropped).
    pub fn group_component(
        &self,
        docs: &[(u64, &[u8])],
        pairs: &[(u64, u64)],
    ) -> Result<GroupedComponent> {
        let mut order: Vec<usize> = (0..docs.len()).collect();
        order.sort_unstable_by_key(|&i| docs[i].0);
        let keys: Vec<u64> = order.iter().map(|&i| docs[i].0).collect();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Distributed {
                reason: "a component lists one document twice".to_string(),
            });
        }
        let mut documents = Vec::with_capacity(docs.len());
        let mut sets = Vec::with_capacity(docs.len());
        let mut figures = Vec::with_capacity(docs.len());
        let mut raw = Vec::with_capacity(docs.len());
        for &i in &order {
            let p: DocPart = decode(docs[i].1, "document part")?;
            let mut d = Document::new(p.id, p.text);
            d.title = p.title;
            d.published = p.published.map(Timestamp::from_seconds);
            d.source = p.source;
            d.url = p.url;
            documents.push(d);
            sets.push(p.set);
            figures.push(p.figures);
            let (terms, weights) = p.counts.into_iter().unzip();
            raw.push(RawTerms {
                terms,
                weights,
                entities: p.entities,
            });
        }
        let packed: Vec<u64> = local_pairs(pairs, &keys, "document")?
            .into_iter()
            .map(|(a, b)| lsh::pack(a, b))
            .collect();
        let c = &self.clusterer;
        let t = &mut Timer::new();
        let mut edges = c.verify(&documents, &sets, &figures, &packed, t);
        let grouping = c.group(&documents, &self.fx, &sets, &mut edges, t);
        let (groups, assignments) = c.canonicals(&documents, &sets, &grouping, &edges, t);
        let assignments = assignments
            .iter()
            .enumerate()
            .map(|(i, a)| (keys[i], encode(a)))
            .collect();
        let units = match (&self.story, self.config().story.enabled) {
            (_, false) => Vec::new(),
            (None, true) => {
                return Err(Error::Distributed {
                    reason: "the story level needs document frequencies \
                             (Shard::with_document_frequencies) before grouping"
                        .to_string(),
                });
            }
            (Some(s), true) => self.units(s, &keys, &documents, &raw, &groups),
        };
        Ok(GroupedComponent { assignments, units })
    }

    fn units(
        &self,
        s: &StoryIdf,
        keys: &[u64],
        docs: &[Document],
        raw: &[RawTerms],
        groups: &[DuplicateGroup],
    ) -> Vec<Unit> {
        let idf_of = |t: u64| s.idf.get(&t).copied().unwrap_or(s.unseen);
        let v = self.clusterer.story_vectors(docs, raw, groups, &idf_of);
        let top = story::unit_top_terms(&v.unit_vectors, &s.common, &self.config().story);
        groups
            .iter()
            .enumerate()
            .zip(top)
            .map(|((u, g), top_terms)| {
                let members = g
                    .members
                    .iter()
                    .map(|m| {
                        let d = &docs[m.index];
                        UnitMember {
                            index: keys[m.index],
                            id: d.id.clone(),
                            title: d.title.clone(),
                            published: d.published.map(Timestamp::seconds),
                            jaccard: m.jaccard_to_canonical,
                            containment: m.containment_in_canonical,
                            vector: v.doc_vectors[m.index].clone(),
                            entities: raw[m.index].entities.clone(),
                        }
                    })
                    .collect();
                Unit {
                    key: g.members.iter().map(|m| keys[m.index]).min().unwrap_or(0),
                    top_terms,
                    score_part: encode(&ScorePart {
                        vector: v.unit_vectors[u].clone(),
                        entities: v.unit_entities[u].clone(),
                        time: v.times[u],
                    }),
                    part: encode(&UnitPart {
                        id: g.id.clone(),
                        canonical_reason: g.canonical_reason.clone(),
                        members,
                        vector: v.unit_vectors[u].clone(),
                        entities: v.unit_entities[u].clone(),
                        time: v.times[u],
                    }),
                }
            })
            .collect()
    }

    /// Step 5: the score of a candidate pair of units (their
    /// [`Unit::score_part`]s): cosine, entity agreement, time factor.
    pub fn score_pair(&self, a: &[u8], b: &[u8]) -> Result<f64> {
        let (a, b): (ScorePart, ScorePart) = (decode(a, "score part")?, decode(b, "score part")?);
        let (vectors, entities, times) = (
            [a.vector, b.vector],
            [a.entities, b.entities],
            [a.time, b.time],
        );
        let u = story::UnitSignals {
            vectors: &vectors,
            entities: &entities,
            times: &times,
        };
        Ok(story::pair_total(0, 1, &u, &self.config().story))
    }

    /// Step 5: a unit's neighbours (by key, sorted) among its scored
    /// candidates `(score, other unit's key)`.
    pub fn neighbours(&self, candidates: Vec<(f64, u64)>) -> Vec<u64> {
        story::neighbours(candidates, &self.config().story)
    }

    /// Step 5: a pair's score mixed with its shared-neighbour score, from
    /// both units' [`Self::neighbours`]. Stories join only along pairs whose
    /// mixed score reaches [`StoryConfig::threshold`], so the components of
    /// those pairs can be linked apart.
    pub fn mixed_score(&self, a: u64, b: u64, score: f64, knn_a: &[u64], knn_b: &[u64]) -> f64 {
        story::mixed_score(a, b, score, knn_a, knn_b, &self.config().story)
    }

    /// Step 5: the stories of one component: its units as `(Unit::key,
    /// Unit::part)` and the mixed scores of its candidate pairs by key.
    /// Returns every member document's place.
    pub fn link_component(
        &self,
        units: &[(u64, &[u8])],
        pairs: &[(u64, u64, f64)],
    ) -> Result<Vec<StoryPlace>> {
        let (keys, parts): (Vec<u64>, Vec<UnitPart>) = decode_by_key(units, "unit part")?;
        // The member documents, in index order.
        let mut members: Vec<(u64, usize, usize)> = parts
            .iter()
            .enumerate()
            .flat_map(|(u, p)| {
                p.members
                    .iter()
                    .enumerate()
                    .map(move |(m, x)| (x.index, u, m))
            })
            .collect();
        members.sort_unstable();
        let doc_keys: Vec<u64> = members.iter().map(|m| m.0).collect();
        let mut docs = Vec::with_capacity(members.len());
        let mut doc_vectors = Vec::with_capacity(members.len());
        let mut raw = Vec::with_capacity(members.len());
        for &(_, u, m) in &members {
            let x = &parts[u].members[m];
            let mut d = Document::new(x.id.clone(), String::new());
            d.title = x.title.clone();
            d.published = x.published.map(Timestamp::from_seconds);
            docs.push(d);
            doc_vectors.push(x.vector.clone());
            raw.push(RawTerms {
                entities: x.entities.clone(),
                ..RawTerms::default()
            });
        }
        let local = |index: u64| doc_keys.binary_search(&index).expect("a member");
        let groups: Vec<DuplicateGroup> = parts
            .iter()
            .map(|p| DuplicateGroup {
                id: p.id.clone(),
                canonical_reason: p.canonical_reason.clone(),
                members: p
                    .members
                    .iter()
                    .map(|x| Member {
                        id: x.id.as_str().into(),
                        index: local(x.index),
                        jaccard_to_canonical: x.jaccard,
                        containment_in_canonical: x.containment,
                    })
                    .collect(),
            })
            .collect();
        let mut scored: Vec<story::ScoredPair> = Vec::with_capacity(pairs.len());
        for &(a, b, score) in pairs {
            let pos = |x: u64| {
                keys.binary_search(&x).map_err(|_| Error::Distributed {
                    reason: format!("a pair names unit {x}, which is not in its component"),
                })
            };
            let (i, j) = (pos(a)? as u32, pos(b)? as u32);
            if i != j {
                scored.push(story::ScoredPair {
                    a: i.min(j),
                    b: i.max(j),
                    score,
                });
            }
        }
        scored.sort_unstable_by_key(|p| (p.a, p.b));
        scored.dedup_by_key(|p| (p.a, p.b));
        let clusters = story::average_linkage(parts.len(), &scored, self.config().story.threshold);
        let stories = self
            .clusterer
            .make_stories(&clusters, &docs, &groups, &doc_vectors, &raw);
        let mut places: Vec<Assignment> = docs
            .iter()
            .map(|d| Assignment {
                id: d.id.as_str().into(),
                duplicate_group: "".into(),
                canonical: false,
                group_size: 0,
                jaccard_to_canonical: 0.0,
                containment_in_canonical: 0.0,
                story: "".into(),
                story_canonical: false,
                story_similarity: 0.0,
                thread: "".into(),
                thread_canonical: false,
            })
            .collect();
        self.clusterer.assign_stories(&stories, &mut places);
        Ok(places
            .into_iter()
            .zip(&doc_keys)
            .map(|(a, &index)| StoryPlace {
                index,
                story: a.story.to_string(),
                canonical: a.story_canonical,
                similarity: a.story_similarity,
            })
            .collect())
    }

    /// Thread step 1: a document's thread terms (the headline's words and
    /// the link's, [`crate::ThreadConfig`]).
    pub fn thread_sketch(&self, doc: &Document) -> ThreadSketch {
        let counts = thread::thread_terms(&doc.into(), &self.config().thread);
        ThreadSketch {
            terms: counts.iter().map(|&(t, _)| t).collect(),
            part: encode(&ThreadTermsPart {
                id: doc.id.clone(),
                published: doc.published.map(Timestamp::seconds),
                counts,
            }),
        }
    }

    /// Takes the document frequencies of thread terms
    /// ([`ThreadSketch::terms`]) over a corpus of `n_docs` documents, as
    /// `(term, documents)`.
    pub fn with_thread_frequencies(mut self, n_docs: u64, df: &[(u64, u64)]) -> Self {
        self.thread = Some(ThreadDf {
            df: df.iter().copied().collect(),
            n_docs,
        });
        self
    }

    /// Thread step 2: a document's base vector, from its
    /// [`ThreadSketch::part`] and the frequencies taken.
    pub fn thread_base(&self, terms: &[u8]) -> Result<ThreadBase> {
        let p: ThreadTermsPart = decode(terms, "thread terms part")?;
        let Some(f) = &self.thread else {
            return Err(Error::Distributed {
                reason: "thread vectors need the frequencies of thread terms \
                         (Shard::with_thread_frequencies)"
                    .to_string(),
            });
        };
        if let Some(&(t, _)) = p.counts.iter().find(|(t, _)| !f.df.contains_key(t)) {
            return Err(Error::Distributed {
                reason: format!("thread term {t} of document {:?} was not counted", p.id),
            });
        }
        let vector = thread::weigh(p.counts.into_iter(), |t| signals::idf(f.n_docs, f.df[&t]));
        Ok(ThreadBase {
            part: encode(&ThreadVectorPart {
                id: p.id,
                published: p.published,
                vector: vector.clone(),
            }),
            bucket: thread::time_bucket(p.published, &self.config().thread),
            published: p.published,
            vector,
        })
    }

    /// Thread step 3: of the holders of one term in one time bucket, as
    /// `(index, id, weight)`, the indices its postings keep, sorted: the
    /// [`ThreadConfig::max_posting`](crate::ThreadConfig::max_posting) of
    /// highest weight, ties by id.
    pub fn thread_cut(&self, holders: &[(u64, &str, f32)]) -> Vec<u64> {
        let by_position: Vec<(usize, f32)> =
            holders.iter().enumerate().map(|(k, h)| (k, h.2)).collect();
        let kept =
            thread::cut_to_heaviest(by_position, self.config().thread.max_posting, |a, b| {
                holders[a].1.cmp(holders[b].1)
            });
        let mut out: Vec<u64> = kept.into_iter().map(|(k, _)| holders[k].0).collect();
        out.sort_unstable();
        out
    }

    /// Thread step 4: a document's nearest neighbours, best first with
    /// their similarity, from every term it shares with a kept holder
    /// ([`Self::thread_cut`]) whose bucket it reads
    /// ([`ThreadBase::bucket`]). A driver may leave out holders of buckets
    /// it does not read; they are ruled out here. `matches` is sorted in
    /// place.
    pub fn thread_neighbours(
        &self,
        index: u64,
        published: Option<i64>,
        matches: &mut [ThreadMatch],
    ) -> Vec<(u64, f32)> {
        let cfg = &self.config().thread;
        let bucket = |p: Option<i64>| thread::time_bucket(p, cfg);
        let q = bucket(published);
        // Each holder's similarity summed in term order, as the batch's
        // accumulator sums it.
        matches.sort_unstable_by_key(|m| (m.holder, m.term));
        let matches = &*matches;
        let scored = matches
            .chunk_by(|a, b| a.holder == b.holder)
            .filter(|run| thread::reads_bucket(q, bucket(run[0].holder_published)))
            .map(|run| {
                let s = run
                    .iter()
                    .fold(0.0f32, |s, m| s + m.weight * m.holder_weight);
                (run[0].holder, s)
            });
        let date_of = |j: u64| matches[matches.partition_point(|m| m.holder < j)].holder_published;
        let k = cfg.neighbours.max(cfg.links);
        thread::nearest_neighbours(index, published, scored, date_of, cfg, k)
    }

    /// Thread step 5: a document's expanded vector from its base part
    /// ([`ThreadBase::part`]) and its neighbours' ([`Self::thread_neighbours`]
    /// order, each with its similarity).
    pub fn thread_expand(&self, own: &[u8], near: &[(f32, &[u8])]) -> Result<Vec<u8>> {
        let cfg = &self.config().thread;
        let own: ThreadVectorPart = decode(own, "thread vector part")?;
        let near: Vec<(f32, ThreadVectorPart)> = near
            .iter()
            .take(cfg.neighbours)
            .map(|&(s, p)| Ok((s, decode(p, "thread vector part")?)))
            .collect::<Result<_>>()?;
        let vector = thread::expand(
            &own.vector,
            near.iter().map(|(s, p)| (p.vector.as_slice(), *s)),
            cfg,
            &mut ahash::AHashMap::new(),
        );
        Ok(encode(&ThreadVectorPart { vector, ..own }))
    }

    /// Thread step 6: a story as a unit of the linkage, from its members'
    /// expanded parts ([`Self::thread_expand`]) by index, and the index of
    /// its canonical.
    pub fn thread_story(&self, canonical: u64, members: &[(u64, &[u8])]) -> Result<ThreadUnit> {
        let mut order: Vec<&(u64, &[u8])> = members.iter().collect();
        // Summed canonical first, then by index, as the batch sums a story.
        order.sort_unstable_by_key(|m| (m.0 != canonical, m.0));
        if order.first().is_none_or(|m| m.0 != canonical) {
            return Err(Error::Distributed {
                reason: format!("a story's members do not hold its canonical {canonical}"),
            });
        }
        let parts: Vec<ThreadVectorPart> = order
            .iter()
            .map(|m| decode(m.1, "thread vector part"))
            .collect::<Result<_>>()?;
        let sum = sparse::sum(parts.iter().map(|p| &p.vector));
        let lead = parts.into_iter().next().expect("a canonical");
        Ok(ThreadUnit {
            key: members.iter().map(|m| m.0).min().expect("a member"),
            part: encode(&ThreadStoryPart {
                size: members.len() as u32,
                canonical,
                id: lead.id,
                published: lead.published,
                sum,
            }),
        })
    }

    /// Thread step 7: the threads of the stories ([`Self::thread_story`], as
    /// `(key, part)`) linked by `pairs` of story keys: the stories of each
    /// document and of each of its first
    /// [`ThreadConfig::links`](crate::ThreadConfig::links) neighbours. The
    /// linkage reads every story's sum at once; it runs on one machine.
    pub fn link_threads(
        &self,
        stories: &[(u64, &[u8])],
        pairs: &[(u64, u64)],
    ) -> Result<Vec<ThreadPlace>> {
        let (keys, parts): (Vec<u64>, Vec<ThreadStoryPart>) =
            decode_by_key(stories, "thread story part")?;
        let pairs = local_pairs(pairs, &keys, "story")?;
        let sizes: Vec<u32> = parts.iter().map(|p| p.size).collect();
        // The linkage reads terms as dense ids; ids in the order of the
        // hashes leave every sum and dot product as it was.
        let mut vocabulary: Vec<u64> = parts
            .iter()
            .flat_map(|p| p.sum.iter().map(|x| x.0))
            .collect();
        vocabulary.sort_unstable();
        vocabulary.dedup();
        let id = |t: u64| vocabulary.binary_search(&t).expect("a term") as u64;
        let sums: Vec<SparseVec> = parts
            .iter()
            .map(|p| p.sum.iter().map(|&(t, w)| (id(t), w)).collect())
            .collect();
        let clusters = thread::exact_average_linkage(
            sums,
            sizes,
            &pairs,
            self.config().thread.threshold,
            vocabulary.len(),
        );
        let mut out = Vec::with_capacity(parts.len());
        for units in clusters {
            let lead = canonical::story_lead(units.iter().map(|&u| {
                let p = &parts[u as usize];
                (p.size as usize, p.published, p.id.as_str())
            }))
            .map(|i| &parts[units[i] as usize])
            .expect("a thread has at least one story");
            out.extend(units.iter().map(|&u| ThreadPlace {
                story: keys[u as usize],
                thread: lead.id.clone(),
                canonical: lead.canonical,
            }));
        }
        out.sort_unstable_by_key(|p| p.story);
        Ok(out)
    }

    /// A document's duplicate group and whether it is the group's
    /// canonical, from its assignment ([`GroupedComponent::assignments`]):
    /// its story when the story level is off.
    pub fn assignment_group(&self, assignment: &[u8]) -> Result<(String, bool)> {
        let a: Assignment = decode(assignment, "assignment")?;
        Ok((a.duplicate_group.to_string(), a.canonical))
    }

    /// Step 7: a document's output line (JSON, no newline) from its
    /// assignment ([`GroupedComponent::assignments`]), with the story level
    /// on its story place, and with the thread level on its thread's id and
    /// whether it is the thread's canonical ([`Self::link_threads`]).
    pub fn assignment_line(
        &self,
        assignment: &[u8],
        story: Option<&StoryPlace>,
        thread: Option<(&str, bool)>,
    ) -> Result<String> {
        let mut a: Assignment = decode(assignment, "assignment")?;
        match (story, self.config().story.enabled) {
            (_, false) => {
                self.clusterer
                    .assign_stories(&[], std::slice::from_mut(&mut a));
            }
            (Some(p), true) => {
                a.story = p.story.as_str().into();
                a.story_canonical = p.canonical;
                a.story_similarity = p.similarity;
            }
            (None, true) => {
                return Err(Error::Distributed {
                    reason: format!("document {:?} has no story place", a.id),
                });
            }
        }
        match (thread, self.config().thread.enabled) {
            (_, false) => crate::pipeline::assign_threads(&[], std::slice::from_mut(&mut a)),
            (Some((id, canonical)), true) => {
                a.thread = id.into();
                a.thread_canonical = canonical;
            }
            (None, true) => {
                return Err(Error::Distributed {
                    reason: format!("document {:?} has no thread", a.id),
                });
            }
        }
        Ok(serde_json::to_string(&a).expect("an assignment serializes"))
    }

    /// The story config in use.
    pub fn story_config(&self) -> &StoryConfig {
        &self.config().story
    }
}
