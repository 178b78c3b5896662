//! The batch pipeline: documents in, duplicate groups out.
//!
//! Data flows one way: tokenize → learn boilerplate → shingle → sign and
//! fingerprint → candidates (LSH bands, containment index) → verify → group →
//! canonical. Every parallel step maps documents, bands or pairs in input
//! order, so the output is the same for any number of threads.

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::canonical;
use crate::cluster;
use crate::config::Config;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::lsh::{self, LshParams};
use crate::minhash::MinHasher;
use crate::normalize::{self, Normalizer};
use crate::shingle::{self, ShingleUnit};
use crate::similarity::Overlap;
use crate::winnow;

/// How a verified pair relates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EdgeKind {
    /// Near-verbatim copies: Jaccard ≥ 0.8.
    Copy,
    /// One is (mostly) inside the other: containment of the smaller ≥ 0.8,
    /// as with a truncated reprint or an excerpt.
    Contained,
    /// Above the duplicate thresholds but neither of the above: a rewrite.
    Rewrite,
    /// A duplicate edge cut by the anti-chaining guard: it linked a
    /// multi-story page to a story other than its lead story.
    CutAggregatorLink,
    /// A containment edge set aside because the smaller document is far more
    /// contained in another document (its real source); see
    /// [`Config::best_match_margin`](crate::Config::best_match_margin).
    Superseded,
}

/// A verified duplicate edge with its exact scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edge {
    /// Index of the first document (input order), `a < b`.
    pub a: usize,
    /// Index of the second document.
    pub b: usize,
    /// Shared shingles.
    pub shared: usize,
    /// Exact Jaccard of the shingle sets.
    pub jaccard: f64,
    /// How much of `a` is in `b`.
    pub containment_a_in_b: f64,
    /// How much of `b` is in `a`.
    pub containment_b_in_a: f64,
    /// Publication time difference in seconds, when both are dated.
    pub time_gap_secs: Option<i64>,
    /// The relation.
    pub kind: EdgeKind,
}

/// One member of a duplicate group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Document id.
    pub id: String,
    /// Index in the input.
    pub index: usize,
    /// Exact Jaccard with the canonical member (1 for the canonical).
    pub jaccard_to_canonical: f64,
    /// How much of this member is contained in the canonical member.
    pub containment_in_canonical: f64,
}

/// A group of reprints and rewrites of one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    /// The group's id: its canonical member's id.
    pub id: String,
    /// Why the canonical member was chosen.
    pub canonical_reason: String,
    /// Members, the canonical first, then in input order.
    pub members: Vec<Member>,
}

/// Where one input document ended up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    /// Document id.
    pub id: String,
    /// Id of the duplicate group (its canonical member's id).
    pub duplicate_group: String,
    /// Whether this document is its group's canonical representative.
    pub canonical: bool,
    /// Number of members in the group.
    pub group_size: usize,
    /// Exact Jaccard with the canonical member.
    pub jaccard_to_canonical: f64,
    /// How much of this document is contained in the canonical member.
    pub containment_in_canonical: f64,
}

/// Counts and timings of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Documents clustered.
    pub documents: usize,
    /// Bytes of text (`text` fields).
    pub text_bytes: usize,
    /// Threads in the rayon pool.
    pub threads: usize,
    /// Sentences learned as boilerplate from this corpus.
    pub learned_boilerplate_sentences: usize,
    /// Lines and sentences removed as boilerplate (rules and learned).
    pub removed_lines: usize,
    /// Documents with no content left after normalization (they stay
    /// singletons).
    pub empty_documents: usize,
    /// LSH banding used.
    pub lsh: Option<LshParams>,
    /// Candidate pairs from LSH bands.
    pub lsh_candidates: usize,
    /// Candidate pairs from the containment index.
    pub containment_candidates: usize,
    /// Fingerprints skipped as too common.
    pub common_fingerprints: usize,
    /// Distinct candidate pairs verified exactly.
    pub verified_pairs: usize,
    /// Verified pairs accepted as duplicate edges.
    pub duplicate_edges: usize,
    /// Multi-story pages found by the anti-chaining guard.
    pub aggregator_pages: usize,
    /// Duplicate groups (singletons included).
    pub groups: usize,
    /// Seconds per stage, in pipeline order.
    pub stage_secs: Vec<(String, f64)>,
    /// Total seconds.
    pub total_secs: f64,
}

