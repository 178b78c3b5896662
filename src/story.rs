//! Second level: story clusters of duplicate groups.
//!
//! A story holds every article about one news event: the reprints of one
//! wire copy (a duplicate group) and other outlets' own takes (other
//! groups). Duplicate groups move as units: each is represented by the mean
//! of its members' story vectors ([`signals`](crate::signals)).
//!
//! 1. **Candidates, not all pairs**: each group is indexed under its
//!    [`StoryConfig::top_terms`] heaviest terms whose document frequency is at
//!    most [`StoryConfig::max_df_fraction`]; two groups are a candidate pair
//!    when they share at least [`StoryConfig::min_shared_terms`] of them.
//! 2. **Scoring**: the cosine of the two group vectors, times a time factor
//!    when both are dated: 1 within [`StoryConfig::time_window_days`], then
//!    decaying as `exp(−(gap − window) / window)`.
//! 3. **Shared neighbours**: each pair's cosine is mixed with how many of
//!    their nearest neighbours they share, which separates two events of one
//!    topic better than their words do.
//! 4. **Average linkage**: starting from the groups, the two stories with the
//!    highest mean pair score (pairs never scored count as 0) merge while that
//!    mean is at least [`StoryConfig::threshold`]. A story is never formed by
//!    a chain of weak links: every merge needs the two whole stories to be
//!    similar on average, so a round-up page that resembles two stories
//!    cannot glue them together.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::sparse::{SparseVec, cosine};

/// Settings of the story level.
///
/// The defaults were chosen by a grid search (`tests/ecb_plus.rs`,
/// `tune_story_parameters_on_train_and_dev`) on the ECB+ train and dev
/// splits, keeping only settings that also keep a synthetic corpus of
/// same-kind wire reports apart (story BCubed F1 ≥ 0.88); ECB+ test was not
/// used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct StoryConfig {
    /// Build story clusters at all. Default: `true`.
    pub enabled: bool,
    /// Terms per group in the candidate index. Default: 24.
    pub top_terms: usize,
    /// Index terms held by more than this fraction of documents are not used
    /// for candidates … Default: 0.05.
    pub max_df_fraction: f64,
    /// … unless they are held by at most this many (so that small corpora
    /// keep their story terms). Default: 50.
    pub min_max_df: u64,
    /// Index terms that are top terms of more units (duplicate groups) than
    /// this are skipped: such a term is weak evidence of one event, and the
    /// pairs it makes grow with the square of its list. Default: 50, the
    /// same as `min_max_df`, so that corpora too small for the df cut-off
    /// never reach it either.
    pub max_posting: usize,
    /// Shared index terms that make a candidate pair. Default: 2.
    pub min_shared_terms: usize,
    /// Weight factor of names and numbers in story vectors. Default: 2.
    pub entity_boost: f64,
    /// Average-linkage cut: stories merge while their mean pair score is at
    /// least this. Default: 0.12.
    pub threshold: f64,
    /// Nearest neighbours per unit for the shared-neighbour score. Default: 4.
    pub neighbours: usize,
    /// Candidates scoring below this are never neighbours. Default: 0.2.
    pub neighbour_floor: f64,
    /// Weight of the shared-neighbour score against the cosine. Default: 0.9.
    pub neighbour_mix: f64,
    /// A document's story vector keeps its this many heaviest terms (bounds
    /// memory and scoring time on long articles). Default: 1000.
    pub max_terms: usize,
    /// Content words from the start that count as the lede. Default: 100.
    pub lede_words: usize,
    /// How many times a headline or lede word counts. Default: 2.
    pub lede_boost: f64,
    /// Pairs whose names-and-numbers cosine is below this have their score
    /// scaled by `cosine / entity_agreement`: two reports of one kind (two
    /// airlines' monthly traffic, two celebrities' rehab stays) share their
    /// vocabulary but not their names. 0 turns it off. Default: 0.4.
    pub entity_agreement: f64,
    /// Days within which dated articles are not penalized. Default: 2.
    pub time_window_days: f64,
}

impl StoryConfig {
    /// The largest document frequency of a term that can be a top term, in
    /// a corpus of `n` documents.
    pub(crate) fn max_df(&self, n: u64) -> u64 {
        ((self.max_df_fraction * n as f64).floor() as u64).max(self.min_max_df)
    }
}

