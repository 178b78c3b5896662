//! Why two documents are, or are not, in one duplicate group or one story.

use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::error::{Error, Result};
use crate::output::{Clustering, Id};
use crate::pipeline::Clusterer;
use crate::shingle::token_hash;
use crate::similarity::Overlap;
use crate::story::PairSignals;
use crate::verify::EdgeKind;

/// The duplicate-level evidence for a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateEvidence {
    /// Exact shingle overlap of the two documents.
    pub overlap: Overlap,
    /// Exact Jaccard.
    pub jaccard: f64,
    /// How much of the first document is in the second.
    pub containment_a_in_b: f64,
    /// How much of the second document is in the first.
    pub containment_b_in_a: f64,
    /// The verified edge between them, if candidate generation found the pair
    /// and it passed the thresholds.
    pub edge: Option<EdgeKind>,
    /// With every figure masked: the Jaccard of their shingles and how many
    /// figures agree out of those of the one with fewer
    /// ([`Config::figures_jaccard`](crate::Config::figures_jaccard));
    /// `None` unless both hold figures.
    pub figures: Option<FiguresEvidence>,
    /// The Jaccard threshold in force.
    pub jaccard_threshold: f64,
    /// The containment threshold in force.
    pub containment_threshold: f64,
    /// Their duplicate groups.
    pub groups: (Id, Id),
}

/// The updated-figures evidence for a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiguresEvidence {
    /// Jaccard of the two documents' shingles with every figure masked.
    pub masked_jaccard: f64,
    /// Figures found in both.
    pub agreeing: usize,
    /// Figures of the document with fewer.
    pub fewer: usize,
    /// The rule's masked Jaccard in force (`None`: the rule is off).
    pub jaccard_threshold: Option<f64>,
    /// The share of figures that must agree.
    pub agreement: f64,
}

/// The story-level evidence for a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoryEvidence {
    /// Cosine of the two documents' story vectors.
    pub document_cosine: f64,
    /// The signals between their duplicate groups (what clustering used).
    pub groups: PairSignals,
    /// The words that contribute most to the document cosine, heaviest first.
    pub shared_terms: Vec<String>,
    /// Names and numbers both documents contain (at most 15, heaviest first).
    pub shared_entities: Vec<String>,
    /// The average-linkage threshold in force.
    pub threshold: f64,
    /// Their stories.
    pub stories: (Id, Id),
}

/// The thread-level evidence for a pair (when the level is on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadEvidence {
    /// Cosine of the two documents' expanded thread vectors (headline and
    /// link words with their nearest neighbours').
    pub cosine: f64,
    /// The average-linkage threshold in force.
    pub threshold: f64,
    /// Their threads.
    pub threads: (Id, Id),
}

/// Why two documents are, or are not, together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairExplanation {
    /// First document id.
    pub a: String,
    /// Second document id.
    pub b: String,
    /// Whether they share a duplicate group.
    pub same_duplicate_group: bool,
    /// Whether they share a story.
    pub same_story: bool,
    /// Duplicate-level evidence.
    pub duplicate: DuplicateEvidence,
    /// Story-level evidence.
    pub story: StoryEvidence,
    /// Thread-level evidence; `None` with the thread level off.
    #[serde(default)]
    pub thread: Option<ThreadEvidence>,
    /// One readable paragraph.
    pub summary: String,
}

