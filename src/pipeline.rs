//! The batch pipeline: documents in, duplicate groups and stories out.
//!
//! Data flows one way: tokenize → learn boilerplate → shingle → sign and
//! fingerprint → candidates (LSH bands, containment index) → verify → group →
//! canonical → story vectors → story candidates → average linkage → story
//! canonical. Every parallel step maps documents, bands or pairs in input
//! order, so the output is the same for any number of threads.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use rayon::prelude::*;

use crate::canonical;
use crate::cluster;
use crate::config::Config;
use crate::document::Document;
use crate::error::{Error, Result};
use crate::features::{FeatureExtractor, Figures, Scratch};
use crate::lsh;
use crate::normalize::{self, Normalizer};
use crate::output::{
    Assignment, Clustering, DuplicateGroup, Edge, Id, Member, Stats, Story, StoryMember, Thread,
    ThreadMember,
};
use crate::signals::{self, IdfModel, RawTerms};
use crate::similarity::Overlap;
use crate::sparse::{self, SparseVec};
use crate::story;
use crate::thread;
use crate::verify::{self, EdgeKind};
use crate::winnow;

/// Per-document features computed once.
pub(crate) struct Features {
    /// The feature extractor, with the boilerplate learned from this corpus.
    pub fx: FeatureExtractor,
    /// Sorted, deduplicated shingle sets.
    pub sets: Vec<Vec<u64>>,
    /// LSH band keys, one per band and document, flat
    /// ([`lsh::band_keys_into`]); a run empties them once the LSH pairs
    /// are made. A signature (1 KB a document at the default 126 values)
    /// lives only while its document's features are computed.
    pub band_keys: Vec<u64>,
    /// Whether a document has band keys (not for an empty set).
    pub banded: Vec<bool>,
    pub fingerprints: Vec<Vec<u64>>,
    pub removed_lines: usize,
    /// Documents each repair step changed ([`Stats::repaired_documents`]).
    pub repaired_documents: std::collections::BTreeMap<String, usize>,
    pub learned_sentences: usize,
    /// Story terms per document (empty when the story level is off).
    pub raw_terms: Vec<RawTerms>,
    /// What the updated-figures rule reads, per document.
    pub figures: Vec<Figures>,
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
    idf: Option<IdfModel>,
}

/// Candidate pairs of the batch: packed `(a, b)`, sorted, distinct.
pub(crate) struct Candidates {
    pub pairs: Vec<u64>,
    /// Pairs from LSH bands, from figure keys, from the containment index,
    /// and fingerprints skipped as too common.
    pub lsh: usize,
    pub figures: usize,
    pub containment: usize,
    pub common_fingerprints: usize,
}

/// What the story stage produced.
#[derive(Default)]
pub(crate) struct StoryStage {
    pub stories: Vec<Story>,
    pub candidates: usize,
    doc_vectors: Vec<SparseVec>,
    unit_vectors: Vec<SparseVec>,
    unit_entities: Vec<SparseVec>,
    times: Vec<Option<(i64, i64)>>,
    idf: Option<IdfModel>,
}

/// Story vectors of documents and units (duplicate groups).
pub(crate) struct StoryVectors {
    pub doc_vectors: Vec<SparseVec>,
    pub unit_vectors: Vec<SparseVec>,
    pub unit_entities: Vec<SparseVec>,
    pub times: Vec<Option<(i64, i64)>>,
}

impl StoryVectors {
    /// What the units bring to pair scoring.
    pub(crate) fn signals(&self) -> story::UnitSignals<'_> {
        story::UnitSignals {
            vectors: &self.unit_vectors,
            entities: &self.unit_entities,
            times: &self.times,
        }
    }
}

/// Internal state of a run, kept for explanations.
pub(crate) struct RunState {
    pub features: Features,
    pub doc_vectors: Vec<SparseVec>,
    pub unit_vectors: Vec<SparseVec>,
    pub unit_entities: Vec<SparseVec>,
    pub times: Vec<Option<(i64, i64)>>,
    pub idf: Option<IdfModel>,
    /// Expanded thread vectors, when the thread level is on.
    pub thread_vectors: Option<Vec<SparseVec>>,
}

