//! Locality-sensitive hashing by banding.
//!
//! A signature of `k` values is cut into `b` bands of `r` rows; two documents
//! become a candidate pair when all `r` values of at least one band agree. A
//! pair with Jaccard `s` collides with probability `P(s) = 1 − (1 − s^r)^b`.
//! [`LshParams::from_threshold`] picks `(b, r)` with `b·r ≤ k` minimizing
//! `w_fp·∫₀ᵗ P(s) ds + w_fn·∫ₜ¹ (1 − P(s)) ds`, the weighted expected
//! false-positive and false-negative mass around the threshold `t`.
//!
//! Band keys are stable hashes of the band's values, and each band's buckets
//! are built by sorting, so the candidate list is the same on every run and
//! for every thread count.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::shingle::fmix64;

/// Banding parameters and their expected error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LshParams {
    /// Number of bands `b`.
    pub bands: usize,
    /// Rows per band `r`.
    pub rows: usize,
    /// `∫₀ᵗ P(s) ds`: expected false-positive mass below the threshold.
    pub false_positive: f64,
    /// `∫ₜ¹ (1 − P(s)) ds`: expected false-negative mass above the threshold.
    pub false_negative: f64,
}

/// Composite Simpson integration of `f` over `[a, b]`.
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const N: usize = 200; // even
    if b <= a {
        return 0.0;
    }
    let h = (b - a) / N as f64;
    let mut sum = f(a) + f(b);
    for i in 1..N {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        sum += w * f(a + i as f64 * h);
    }
    sum * h / 3.0
}

/// Probability that a pair with Jaccard `s` shares at least one band.
pub fn collision_probability(s: f64, bands: usize, rows: usize) -> f64 {
    1.0 - (1.0 - s.powi(rows as i32)).powi(bands as i32)
}

/// `(∫₀ᵗ P(s) ds, ∫ₜ¹ (1 − P(s)) ds)` for a banding: the expected
/// false-positive and false-negative mass around `threshold`.
pub fn expected_errors(threshold: f64, bands: usize, rows: usize) -> (f64, f64) {
    let fp = integrate(|s| collision_probability(s, bands, rows), 0.0, threshold);
    let fn_ = integrate(
        |s| 1.0 - collision_probability(s, bands, rows),
        threshold,
        1.0,
    );
    (fp, fn_)
}

impl LshParams {
    /// The `(bands, rows)` with `bands·rows ≤ num_perm` that minimize the
    /// weighted false-positive and false-negative mass around `threshold`.
    ///
    /// ```
    /// use wirecluster::LshParams;
    /// let p = LshParams::from_threshold(0.5, 128, 0.5, 0.5);
    /// assert!(p.bands * p.rows <= 128);
    /// // The S-curve's steepest point sits near the threshold.
    /// let knee = (1.0 / p.bands as f64).powf(1.0 / p.rows as f64);
    /// assert!((knee - 0.5).abs() < 0.1, "{p:?}");
    /// ```
    pub fn from_threshold(threshold: f64, num_perm: usize, fp_weight: f64, fn_weight: f64) -> Self {
        let mut best: Option<(f64, LshParams)> = None;
        for bands in 1..=num_perm {
            let max_rows = num_perm / bands;
            for rows in 1..=max_rows {
                let (fp, fn_) = expected_errors(threshold, bands, rows);
                let err = fp_weight * fp + fn_weight * fn_;
                let cand = LshParams {
                    bands,
                    rows,
                    false_positive: fp,
                    false_negative: fn_,
                };
                if best.as_ref().is_none_or(|(e, _)| err < *e) {
                    best = Some((err, cand));
                }
            }
        }
        best.map(|(_, p)| p).unwrap_or(LshParams {
            bands: 1,
            rows: 1,
            false_positive: 0.0,
            false_negative: 0.0,
        })
    }
}

/// A candidate pair `(i, j)` with `i < j`, packed as `i << 32 | j`.
pub(crate) fn pack(i: u32, j: u32) -> u64 {
    let (a, b) = if i < j { (i, j) } else { (j, i) };
    ((a as u64) << 32) | b as u64
}

