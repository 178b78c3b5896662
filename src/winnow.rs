//! Containment candidates from winnowed fingerprints.
//!
//! Jaccard LSH misses truncated reprints and excerpts: a three-sentence RSS
//! excerpt of a long dispatch has a Jaccard of 0.01 with it, yet is wholly
//! contained in it. Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003)
//! keeps, from every window of `w` consecutive shingle hashes, the smallest;
//! any passage of `w + n − 1` words that two documents share yields at least
//! one common fingerprint, whatever the documents' lengths.
//!
//! An inverted index maps fingerprints to documents. For each document the
//! index counts shared fingerprints with every later document; a pair is a
//! candidate when the shared count reaches
//! `max(1, ⌈min_fraction · min(|F_a|, |F_b|)⌉)`, an estimate of
//! containment of the smaller in the larger. Fingerprints held by more than
//! `max_posting` documents (stock phrases) are not used; their number is
//! reported.

use crate::lsh::pack;

/// Robust winnowing: the minimum of each window of `w` hashes (the rightmost
/// on ties), recorded when it changes; returned sorted and deduplicated.
///
/// ```
/// let h: Vec<u64> = vec![77, 72, 42, 17, 98, 50, 17, 98, 8, 88, 67, 39, 77, 72, 42, 17, 98];
/// let fp = wirecluster::winnow(&h, 4);
/// assert_eq!(fp, vec![8, 17, 39]);
/// ```
pub fn winnow(hashes: &[u64], w: usize) -> Vec<u64> {
    let w = w.max(1);
    if hashes.len() <= w {
        return hashes.iter().copied().min().into_iter().collect();
    }
    let mut out = Vec::with_capacity(2 * hashes.len() / (w + 1) + 1);
    let mut last_pos = usize::MAX;
    for start in 0..=hashes.len() - w {
        // Rightmost minimum of the window; windows are short, a scan is cheapest.
        let mut pos = start;
        for i in start + 1..start + w {
            if hashes[i] <= hashes[pos] {
                pos = i;
            }
        }
        if pos != last_pos {
            out.push(hashes[pos]);
            last_pos = pos;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Result of the containment candidate search.
pub(crate) struct ContainmentCandidates {
    /// Candidate pairs, packed and sorted.
    pub pairs: Vec<u64>,
    /// Fingerprints ignored because too many documents hold them.
    pub common_fingerprints: usize,
}

/// Finds pairs whose fingerprint sets suggest that one contains at least
/// `min_fraction` of the other.
pub(crate) fn candidate_pairs(
    fingerprints: &[Vec<u64>],
    min_fraction: f64,
    max_posting: usize,
) -> ContainmentCandidates {
    let (pairs, common_fingerprints) = crate::index::shared_key_pairs(
        fingerprints,
        max_posting,
        crate::index::Visit::ByFirstList,
        |a, b, shared| {
            crate::verify::containment_candidate(
                shared,
                fingerprints[a].len(),
                fingerprints[b].len(),
                min_fraction,
            )
        },
    );
    ContainmentCandidates {
        pairs: pairs.into_iter().map(|(a, b)| pack(a, b)).collect(),
        common_fingerprints,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shingle::fmix64;

    #[test]
    fn shared_passage_always_shares_a_fingerprint() {
        let w = 4;
        for seed in 0..200u64 {
            let passage: Vec<u64> = (0..w as u64).map(|i| fmix64(seed * 1000 + i)).collect();
            let mut a: Vec<u64> = (0..50).map(|i| fmix64(seed * 7919 + 10_000 + i)).collect();
            let mut b: Vec<u64> = (0..30).map(|i| fmix64(seed * 7919 + 20_000 + i)).collect();
            a.splice(20..20, passage.iter().copied());
            b.splice(5..5, passage.iter().copied());
            let fa = winnow(&a, w);
            let fb = winnow(&b, w);
            assert!(
                fa.iter().any(|x| fb.binary_search(x).is_ok()),
                "seed {seed}"
            );
        }
    }

    #[test]
    fn excerpt_is_found_in_long_document_and_strangers_are_not() {
        let long: Vec<u64> = (0..600).map(|i| fmix64(i + 1)).collect();
        let excerpt: Vec<u64> = long[..12].to_vec();
        let other: Vec<u64> = (0..300).map(|i| fmix64(i + 100_000)).collect();
        let fps: Vec<Vec<u64>> = [&long, &excerpt, &other]
            .iter()
            .map(|h| winnow(h, 4))
            .collect();
        let c = candidate_pairs(&fps, 0.3, 100);
        assert_eq!(c.pairs, vec![pack(0, 1)]);
        assert_eq!(c.common_fingerprints, 0);
    }

    #[test]
    fn over_common_fingerprints_are_counted_and_skipped() {
        let fps: Vec<Vec<u64>> = (0..5).map(|_| vec![1u64]).collect();
        let c = candidate_pairs(&fps, 0.3, 3);
        assert!(c.pairs.is_empty());
        assert_eq!(c.common_fingerprints, 1);
    }
}