/// The result of clustering a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clustering {
    /// Duplicate groups, ordered by their first member in input order.
    pub groups: Vec<DuplicateGroup>,
    /// One assignment per input document, in input order.
    pub assignments: Vec<Assignment>,
    /// Accepted duplicate edges (and cut aggregator links), sorted by `(a, b)`.
    pub edges: Vec<Edge>,
    /// Counts and timings.
    pub stats: Stats,
}

/// Per-document features computed once.
pub(crate) struct Features {
    /// The normalizer, with what it learned from this corpus.
    pub norm: Normalizer,
    /// Sorted, deduplicated shingle sets.
    pub sets: Vec<Vec<u64>>,
    /// Signatures, `num_perm` values per document, flat.
    pub signatures: Vec<u64>,
    pub num_perm: usize,
    pub fingerprints: Vec<Vec<u64>>,
    pub removed_lines: usize,
    pub learned_lines: usize,
}

/// Clusters documents into duplicate groups.
///
/// ```
/// use wirecluster::{Clusterer, Config, Document};
/// let story = "The central bank raised its key interest rate by half a point on Tuesday, \
///              citing inflation that has run above its target for a year.\n\
///              Economists had expected a smaller move.";
/// let docs = vec![
///     Document::new("a", story),
///     Document::new("b", format!("{story}\nSubscribe now")),
///     Document::new("c", "A storm closed schools and roads across the northern region on Monday, officials said."),
/// ];
/// let out = Clusterer::new(Config::default())?.cluster(&docs)?;
/// assert_eq!(out.assignments[1].duplicate_group, "a");
/// assert_eq!(out.assignments[2].duplicate_group, "c");
/// # Ok::<(), wirecluster::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Clusterer {
    config: Config,
}

impl Clusterer {
    /// A clusterer with a validated config.
    pub fn new(config: Config) -> Result<Self> {
        config.validate()?;
        Ok(Clusterer { config })
    }

    /// The config in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Shingles of one document's content in text order (repeats kept).
    fn ordered_shingles(
        &self,
        norm: &Normalizer,
        t: &normalize::Tokenized,
        text: &str,
        content: &mut Vec<u64>,
    ) -> (Vec<u64>, usize) {
        content.clear();
        let removed = norm.content_hashes_into(t, content);
        let ordered = match self.config.shingle {
            ShingleUnit::Words(n) => {
                let mut o = Vec::with_capacity(content.len());
                shingle::word_shingles_into(content, n, &mut o);
                o
            }
            ShingleUnit::Chars(n) => shingle::char_shingles(&norm.content_text(text), n),
        };
        (ordered, removed)
    }

    /// Computes normalized shingles, signatures and fingerprints.
    pub(crate) fn features(&self, docs: &[Document], timer: &mut Timer) -> Features {
        let cfg = &self.config;
        let tokenized: Vec<normalize::Tokenized> = docs
            .par_iter()
            .map(|d| normalize::tokenize(&d.text, &cfg.normalize))
            .collect();
        timer.lap("tokenize");
        let norm = Normalizer::from_tokenized(&tokenized, &cfg.normalize);
        timer.lap("boilerplate");
        let hasher = MinHasher::new(cfg.algorithm, cfg.num_perm, cfg.seed);
        let k = hasher.len();
        let mut signatures = vec![0u64; docs.len() * k];
        type DocFeatures = (Vec<u64>, Vec<u64>, usize);
        let per_doc: Vec<DocFeatures> = tokenized
            .par_iter()
            .zip(docs.par_iter())
            .zip(signatures.par_chunks_mut(k))
            .map_init(Vec::new, |content, ((t, d), sig)| {
                let (mut ordered, removed) = self.ordered_shingles(&norm, t, &d.text, content);
                let fps = winnow::winnow(&ordered, cfg.winnow_window);
                ordered.sort_unstable();
                ordered.dedup();
                ordered.shrink_to_fit();
                hasher.signature_into_slice(&ordered, sig);
                (ordered, fps, removed)
            })
            .collect();
        drop(tokenized);
        let mut f = Features {
            sets: Vec::with_capacity(docs.len()),
            signatures,
            num_perm: k,
            fingerprints: Vec::with_capacity(docs.len()),
            removed_lines: 0,
            learned_lines: norm.learned_sentences(),
            norm,
        };
        for (s, p, r) in per_doc {
            f.sets.push(s);
            f.fingerprints.push(p);
            f.removed_lines += r;
        }
        timer.lap("shingle+sign");
        f
    }

