//! Stable hashing and shingling.
//!
//! Hash values computed here are meant to be stored (signatures, saved
//! indexes), so they are defined exactly and never change between machines,
//! runs or crate versions:
//!
//! * **token hash**: `XXH3_64(utf8 bytes of the normalized token, seed = 0)`
//!   (the XXH3 64-bit hash, as specified by the xxHash project);
//! * **word shingle hash** of tokens `t_0 … t_{n-1}` with token hashes
//!   `h_0 … h_{n-1}`: `fmix64(Σ h_i · P^(n-1-i) mod 2^64)` with
//!   `P = 0x9E37_79B9_7F4A_7C15` and `fmix64` the MurmurHash3 64-bit
//!   finalizer. The sum is computed as a rolling hash, so each further shingle
//!   costs two multiplications;
//! * **character shingle hash**: `XXH3_64(utf8 bytes of the n characters)` of
//!   the normalized text with tokens joined by one space.
//!
//! A document shorter than one shingle yields one shingle over all its tokens,
//! so that short texts still have a non-empty set.

use serde::{Deserialize, Serialize};

/// The rolling-hash base `P` for word shingles (the 64-bit golden ratio).
pub const SHINGLE_BASE: u64 = 0x9E37_79B9_7F4A_7C15;

/// What a shingle is made of.
///
/// ```
/// use wirecluster::ShingleUnit;
/// assert_eq!(ShingleUnit::default(), ShingleUnit::Words(5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ShingleUnit {
    /// Word n-grams of the normalized tokens (default: 5 words).
    Words(usize),
    /// Character n-grams of the normalized text.
    Chars(usize),
}

impl Default for ShingleUnit {
    fn default() -> Self {
        ShingleUnit::Words(5)
    }
}

impl ShingleUnit {
    /// The n of the n-gram.
    pub fn size(self) -> usize {
        match self {
            ShingleUnit::Words(n) | ShingleUnit::Chars(n) => n,
        }
    }
}

/// The stable hash of one normalized token (`XXH3_64`, seed 0).
///
/// ```
/// use wirecluster::token_hash;
/// // A fixed value: stored signatures depend on it never changing.
/// assert_eq!(token_hash("syria"), 0x8e08_4be3_f003_1df5);
/// ```
#[inline]
pub fn token_hash(token: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(token.as_bytes())
}

/// The MurmurHash3 64-bit finalizer: a bijection that spreads every input bit
/// over the whole output.
#[inline]
pub fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Word shingle hashes of a token-hash sequence, in text order (repeats kept).
///
/// ```
/// use wirecluster::{token_hash, word_shingles};
/// let toks: Vec<u64> = "a b c d e f".split(' ').map(token_hash).collect();
/// let sh = word_shingles(&toks, 5);
/// assert_eq!(sh.len(), 2);
/// // The same five tokens give the same hash wherever they stand.
/// assert_eq!(word_shingles(&toks[1..], 5)[0], sh[1]);
/// ```
pub fn word_shingles(tokens: &[u64], n: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(tokens.len().saturating_sub(n.saturating_sub(1)).max(1));
    word_shingles_into(tokens, n, &mut out);
    out
}

/// Like [`word_shingles`], appending to `out`.
pub(crate) fn word_shingles_into(tokens: &[u64], n: usize, out: &mut Vec<u64>) {
    let n = n.max(1);
    if tokens.is_empty() {
        return;
    }
    if tokens.len() < n {
        let mut h = 0u64;
        for &t in tokens {
            h = h.wrapping_mul(SHINGLE_BASE).wrapping_add(t);
        }
        out.push(fmix64(h));
        return;
    }
    // P^(n-1), to remove the token leaving the window.
    let mut top = 1u64;
    for _ in 1..n {
        top = top.wrapping_mul(SHINGLE_BASE);
    }
    let mut h = 0u64;
    for &t in &tokens[..n] {
        h = h.wrapping_mul(SHINGLE_BASE).wrapping_add(t);
    }
    out.push(fmix64(h));
    for i in n..tokens.len() {
        h = h
            .wrapping_sub(tokens[i - n].wrapping_mul(top))
            .wrapping_mul(SHINGLE_BASE)
            .wrapping_add(tokens[i]);
        out.push(fmix64(h));
    }
}

/// Character shingle hashes of a normalized text, in text order.
///
/// ```
/// use wirecluster::char_shingles;
/// assert_eq!(char_shingles("abcd", 3).len(), 2);
/// assert_eq!(char_shingles("ab", 3).len(), 1);
/// ```
pub fn char_shingles(text: &str, n: usize) -> Vec<u64> {
    let n = n.max(1);
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let chars = bounds.len() - 1;
    if chars == 0 {
        return Vec::new();
    }
    if chars < n {
        return vec![xxhash_rust::xxh3::xxh3_64(text.as_bytes())];
    }
    (0..=chars - n)
        .map(|i| xxhash_rust::xxh3::xxh3_64(&text.as_bytes()[bounds[i]..bounds[i + n]]))
        .collect()
}

/// Sorts and deduplicates shingle hashes into a set.
#[cfg(test)]
pub(crate) fn into_set(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_hash_equals_direct_definition() {
        let toks: Vec<u64> = (0..20u64).map(|i| fmix64(i + 1)).collect();
        let rolled = word_shingles(&toks, 5);
        for (i, &h) in rolled.iter().enumerate() {
            let mut direct = 0u64;
            for &t in &toks[i..i + 5] {
                direct = direct.wrapping_mul(SHINGLE_BASE).wrapping_add(t);
            }
            assert_eq!(h, fmix64(direct), "shingle {i}");
        }
    }

    #[test]
    fn short_inputs_give_one_shingle_and_empty_gives_none() {
        let toks = [token_hash("a"), token_hash("b")];
        assert_eq!(word_shingles(&toks, 5).len(), 1);
        assert!(word_shingles(&[], 5).is_empty());
        assert_ne!(word_shingles(&toks, 5), word_shingles(&toks[..1], 5));
    }

    #[test]
    fn token_hash_is_the_xxh3_specification() {
        // The xxHash project's published value for XXH3_64bits of empty input.
        assert_eq!(token_hash(""), 0x2D06_8005_38D3_94C2);
    }

    #[test]
    fn order_matters() {
        let ab: Vec<u64> = ["x", "y", "z"].iter().map(|s| token_hash(s)).collect();
        let ba: Vec<u64> = ["z", "y", "x"].iter().map(|s| token_hash(s)).collect();
        assert_ne!(word_shingles(&ab, 3), word_shingles(&ba, 3));
    }
}
