//! Exact verification of candidate pairs.
//!
//! Every candidate pair is scored on the exact shingle sets before it can join
//! a group: Jaccard `|A∩B| / |A∪B|` and both containments `|A∩B| / |A|` and
//! `|A∩B| / |B|`. Containment is what catches truncated reprints and excerpts.
//! The rules that decide on these scores are in `verify`; headlines are
//! compared in `headline`.

use serde::{Deserialize, Serialize};

/// Size of the intersection of two sorted, deduplicated slices.
///
/// Uses a merge when the sizes are close and galloping (binary search of the
/// smaller in the larger) when they are far apart.
///
/// ```
/// assert_eq!(wirecluster::intersection_size(&[1, 3, 5, 7], &[3, 4, 5]), 2);
/// ```
pub fn intersection_size<T: Ord + Copy>(a: &[T], b: &[T]) -> usize {
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if small.is_empty() {
        return 0;
    }
    if large.len() / small.len() >= 16 {
        let mut count = 0;
        let mut rest = large;
        for x in small {
            let i = rest.partition_point(|y| y < x);
            if i < rest.len() && rest[i] == *x {
                count += 1;
            }
            rest = &rest[i..];
        }
        return count;
    }
    let (mut i, mut j, mut count) = (0, 0, 0);
    while i < small.len() && j < large.len() {
        let (x, y) = (small[i], large[j]);
        count += (x == y) as usize;
        i += (x <= y) as usize;
        j += (y <= x) as usize;
    }
    count
}

/// Calls `f(i, j)` for every `a[i] == b[j]` of two sorted slices of
/// distinct values, in order.
pub(crate) fn for_each_match<T: Ord>(a: &[T], b: &[T], mut f: impl FnMut(usize, usize)) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                f(i, j);
                i += 1;
                j += 1;
            }
        }
    }
}

/// Exact overlap scores of two shingle sets.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// `|A∩B|`.
    pub shared: usize,
    /// `|A|`.
    pub size_a: usize,
    /// `|B|`.
    pub size_b: usize,
}

impl Overlap {
    /// Scores two sorted, deduplicated shingle sets.
    ///
    /// ```
    /// use wirecluster::Overlap;
    /// let o = Overlap::of(&[1, 2, 3, 4], &[3, 4, 5, 6, 7, 8]);
    /// assert_eq!(o.jaccard(), 0.25);
    /// assert_eq!(o.containment_a_in_b(), 0.5);
    /// assert_eq!(o.max_containment(), 0.5);
    /// ```
    pub fn of(a: &[u64], b: &[u64]) -> Self {
        Overlap {
            shared: intersection_size(a, b),
            size_a: a.len(),
            size_b: b.len(),
        }
    }

    /// `|A∩B| / |A∪B|` (0 for two empty sets).
    pub fn jaccard(&self) -> f64 {
        let union = self.size_a + self.size_b - self.shared;
        if union == 0 {
            0.0
        } else {
            self.shared as f64 / union as f64
        }
    }

    /// `|A∩B| / |A|`: how much of A is in B.
    pub fn containment_a_in_b(&self) -> f64 {
        ratio(self.shared, self.size_a)
    }

    /// `|A∩B| / |B|`: how much of B is in A.
    pub fn containment_b_in_a(&self) -> f64 {
        ratio(self.shared, self.size_b)
    }

    /// The containment of the smaller set in the larger (overlap coefficient).
    pub fn max_containment(&self) -> f64 {
        ratio(self.shared, self.size_a.min(self.size_b))
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &[u64], b: &[u64]) -> usize {
        a.iter().filter(|x| b.contains(x)).count()
    }

    proptest! {
        #[test]
        fn intersection_matches_naive(mut a in proptest::collection::vec(0u64..200, 0..100),
                                      mut b in proptest::collection::vec(0u64..200, 0..3000)) {
            a.sort_unstable(); a.dedup();
            b.sort_unstable(); b.dedup();
            prop_assert_eq!(intersection_size(&a, &b), naive(&a, &b));
            prop_assert_eq!(intersection_size(&b, &a), naive(&a, &b));
        }
    }

    #[test]
    fn empty_sets_score_zero() {
        let o = Overlap::of(&[], &[]);
        assert_eq!((o.jaccard(), o.max_containment()), (0.0, 0.0));
    }
}
