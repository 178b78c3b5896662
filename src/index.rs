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
    let mut postings: Vec<(u64, u32)> = keys
        .iter()
        .enumerate()
        .flat_map(|(i, ks)| ks.iter().map(move |&k| (k, i as u32)))
        .collect();
    postings.par_sort_unstable();
    // Posting lists as runs of `items`; each item lists the runs of its
    // usable keys (CSR layout, no look-ups while counting).
    let items: Vec<u32> = postings.iter().map(|&(_, i)| i).collect();
    let mut runs: Vec<(u32, u32)> = Vec::new();
    let mut item_runs: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut skipped = 0;
    let mut start = 0usize;
    for run in postings.chunk_by(|a, b| a.0 == b.0) {
        if run.len() > max_posting {
            skipped += 1;
        } else if run.len() > 1 {
            let r = runs.len() as u32;
            runs.push((start as u32, (start + run.len()) as u32));
            for &(_, i) in run {
                item_runs[i as usize].push(r);
            }
        }
        start += run.len();
    }
    drop(postings);
    // For each item, the later items met in its lists are gathered, sorted
    // and counted in runs: the work is the sum of the posting lengths and
    // the scratch stays small and hot in cache whatever the corpus size.
    let pairs = (0..n)
        .into_par_iter()
        .map_init(Vec::<u32>::new, |met, i| {
            met.clear();
            for &r in &item_runs[i] {
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
}
