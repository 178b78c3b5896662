//! Scoring a clustering against gold labels.
//!
//! * **Pairwise** precision, recall and F1 over same-cluster document pairs.
//! * **BCubed** precision, recall and F1 (Bagga and Baldwin 1998): per
//!   document, the share of its predicted cluster that truly belongs with it
//!   (precision) and the share of its true cluster that was predicted with it
//!   (recall), averaged over documents.
//! * **Adjusted Rand index** (Hubert and Arabie 1985): pair agreement
//!   corrected for chance; 1 is perfect, 0 is chance level.
//!
//! All counts come from the contingency table, so scoring is O(n).

use std::collections::HashMap;
use std::hash::Hash;

use serde::{Deserialize, Serialize};

/// Precision, recall and F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Prf {
    /// Precision.
    pub precision: f64,
    /// Recall.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Prf {
    fn new(precision: f64, recall: f64) -> Self {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Prf {
            precision,
            recall,
            f1,
        }
    }
}

/// Scores of one clustering against gold labels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Number of documents scored.
    pub documents: usize,
    /// Number of predicted clusters.
    pub predicted_clusters: usize,
    /// Number of gold clusters.
    pub gold_clusters: usize,
    /// Pairwise precision, recall, F1.
    pub pairwise: Prf,
    /// BCubed precision, recall, F1.
    pub bcubed: Prf,
    /// Adjusted Rand index.
    pub ari: f64,
}

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1) / 2) as f64
}

/// Scores `predicted` against `gold`, two labels per document in the same order.
///
/// ```
/// use wirecluster::score;
/// let gold = ["a", "a", "b", "b"];
/// let perfect = score(&[1, 1, 2, 2], &gold);
/// assert_eq!((perfect.pairwise.f1, perfect.bcubed.f1, perfect.ari), (1.0, 1.0, 1.0));
/// let merged = score(&[1, 1, 1, 1], &gold);
/// assert_eq!(merged.pairwise.precision, 2.0 / 6.0);
/// assert_eq!(merged.pairwise.recall, 1.0);
/// assert_eq!(merged.ari, 0.0);
/// ```
///
/// # Panics
/// If the two slices differ in length.
pub fn score<P: Hash + Eq, G: Hash + Eq>(predicted: &[P], gold: &[G]) -> Scores {
    assert_eq!(
        predicted.len(),
        gold.len(),
        "one label of each kind per document"
    );
    let n = predicted.len();
    let mut pred_ids: HashMap<&P, usize> = HashMap::new();
    let mut gold_ids: HashMap<&G, usize> = HashMap::new();
    let p: Vec<usize> = predicted
        .iter()
        .map(|x| {
            let k = pred_ids.len();
            *pred_ids.entry(x).or_insert(k)
        })
        .collect();
    let g: Vec<usize> = gold
        .iter()
        .map(|x| {
            let k = gold_ids.len();
            *gold_ids.entry(x).or_insert(k)
        })
        .collect();
    let mut cell: HashMap<(usize, usize), u64> = HashMap::new();
    let mut psize = vec![0u64; pred_ids.len()];
    let mut gsize = vec![0u64; gold_ids.len()];
    for (&a, &b) in p.iter().zip(&g) {
        *cell.entry((a, b)).or_insert(0) += 1;
        psize[a] += 1;
        gsize[b] += 1;
    }
    let tp: f64 = cell.values().map(|&c| pairs(c)).sum();
    let pred_pairs: f64 = psize.iter().map(|&c| pairs(c)).sum();
    let gold_pairs: f64 = gsize.iter().map(|&c| pairs(c)).sum();
    let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    let pairwise = Prf::new(div(tp, pred_pairs), div(tp, gold_pairs));

    let (mut bp, mut br) = (0.0, 0.0);
    for (&(a, b), &c) in &cell {
        // Each of the c documents in this cell.
        bp += c as f64 * c as f64 / psize[a] as f64;
        br += c as f64 * c as f64 / gsize[b] as f64;
    }
    let bcubed = if n == 0 {
        Prf::new(1.0, 1.0)
    } else {
        Prf::new(bp / n as f64, br / n as f64)
    };

    let total = pairs(n as u64);
    let expected = if total > 0.0 {
        pred_pairs * gold_pairs / total
    } else {
        0.0
    };
    let max = (pred_pairs + gold_pairs) / 2.0;
    let ari = if (max - expected).abs() < 1e-12 {
        if (tp - expected).abs() < 1e-12 {
            1.0
        } else {
            0.0
        }
    } else {
        (tp - expected) / (max - expected)
    };
    Scores {
        documents: n,
        predicted_clusters: pred_ids.len(),
        gold_clusters: gold_ids.len(),
        pairwise,
        bcubed,
        ari,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Gold {0,1,2},{3,4}; predicted {0,1},{2,3,4}.
        let s = score(&[0, 0, 1, 1, 1], &[0, 0, 0, 1, 1]);
        // Pairs: gold 3+1=4, predicted 1+3=4, shared {01, 34} = 2.
        assert_eq!(s.pairwise.precision, 0.5);
        assert_eq!(s.pairwise.recall, 0.5);
        // BCubed precision: docs 0,1: 1; doc 2: 1/3; docs 3,4: 2/3 → (2 + 1/3 + 4/3)/5.
        assert!((s.bcubed.precision - (2.0 + 1.0 / 3.0 + 4.0 / 3.0) / 5.0).abs() < 1e-12);
        // ARI: expected = 4*4/10 = 1.6, max = 4, ari = (2-1.6)/(4-1.6) = 1/6.
        assert!((s.ari - 1.0 / 6.0).abs() < 1e-12);
    }

    #[test]
    fn singletons_against_singletons_are_perfect() {
        let s = score(&[1, 2, 3], &["a", "b", "c"]);
        assert_eq!(s.pairwise.f1, 1.0);
        assert_eq!(s.ari, 1.0);
        assert_eq!(s.bcubed.f1, 1.0);
    }
}