impl Clusterer {
    /// Clusters `docs` and explains the relation of documents `a` and `b`.
    ///
    /// ```
    /// use wirecluster::{Clusterer, Config, Document};
    /// let docs = vec![
    ///     Document::new("x", "Heavy rain flooded the capital on Tuesday and closed its airport for hours, officials said."),
    ///     Document::new("y", "Heavy rain flooded the capital on Tuesday and closed its airport for hours, officials said.\nRead more"),
    /// ];
    /// let e = Clusterer::new(Config::default())?.explain(&docs, "x", "y")?;
    /// assert!(e.same_duplicate_group && e.same_story);
    /// assert_eq!(e.duplicate.jaccard, 1.0);
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn explain(&self, docs: &[Document], a: &str, b: &str) -> Result<PairExplanation> {
        let (clustering, state) = self.run(docs, true)?;
        let find = |id: &str| {
            docs.iter()
                .position(|d| d.id == id)
                .ok_or_else(|| Error::UnknownId { id: id.to_string() })
        };
        let (ia, ib) = (find(a)?, find(b)?);
        let cfg = self.config();
        let sets = &state.features.sets;
        let overlap = Overlap::of(&sets[ia], &sets[ib]);
        let (x, y) = (ia.min(ib), ia.max(ib));
        let edge = clustering
            .edges
            .binary_search_by(|e| (e.a, e.b).cmp(&(x, y)))
            .ok()
            .map(|i| clustering.edges[i].kind);
        let (aa, ab) = (&clustering.assignments[ia], &clustering.assignments[ib]);
        let (fa, fb) = (&state.features.figures[ia], &state.features.figures[ib]);
        let figures = (!fa.masked.is_empty() && !fb.masked.is_empty()).then(|| FiguresEvidence {
            masked_jaccard: crate::verify::masked_overlap(fa, fb).jaccard(),
            agreeing: crate::similarity::intersection_size(&fa.values, &fb.values),
            fewer: fa.values.len().min(fb.values.len()),
            jaccard_threshold: cfg.figures_jaccard,
            agreement: cfg.figures_agreement,
        });
        let duplicate = DuplicateEvidence {
            overlap,
            jaccard: overlap.jaccard(),
            containment_a_in_b: overlap.containment_a_in_b(),
            containment_b_in_a: overlap.containment_b_in_a(),
            edge,
            figures,
            jaccard_threshold: cfg.jaccard_threshold,
            containment_threshold: cfg.containment_threshold,
            groups: (aa.duplicate_group.clone(), ab.duplicate_group.clone()),
        };
        let story = story_evidence(self, docs, &clustering, &state, ia, ib);
        let same_duplicate_group = aa.duplicate_group == ab.duplicate_group;
        let same_story = aa.story == ab.story;
        let thread = state.thread_vectors.as_ref().map(|v| ThreadEvidence {
            cosine: crate::sparse::cosine(&v[ia], &v[ib]),
            threshold: cfg.thread.threshold,
            threads: (aa.thread.clone(), ab.thread.clone()),
        });
        let mut summary = summarize(a, b, &duplicate, &story, same_duplicate_group, same_story);
        if let Some(t) = &thread {
            summary += &format!(
                " Thread level: cosine of their expanded headlines {:.3}; {}",
                t.cosine,
                if t.threads.0 == t.threads.1 {
                    format!("same thread ({}).", t.threads.0)
                } else {
                    format!(
                        "different threads ({} and {}): their threads' mean cosine is below {}.",
                        t.threads.0, t.threads.1, t.threshold
                    )
                }
            );
        }
        Ok(PairExplanation {
            a: a.to_string(),
            b: b.to_string(),
            same_duplicate_group,
            same_story,
            duplicate,
            story,
            thread,
            summary,
        })
    }
}