impl Default for StoryConfig {
    fn default() -> Self {
        StoryConfig {
            enabled: true,
            top_terms: 24,
            max_df_fraction: 0.05,
            min_max_df: 50,
            max_posting: 50,
            min_shared_terms: 2,
            entity_boost: 2.0,
            threshold: 0.12,
            neighbours: 4,
            neighbour_floor: 0.2,
            neighbour_mix: 0.9,
            entity_agreement: 0.4,
            max_terms: 1000,
            lede_words: 100,
            lede_boost: 2.0,
            time_window_days: 2.0,
        }
    }
}

/// The time factor of a pair published `gap_secs` apart.
pub(crate) fn time_factor(gap_secs: Option<i64>, window_days: f64) -> f64 {
    match gap_secs {
        None => 1.0,
        Some(g) => {
            let days = g.unsigned_abs() as f64 / 86_400.0;
            if days <= window_days || window_days <= 0.0 {
                1.0
            } else {
                (-(days - window_days) / window_days).exp()
            }
        }
    }
}

/// What [`link_units`] found.
pub(crate) struct Linked {
    /// Stories as lists of units, each sorted; ordered by first unit.
    pub clusters: Vec<Vec<u32>>,
    /// Candidate unit pairs scored.
    pub candidates: usize,
}

/// The story stage on units (duplicate groups, batch or live): top terms
/// (skipping terms too common by `df` over `n_docs` documents), candidate
/// pairs, pair scores, the shared-neighbour mix and average linkage at
/// [`StoryConfig::threshold`]. `lap` is called after the pairs are scored
/// and after the linkage, for timings.
pub(crate) fn link_units(
    units: &UnitSignals,
    df: &ahash::AHashMap<u64, u64>,
    n_docs: u64,
    cfg: &StoryConfig,
    lap: &mut dyn FnMut(&str),
) -> Linked {
    let common = common_terms(df, n_docs, cfg);
    let top = unit_top_terms(units.vectors, &common, cfg);
    let pairs = candidate_pairs(&top, cfg.min_shared_terms, cfg.max_posting);
    link_pairs(units, &pairs, cfg, lap)
}

/// The top terms of each unit's vector, skipping the `common` ones.
pub(crate) fn unit_top_terms(
    vectors: &[SparseVec],
    common: &hash_hasher::HashedSet<u64>,
    cfg: &StoryConfig,
) -> Vec<Vec<u64>> {
    let usable = |t: u64| !common.contains(&t);
    vectors
        .par_iter()
        .map(|v| top_terms(v, cfg.top_terms, &usable))
        .collect()
}

/// The story stage from candidate pairs on: pair scores, the
/// shared-neighbour mix and average linkage at [`StoryConfig::threshold`].
/// Stories never join units without a chain of candidate pairs, so the
/// units of each component of the candidate graph can be linked apart.
pub(crate) fn link_pairs(
    units: &UnitSignals,
    pairs: &[(u32, u32)],
    cfg: &StoryConfig,
    lap: &mut dyn FnMut(&str),
) -> Linked {
    let scored = score_pairs(pairs, units, cfg);
    lap("story candidates");
    let n = units.vectors.len();
    let mixed = shared_neighbour_scores(n, &scored, cfg);
    let clusters = average_linkage(n, &mixed, cfg.threshold);
    lap("story linkage");
    Linked {
        clusters,
        candidates: pairs.len(),
    }
}

/// Candidate unit pairs `(i, j)`, `i < j`, sharing enough top terms. Terms
/// that are top terms of more than `max_posting` units are skipped, which
/// bounds the work per unit and keeps the candidate count near-linear in the
/// number of units.
pub(crate) fn candidate_pairs(
    top: &[Vec<u64>],
    min_shared: usize,
    max_posting: usize,
) -> Vec<(u32, u32)> {
    crate::index::shared_key_pairs(
        top,
        max_posting,
        crate::index::Visit::InOrder,
        |_, _, shared| shared >= min_shared,
    )
    .0
}

