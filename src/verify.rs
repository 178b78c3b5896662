//! The rules that decide whether two documents are duplicates, used by the
//! batch pipeline, the live index and the distributed steps alike: the edge
//! kind of a verified pair, the updated-figures rule, the publication-gap
//! limit, the supersede rule for weak containment
//! edges, and the containment-candidate test on winnowed fingerprints.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::features::Figures;
use crate::output::Edge;
use crate::similarity::{Overlap, intersection_size};

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
    /// Below the thresholds, but the same text once figures are masked,
    /// with some figures in common: a later version with updated figures
    /// ([`Config::figures_jaccard`]). Its Jaccard and containments are
    /// those of the masked shingles.
    UpdatedFigures,
    /// A duplicate edge cut by the anti-chaining guard: it linked a
    /// multi-story page to a story other than its lead story.
    CutAggregatorLink,
    /// A containment edge set aside because the smaller document is far more
    /// contained in another document (its real source); see
    /// [`Config::best_match_margin`](crate::Config::best_match_margin).
    Superseded,
}

/// The duplicate relation of a verified pair, or `None` below the
/// thresholds: Jaccard ≥ [`Config::jaccard_threshold`], or containment of
/// the smaller ≥ [`Config::containment_threshold`] with enough shared
/// shingles.
pub(crate) fn edge_kind(cfg: &Config, o: &Overlap) -> Option<EdgeKind> {
    let j = o.jaccard();
    let c = o.max_containment();
    let accept = j >= cfg.jaccard_threshold
        || (c >= cfg.containment_threshold
            && o.shared >= cfg.min_shared_shingles.min(o.size_a.min(o.size_b)));
    if !accept {
        None
    } else if j >= 0.8 {
        Some(EdgeKind::Copy)
    } else if c >= 0.8 {
        Some(EdgeKind::Contained)
    } else {
        Some(EdgeKind::Rewrite)
    }
}

/// The updated-figures rule ([`Config::figures_jaccard`]): the overlap of two
/// documents' masked shingles, when their figures agree enough and it
/// reaches the rule's Jaccard.
pub(crate) fn figures_overlap(cfg: &Config, a: &Figures, b: &Figures) -> Option<Overlap> {
    let min_jaccard = cfg.figures_jaccard?;
    if a.masked.is_empty() || b.masked.is_empty() {
        return None;
    }
    if !figures_agree(cfg, a, b) {
        return None;
    }
    let o = masked_overlap(a, b);
    (o.jaccard() >= min_jaccard).then_some(o)
}

/// Whether at least [`Config::figures_agreement`] of the figures of the
/// document with fewer occur in the other.
pub(crate) fn figures_agree(cfg: &Config, a: &Figures, b: &Figures) -> bool {
    let fewer = a.values.len().min(b.values.len());
    let agree = intersection_size(&a.values, &b.values);
    agree as f64 >= cfg.figures_agreement * fewer as f64
}

/// The overlap of two documents' masked shingles.
pub(crate) fn masked_overlap(a: &Figures, b: &Figures) -> Overlap {
    Overlap {
        shared: intersection_size(&a.masked, &b.masked),
        size_a: a.masked.len(),
        size_b: b.masked.len(),
    }
}

/// The duplicate relation of a pair whose shingles overlap as `o`, with
/// the overlap it rests on: by the shingles ([`edge_kind`]), else by the
/// updated-figures rule on the masked shingles ([`figures_overlap`]).
pub(crate) fn judge(
    cfg: &Config,
    o: Overlap,
    a: &Figures,
    b: &Figures,
) -> Option<(Overlap, EdgeKind)> {
    match edge_kind(cfg, &o) {
        Some(kind) => Some((o, kind)),
        None => figures_overlap(cfg, a, b).map(|m| (m, EdgeKind::UpdatedFigures)),
    }
}

/// The publication gap of two documents in seconds, when both are dated.
pub(crate) fn time_gap(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some((x - y).abs()),
        _ => None,
    }
}

/// Whether a publication gap rules a pair out
/// ([`Config::max_time_gap_secs`]).
pub(crate) fn too_far_apart(cfg: &Config, gap: Option<i64>) -> bool {
    matches!((gap, cfg.max_time_gap_secs), (Some(g), Some(max)) if g > max)
}

/// One side of a pair to verify: document index, shingle set, figures and
/// publication time (seconds).
pub(crate) type Side<'a> = (usize, &'a [u64], &'a Figures, Option<i64>);

/// Verifies one candidate pair exactly: `Some` edge when it is a duplicate.
/// `a < b`.
pub(crate) fn verify_pair(
    cfg: &Config,
    (a, set_a, figures_a, published_a): Side,
    (b, set_b, figures_b, published_b): Side,
) -> Option<Edge> {
    let time_gap_secs = time_gap(published_a, published_b);
    if too_far_apart(cfg, time_gap_secs) {
        return None;
    }
    let (o, kind) = judge(cfg, Overlap::of(set_a, set_b), figures_a, figures_b)?;
    Some(Edge {
        a,
        b,
        shared: o.shared,
        jaccard: o.jaccard(),
        containment_a_in_b: o.containment_a_in_b(),
        containment_b_in_a: o.containment_b_in_a(),
        time_gap_secs,
        kind,
    })
}