impl Clusterer {
    /// A clusterer with a validated config.
    pub fn new(config: Config) -> Result<Self> {
        config.validate()?;
        Ok(Clusterer { config, idf: None })
    }

    /// Adds saved document frequencies to those of each corpus clustered
    /// (see [`IdfModel`]).
    pub fn with_idf(mut self, idf: IdfModel) -> Self {
        self.idf = Some(idf);
        self
    }

    /// Clusters `docs` and also returns the document frequencies it counted
    /// (the given model's plus this corpus's), to save and reuse with
    /// [`Clusterer::with_idf`]. The model is empty when the story level is
    /// off.
    ///
    /// ```
    /// use wirecluster::{Clusterer, Config, Document};
    /// let docs = vec![Document::new("a", "Floods hit the north."), Document::new("b", "Quake hits the south.")];
    /// let (clustering, idf) = Clusterer::new(Config::default())?.cluster_with_idf(&docs)?;
    /// assert_eq!(clustering.assignments.len(), 2);
    /// assert_eq!(idf.documents, 2);
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn cluster_with_idf(&self, docs: &[Document]) -> Result<(Clustering, IdfModel)> {
        let (c, state) = self.run(docs, false)?;
        Ok((c, state.idf.unwrap_or_default()))
    }

    /// The config in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Computes normalized shingles, signatures and fingerprints.
    pub(crate) fn features(&self, docs: &[Document], timer: &mut Timer) -> Features {
        let cfg = &self.config;
        let tokenized: Vec<normalize::Tokenized> = docs
            .par_iter()
            .map(|d| normalize::tokenize(&d.text, &cfg.normalize))
            .collect();
        let repaired_documents = crate::repair::Repairs::count(tokenized.iter().map(|t| t.repairs));
        timer.lap("tokenize");
        let norm = Normalizer::from_tokenized(&tokenized, &cfg.normalize);
        timer.lap("boilerplate");
        let fx = FeatureExtractor::new(cfg, norm);
        let k = fx.signature_len();
        let params = fx.lsh_params();
        let bands = params.bands;
        let mut band_keys = vec![0u64; docs.len() * bands];
        let scratch = || (Scratch::default(), vec![0u64; k]);
        // Each feature goes straight to its own column (collecting whole
        // `DocFeatures` first held every one twice while moved).
        let compute = |(scratch, sig): &mut (Scratch, Vec<u64>),
                       t: &normalize::Tokenized,
                       d: &Document,
                       keys: &mut [u64]| {
            let f = fx.extract(t, &d.text, d.title.as_deref(), scratch, sig);
            let banded = lsh::band_keys_into(sig, &params, keys);
            (
                banded,
                (f.set, (f.fingerprints, (f.raw, (f.figures, f.removed)))),
            )
        };
        // Each document's tokens are freed as soon as its features are
        // computed, so the allocator reuses their memory for the features
        // instead of taking fresh pages (at 200k documents with stories:
        // 2.79 to 2.16 GB at the peak, and faster).
        type Columns = (
            Vec<bool>,
            (
                Vec<Vec<u64>>,
                (Vec<Vec<u64>>, (Vec<RawTerms>, (Vec<Figures>, Vec<usize>))),
            ),
        );
        let (banded, (sets, (fingerprints, (raw_terms, (figures, removed))))): Columns = tokenized
            .into_par_iter()
            .zip(docs.par_iter())
            .zip(band_keys.par_chunks_mut(bands))
            .map_init(scratch, |s, ((t, d), keys)| compute(s, &t, d, keys))
            .unzip();
        let f = Features {
            sets,
            band_keys,
            banded,
            fingerprints,
            removed_lines: removed.iter().sum(),
            repaired_documents,
            learned_sentences: fx.normalizer().learned_sentences(),
            fx,
            raw_terms,
            figures,
        };
        timer.lap("shingle+sign");
        f
    }

    /// Clusters a batch of documents into duplicate groups.
    ///
    /// Fails on duplicate ids; every other input is accepted (a document with
    /// no content left after normalization is a singleton).
    pub fn cluster(&self, docs: &[Document]) -> Result<Clustering> {
        Ok(self.run(docs, false)?.0)
    }

