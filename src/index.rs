//! An inverted index that counts, for every pair of items, how many keys
//! they share, without looking at pairs that share none.
//!
//! Used for containment candidates (keys: winnowed fingerprints) and story
//! candidates (keys: top terms). Posting lists are built by sorting
//! `(key, item)`; each item then walks the lists of its keys and counts the
//! later items it meets, so the work is the sum of the posting lengths,
//! never all pairs. Lists longer than `max_posting`
//! (stock phrases, words every article uses) are skipped and counted.

use rayon::prelude::*;

/// Pairs `(i, j)`, `i < j`, that share at least one usable key and that
/// `accept(i, j, shared)` accepts, in `(i, j)` order; and the number of keys
/// skipped for having more than `max_posting` items.
pub(crate) fn shared_key_pairs(
    keys: &[Vec<u64>],
    max_posting: usize,
    accept: impl Fn(usize, usize, usize) -> bool + Sync,
) -> (Vec<(u32, u32)>, usize) {
    let n = keys.len();
    let postings = sorted_postings(keys);
    // Posting lists as runs of `items`; each item lists the runs of its
    // usable keys (CSR layout, no look-ups while counting).
    let items: Vec<u32> = postings.iter().map(|&(_, i)| i).collect();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let mut skipped = 0;
    let mut start = 0usize;
    for run in postings.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > max_posting {
            skipped += 1;
        } else if run.len() > 1 {
            runs.push((start as u32, (start + run.len()) as u32));
        }
        start += run.len();
    }
    drop(postings);
    // The runs of each item, in run order: counted, then filled.
    let mut offsets = vec![0u32; n + 1];
    for &(a, b) in &runs {
        for &i in &items[a as usize..b as usize] {
            offsets[i as usize + 1] += 1;
        }
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let mut item_runs = vec![0u32; offsets[n] as usize];
    for (r, &(a, b)) in runs.iter().enumerate() {
        for &i in &items[a as usize..b as usize] {
            item_runs[fill[i as usize] as usize] = r as u32;
            fill[i as usize] += 1;
        }
    }
    drop(fill);
    let runs_of = |i: usize| &item_runs[offsets[i] as usize..offsets[i + 1] as usize];
    // For each item, the later items met in its lists are gathered, sorted
    // and counted in runs: the work is the sum of the posting lengths and
    // the scratch stays small and hot in cache whatever the corpus size.
    let pairs = (0..n)
        .into_par_iter()
        .map_init(Vec::<u32>::new, |met, i| {
            met.clear();
            for &r in runs_of(i) {
                let (a, b) = runs[r as usize];
                let list = &items[a as usize..b as usize];
                // Lists are sorted: only later items.
                let start = list.partition_point(|&j| j as usize <= i);
                met.extend_from_slice(&list[start..]);
            }
            met.sort_unstable();
            met.chunk_by(|x, y| x == y)
                .filter(|run| accept(i, run[0] as usize, run.len()))
                .map(|run| (i as u32, run[0]))
                .collect::<Vec<_>>()
        })
        .flatten()
        .collect();
    (pairs, skipped)
}

/// Every `(key, item)`, sorted. Keys are hashes, so their top bits spread
/// them evenly: the pairs are written straight into buckets by those bits
/// (one counting pass and one writing pass over `keys`, no growing vector),
/// and each bucket, small enough to stay in cache, is sorted on its own.
/// The result equals a sort of all pairs.
fn sorted_postings(keys: &[Vec<u64>]) -> Vec<(u64, u32)> {
    const BITS: u32 = 12;
    let bucket = |k: u64| (k >> (64 - BITS)) as usize;
    let mut starts = vec![0usize; (1 << BITS) + 1];
    for ks in keys {
        for &k in ks {
            starts[bucket(k) + 1] += 1;
        }
    }
    for b in 0..1 << BITS {
        starts[b + 1] += starts[b];
    }
    let total = starts[1 << BITS];
    let mut postings: Vec<(u64, u32)> = vec![(0, 0); total];
    let mut next = starts.clone();
    for (i, ks) in keys.iter().enumerate() {
        for &k in ks {
            let b = bucket(k);
            postings[next[b]] = (k, i as u32);
            next[b] += 1;
        }
    }
    // Disjoint buckets, sorted in parallel.
    let mut rest: &mut [(u64, u32)] = &mut postings;
    let mut parts: Vec<&mut [(u64, u32)]> = Vec::with_capacity(1 << BITS);
    for b in 0..1 << BITS {
        let (part, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
        parts.push(part);
        rest = tail;
    }
    parts.into_par_iter().for_each(|p| p.sort_unstable());
    postings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_shared_keys_of_later_items_only() {
        let keys = vec![vec![1, 2, 3], vec![2, 3, 9], vec![3, 7], vec![10]];
        let (pairs, skipped) = shared_key_pairs(&keys, 10, |_, _, s| s >= 1);
        assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(skipped, 0);
        let (pairs, _) = shared_key_pairs(&keys, 10, |_, _, s| s >= 2);
        assert_eq!(pairs, vec![(0, 1)]);
        // Key 3 is held by three items: over a cap of 2 it is skipped.
        let (pairs, skipped) = shared_key_pairs(&keys, 2, |_, _, s| s >= 1);
        assert_eq!(pairs, vec![(0, 1)]);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn bucketed_postings_equal_a_full_sort() {
        // Spread keys, keys sharing their top bits (one bucket), and the
        // extremes.
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut keys: Vec<Vec<u64>> = (0..300)
            .map(|i| {
                let mut ks: Vec<u64> = (0..i % 17)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        if x.is_multiple_of(3) { x >> 20 } else { x % 50 }
                    })
                    .collect();
                ks.sort_unstable();
                ks.dedup();
                ks
            })
            .collect();
        keys.push(vec![0, u64::MAX]);
        keys.push(vec![u64::MAX]);
        let mut want: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .flat_map(|(i, ks)| ks.iter().map(move |&k| (k, i as u32)))
            .collect();
        want.sort_unstable();
        assert_eq!(sorted_postings(&keys), want);
    }
}