    /// Clusters a batch of documents into duplicate groups.
    ///
    /// Fails on duplicate ids; every other input is accepted (a document with
    /// no content left after normalization is a singleton).
    pub fn cluster(&self, docs: &[Document]) -> Result<Clustering> {
        check_unique_ids(docs)?;
        let cfg = &self.config;
        let mut timer = Timer::new();
        let f = self.features(docs, &mut timer);

        let params = cfg.lsh_params();
        let lsh_pairs = lsh::candidate_pairs(&f.signatures, f.num_perm, &params, cfg.max_bucket);
        timer.lap("lsh");
        let cont =
            winnow::candidate_pairs(&f.fingerprints, cfg.containment_candidate, cfg.max_posting);
        let mut candidates = Vec::with_capacity(lsh_pairs.len() + cont.pairs.len());
        candidates.extend_from_slice(&lsh_pairs);
        candidates.extend_from_slice(&cont.pairs);
        candidates.par_sort_unstable();
        candidates.dedup();
        timer.lap("containment");

        let verified: Vec<Option<Edge>> = candidates
            .par_iter()
            .map(|&p| {
                let (a, b) = lsh::unpack(p);
                self.verify(docs, &f.sets, a as usize, b as usize)
            })
            .collect();
        let mut edges: Vec<Edge> = verified.into_iter().flatten().collect();
        supersede_weak_containment(&mut edges, docs.len(), cfg);
        let packed: Vec<u64> = edges
            .iter()
            .filter(|e| e.kind != EdgeKind::Superseded)
            .map(|e| lsh::pack(e.a as u32, e.b as u32))
            .collect();
        timer.lap("verify");

        // Text order is needed only for the few documents the anti-chaining
        // guard examines, so it is recomputed for them.
        let ordered = |p: usize| {
            let t = normalize::tokenize(&docs[p].text, &cfg.normalize);
            self.ordered_shingles(&f.norm, &t, &docs[p].text, &mut Vec::new())
                .0
        };
        let grouping = cluster::group(
            docs.len(),
            &packed,
            &f.sets,
            &ordered,
            cfg.hub_region_overlap,
        );
        for h in &grouping.hubs {
            for &x in &h.cut {
                let (a, b) = (h.doc.min(x), h.doc.max(x));
                if let Ok(i) = edges.binary_search_by(|e| (e.a, e.b).cmp(&(a, b))) {
                    edges[i].kind = EdgeKind::CutAggregatorLink;
                }
            }
        }
        timer.lap("group");

        // Intersection sizes: from the verified edges where there is one.
        let shared = |a: usize, b: usize| {
            let (x, y) = (a.min(b), a.max(b));
            match edges.binary_search_by(|e| (e.a, e.b).cmp(&(x, y))) {
                Ok(i) => edges[i].shared,
                Err(_) => crate::similarity::intersection_size(&f.sets[a], &f.sets[b]),
            }
        };
        let groups: Vec<DuplicateGroup> = grouping
            .groups
            .par_iter()
            .map(|members| self.make_group(members, docs, &f.sets, &shared))
            .collect();
        let mut assignments: Vec<Option<Assignment>> = vec![None; docs.len()];
        for g in &groups {
            for m in &g.members {
                assignments[m.index] = Some(Assignment {
                    id: m.id.clone(),
                    duplicate_group: g.id.clone(),
                    canonical: m.id == g.id,
                    group_size: g.members.len(),
                    jaccard_to_canonical: m.jaccard_to_canonical,
                    containment_in_canonical: m.containment_in_canonical,
                });
            }
        }
        let assignments: Vec<Assignment> = assignments.into_iter().flatten().collect();
        timer.lap("canonical");

        let stats = Stats {
            documents: docs.len(),
            text_bytes: docs.iter().map(|d| d.text.len()).sum(),
            threads: rayon::current_num_threads(),
            learned_boilerplate_sentences: f.learned_lines,
            removed_lines: f.removed_lines,
            empty_documents: f.sets.iter().filter(|s| s.is_empty()).count(),
            lsh: Some(params),
            lsh_candidates: lsh_pairs.len(),
            containment_candidates: cont.pairs.len(),
            common_fingerprints: cont.common_fingerprints,
            verified_pairs: candidates.len(),
            duplicate_edges: edges
                .iter()
                .filter(|e| e.kind != EdgeKind::Superseded)
                .count(),
            aggregator_pages: grouping.hubs.len(),
            groups: groups.len(),
            total_secs: timer.total(),
            stage_secs: timer.laps,
        };
        Ok(Clustering {
            groups,
            assignments,
            edges,
            stats,
        })
    }