    /// The whole run, with the state that explanations need. Without
    /// `keep_features`, each per-document feature is freed once the last
    /// stage that reads it is done, and the state's features are empty.
    pub(crate) fn run(
        &self,
        docs: &[Document],
        keep_features: bool,
    ) -> Result<(Clustering, RunState)> {
        check_unique_ids(docs)?;
        let mut timer = Timer::new();
        let mut f = self.features(docs, &mut timer);
        let banded = self.banded_candidates(&f, &mut timer);
        // The band keys serve the LSH pairs only. They go before the
        // containment index, where a run's memory peaks without stories.
        f.band_keys = Vec::new();
        let cands = self.merged_candidates(banded, &f, &mut timer);
        let empty_documents = f.sets.iter().filter(|s| s.is_empty()).count();
        if !keep_features {
            f.fingerprints = Vec::new();
        }
        let mut edges = self.verify(docs, &f.sets, &f.figures, &cands.pairs, &mut timer);
        if !keep_features {
            f.figures = Vec::new();
        }
        let grouping = self.group(docs, &f.fx, &f.sets, &mut edges, &mut timer);
        let (groups, mut assignments) =
            self.canonicals(docs, &f.sets, &grouping, &edges, &mut timer);
        if !keep_features {
            f.sets = Vec::new();
        }
        let st = self.stories(docs, &f, &groups, &mut timer);
        if !keep_features {
            f.raw_terms = Vec::new();
        }
        self.assign_stories(&st.stories, &mut assignments);
        let (threads, thread_links, thread_vectors) = self.threads(docs, &st.stories, &mut timer);
        assign_threads(&threads, &mut assignments);

        let stats = Stats {
            documents: docs.len(),
            text_bytes: docs.iter().map(|d| d.text.len()).sum(),
            threads: rayon::current_num_threads(),
            learned_boilerplate_sentences: f.learned_sentences,
            removed_lines: f.removed_lines,
            repaired_documents: f.repaired_documents.clone(),
            empty_documents,
            lsh: Some(f.fx.lsh_params()),
            lsh_candidates: cands.lsh,
            figure_candidates: cands.figures,
            containment_candidates: cands.containment,
            common_fingerprints: cands.common_fingerprints,
            verified_pairs: cands.pairs.len(),
            duplicate_edges: edges
                .iter()
                .filter(|e| e.kind != EdgeKind::Superseded)
                .count(),
            aggregator_pages: grouping.hubs.len(),
            groups: groups.len(),
            story_candidates: st.candidates,
            stories: st.stories.len(),
            thread_links,
            news_threads: threads.len(),
            total_secs: timer.total(),
            stage_secs: timer.laps,
        };
        let clustering = Clustering {
            threads,
            stories: st.stories,
            groups,
            assignments,
            edges,
            stats,
        };
        let state = RunState {
            features: f,
            doc_vectors: st.doc_vectors,
            unit_vectors: st.unit_vectors,
            unit_entities: st.unit_entities,
            times: st.times,
            idf: st.idf,
            thread_vectors,
        };
        Ok((clustering, state))
    }

    /// Candidate pairs: LSH bands and the containment index, merged.
    pub(crate) fn candidates(&self, f: &Features, timer: &mut Timer) -> Candidates {
        let banded = self.banded_candidates(f, timer);
        self.merged_candidates(banded, f, timer)
    }

    /// The pairs of the LSH bands and of the figure keys.
    fn banded_candidates(&self, f: &Features, timer: &mut Timer) -> (Vec<u64>, Vec<u64>) {
        let cfg = &self.config;
        let params = f.fx.lsh_params();
        let lsh_pairs = lsh::candidate_pairs(&f.band_keys, &f.banded, params.bands, cfg.max_bucket);
        // Figure keys, of the documents dense in figures only: pairs whose
        // figures agree (the rule's first test).
        let figure_pairs: Vec<u64> = if cfg.figures_jaccard.is_some() {
            let dense: Vec<u32> = (0..f.figures.len() as u32)
                .filter(|&i| !f.figures[i as usize].keys.is_empty())
                .collect();
            let keys: Vec<&[u64]> = dense
                .iter()
                .map(|&i| f.figures[i as usize].keys.as_slice())
                .collect();
            let of = |x: usize| &f.figures[dense[x] as usize];
            let (pairs, _) = crate::index::shared_key_pairs(
                &keys,
                cfg.max_posting,
                crate::index::Visit::InOrder,
                |a, b, _| verify::figures_agree(cfg, of(a), of(b)),
            );
            pairs
                .into_iter()
                .map(|(a, b)| lsh::pack(dense[a as usize], dense[b as usize]))
                .collect()
        } else {
            Vec::new()
        };
        timer.lap("lsh");
        (lsh_pairs, figure_pairs)
    }

