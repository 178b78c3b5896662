//! MinHash signatures.
//!
//! Two algorithms estimate the Jaccard similarity of two shingle sets as the
//! fraction of signature positions on which they agree:
//!
//! * [`SignatureAlgorithm::OnePermutation`] (default): one-permutation hashing
//!   with optimal densification (Shrivastava, ICML 2017). Each shingle is
//!   hashed once and falls into one of `k` bins; a bin keeps its minimum; an
//!   empty bin borrows the value of a non-empty bin chosen by a seeded hash
//!   sequence. O(n + k) per set, and as accurate as classic MinHash.
//! * [`SignatureAlgorithm::Classic`]: `k` independent universal hash
//!   functions `h_i(x) = (a_i·x + b_i) mod (2^61 − 1)`, computed with 128-bit
//!   products so nothing overflows. O(n·k) per set.
//!
//! Both are deterministic functions of the shingle set and the seed.

use serde::{Deserialize, Serialize};

use crate::shingle::fmix64;

/// Which MinHash-family algorithm computes signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// One-permutation hashing with optimal densification, O(n + k).
    #[default]
    OnePermutation,
    /// Classic MinHash with k universal hash functions, O(n·k).
    Classic,
}

const MERSENNE_61: u64 = (1 << 61) - 1;

/// splitmix64: the seed expander for hash-function parameters.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn mod_mersenne61(x: u128) -> u64 {
    // x < 2^122; fold twice.
    let lo = (x as u64) & MERSENNE_61;
    let hi = (x >> 61) as u64;
    let mut r = lo + (hi & MERSENNE_61) + (hi >> 61);
    while r >= MERSENNE_61 {
        r -= MERSENNE_61;
    }
    r
}

/// Computes MinHash signatures of shingle sets.
///
/// ```
/// use wirecluster::{MinHasher, SignatureAlgorithm};
/// let a: Vec<u64> = (0..1000).collect();
/// let b: Vec<u64> = (500..1500).collect(); // Jaccard 1/3
/// let mh = MinHasher::new(SignatureAlgorithm::OnePermutation, 256, 42);
/// let est = MinHasher::estimate(&mh.signature(&a), &mh.signature(&b));
/// assert!((est - 1.0 / 3.0).abs() < 0.1, "{est}");
/// ```
#[derive(Debug, Clone)]
pub struct MinHasher {
    algorithm: SignatureAlgorithm,
    k: usize,
    seed: u64,
    /// Classic: (a_i, b_i) per function.
    params: Vec<(u64, u64)>,
    /// One permutation: the first [`PROBES`] bins of each bin's
    /// densification sequence, bin after bin (empty when `k` exceeds
    /// `u16`).
    probes: Vec<u16>,
    /// One permutation with `k` up to 256: for filled bin `j` and empty
    /// bin `i`, at `ranks[j * k + i]`, the first attempt at which `i`
    /// probes `j` ([`LATE`] when past the first 254).
    ranks: Vec<u8>,
}

/// A rank past the attempts that [`MinHasher`]'s rank table holds.
const LATE: u8 = u8::MAX;

/// Bins of each empty bin's densification sequence that a [`MinHasher`]
/// keeps in a table instead of hashing them for every set. An empty bin
/// nearly always finds a filled one among them (with 15 of 126 bins
/// filled, all but 3 in 10,000 empty bins); the others go on hashing the
/// same sequence. A set of a headline's size has about a hundred empty
/// bins in 126, and hashing their probes took most of its signature's
/// time.
const PROBES: usize = 64;

/// Calls `f` with the position of each set bit of `words` (64 a word), in
/// order.
fn for_each_bit(words: impl IntoIterator<Item = u64>, mut f: impl FnMut(usize)) {
    for (w, mut word) in words.into_iter().enumerate() {
        while word != 0 {
            f(w * 64 + word.trailing_zeros() as usize);
            word &= word - 1;
        }
    }
}

/// The salt of the one-permutation hash and of its densification.
fn one_permutation_salt(seed: u64) -> u64 {
    fmix64(seed ^ 0x5851_F42D_4C95_7F2D)
}

