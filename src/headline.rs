//! Headlines: their normalized words and how alike two are. The aggregator
//! guard compares a page's headline with its parts' (word Jaccard), and
//! stories report each member's headline similarity with the canonical's
//! (normalized Levenshtein on normalized headlines, via `rapidfuzz`).

use crate::normalize::{for_each_token, normalize_text};
use crate::shingle::token_hash;
use crate::similarity::intersection_size;

/// Similarity of two headlines in `[0, 1]`: normalized Levenshtein distance
/// on their normalized forms ([`normalize_text`](normalize_text)).
///
/// ```
/// let s = wirecluster::title_similarity("US, Russia work on Syria truce", "U.S.-Russia work on Syria truce");
/// assert_eq!(s, 1.0);
/// ```
pub fn title_similarity(a: &str, b: &str) -> f64 {
    normalized_title_similarity(&normalize_text(a), &normalize_text(b))
}

/// The distinct normalized words of a headline (none without one), hashed ([`token_hash`])
/// and sorted.
pub(crate) fn title_terms(title: Option<&str>) -> Vec<u64> {
    let Some(title) = title else {
        return Vec::new();
    };
    let mut v = Vec::new();
    for_each_token(title, true, |t| v.push(token_hash(t)));
    v.sort_unstable();
    v.dedup();
    v
}

/// Word Jaccard of two headlines' [`title_terms`]; 0 when either is empty.
pub(crate) fn title_overlap(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = intersection_size(a, b);
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// [`title_similarity`] of two already normalized headlines.
pub(crate) fn normalized_title_similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 0.0;
    }
    if a == b {
        // The common case of a reprint's headline, without the O(n·m)
        // table: the distance is 0.
        return 1.0;
    }
    use rapidfuzz::distance::levenshtein::distance;
    // 1 - distance / the longer one's length, in characters; most
    // headlines are ASCII, where bytes are characters and faster.
    let (d, len) = if a.is_ascii() && b.is_ascii() {
        (distance(a.bytes(), b.bytes()), a.len().max(b.len()))
    } else {
        let len = a.chars().count().max(b.chars().count());
        (distance(a.chars(), b.chars()), len)
    };
    1.0 - d as f64 / len as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headline_words_overlap_by_jaccard() {
        let a = title_terms(Some("Russia, U.S. agree Syria truce"));
        let b = title_terms(Some("US and Russia agree on a Syria truce"));
        assert_eq!(title_overlap(&a, &b), 5.0 / 8.0);
        assert_eq!(title_overlap(&a, &title_terms(None)), 0.0);
    }

    #[test]
    fn equal_normalized_headlines_are_alike_and_empty_ones_are_not() {
        assert_eq!(normalized_title_similarity("a b", "a b"), 1.0);
        assert_eq!(normalized_title_similarity("", ""), 0.0);
        assert!(normalized_title_similarity("syria truce", "syria talks") < 1.0);
    }

    #[test]
    fn headline_similarity_is_one_minus_edits_over_the_longer_length() {
        let pairs = [
            ("syria truce", "syria talks"),
            ("quake hits chile", "chile quake kills 3"),
            ("a", "abc"),
            ("", "abc"),
        ];
        // 1 - edits / the longer length: 4 edits of 11, 14 of 19, 2 of 3,
        // 3 of 3.
        let want = [1.0 - 4.0 / 11.0, 1.0 - 14.0 / 19.0, 1.0 - 2.0 / 3.0, 0.0];
        for ((a, b), w) in pairs.into_iter().zip(want) {
            assert_eq!(normalized_title_similarity(a, b), w, "{a} / {b}");
        }
        // Not ASCII: by characters (one edit of four, not two of five bytes).
        assert_eq!(normalized_title_similarity("café", "cafe"), 0.75);
    }
}