    /// The `banded` pairs and those of the containment index, merged.
    fn merged_candidates(
        &self,
        (lsh_pairs, figure_pairs): (Vec<u64>, Vec<u64>),
        f: &Features,
        timer: &mut Timer,
    ) -> Candidates {
        let cfg = &self.config;
        let cont =
            winnow::candidate_pairs(&f.fingerprints, cfg.containment_candidate, cfg.max_posting);
        let mut pairs = Vec::with_capacity(lsh_pairs.len() + figure_pairs.len() + cont.pairs.len());
        pairs.extend_from_slice(&lsh_pairs);
        pairs.extend_from_slice(&figure_pairs);
        pairs.extend_from_slice(&cont.pairs);
        pairs.par_sort_unstable();
        pairs.dedup();
        timer.lap("containment");
        Candidates {
            pairs,
            lsh: lsh_pairs.len(),
            figures: figure_pairs.len(),
            containment: cont.pairs.len(),
            common_fingerprints: cont.common_fingerprints,
        }
    }

    /// Verifies every candidate exactly; weak containment edges are marked
    /// superseded. Edges come sorted by pair.
    pub(crate) fn verify(
        &self,
        docs: &[Document],
        sets: &[Vec<u64>],
        figures: &[Figures],
        pairs: &[u64],
        timer: &mut Timer,
    ) -> Vec<Edge> {
        let cfg = &self.config;
        // Pairs are verified grouped by the component of the candidate
        // graph they fall in, so that the shingle sets of one text's
        // reprints are read together while in cache; the edges are then put
        // back in pair order.
        let order = cluster::component_order(docs.len(), pairs);
        let mut verified: Vec<(u32, Edge)> = order
            .par_iter()
            .filter_map(|&k| {
                let (a, b) = lsh::unpack(pairs[k as usize]);
                let side = |i: u32| {
                    let i = i as usize;
                    (
                        i,
                        sets[i].as_slice(),
                        &figures[i],
                        docs[i].published.map(|t| t.seconds()),
                    )
                };
                verify::verify_pair(cfg, side(a), side(b)).map(|e| (k, e))
            })
            .collect();
        drop(order);
        verified.par_sort_unstable_by_key(|&(k, _)| k);
        let mut edges: Vec<Edge> = verified.into_iter().map(|(_, e)| e).collect();
        verify::supersede_weak_containment(&mut edges, docs.len(), cfg);
        timer.lap("verify");
        edges
    }