/// The bin (of `k`) that empty bin `i` probes at attempt `attempt` (from 1).
fn densification_probe(salt: u64, k: usize, i: usize, attempt: u64) -> usize {
    let r = fmix64(salt ^ ((i as u64) << 32) ^ attempt);
    ((r as u128 * k as u128) >> 64) as usize
}

impl MinHasher {
    /// A hasher producing `k` values per signature (`k >= 1`).
    pub fn new(algorithm: SignatureAlgorithm, k: usize, seed: u64) -> Self {
        let k = k.max(1);
        let mut state = seed;
        let params = match algorithm {
            SignatureAlgorithm::Classic => (0..k)
                .map(|_| {
                    let a = splitmix64(&mut state) % (MERSENNE_61 - 1) + 1;
                    let b = splitmix64(&mut state) % MERSENNE_61;
                    (a, b)
                })
                .collect(),
            SignatureAlgorithm::OnePermutation => Vec::new(),
        };
        let probes = match algorithm {
            SignatureAlgorithm::OnePermutation if k <= 1 << 16 => {
                let salt = one_permutation_salt(seed);
                (0..k)
                    .flat_map(|i| {
                        (1..=PROBES as u64).map(move |a| densification_probe(salt, k, i, a) as u16)
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        let ranks = match algorithm {
            SignatureAlgorithm::OnePermutation if k <= 256 => {
                let salt = one_permutation_salt(seed);
                let mut ranks = vec![LATE; k * k];
                for i in 0..k {
                    for a in 1..LATE {
                        let j = densification_probe(salt, k, i, a as u64);
                        let r = &mut ranks[j * k + i];
                        *r = (*r).min(a);
                    }
                }
                ranks
            }
            _ => Vec::new(),
        };
        MinHasher {
            algorithm,
            k,
            seed,
            params,
            probes,
            ranks,
        }
    }

    /// Signature length.
    pub fn len(&self) -> usize {
        self.k
    }

    /// Always false: a signature has at least one value.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The signature of a set of shingle hashes (duplicates are harmless).
    /// The empty set gets a signature of `u64::MAX` values.
    pub fn signature(&self, shingles: &[u64]) -> Vec<u64> {
        let mut out = vec![u64::MAX; self.k];
        self.signature_into(shingles, &mut out);
        out
    }

    /// Writes the signature into `out` (resized to `k`).
    pub fn signature_into(&self, shingles: &[u64], out: &mut Vec<u64>) {
        out.clear();
        out.resize(self.k, u64::MAX);
        self.signature_into_slice(shingles, out);
    }

    /// Writes the signature into `out`, which must hold exactly `k` values.
    pub(crate) fn signature_into_slice(&self, shingles: &[u64], out: &mut [u64]) {
        debug_assert_eq!(out.len(), self.k);
        out.fill(u64::MAX);
        if shingles.is_empty() {
            return;
        }
        match self.algorithm {
            SignatureAlgorithm::Classic => self.classic(shingles, out),
            SignatureAlgorithm::OnePermutation => self.one_permutation(shingles, out),
        }
    }

    fn classic(&self, shingles: &[u64], out: &mut [u64]) {
        for &s in shingles {
            let x = (s % MERSENNE_61) as u128;
            for (slot, &(a, b)) in out.iter_mut().zip(&self.params) {
                let h = mod_mersenne61(a as u128 * x + b as u128);
                if h < *slot {
                    *slot = h;
                }
            }
        }
    }

    fn one_permutation(&self, shingles: &[u64], out: &mut [u64]) {
        let k = self.k as u128;
        let salt = one_permutation_salt(self.seed);
        for &s in shingles {
            let h = fmix64(s ^ salt);
            let bin = ((h as u128 * k) >> 64) as usize;
            if h < out[bin] {
                out[bin] = h;
            }
        }
        // Optimal densification: an empty bin i probes bins
        // fmix64(seed, i, attempt) mod k until it finds a non-empty one.
        if !out.contains(&u64::MAX) {
            return;
        }
        let (mut small, mut large) = ([0u64; 4], Vec::new());
        let words = self.k.div_ceil(64);
        let filled: &mut [u64] = if words <= small.len() {
            &mut small[..words]
        } else {
            large.resize(words, 0);
            &mut large
        };
        // Without a branch: which bins are empty is unpredictable.
        for (j, &v) in out.iter().enumerate() {
            filled[j / 64] |= ((v != u64::MAX) as u64) << (j % 64);
        }
        let filled: &[u64] = filled;
        let count = filled
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>();
        if count == 0 {
            return;
        }
        let is_filled = |j: usize| filled[j / 64] >> (j % 64) & 1 == 1;
        let probe_further = |i: usize, from: u64| {
            (from..)
                .map(|a| densification_probe(salt, self.k, i, a))
                .find(|&j| is_filled(j))
                .expect("a filled bin is found")
        };
        if !self.ranks.is_empty() && count * 3 < self.k {
            // Few bins filled: an empty bin probes k / count bins on
            // average, each test a branch no predictor gets right. The
            // rank table turns this around: each filled bin offers itself
            // to every empty bin at the rank it comes in that bin's
            // sequence, and each empty bin keeps the earliest offer, as
            // `rank << 8 | bin` (a loop the compiler vectorizes).
            let k = self.k;
            let mut best = [u16::MAX; 256];
            let best = &mut best[..k];
            for_each_bit(filled.iter().copied(), |j| {
                let row = &self.ranks[j * k..(j + 1) * k];
                for (b, &r) in best.iter_mut().zip(row) {
                    *b = (*b).min((r as u16) << 8 | j as u16);
                }
            });
            for (i, &b) in best.iter().enumerate() {
                // A filled bin keeps its value (no branch on it).
                let mut j = if is_filled(i) { i } else { (b & 0xFF) as usize };
                if (b >> 8) as u8 == LATE && !is_filled(i) {
                    j = probe_further(i, LATE as u64);
                }
                out[i] = out[j];
            }
            return;
        }
        for_each_bit(filled.iter().map(|w| !w), |i| {
            if i >= self.k {
                return;
            }
            let table = self.probes.get(i * PROBES..(i + 1) * PROBES).unwrap_or(&[]);
            let j = table
                .iter()
                .map(|&j| j as usize)
                .find(|&j| is_filled(j))
                .unwrap_or_else(|| probe_further(i, table.len() as u64 + 1));
            out[i] = out[j];
        });
    }

    /// The Jaccard estimate of two signatures: the fraction of equal positions.
    pub fn estimate(a: &[u64], b: &[u64]) -> f64 {
        let n = a.len().min(b.len());
        if n == 0 {
            return 0.0;
        }
        let eq = a.iter().zip(b).filter(|(x, y)| x == y).count();
        eq as f64 / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sets with exactly known Jaccard: |A∩B| = inter, |A\B| = |B\A| = only.
    fn pair(inter: u64, only: u64, salt: u64) -> (Vec<u64>, Vec<u64>) {
        let h = |i: u64| fmix64(i ^ (salt << 40));
        let a: Vec<u64> = (0..inter + only).map(h).collect();
        let b: Vec<u64> = (0..inter)
            .chain(inter + only..inter + 2 * only)
            .map(h)
            .collect();
        (a, b)
    }

    fn check_unbiased(alg: SignatureAlgorithm, inter: u64, only: u64) {
        let j = inter as f64 / (inter + 2 * only) as f64;
        let k = 128;
        let trials = 300;
        let mut ests = Vec::new();
        for t in 0..trials {
            let (a, b) = pair(inter, only, t);
            let mh = MinHasher::new(alg, k, 1000 + t);
            ests.push(MinHasher::estimate(&mh.signature(&a), &mh.signature(&b)));
        }
        let mean = ests.iter().sum::<f64>() / trials as f64;
        let var = ests.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (trials - 1) as f64;
        let theory = j * (1.0 - j) / k as f64;
        // Mean within 4 standard errors of the truth.
        let se = (theory / trials as f64).sqrt();
        assert!(
            (mean - j).abs() < 4.0 * se + 1e-9,
            "{alg:?} inter={inter} only={only}: mean {mean} vs J {j}"
        );
        // Variance within a factor of the classic theory.
        assert!(
            var < 1.6 * theory && var > 0.5 * theory,
            "{alg:?} inter={inter} only={only}: var {var} vs theory {theory}"
        );
    }

    #[test]
    fn classic_is_unbiased_with_theoretical_variance() {
        check_unbiased(SignatureAlgorithm::Classic, 300, 200);
        check_unbiased(SignatureAlgorithm::Classic, 20, 10);
    }

    #[test]
    fn one_permutation_is_unbiased_on_large_and_small_sets() {
        check_unbiased(SignatureAlgorithm::OnePermutation, 3000, 2000);
        check_unbiased(SignatureAlgorithm::OnePermutation, 300, 200);
        // Fewer elements than bins: densification carries the estimate.
        check_unbiased(SignatureAlgorithm::OnePermutation, 20, 10);
    }

    /// The densification as first written: every probe hashed.
    fn reference_one_permutation(seed: u64, k: usize, shingles: &[u64]) -> Vec<u64> {
        let salt = one_permutation_salt(seed);
        let mut out = vec![u64::MAX; k];
        for &s in shingles {
            let h = fmix64(s ^ salt);
            let bin = ((h as u128 * k as u128) >> 64) as usize;
            out[bin] = out[bin].min(h);
        }
        let filled: Vec<bool> = out.iter().map(|&v| v != u64::MAX).collect();
        if shingles.is_empty() {
            return out;
        }
        for i in 0..k {
            if !filled[i] {
                let j = (1..)
                    .map(|a| densification_probe(salt, k, i, a))
                    .find(|&j| filled[j])
                    .unwrap();
                out[i] = out[j];
            }
        }
        out
    }

    #[test]
    fn densification_table_gives_the_hashed_sequence() {
        // One shingle leaves one bin filled, so most empty bins run past
        // the table; 300 bins take the bitset off the stack.
        for k in [1, 7, 64, 126, 300] {
            let mh = MinHasher::new(SignatureAlgorithm::OnePermutation, k, 11);
            for n in [1u64, 2, 3, 15, 40, 200, 2000] {
                let set: Vec<u64> = (0..n).map(|i| fmix64(i ^ (n << 20) ^ k as u64)).collect();
                assert_eq!(
                    mh.signature(&set),
                    reference_one_permutation(11, k, &set),
                    "k {k}, {n} shingles"
                );
            }
        }
    }

    #[test]
    fn identical_and_disjoint_sets() {
        for alg in [
            SignatureAlgorithm::Classic,
            SignatureAlgorithm::OnePermutation,
        ] {
            let mh = MinHasher::new(alg, 64, 7);
            let (a, _) = pair(50, 50, 1);
            let (c, _) = pair(50, 50, 2);
            assert_eq!(
                MinHasher::estimate(&mh.signature(&a), &mh.signature(&a)),
                1.0
            );
            assert!(MinHasher::estimate(&mh.signature(&a), &mh.signature(&c)) < 0.1);
        }
    }

    #[test]
    fn mersenne_reduction_matches_u128_modulo() {
        let mut s = 1u64;
        for _ in 0..10_000 {
            let a = splitmix64(&mut s) % MERSENNE_61;
            let x = splitmix64(&mut s) % MERSENNE_61;
            let b = splitmix64(&mut s) % MERSENNE_61;
            let v = a as u128 * x as u128 + b as u128;
            assert_eq!(mod_mersenne61(v) as u128, v % MERSENNE_61 as u128);
        }
        // The largest possible input.
        let m = (MERSENNE_61 - 1) as u128;
        let v = m * m + m;
        assert_eq!(mod_mersenne61(v) as u128, v % MERSENNE_61 as u128);
    }
}