fn story_evidence(
    c: &Clusterer,
    docs: &[Document],
    clustering: &Clustering,
    state: &crate::pipeline::RunState,
    ia: usize,
    ib: usize,
) -> StoryEvidence {
    let sc = &c.config().story;
    let unit_of = |i: usize| {
        let gid = &clustering.assignments[i].duplicate_group;
        clustering
            .groups
            .iter()
            .position(|g| &g.id == gid)
            .unwrap_or(0)
    };
    let groups = if state.unit_vectors.is_empty() {
        PairSignals {
            cosine: 0.0,
            entity_cosine: 0.0,
            entity_factor: 0.0,
            time_gap_secs: None,
            time_factor: 1.0,
        }
    } else {
        let u = crate::story::UnitSignals {
            vectors: &state.unit_vectors,
            entities: &state.unit_entities,
            times: &state.times,
        };
        crate::story::pair_score(unit_of(ia), unit_of(ib), &u, sc)
    };
    let (va, vb) = match (state.doc_vectors.get(ia), state.doc_vectors.get(ib)) {
        (Some(a), Some(b)) => (a, b),
        _ => (&Vec::new(), &Vec::new()),
    };
    // Words behind the hashes, from the two texts.
    let mut words: ahash::AHashMap<u64, String> = Default::default();
    for d in [&docs[ia], &docs[ib]] {
        for t in [d.title.as_deref().unwrap_or(""), d.text.as_str()] {
            crate::normalize::for_each_token(t, c.config().normalize.fold_variants, |w| {
                words.entry(token_hash(w)).or_insert_with(|| w.to_string());
            });
        }
    }
    let mut contrib: Vec<(f64, u64)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < va.len() && j < vb.len() {
        match va[i].0.cmp(&vb[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                contrib.push((va[i].1 as f64 * vb[j].1 as f64, va[i].0));
                i += 1;
                j += 1;
            }
        }
    }
    let document_cosine = contrib.iter().map(|x| x.0).sum();
    contrib.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let name = |h: u64| {
        words
            .get(&h)
            .cloned()
            .unwrap_or_else(|| format!("#{h:016x}"))
    };
    let shared_terms = contrib.iter().take(10).map(|&(_, h)| name(h)).collect();
    let raw = &state.features.raw_terms;
    // Shared names and numbers, heaviest (by their weight in `a`) first.
    let shared_entities = match (raw.get(ia), raw.get(ib)) {
        (Some(ra), Some(rb)) => {
            let mut e: Vec<(f32, u64)> = ra
                .entities
                .iter()
                .filter(|e| rb.entities.binary_search(e).is_ok())
                .map(|&h| {
                    let w = va
                        .binary_search_by_key(&h, |&(t, _)| t)
                        .map_or(0.0, |i| va[i].1);
                    (w, h)
                })
                .collect();
            e.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            e.into_iter().take(15).map(|(_, h)| name(h)).collect()
        }
        _ => Vec::new(),
    };
    StoryEvidence {
        document_cosine,
        groups,
        shared_terms,
        shared_entities,
        threshold: sc.threshold,
        stories: (
            clustering.assignments[ia].story.clone(),
            clustering.assignments[ib].story.clone(),
        ),
    }
}

fn summarize(
    a: &str,
    b: &str,
    d: &DuplicateEvidence,
    s: &StoryEvidence,
    same_group: bool,
    same_story: bool,
) -> String {
    let mut out = format!(
        "{a} and {b} share {} of their shingles (Jaccard {:.3}; {:.0}% of {a} is in {b}, {:.0}% of {b} is in {a}). ",
        d.overlap.shared,
        d.jaccard,
        d.containment_a_in_b * 100.0,
        d.containment_b_in_a * 100.0
    );
    out += &match (same_group, d.edge) {
        (true, Some(EdgeKind::UpdatedFigures)) => match &d.figures {
            Some(f) => format!(
                "They are linked directly as duplicates with updated figures: with every figure masked their Jaccard is {:.3}, and {} of {} figures agree. ",
                f.masked_jaccard, f.agreeing, f.fewer
            ),
            None => "They are linked directly as duplicates with updated figures. ".to_string(),
        },
        (true, Some(k)) => format!("They are linked directly as duplicates ({k:?}). "),
        (true, None) => "They are in one duplicate group through other members. ".to_string(),
        (false, Some(EdgeKind::CutAggregatorLink)) => {
            "Their duplicate edge was cut: it tied a multi-story page to a story other than its lead story. "
                .to_string()
        }
        (false, Some(EdgeKind::Superseded)) => {
            "Their containment edge was set aside: the shorter one has a far better source. ".to_string()
        }
        (false, _) => {
            let mut s = format!(
                "They are not duplicates (thresholds: Jaccard {} or containment {}",
                d.jaccard_threshold, d.containment_threshold
            );
            if let Some(f) = &d.figures
                && let Some(t) = f.jaccard_threshold
            {
                s += &format!(
                    "; or, with every figure masked, Jaccard {t} with {:.0}% of the figures agreeing: here {:.3} with {} of {}",
                    f.agreement * 100.0,
                    f.masked_jaccard,
                    f.agreeing,
                    f.fewer
                );
            }
            s + "). "
        }
    };
    out += &format!(
        "Story level: document cosine {:.3}; between their groups cosine {:.3} × names-and-numbers factor {:.2} × time factor {:.2}",
        s.document_cosine, s.groups.cosine, s.groups.entity_factor, s.groups.time_factor
    );
    if !s.shared_entities.is_empty() {
        out += &format!(
            "; shared names and numbers: {}",
            s.shared_entities.join(", ")
        );
    }
    out += &if same_story {
        format!(". Same story ({}).", s.stories.0)
    } else {
        format!(
            ". Different stories ({} and {}): their stories' average score is below {}.",
            s.stories.0, s.stories.1, s.threshold
        )
    };
    out
}