    /// Groups the edges not superseded, with the anti-chaining guards; the
    /// links the aggregator guard cuts are marked on `edges`.
    pub(crate) fn group(
        &self,
        docs: &[Document],
        fx: &FeatureExtractor,
        sets: &[Vec<u64>],
        edges: &mut [Edge],
        timer: &mut Timer,
    ) -> cluster::Grouping {
        let (packed, packed_shared): (Vec<u64>, Vec<u32>) = edges
            .iter()
            .filter(|e| e.kind != EdgeKind::Superseded)
            .map(|e| (lsh::pack(e.a as u32, e.b as u32), e.shared as u32))
            .unzip();
        // Text order is needed only for the few documents the anti-chaining
        // guard examines, so it is recomputed for them.
        let ordered = |p: usize| fx.text_order(&fx.tokenize(&docs[p].text), &docs[p].text);
        let titles = |p: usize| crate::headline::title_terms(docs[p].title.as_deref());
        let grouping = cluster::group(
            docs.len(),
            &packed,
            sets,
            &ordered,
            &titles,
            &packed_shared,
            self.config.hub_region_overlap,
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
        grouping
    }

    /// The duplicate groups with their canonicals, and one assignment per
    /// document (its story fields filled in by [`Self::assign_stories`]).
    pub(crate) fn canonicals(
        &self,
        docs: &[Document],
        sets: &[Vec<u64>],
        grouping: &cluster::Grouping,
        edges: &[Edge],
        timer: &mut Timer,
    ) -> (Vec<DuplicateGroup>, Vec<Assignment>) {
        let shared = |a: usize, b: usize| shared_size(edges, sets, a, b);
        // One shared id per document, however often the output names it.
        let ids: Vec<Id> = docs.par_iter().map(|d| Id::from(d.id.as_str())).collect();
        let groups: Vec<DuplicateGroup> = grouping
            .groups
            .par_iter()
            .map(|members| self.make_group(members, docs, &ids, sets, &shared))
            .collect();
        // Each document's group and place in it (the groups partition the
        // documents).
        let mut place = vec![(0u32, 0u32); docs.len()];
        for (gi, g) in groups.iter().enumerate() {
            for (k, m) in g.members.iter().enumerate() {
                place[m.index] = (gi as u32, k as u32);
            }
        }
        let assignments = place
            .into_iter()
            .map(|(gi, k)| {
                let g = &groups[gi as usize];
                let m = &g.members[k as usize];
                Assignment {
                    id: m.id.clone(),
                    duplicate_group: g.id.clone(),
                    canonical: k == 0,
                    group_size: g.members.len(),
                    jaccard_to_canonical: m.jaccard_to_canonical,
                    containment_in_canonical: m.containment_in_canonical,
                    story: g.id.clone(),
                    story_canonical: false,
                    story_similarity: 1.0,
                    thread: g.id.clone(),
                    thread_canonical: false,
                }
            })
            .collect();
        timer.lap("canonical");
        (groups, assignments)
    }

    /// Fills in the story fields of the assignments.
    pub(crate) fn assign_stories(&self, stories: &[Story], assignments: &mut [Assignment]) {
        if !self.config.story.enabled {
            for a in assignments.iter_mut() {
                a.story = a.duplicate_group.clone();
                a.story_canonical = a.canonical;
            }
            return;
        }
        for s in stories {
            let canonical_index = s.members[0].index;
            for m in &s.members {
                let a = &mut assignments[m.index];
                a.story = s.id.clone();
                a.story_canonical = m.index == canonical_index;
                a.story_similarity = m.similarity_to_canonical;
            }
        }
    }

    /// The thread level over `stories` (see [`crate::thread`]), the number
    /// of document links it scored, and the documents' expanded vectors.
    /// With the level off: no threads (each story is its own, see
    /// [`assign_threads`]), no links, no vectors.
    pub(crate) fn threads(
        &self,
        docs: &[Document],
        stories: &[Story],
        timer: &mut Timer,
    ) -> (Vec<Thread>, usize, Option<Vec<SparseVec>>) {
        if !self.config.thread.enabled {
            return (Vec::new(), 0, None);
        }
        let story_members: Vec<Vec<usize>> = stories
            .iter()
            .map(|s| s.members.iter().map(|m| m.index).collect())
            .collect();
        let thread_docs: Vec<thread::ThreadDoc> = docs.iter().map(Into::into).collect();
        let t = thread::link_stories(
            &thread_docs,
            &story_members,
            &self.config.thread,
            &mut |name| timer.lap(name),
        );
        timer.lap("thread linkage");
        let threads = t
            .clusters
            .par_iter()
            .map(|units| make_thread(units, docs, stories, &t.vectors))
            .collect();
        timer.lap("thread canonical");
        (threads, t.links, Some(t.vectors))
    }

    /// The story level: vectors, candidates, average linkage, canonical.
    pub(crate) fn stories(
        &self,
        docs: &[Document],
        f: &Features,
        groups: &[DuplicateGroup],
        timer: &mut Timer,
    ) -> StoryStage {
        let sc = &self.config.story;
        if !sc.enabled {
            let stories = groups
                .iter()
                .map(|g| Story {
                    id: g.id.clone(),
                    canonical_reason: STORY_OFF.clone(),
                    groups: vec![g.id.clone()],
                    members: g
                        .members
                        .iter()
                        .map(|m| StoryMember {
                            id: m.id.clone(),
                            index: m.index,
                            duplicate_group: g.id.clone(),
                            similarity_to_canonical: if m.index == g.members[0].index {
                                1.0
                            } else {
                                0.0
                            },
                            title_similarity: None,
                            time_gap_secs: None,
                            shared_entities: 0,
                        })
                        .collect(),
                })
                .collect();
            timer.lap("stories (off)");
            return StoryStage {
                stories,
                ..Default::default()
            };
        }
        let (df, n_docs) = self.story_df(&f.raw_terms);
        // The IDF of each distinct term, computed once (the vocabulary is
        // small next to the number of term occurrences).
        let idf: hash_hasher::HashedMap<u64, f64> = df
            .iter()
            .map(|(&t, &d)| (t, signals::idf(n_docs, d)))
            .collect();
        let unseen = signals::idf(n_docs, 0);
        let idf_of = |t: u64| idf.get(&t).copied().unwrap_or(unseen);
        let v = self.story_vectors(docs, &f.raw_terms, groups, &idf_of);
        timer.lap("story vectors");
        let linked = story::link_units(&v.signals(), &df, n_docs, sc, &mut |name| timer.lap(name));
        let stories =
            self.make_stories(&linked.clusters, docs, groups, &v.doc_vectors, &f.raw_terms);
        timer.lap("story canonical");
        let StoryVectors {
            doc_vectors,
            unit_vectors,
            unit_entities,
            times,
        } = v;
        StoryStage {
            stories,
            candidates: linked.candidates,
            doc_vectors,
            unit_vectors,
            unit_entities,
            times,
            idf: Some(IdfModel {
                version: signals::IDF_MODEL_VERSION,
                documents: n_docs,
                df: df.into_iter().collect(),
            }),
        }
    }

    /// Document frequencies of the story terms of a corpus, plus those of
    /// the given model, and the number of documents they count.
    ///
    /// Terms are distinct per document, so counting them gives df. The
    /// vocabulary is small next to the number of term occurrences, so
    /// counting into per-thread maps stays in cache and linear (a sort of
    /// all occurrences did not).
    pub(crate) fn story_df(&self, raw_terms: &[RawTerms]) -> (ahash::AHashMap<u64, u64>, u64) {
        let mut df: ahash::AHashMap<u64, u64> = raw_terms
            .par_iter()
            .fold(ahash::AHashMap::new, |mut m, r| {
                for &t in &r.terms {
                    *m.entry(t).or_insert(0) += 1;
                }
                m
            })
            .reduce(ahash::AHashMap::new, |a, b| {
                let (mut a, b) = if a.len() >= b.len() { (a, b) } else { (b, a) };
                for (t, c) in b {
                    *a.entry(t).or_insert(0) += c;
                }
                a
            });
        let mut n_docs = raw_terms.len() as u64;
        if let Some(m) = &self.idf {
            n_docs += m.documents;
            for (&t, &c) in &m.df {
                *df.entry(t).or_insert(0) += c;
            }
        }
        (df, n_docs)
    }

    /// The story vectors of documents and of duplicate groups (units), the
    /// groups' name-and-number vectors and time ranges, with `idf_of` the
    /// IDF of a term.
    pub(crate) fn story_vectors(
        &self,
        docs: &[Document],
        raw_terms: &[RawTerms],
        groups: &[DuplicateGroup],
        idf_of: &(dyn Fn(u64) -> f64 + Sync),
    ) -> StoryVectors {
        let sc = &self.config.story;
        let doc_vectors: Vec<SparseVec> = raw_terms
            .par_iter()
            .map(|r| {
                signals::weigh(
                    r.counts(),
                    &r.entities,
                    &|_, t| idf_of(t),
                    sc.entity_boost,
                    sc.max_terms,
                )
            })
            .collect();
        let unit_vectors: Vec<SparseVec> = groups
            .par_iter()
            .map(|g| sparse::centroid(g.members.iter().map(|m| &doc_vectors[m.index])))
            .collect();
        let doc_entities: Vec<SparseVec> = doc_vectors
            .par_iter()
            .zip(raw_terms)
            .map(|(v, r)| signals::entity_part(v, &r.entities))
            .collect();
        let unit_entities: Vec<SparseVec> = groups
            .par_iter()
            .map(|g| sparse::centroid(g.members.iter().map(|m| &doc_entities[m.index])))
            .collect();
        let times: Vec<Option<(i64, i64)>> = groups
            .iter()
            .map(|g| {
                let ts: Vec<i64> = g
                    .members
                    .iter()
                    .filter_map(|m| docs[m.index].published.map(|t| t.seconds()))
                    .collect();
                Some((*ts.iter().min()?, *ts.iter().max()?))
            })
            .collect();
        StoryVectors {
            doc_vectors,
            unit_vectors,
            unit_entities,
            times,
        }
    }

    /// The stories of linked units (lists of indices into `groups`).
    pub(crate) fn make_stories(
        &self,
        clusters: &[Vec<u32>],
        docs: &[Document],
        groups: &[DuplicateGroup],
        doc_vectors: &[SparseVec],
        raw: &[RawTerms],
    ) -> Vec<Story> {
        clusters
            .par_iter()
            .map(|units| self.make_story(units, docs, groups, doc_vectors, raw))
            .collect()
    }

    fn make_story(
        &self,
        units: &[u32],
        docs: &[Document],
        groups: &[DuplicateGroup],
        doc_vectors: &[SparseVec],
        raw: &[RawTerms],
    ) -> Story {
        // Canonical: the canonical of the largest group; ties by earliest
        // date, then id.
        let lead = canonical::story_lead(units.iter().map(|&u| {
            let g = &groups[u as usize];
            let d = &docs[g.members[0].index];
            (
                g.members.len(),
                d.published.map(|t| t.seconds()),
                d.id.as_str(),
            )
        }))
        .map(|i| &groups[units[i] as usize])
        .expect("a story has at least one group");
        let c = lead.members[0].index;
        let reason: Arc<str> = if units.len() == 1 {
            // A one-member group's reason is always `ONLY_MEMBER`.
            if lead.members.len() == 1 {
                ONLY_GROUP_OF_ONE.clone()
            } else {
                format!(
                    "canonical of its only duplicate group ({})",
                    lead.canonical_reason
                )
                .into()
            }
        } else {
            format!(
                "canonical of the largest of its {} duplicate groups ({} members): {}",
                units.len(),
                lead.members.len(),
                lead.canonical_reason
            )
            .into()
        };
        let mut member_idx: Vec<(&Member, &Id)> = units
            .iter()
            .flat_map(|&u| {
                let g = &groups[u as usize];
                g.members.iter().map(move |m| (m, &g.id))
            })
            .collect();
        member_idx.sort_unstable_by_key(|&(m, _)| (m.index != c, m.index));
        let cd = &docs[c];
        let canonical_title = cd.title.as_deref().map(crate::normalize_text);
        let members = member_idx
            .into_iter()
            .map(|(m, gid)| {
                let i = m.index;
                let d = &docs[i];
                let title_similarity = match (&d.title, &canonical_title) {
                    (Some(_), Some(_)) if i == c => Some(1.0),
                    (Some(a), Some(b)) => Some(crate::headline::normalized_title_similarity(
                        &crate::normalize_text(a),
                        b,
                    )),
                    _ => None,
                };
                let time_gap_secs = match (d.published, cd.published) {
                    (Some(a), Some(b)) => Some((a.seconds() - b.seconds()).abs()),
                    _ => None,
                };
                let shared_entities =
                    crate::similarity::intersection_size(&raw[i].entities, &raw[c].entities);
                StoryMember {
                    id: m.id.clone(),
                    index: i,
                    duplicate_group: gid.clone(),
                    similarity_to_canonical: if i == c {
                        1.0
                    } else {
                        sparse::cosine(&doc_vectors[i], &doc_vectors[c])
                    },
                    title_similarity,
                    time_gap_secs,
                    shared_entities,
                }
            })
            .collect();
        let mut group_ids: Vec<Id> = vec![lead.id.clone()];
        group_ids.extend(
            units
                .iter()
                .map(|&u| groups[u as usize].id.clone())
                .filter(|g| *g != lead.id),
        );
        Story {
            id: lead.id.clone(),
            canonical_reason: reason,
            groups: group_ids,
            members,
        }
    }

    fn make_group(
        &self,
        members: &[usize],
        docs: &[Document],
        ids: &[Id],
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
                    id: ids[m].clone(),
                    index: m,
                    jaccard_to_canonical: j,
                    containment_in_canonical: cont,
                }
            })
            .collect();
        DuplicateGroup {
            id: ids[c].clone(),
            canonical_reason: choice.reason,
            members,
        }
    }
}

