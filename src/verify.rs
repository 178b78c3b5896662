//! The rules that decide whether two documents are duplicates, used by the
//! batch pipeline and the live index alike: the edge kind of a verified
//! pair, the publication-gap limit, the supersede rule for weak containment
//! edges, and the containment-candidate test on winnowed fingerprints.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::output::Edge;
use crate::similarity::Overlap;

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

/// Verifies one candidate pair exactly: `Some` edge when it is a duplicate.
/// `a < b` are document indices, with their shingle sets and publication
/// times (seconds).
pub(crate) fn verify_pair(
    cfg: &Config,
    (a, set_a, published_a): (usize, &[u64], Option<i64>),
    (b, set_b, published_b): (usize, &[u64], Option<i64>),
) -> Option<Edge> {
    let time_gap_secs = time_gap(published_a, published_b);
    if too_far_apart(cfg, time_gap_secs) {
        return None;
    }
    let o = Overlap::of(set_a, set_b);
    let kind = edge_kind(cfg, &o)?;
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