/// Mixes each pair's cosine with its shared-nearest-neighbour score.
///
/// Each unit's neighbours are its [`StoryConfig::neighbours`] best-scoring
/// candidates with a score of at least [`StoryConfig::neighbour_floor`].
/// The shared-neighbour score of a pair is
/// `(|N(a) ∩ N(b)| + [b ∈ N(a)] + [a ∈ N(b)]) / (k + 2)`: two articles on
/// one event sit among the same few closest articles, while two events of one
/// topic, however alike their words, each have their own closest company
/// (Jarvis and Patrick 1973). The final score is
/// `mix · shared + (1 − mix) · cosine` with `mix` =
/// [`StoryConfig::neighbour_mix`].
pub(crate) fn shared_neighbour_scores(
    n: usize,
    scored: &[ScoredPair],
    cfg: &StoryConfig,
) -> Vec<ScoredPair> {
    let mut cand: Vec<Vec<(f64, u32)>> = vec![Vec::new(); n];
    for p in scored {
        cand[p.a as usize].push((p.score, p.b));
        cand[p.b as usize].push((p.score, p.a));
    }
    let knn: Vec<Vec<u32>> = cand.into_par_iter().map(|c| neighbours(c, cfg)).collect();
    scored
        .par_iter()
        .map(|p| ScoredPair {
            a: p.a,
            b: p.b,
            score: mixed_score(
                p.a,
                p.b,
                p.score,
                &knn[p.a as usize],
                &knn[p.b as usize],
                cfg,
            ),
        })
        .collect()
}

/// A unit's neighbours among its scored candidates `(score, other)`: the
/// [`StoryConfig::neighbours`] best with a score of at least
/// [`StoryConfig::neighbour_floor`] (ties by the other's order), sorted.
pub(crate) fn neighbours<T: Ord + Copy>(mut c: Vec<(f64, T)>, cfg: &StoryConfig) -> Vec<T> {
    c.retain(|x| x.0 >= cfg.neighbour_floor);
    c.sort_unstable_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    let mut top: Vec<T> = c.into_iter().take(cfg.neighbours).map(|(_, u)| u).collect();
    top.sort_unstable();
    top
}

/// The score of pair `(a, b)` mixed with its shared-neighbour score, from
/// the two units' [`neighbours`].
pub(crate) fn mixed_score<T: Ord + Copy>(
    a: T,
    b: T,
    score: f64,
    knn_a: &[T],
    knn_b: &[T],
    cfg: &StoryConfig,
) -> f64 {
    let mut shared = crate::similarity::intersection_size(knn_a, knn_b) as f64;
    if knn_a.binary_search(&b).is_ok() {
        shared += 1.0;
    }
    if knn_b.binary_search(&a).is_ok() {
        shared += 1.0;
    }
    let snn = shared / (cfg.neighbours as f64 + 2.0);
    let mix = cfg.neighbour_mix;
    mix * snn + (1.0 - mix) * score
}

/// Distance in seconds between two time ranges (0 if they overlap).
pub(crate) fn range_gap(a: Option<(i64, i64)>, b: Option<(i64, i64)>) -> Option<i64> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((b0 - a1).max(a0 - b1).max(0)),
        _ => None,
    }
}

/// The terms too common to be top terms in a corpus of `n` documents (see
/// [`StoryConfig::max_df`]). They are few next to the vocabulary, so testing
/// a term against this small set is cheaper than looking its frequency up.
pub(crate) fn common_terms(
    df: &ahash::AHashMap<u64, u64>,
    n: u64,
    cfg: &StoryConfig,
) -> hash_hasher::HashedSet<u64> {
    let max_df = cfg.max_df(n);
    df.iter()
        .filter(|&(_, &c)| c > max_df)
        .map(|(&t, _)| t)
        .collect()
}

/// The heaviest `k` terms of a vector whose df passes the filter.
pub(crate) fn top_terms(v: &SparseVec, k: usize, usable: &dyn Fn(u64) -> bool) -> Vec<u64> {
    if k == 0 {
        return Vec::new();
    }
    let mut terms: Vec<(u64, f32)> = v.iter().copied().filter(|&(t, _)| usable(t)).collect();
    // Heaviest first, ties by term: a total order, so selecting the first
    // `k` before sorting them gives the same terms as a full sort.
    let order = |a: &(u64, f32), b: &(u64, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if terms.len() > k {
        terms.select_nth_unstable_by(k - 1, order);
        terms.truncate(k);
    }
    terms.sort_unstable_by(order);
    terms.into_iter().map(|(t, _)| t).collect()
}

/// A scored pair of units.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoredPair {
    pub a: u32,
    pub b: u32,
    pub score: f64,
}

/// What a unit brings to pair scoring.
pub(crate) struct UnitSignals<'a> {
    /// Story vectors (all terms).
    pub vectors: &'a [SparseVec],
    /// Vectors of names and numbers only.
    pub entities: &'a [SparseVec],
    /// Publication time ranges.
    pub times: &'a [Option<(i64, i64)>],
}