/// The intersection size of two documents' shingle sets: from their
/// verified edge where there is one (`edges` sorted by pair) and it counts
/// shingles as they are.
/// The thread of some stories (indices into `stories`): its canonical is
/// the canonical of its largest story (ties by earliest date, then id).
fn make_thread(
    units: &[u32],
    docs: &[Document],
    stories: &[Story],
    vectors: &[SparseVec],
) -> Thread {
    let lead = canonical::story_lead(units.iter().map(|&u| {
        let s = &stories[u as usize];
        let d = &docs[s.members[0].index];
        (
            s.members.len(),
            d.published.map(|t| t.seconds()),
            d.id.as_str(),
        )
    }))
    .map(|i| &stories[units[i] as usize])
    .expect("a thread has at least one story");
    let c = lead.members[0].index;
    let canonical_reason: Arc<str> = if units.len() == 1 {
        ONLY_STORY.clone()
    } else {
        format!(
            "canonical of the largest of its {} stories ({} articles)",
            units.len(),
            lead.members.len()
        )
        .into()
    };
    let mut member_idx: Vec<(&StoryMember, &Id)> = units
        .iter()
        .flat_map(|&u| {
            let s = &stories[u as usize];
            s.members.iter().map(move |m| (m, &s.id))
        })
        .collect();
    member_idx.sort_unstable_by_key(|&(m, _)| (m.index != c, m.index));
    let members = member_idx
        .into_iter()
        .map(|(m, sid)| ThreadMember {
            id: m.id.clone(),
            index: m.index,
            story: sid.clone(),
            similarity_to_canonical: if m.index == c {
                1.0
            } else {
                sparse::cosine(&vectors[m.index], &vectors[c])
            },
        })
        .collect();
    let mut story_ids = vec![lead.id.clone()];
    story_ids.extend(
        units
            .iter()
            .map(|&u| stories[u as usize].id.clone())
            .filter(|s| *s != lead.id),
    );
    Thread {
        id: lead.id.clone(),
        canonical_reason,
        stories: story_ids,
        members,
    }
}