/// How strongly a verified pair is tied: the higher of its Jaccard and its
/// containment of the smaller side.
pub(crate) fn strength(o: &Overlap) -> f64 {
    o.jaccard().max(o.max_containment())
}

/// The supersede rule: a containment-only edge (Jaccard below
/// [`Config::jaccard_threshold`]) that contains the smaller side `c` is set
/// aside when that side is contained far better elsewhere, `best` more than
/// [`Config::best_match_margin`] above `c`.
pub(crate) fn superseded(cfg: &Config, jaccard: f64, c: f64, best: f64) -> bool {
    jaccard < cfg.jaccard_threshold && c < best - cfg.best_match_margin
}

/// Sets aside, by [`superseded`], the containment-only edges of a document
/// that is far better contained in another.
pub(crate) fn supersede_weak_containment(edges: &mut [Edge], n: usize, cfg: &Config) {
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
        if superseded(cfg, e.jaccard, c, best[x]) {
            e.kind = EdgeKind::Superseded;
        }
    }
}

/// The containment-candidate test: two documents with `count_a` and
/// `count_b` winnowed fingerprints, `shared` of them in common, are a
/// candidate when the shared ones could make up
/// [`Config::containment_candidate`] of the smaller document.
pub(crate) fn containment_candidate(
    shared: usize,
    count_a: usize,
    count_b: usize,
    min_fraction: f64,
) -> bool {
    let smaller = count_a.min(count_b) as f64;
    shared as f64 >= (min_fraction * smaller).ceil().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overlap(shared: usize, size_a: usize, size_b: usize) -> Overlap {
        Overlap {
            shared,
            size_a,
            size_b,
        }
    }

    #[test]
    fn edge_kinds_follow_the_thresholds() {
        let cfg = Config::default();
        assert_eq!(
            edge_kind(&cfg, &overlap(90, 100, 100)),
            Some(EdgeKind::Copy)
        );
        assert_eq!(
            edge_kind(&cfg, &overlap(90, 100, 1000)),
            Some(EdgeKind::Contained)
        );
        assert_eq!(
            edge_kind(&cfg, &overlap(60, 100, 100)),
            Some(EdgeKind::Rewrite)
        );
        assert_eq!(edge_kind(&cfg, &overlap(10, 100, 1000)), None);
    }

    fn figures(masked: std::ops::Range<u32>, values: &[u32]) -> Figures {
        Figures {
            masked: masked.collect(),
            values: values.to_vec(),
            keys: Vec::new(),
        }
    }

    #[test]
    fn updated_figures_need_the_masked_jaccard_and_agreeing_figures() {
        let cfg = Config::default();
        let a = figures(0..100, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        // Same masked text, 3 of 10 figures kept: an update.
        let b = figures(0..100, &[1, 2, 3, 14, 15, 16, 17, 18, 19, 20]);
        let (o, kind) = judge(&cfg, overlap(10, 100, 100), &a, &b).unwrap();
        assert_eq!((kind, o.jaccard()), (EdgeKind::UpdatedFigures, 1.0));
        // Same masked text, 2 of 10 kept: a recurring report.
        let c = figures(0..100, &[1, 2, 13, 14, 15, 16, 17, 18, 19, 20]);
        assert_eq!(judge(&cfg, overlap(10, 100, 100), &a, &c), None);
        // Figures agree but the words differ: masked Jaccard 0.8.
        let d = figures(10..110, &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert!(masked_overlap(&a, &d).jaccard() < 0.9);
        assert_eq!(judge(&cfg, overlap(10, 100, 100), &a, &d), None);
        // A document without figures (or not dense in them) never qualifies.
        assert_eq!(
            judge(&cfg, overlap(10, 100, 100), &a, &Figures::default()),
            None
        );
        // The shingles decide first: a copy stays a copy.
        assert_eq!(
            judge(&cfg, overlap(90, 100, 100), &a, &c).map(|(_, k)| k),
            Some(EdgeKind::Copy)
        );
        // And the rule can be turned off.
        let off = Config {
            figures_jaccard: None,
            ..Config::default()
        };
        assert_eq!(judge(&off, overlap(10, 100, 100), &a, &b), None);
    }

    #[test]
    fn weak_containment_is_superseded_only_past_the_margin() {
        let cfg = Config::default();
        let m = cfg.best_match_margin;
        assert!(superseded(&cfg, 0.1, 0.5, 0.5 + m + 0.01));
        assert!(!superseded(&cfg, 0.1, 0.5, 0.5 + m - 0.01));
        assert!(
            !superseded(&cfg, cfg.jaccard_threshold, 0.1, 1.0),
            "a Jaccard edge is never superseded"
        );
    }

    #[test]
    fn containment_candidates_need_a_share_of_the_smaller() {
        assert!(containment_candidate(4, 10, 100, 0.4));
        assert!(!containment_candidate(3, 10, 100, 0.4));
        assert!(containment_candidate(1, 1, 100, 0.4), "at least one");
        assert!(!containment_candidate(0, 0, 0, 0.4));
    }

    #[test]
    fn publication_gap_limit() {
        let cfg = Config {
            max_time_gap_secs: Some(10),
            ..Config::default()
        };
        assert!(too_far_apart(&cfg, time_gap(Some(0), Some(11))));
        assert!(!too_far_apart(&cfg, time_gap(Some(0), Some(10))));
        assert!(!too_far_apart(&cfg, time_gap(None, Some(1_000))));
    }
}
