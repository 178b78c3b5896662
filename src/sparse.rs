//! Sparse term vectors, `(term, weight)` sorted by term, and their algebra:
//! the story vectors of documents, duplicate groups and live groups.

/// A sparse unit vector: `(term, weight)` sorted by term.
pub(crate) type SparseVec = Vec<(u64, f32)>;

/// Sums the weights of equal terms of a vector sorted by term into its
/// front; returns how many distinct terms there are.
pub(crate) fn sum_runs_in_place(v: &mut [(u64, f32)]) -> usize {
    let mut out = 0;
    let mut i = 0;
    while i < v.len() {
        let t = v[i].0;
        let mut w: f32 = 0.0;
        while i < v.len() && v[i].0 == t {
            w += v[i].1;
            i += 1;
        }
        v[out] = (t, w);
        out += 1;
    }
    out
}

/// Sums the weights of equal terms of a vector sorted by term, in place;
/// the result holds no spare capacity.
pub(crate) fn sum_runs(mut v: Vec<(u64, f32)>) -> Vec<(u64, f32)> {
    let n = sum_runs_in_place(&mut v);
    v.truncate(n);
    v.shrink_to_fit();
    v
}

pub(crate) fn normalize(v: &mut SparseVec) {
    let norm = v
        .iter()
        .map(|&(_, w)| (w as f64).powi(2))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            x.1 = (x.1 as f64 / norm) as f32;
        }
    }
}

/// Cosine of two unit vectors (the dot product of any two): a walk of
/// both without a branch on which term is smaller, whose outcome is
/// unpredictable; terms held by one side only add nothing.
pub(crate) fn cosine(a: &[(u64, f32)], b: &[(u64, f32)]) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let ((ta, wa), (tb, wb)) = (a[i], b[j]);
        let both = (ta == tb) as u32 as f64;
        dot += both * (wa as f64 * wb as f64);
        i += (ta <= tb) as usize;
        j += (tb <= ta) as usize;
    }
    dot
}

/// The mean of several unit vectors, renormalized.
pub(crate) fn centroid<'a>(vs: impl IntoIterator<Item = &'a SparseVec>) -> SparseVec {
    let mut out = sum(vs);
    normalize(&mut out);
    out
}

/// The sum of several vectors (not normalized).
pub(crate) fn sum<'a>(vs: impl IntoIterator<Item = &'a SparseVec>) -> SparseVec {
    let vs: Vec<&SparseVec> = vs.into_iter().collect();
    let mut all: Vec<(u64, f32)> = Vec::with_capacity(vs.iter().map(|v| v.len()).sum());
    for v in vs {
        all.extend_from_slice(v);
    }
    all.sort_unstable_by_key(|&(t, _)| t);
    sum_runs(all)
}

/// The Euclidean norm of a sparse vector.
pub(crate) fn norm(v: &SparseVec) -> f64 {
    v.iter()
        .map(|&(_, w)| (w as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// The sum of two sparse vectors.
pub(crate) fn add(a: &SparseVec, b: &SparseVec) -> SparseVec {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if j == b.len() || (i < a.len() && a[i].0 < b[j].0) {
            out.push(a[i]);
            i += 1;
        } else if i == a.len() || b[j].0 < a[i].0 {
            out.push(b[j]);
            j += 1;
        } else {
            out.push((a[i].0, a[i].1 + b[j].1));
            i += 1;
            j += 1;
        }
    }
    out
}

/// `sum / norm`: a sum of vectors scaled to unit length by its norm (empty
/// when the norm is 0).
pub(crate) fn scaled(sum: &SparseVec, norm: f64) -> SparseVec {
    if norm == 0.0 {
        return Vec::new();
    }
    sum.iter()
        .map(|&(t, w)| (t, (w as f64 / norm) as f32))
        .collect()
}

/// `cosine(v, sum / norm)` for a unit vector `v` and an unnormalized sum
/// with norm `norm`.
pub(crate) fn scaled_cosine(v: &SparseVec, sum: &SparseVec, norm: f64) -> f64 {
    if norm == 0.0 {
        0.0
    } else {
        cosine(v, sum) / norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_unit_vectors() {
        let mut a: SparseVec = vec![(1, 1.0), (2, 1.0)];
        let mut b: SparseVec = vec![(2, 1.0), (3, 1.0)];
        normalize(&mut a);
        normalize(&mut b);
        assert!((cosine(&a, &b) - 0.5).abs() < 1e-6);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn the_branchless_walk_sums_as_a_merge_does() {
        // Against a merge that branches on the order of the terms, summing
        // the shared terms in the same order: bit for bit.
        let merged = |a: &SparseVec, b: &SparseVec| {
            let (mut i, mut j, mut s) = (0, 0, 0.0f64);
            while i < a.len() && j < b.len() {
                match a[i].0.cmp(&b[j].0) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        s += a[i].1 as f64 * b[j].1 as f64;
                        i += 1;
                        j += 1;
                    }
                }
            }
            s
        };
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..50 {
            let mut vs: Vec<SparseVec> = (0..2)
                .map(|_| {
                    let mut v: SparseVec = (0..40)
                        .map(|_| (next() % 64, (next() % 1000) as f32 / 997.0))
                        .collect();
                    v.sort_unstable_by_key(|&(t, _)| t);
                    v.dedup_by_key(|&mut (t, _)| t);
                    v
                })
                .collect();
            let b = vs.pop().unwrap();
            let a = vs.pop().unwrap();
            assert_eq!(cosine(&a, &b).to_bits(), merged(&a, &b).to_bits());
            assert_ne!(cosine(&a, &b), 0.0);
        }
    }

    #[test]
    fn sums_merge_sorted_vectors() {
        let a = vec![(1, 1.0), (3, 1.0)];
        let b = vec![(2, 2.0), (3, 2.0), (9, 1.0)];
        assert_eq!(add(&a, &b), vec![(1, 1.0), (2, 2.0), (3, 3.0), (9, 1.0)]);
    }

    #[test]
    fn scaled_sums_are_unit_vectors() {
        let sum = add(&vec![(1, 0.6), (2, 0.8)], &vec![(1, 0.6), (2, 0.8)]);
        let n = norm(&sum);
        assert!((n - 2.0).abs() < 1e-6);
        let u = scaled(&sum, n);
        assert!((cosine(&u, &u) - 1.0).abs() < 1e-6);
        assert!((scaled_cosine(&u, &sum, n) - 1.0).abs() < 1e-6);
        assert!(scaled(&sum, 0.0).is_empty());
    }
}