    /// Scores one candidate pair; `Some` when it is a duplicate edge.
    fn verify(&self, docs: &[Document], sets: &[Vec<u64>], a: usize, b: usize) -> Option<Edge> {
        let cfg = &self.config;
        let o = Overlap::of(&sets[a], &sets[b]);
        let time_gap_secs = match (docs[a].published, docs[b].published) {
            (Some(x), Some(y)) => Some((x.seconds() - y.seconds()).abs()),
            _ => None,
        };
        if let (Some(gap), Some(max)) = (time_gap_secs, cfg.max_time_gap_secs)
            && gap > max
        {
            return None;
        }
        let j = o.jaccard();
        let c = o.max_containment();
        let accept = j >= cfg.jaccard_threshold
            || (c >= cfg.containment_threshold
                && o.shared >= cfg.min_shared_shingles.min(o.size_a.min(o.size_b)));
        if !accept {
            return None;
        }
        let kind = if j >= 0.8 {
            EdgeKind::Copy
        } else if c >= 0.8 {
            EdgeKind::Contained
        } else {
            EdgeKind::Rewrite
        };
        Some(Edge {
            a,
            b,
            shared: o.shared,
            jaccard: j,
            containment_a_in_b: o.containment_a_in_b(),
            containment_b_in_a: o.containment_b_in_a(),
            time_gap_secs,
            kind,
        })
    }

    fn make_group(
        &self,
        members: &[usize],
        docs: &[Document],
        sets: &[Vec<u64>],
        shared: &(dyn Fn(usize, usize) -> usize + Sync),
    ) -> DuplicateGroup {
        let choice = canonical::choose(&self.config.canonical, members, docs, sets, shared);
        let c = members[choice.member];
        let mut ordered: Vec<usize> = vec![c];
        ordered.extend(members.iter().copied().filter(|&m| m != c));
        let members = ordered
            .iter()
            .map(|&m| {
                let (j, cont) = if m == c {
                    (1.0, 1.0)
                } else {
                    let o = Overlap {
                        shared: shared(m, c),
                        size_a: sets[m].len(),
                        size_b: sets[c].len(),
                    };
                    (o.jaccard(), o.containment_a_in_b())
                };
                Member {
                    id: docs[m].id.clone(),
                    index: m,
                    jaccard_to_canonical: j,
                    containment_in_canonical: cont,
                }
            })
            .collect();
        DuplicateGroup {
            id: docs[c].id.clone(),
            canonical_reason: choice.reason,
            members,
        }
    }
}

/// Sets aside containment-only edges of a document that is far more
/// contained elsewhere: an edge accepted because the smaller side `x` is
/// contained in `y` is kept only if `x`'s containment in `y` is within
/// `best_match_margin` of `x`'s best containment in any document.
fn supersede_weak_containment(edges: &mut [Edge], n: usize, cfg: &Config) {
    let smaller_side = |e: &Edge| {
        if e.containment_a_in_b >= e.containment_b_in_a {
            (e.a, e.containment_a_in_b)
        } else {
            (e.b, e.containment_b_in_a)
        }
    };
    let mut best = vec![0.0f64; n];
    for e in edges.iter() {
        let (x, c) = smaller_side(e);
        best[x] = best[x].max(c);
    }
    for e in edges.iter_mut() {
        let (x, c) = smaller_side(e);
        if e.jaccard < cfg.jaccard_threshold && c < best[x] - cfg.best_match_margin {
            e.kind = EdgeKind::Superseded;
        }
    }
}

fn check_unique_ids(docs: &[Document]) -> Result<()> {
    let mut seen: ahash::AHashMap<&str, usize> = ahash::AHashMap::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        if let Some(&first) = seen.get(d.id.as_str()) {
            return Err(Error::DuplicateId {
                id: d.id.clone(),
                first,
                second: i,
            });
        }
        seen.insert(&d.id, i);
    }
    Ok(())
}

/// Wall-clock laps for the stats.
pub(crate) struct Timer {
    start: Instant,
    last: Instant,
    laps: Vec<(String, f64)>,
}

impl Timer {
    pub fn new() -> Self {
        let now = Instant::now();
        Timer {
            start: now,
            last: now,
            laps: Vec::new(),
        }
    }

    pub fn lap(&mut self, name: &str) {
        let now = Instant::now();
        self.laps
            .push((name.to_string(), (now - self.last).as_secs_f64()));
        self.last = now;
    }

    pub fn total(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