/// The canonical reasons that most stories and threads of a large corpus
/// share.
static STORY_OFF: LazyLock<Arc<str>> =
    LazyLock::new(|| "story level off: the duplicate group".into());
static ONLY_GROUP_OF_ONE: LazyLock<Arc<str>> = LazyLock::new(|| {
    format!(
        "canonical of its only duplicate group ({})",
        *canonical::ONLY_MEMBER
    )
    .into()
});
static ONLY_STORY: LazyLock<Arc<str>> = LazyLock::new(|| "canonical of its only story".into());

/// Fills in the thread fields of the assignments: from `threads`, or,
/// when there are none (the level off), each story as its own thread.
pub(crate) fn assign_threads(threads: &[Thread], assignments: &mut [Assignment]) {
    if threads.is_empty() {
        for a in assignments.iter_mut() {
            a.thread = a.story.clone();
            a.thread_canonical = a.story_canonical;
        }
        return;
    }
    for t in threads {
        let canonical_index = t.members[0].index;
        for m in &t.members {
            let a = &mut assignments[m.index];
            a.thread = t.id.clone();
            a.thread_canonical = m.index == canonical_index;
        }
    }
}

fn shared_size(edges: &[Edge], sets: &[Vec<u64>], a: usize, b: usize) -> usize {
    let (x, y) = (a.min(b), a.max(b));
    match edges.binary_search_by(|e| (e.a, e.b).cmp(&(x, y))) {
        Ok(i) if edges[i].kind != EdgeKind::UpdatedFigures => edges[i].shared,
        _ => crate::similarity::intersection_size(&sets[a], &sets[b]),
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