/// Unpacks a pair made by [`pack`].
pub(crate) fn unpack(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Calls `f` on the pairs of one bucket of documents (sorted ascending).
/// Buckets larger than `max_bucket` pair each member only with the next
/// `max_bucket` members, so a giant bucket costs `O(len · max_bucket)`.
pub(crate) fn for_bucket_pairs<T: Copy>(members: &[T], max_bucket: usize, mut f: impl FnMut(T, T)) {
    let w = max_bucket.max(1);
    for (x, &a) in members.iter().enumerate() {
        for &b in members.iter().skip(x + 1).take(w) {
            f(a, b);
        }
    }
}

/// The stable key of one band of a signature.
pub(crate) fn band_key(values: &[u64], band: usize) -> u64 {
    let mut h = fmix64(band as u64 + 1);
    for &v in values {
        h = fmix64(h ^ v).wrapping_add(0x9E37_79B9_7F4A_7C15);
    }
    h
}

/// Whether a signature is that of an empty set (all `u64::MAX`): such a
/// document has no band keys and is never an LSH candidate.
pub(crate) fn empty_signature(sig: &[u64]) -> bool {
    sig.first().is_none_or(|&v| v == u64::MAX)
}

/// The key of band `band` of a signature.
pub(crate) fn signature_band_key(sig: &[u64], params: &LshParams, band: usize) -> u64 {
    let rows = params.rows;
    band_key(&sig[band * rows..(band + 1) * rows], band)
}

/// Every band key of a signature, in band order; none for an empty set's.
pub(crate) fn band_keys(sig: &[u64], params: &LshParams) -> Vec<u64> {
    let mut keys = vec![0; params.bands];
    if band_keys_into(sig, params, &mut keys) {
        keys
    } else {
        Vec::new()
    }
}

/// Writes the band keys of a signature into `out` (one per band), or
/// returns `false` and leaves `out` as it is for an empty set's.
pub(crate) fn band_keys_into(sig: &[u64], params: &LshParams, out: &mut [u64]) -> bool {
    if empty_signature(sig) {
        return false;
    }
    for (b, key) in out.iter_mut().enumerate() {
        *key = signature_band_key(sig, params, b);
    }
    true
}

/// Candidate pairs of documents sharing at least one band, sorted and
/// deduplicated. `keys` holds each document's band keys, `bands` a
/// document, flat ([`band_keys_into`]); documents whose `banded` is
/// `false` (an empty set's) are skipped.
///
/// Within a band, each document's key and index are packed into one `u64`
/// (the key's high bits above the index) and sorted; two documents whose
/// truncated keys collide by chance only add a candidate, which
/// verification then rejects.
///
/// The reprints of one text share most of their bands, so a band pass that
/// emitted every pair of every bucket emitted each pair about twenty times
/// (12 million pairs for 0.56 million distinct at 200k documents), all of
/// them held, sorted and deduplicated at once. A first pass therefore
/// finds each band's buckets and notes the keys of those too large to be
/// paired whole (more than `max_bucket + 1` members, rare); the second
/// emits a pair only if no earlier band holds both documents in one bucket
/// paired whole, which the two documents' band keys tell. Pairs of larger
/// buckets (windowed, [`for_bucket_pairs`]) may still repeat, and the
/// final sort removes them.
pub(crate) fn candidate_pairs(
    keys: &[u64],
    banded: &[bool],
    bands: usize,
    max_bucket: usize,
) -> Vec<u64> {
    let n = banded.len();
    debug_assert_eq!(keys.len(), n * bands);
    let idx_bits = (usize::BITS - n.leading_zeros()).max(1);
    let idx_mask = (1u64 << idx_bits) - 1;
    let whole_max = max_bucket.max(1) + 1;
    let per_band: Vec<BandBuckets> = (0..bands)
        .into_par_iter()
        .map_init(Vec::new, |packed: &mut Vec<u64>, band| {
            packed.clear();
            for (i, doc) in keys.chunks_exact(bands).enumerate() {
                if banded[i] {
                    packed.push((doc[band] << idx_bits) | i as u64);
                }
            }
            packed.sort_unstable();
            let mut b = BandBuckets::default();
            for run in packed.chunk_by(|a, b| a >> idx_bits == b >> idx_bits) {
                if run.len() > 1 {
                    b.members.extend(run.iter().map(|&x| (x & idx_mask) as u32));
                    b.ends.push(b.members.len() as u32);
                    if run.len() > whole_max {
                        b.large.push(run[0] >> idx_bits);
                    }
                }
            }
            b
        })
        .collect();
    let per_band_pairs: Vec<Vec<u64>> = (0..bands)
        .into_par_iter()
        .map(|band| {
            // Whether documents `a` and `b` (both banded) share a bucket
            // paired whole in a band before this one: equal keys, as the
            // first pass compared them (the bits above the index).
            let paired_before = |a: u32, b: u32| {
                let ka = &keys[a as usize * bands..][..band];
                let kb = &keys[b as usize * bands..][..band];
                ka.iter().zip(kb).enumerate().any(|(t, (&x, &y))| {
                    (x ^ y) << idx_bits == 0
                        && per_band[t]
                            .large
                            .binary_search(&((x << idx_bits) >> idx_bits))
                            .is_err()
                })
            };
            let this = &per_band[band];
            let mut pairs = Vec::new();
            let mut start = 0;
            for &end in &this.ends {
                let members = &this.members[start as usize..end as usize];
                for_bucket_pairs(members, max_bucket, |a, b| {
                    if !paired_before(a, b) {
                        pairs.push(pack(a, b));
                    }
                });
                start = end;
            }
            pairs
        })
        .collect();
    drop(per_band);
    let mut all: Vec<u64> = per_band_pairs.into_iter().flatten().collect();
    all.par_sort_unstable();
    all.dedup();
    all
}

/// One band's buckets of two or more documents ([`candidate_pairs`]).
#[derive(Default)]
struct BandBuckets {
    /// The members of each bucket in turn, each bucket in document order.
    members: Vec<u32>,
    /// Where each bucket's members end in `members`.
    ends: Vec<u32>,
    /// The keys (the bits the buckets compare) of the buckets too large to
    /// be paired whole, ascending.
    large: Vec<u64>,
}

/// Bands and rows of the figure keys ([`figure_keys`]): a pair whose masked
/// shingles have Jaccard `s` shares one with probability
/// `1 − (1 − s⁸)⁸`: 0.99997 at 0.95, 0.989 at 0.9 (the updated-figures
/// rule's default), 0.03 at 0.5.
pub(crate) const FIGURE_BANDS: usize = 8;
const FIGURE_ROWS: usize = 8;

/// The band keys of a document's masked shingles (sorted, distinct 32-bit
/// hashes; see [`crate::Config::figures_jaccard`]), so that a copy with
/// updated figures becomes a candidate even where its shingles alone share
/// no band. The sketch is a one-permutation MinHash: each value goes to one
/// of 64 bins by its hash, and a bin keeps its smallest hash. Keys are
/// hashed with band numbers from 1,000 on, so they never equal a shingle
/// band's key.
pub(crate) fn figure_keys(masked: &[u32]) -> Vec<u64> {
    const BINS: usize = FIGURE_BANDS * FIGURE_ROWS;
    const BIN_BITS: u32 = BINS.trailing_zeros();
    if masked.is_empty() {
        return Vec::new();
    }
    let mut sketch = [u64::MAX; BINS];
    for &v in masked {
        let h = fmix64(v as u64 ^ 0xF16E_5EED);
        let bin = (h >> (64 - BIN_BITS)) as usize;
        sketch[bin] = sketch[bin].min(h & (u64::MAX >> BIN_BITS));
    }
    // An empty bin takes the value of the next filled one (cyclically),
    // mixed with the distance, so that short documents still have full
    // bands (densification by rotation).
    let filled = sketch;
    for (i, x) in sketch.iter_mut().enumerate() {
        if *x == u64::MAX {
            let (d, v) = (1..BINS)
                .map(|d| (d, filled[(i + d) % BINS]))
                .find(|&(_, v)| v != u64::MAX)
                .unwrap_or((0, 0));
            *x = fmix64(v ^ d as u64);
        }
    }
    sketch
        .chunks_exact(FIGURE_ROWS)
        .enumerate()
        .map(|(b, rows)| band_key(rows, 1000 + b))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figure_keys_agree_with_the_masked_jaccard() {
        let a: Vec<u32> = (0..400).map(|i| i * 7919).collect();
        let shared = |x: &[u64], y: &[u64]| x.iter().zip(y).filter(|(p, q)| p == q).count();
        assert_eq!(figure_keys(&a).len(), FIGURE_BANDS);
        assert_eq!(figure_keys(&a), figure_keys(&a));
        // One value of 400 changed: most bands still agree.
        let mut b = a.clone();
        b[17] = 1;
        b.sort_unstable();
        assert!(shared(&figure_keys(&a), &figure_keys(&b)) >= FIGURE_BANDS / 2);
        // Disjoint sets share no band.
        let c: Vec<u32> = (0..400).map(|i| i * 7919 + 1).collect();
        assert_eq!(shared(&figure_keys(&a), &figure_keys(&c)), 0);
        // A short set fills every band; none for an empty one.
        assert_eq!(figure_keys(&[5, 9, 12]).len(), FIGURE_BANDS);
        assert!(figure_keys(&[]).is_empty());
        // Keys never equal a shingle band's key of the same values.
        let rows: Vec<u64> = vec![1; FIGURE_ROWS];
        assert_ne!(band_key(&rows, 0), band_key(&rows, 1000));
    }

    #[test]
    fn higher_threshold_gives_steeper_later_curve() {
        let lo = LshParams::from_threshold(0.3, 128, 0.5, 0.5);
        let hi = LshParams::from_threshold(0.8, 128, 0.5, 0.5);
        assert!(collision_probability(0.5, lo.bands, lo.rows) > 0.9);
        assert!(collision_probability(0.5, hi.bands, hi.rows) < 0.2);
        assert!(collision_probability(0.95, hi.bands, hi.rows) > 0.95);
    }

    #[test]
    fn weights_trade_false_negatives_for_false_positives() {
        let fn_heavy = LshParams::from_threshold(0.5, 128, 0.1, 0.9);
        let fp_heavy = LshParams::from_threshold(0.5, 128, 0.9, 0.1);
        assert!(fn_heavy.false_negative < fp_heavy.false_negative);
        assert!(fn_heavy.false_positive > fp_heavy.false_positive);
    }

    #[test]
    fn simpson_integrates_polynomials_exactly() {
        assert!((integrate(|s| s * s, 0.0, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn big_buckets_are_windowed() {
        let members: Vec<u32> = (0..10).collect();
        let mut out = Vec::new();
        for_bucket_pairs(&members, 100, |a, b| out.push(pack(a, b)));
        assert_eq!(out.len(), 45);
        out.clear();
        for_bucket_pairs(&members, 2, |a, b| out.push(pack(a, b)));
        assert_eq!(out.len(), 9 + 8);
        assert!(out.contains(&pack(0, 2)) && !out.contains(&pack(0, 3)));
    }

    #[test]
    fn pairs_equal_every_bands_pairs_gathered() {
        // Keys from a small alphabet, so that documents share buckets in
        // many bands and some buckets outgrow the window.
        let (n, bands) = (300usize, 9usize);
        let keys: Vec<u64> = (0..n * bands)
            .map(|x| fmix64(x as u64 * 31) % [3u64, 40, 400][x % 3])
            .collect();
        let banded: Vec<bool> = (0..n).map(|i| i % 17 != 5).collect();
        for max_bucket in [1, 2, 5, 1000] {
            let mut want = Vec::new();
            for band in 0..bands {
                let mut buckets: std::collections::BTreeMap<u64, Vec<u32>> = Default::default();
                for i in (0..n).filter(|&i| banded[i]) {
                    buckets
                        .entry(keys[i * bands + band])
                        .or_default()
                        .push(i as u32);
                }
                for members in buckets.values() {
                    for_bucket_pairs(members, max_bucket, |a, b| want.push(pack(a, b)));
                }
            }
            want.sort_unstable();
            want.dedup();
            assert_eq!(candidate_pairs(&keys, &banded, bands, max_bucket), want);
        }
    }

    #[test]
    fn identical_signatures_collide_and_distinct_do_not() {
        let p = LshParams::from_threshold(0.5, 64, 0.5, 0.5);
        let a: Vec<u64> = (0..64).collect();
        let b: Vec<u64> = (1000..1064).collect();
        let empty = vec![u64::MAX; 64];
        let mut keys = vec![0u64; 5 * p.bands];
        let banded: Vec<bool> = [&a, &b, &empty, &a, &empty]
            .iter()
            .zip(keys.chunks_exact_mut(p.bands))
            .map(|(sig, out)| band_keys_into(sig, &p, out))
            .collect();
        assert_eq!(banded, [true, true, false, true, false]);
        assert_eq!(band_keys(&a, &p), keys[..p.bands]);
        assert!(band_keys(&empty, &p).is_empty());
        // The empty sets' keys are equal (untouched) but never pair.
        assert_eq!(
            candidate_pairs(&keys, &banded, p.bands, 100),
            vec![pack(0, 3)]
        );
    }
}