/// Scores candidate pairs: cosine of the story vectors, times the entity
/// agreement factor `min(1, cos_entities / entity_agreement)`, times the time
/// factor.
pub(crate) fn score_pairs(
    pairs: &[(u32, u32)],
    u: &UnitSignals,
    cfg: &StoryConfig,
) -> Vec<ScoredPair> {
    pairs
        .par_chunks(4096)
        .flat_map_iter(|chunk| {
            chunk.iter().map(|&(a, b)| ScoredPair {
                a,
                b,
                score: pair_total(a as usize, b as usize, u, cfg),
            })
        })
        .collect()
}

/// The parts of one pair's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairSignals {
    /// Cosine of the two story vectors.
    pub cosine: f64,
    /// Cosine of their name-and-number vectors.
    pub entity_cosine: f64,
    /// `min(1, entity_cosine / entity_agreement)`.
    pub entity_factor: f64,
    /// Publication gap in seconds, when both are dated.
    pub time_gap_secs: Option<i64>,
    /// The time factor for that gap.
    pub time_factor: f64,
}

impl PairSignals {
    /// `cosine · entity_factor · time_factor`: the pair score before the
    /// shared-neighbour mix.
    pub fn total(&self) -> f64 {
        self.cosine * self.entity_factor * self.time_factor
    }
}

/// A pair's total score, [`PairSignals::total`] of [`pair_score`], skipping
/// the story-vector cosine when the names-and-numbers or time factor is
/// already zero (the total is then zero whatever the cosine).
pub(crate) fn pair_total(a: usize, b: usize, u: &UnitSignals, cfg: &StoryConfig) -> f64 {
    let ent = cosine(&u.entities[a], &u.entities[b]);
    let gap = range_gap(u.times[a], u.times[b]);
    if (cfg.entity_agreement > 0.0 && ent == 0.0) || time_factor(gap, cfg.time_window_days) == 0.0 {
        return 0.0;
    }
    combine(cosine(&u.vectors[a], &u.vectors[b]), ent, gap, cfg).total()
}

pub(crate) fn pair_score(a: usize, b: usize, u: &UnitSignals, cfg: &StoryConfig) -> PairSignals {
    combine(
        cosine(&u.vectors[a], &u.vectors[b]),
        cosine(&u.entities[a], &u.entities[b]),
        range_gap(u.times[a], u.times[b]),
        cfg,
    )
}

/// A pair's signals from its cosine, names-and-numbers cosine and time gap.
pub(crate) fn combine(cos: f64, ent: f64, gap: Option<i64>, cfg: &StoryConfig) -> PairSignals {
    let entity_factor = if cfg.entity_agreement > 0.0 {
        (ent / cfg.entity_agreement).min(1.0)
    } else {
        1.0
    };
    PairSignals {
        cosine: cos,
        entity_cosine: ent,
        entity_factor,
        time_gap_secs: gap,
        time_factor: time_factor(gap, cfg.time_window_days),
    }
}

#[derive(PartialEq)]
/// A pair of clusters in an average-linkage heap: their mean score and the
/// versions of both when it was computed (a merge makes it stale). Shared
/// by the story and thread levels.
pub(crate) struct HeapItem {
    pub avg: f64,
    pub a: u32,
    pub b: u32,
    pub version_a: u32,
    pub version_b: u32,
}

impl Eq for HeapItem {}

impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> Ordering {
        self.avg
            .total_cmp(&other.avg)
            // Ties: the pair with the smaller ids first.
            .then_with(|| other.a.cmp(&self.a))
            .then_with(|| other.b.cmp(&self.b))
    }
}

impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Average-linkage clustering of `n` units over sparse scored pairs. Returns
/// the clusters as sorted unit lists, ordered by their smallest unit.
pub(crate) fn average_linkage(n: usize, pairs: &[ScoredPair], threshold: f64) -> Vec<Vec<u32>> {
    // Sum of pair scores between clusters, keyed by the other cluster.
    let mut links: Vec<ahash::AHashMap<u32, f64>> = vec![Default::default(); n];
    for p in pairs {
        if p.score > 0.0 {
            *links[p.a as usize].entry(p.b).or_insert(0.0) += p.score;
            *links[p.b as usize].entry(p.a).or_insert(0.0) += p.score;
        }
    }
    let mut size = vec![1u32; n];
    let mut version = vec![0u32; n];
    let mut alive = vec![true; n];
    let mut members: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    let mut heap = BinaryHeap::new();
    for a in 0..n {
        for (&b, &sum) in &links[a] {
            if (a as u32) < b {
                let avg = sum / (size[a] as f64 * size[b as usize] as f64);
                if avg >= threshold {
                    heap.push(HeapItem {
                        avg,
                        a: a as u32,
                        b,
                        version_a: 0,
                        version_b: 0,
                    });
                }
            }
        }
    }
    while let Some(item) = heap.pop() {
        let (a, b) = (item.a as usize, item.b as usize);
        if !alive[a] || !alive[b] || version[a] != item.version_a || version[b] != item.version_b {
            continue;
        }
        // Merge b into a (a has the smaller id).
        alive[b] = false;
        let moved = std::mem::take(&mut members[b]);
        members[a].extend(moved);
        size[a] += size[b];
        version[a] += 1;
        let lb = std::mem::take(&mut links[b]);
        links[a].remove(&(b as u32));
        for (c, sum) in lb {
            if c as usize == a {
                continue;
            }
            *links[a].entry(c).or_insert(0.0) += sum;
            let lc = &mut links[c as usize];
            let moved = lc.remove(&(b as u32)).unwrap_or(0.0);
            *lc.entry(a as u32).or_insert(0.0) += moved;
        }
        let mut neighbours: Vec<(u32, f64)> = links[a].iter().map(|(&c, &s)| (c, s)).collect();
        neighbours.sort_unstable_by_key(|&(c, _)| c);
        for (c, sum) in neighbours {
            let avg = sum / (size[a] as f64 * size[c as usize] as f64);
            if avg >= threshold {
                let (x, y) = if (a as u32) < c {
                    (a as u32, c)
                } else {
                    (c, a as u32)
                };
                heap.push(HeapItem {
                    avg,
                    a: x,
                    b: y,
                    version_a: version[x as usize],
                    version_b: version[y as usize],
                });
            }
        }
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

    fn p(a: u32, b: u32, score: f64) -> ScoredPair {
        ScoredPair { a, b, score }
    }

    #[test]
    fn top_terms_are_the_heaviest_usable_ones_ties_by_term() {
        // Weights with many ties; term 13 is not usable.
        let v: SparseVec = (0..40u64).map(|t| (t, ((t * 7) % 5) as f32)).collect();
        let usable = |t: u64| t != 13;
        for k in [0, 1, 3, 8, 39, 40, 60] {
            let mut all: Vec<(u64, f32)> = v.iter().copied().filter(|&(t, _)| usable(t)).collect();
            all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let want: Vec<u64> = all.iter().take(k).map(|&(t, _)| t).collect();
            assert_eq!(top_terms(&v, k, &usable), want, "k = {k}");
        }
    }

    #[test]
    fn average_linkage_does_not_chain_through_a_bridge() {
        // Stories {0,1} and {3,4}; unit 2 resembles one member of each.
        let pairs = [p(0, 1, 0.9), p(3, 4, 0.9), p(1, 2, 0.5), p(2, 3, 0.5)];
        let c = average_linkage(5, &pairs, 0.2);
        // 2 joins one side (mean of its pairs with {0,1} is 0.25 ≥ 0.2) but
        // the two stories never merge (mean over 6 pairs = 0.5/6).
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|s| !(s.contains(&0) && s.contains(&4))));
        // Single linkage would have merged everything.
    }

    #[test]
    fn average_linkage_merges_a_coherent_story() {
        let pairs = [p(0, 1, 0.5), p(0, 2, 0.4), p(1, 2, 0.45), p(2, 3, 0.05)];
        assert_eq!(
            average_linkage(4, &pairs, 0.3),
            vec![vec![0, 1, 2], vec![3]]
        );
    }

    #[test]
    fn time_factor_decays_after_the_window() {
        assert_eq!(time_factor(None, 3.0), 1.0);
        assert_eq!(StoryConfig::default().time_window_days, 2.0);
        assert_eq!(time_factor(Some(2 * 86_400), 3.0), 1.0);
        let f = time_factor(Some(6 * 86_400), 3.0);
        assert!((f - (-1.0f64).exp()).abs() < 1e-12);
    }

    #[test]
    fn candidates_need_shared_top_terms() {
        let top = vec![vec![1, 2, 3], vec![2, 3, 9], vec![3, 7, 8], vec![10, 11]];
        assert_eq!(candidate_pairs(&top, 2, 100), vec![(0, 1)]);
        assert_eq!(candidate_pairs(&top, 1, 100), vec![(0, 1), (0, 2), (1, 2)]);
        // Term 3 is in three lists: with a posting cap of 2 it is skipped.
        assert_eq!(candidate_pairs(&top, 1, 2), vec![(0, 1)]);
    }
}
