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

/// The order in which [`shared_key_pairs`] visits items; the result is the
/// same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Visit {
    /// Input order.
    InOrder,
    /// Items sharing their first posting list one after the other. For
    /// items that come in families holding nearly the same keys (the
    /// reprints of one text and their fingerprints), the lists are then
    /// still in cache for the next member: containment candidates at 200k
    /// take half the time. Keys without such families (story top terms)
    /// gain nothing from it.
    ByFirstList,
}

/// Pairs `(i, j)`, `i < j`, that share at least one usable key and that
/// `accept(i, j, shared)` accepts, in `(i, j)` order; and the number of keys
/// skipped for having more than `max_posting` items.
pub(crate) fn shared_key_pairs<K: AsRef<[u64]> + Sync>(
    keys: &[K],
    max_posting: usize,
    visit: Visit,
    accept: impl Fn(usize, usize, usize) -> bool + Sync,
) -> (Vec<(u32, u32)>, usize) {
    let n = keys.len();
    // Posting lists as runs of `items`; each item lists the runs of its
    // usable keys (CSR layout, no look-ups while counting).
    let (items, runs, skipped) = posting_runs(keys, max_posting, RANGE_BYTES);
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
    // The pairs, distinct, are sorted back into item order when the items
    // were visited in another.
    let order: Vec<u32> = match visit {
        Visit::InOrder => (0..n as u32).collect(),
        // First list (none first), then item.
        Visit::ByFirstList => order_by_key(n, |i| runs_of(i).first().map_or(0, |&r| r + 1)),
    };
    let mut pairs: Vec<(u32, u32)> = order
        .par_iter()
        .map_init(Vec::<u32>::new, |met, &i| {
            let i = i as usize;
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
    if visit == Visit::ByFirstList {
        pairs.par_sort_unstable();
    }
    (pairs, skipped)
}

/// The indices `0..n` sorted by `key`, then by index, on all cores (each
/// index and its key packed into one `u64`).
pub(crate) fn order_by_key(n: usize, key: impl Fn(usize) -> u32 + Sync + Send) -> Vec<u32> {
    let mut keyed: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| (key(i) as u64) << 32 | i as u64)
        .collect();
    keyed.par_sort_unstable();
    keyed.into_par_iter().map(|x| x as u32).collect()
}

/// The posting lists of `keys`: every `(key, item)` pair in sorted order,
/// given as the items in that order and the runs of equal keys that are
/// usable (2 to `max_posting` items, as `(start, end)` into the items), with
/// the number of keys skipped for having more than `max_posting` items.
///
/// Keys are hashes, so their top bits spread them evenly over buckets.
/// One pass counts each worker's share of the keys per bucket; the buckets
/// are then cut into ranges whose keys and items take about `range_bytes`
/// each (one range for a small corpus). For
/// each range, every worker writes the keys and items of its share that
/// fall in it (no growing vector, keys and items apart so no padding), and
/// each bucket of the range, gathered from every share and small enough to
/// stay in cache, is sorted on its own, its items written to the result
/// and its runs found. A bucket is sorted by key and item whatever the
/// shares and ranges, so the order equals a sort of all pairs; only one
/// range's keys are held at a time.
fn posting_runs<K: AsRef<[u64]> + Sync>(
    keys: &[K],
    max_posting: usize,
    range_bytes: usize,
) -> (Vec<u32>, Vec<(u32, u32)>, usize) {
    const BITS: u32 = 12;
    const BUCKETS: usize = 1 << BITS;
    let bucket = |k: u64| (k >> (64 - BITS)) as usize;
    // One share per worker: on one core, the counting and writing passes
    // took 20-28 ms of the containment stage's 0.12 s at 20k documents,
    // whatever the number of threads.
    let share = keys.len().div_ceil(rayon::current_num_threads()).max(1);
    // Each share's count of keys per bucket.
    let counts: Vec<Vec<usize>> = keys
        .par_chunks(share)
        .map(|chunk| {
            let mut count = vec![0usize; BUCKETS];
            for ks in chunk {
                for &k in ks.as_ref() {
                    count[bucket(k)] += 1;
                }
            }
            count
        })
        .collect();
    let mut starts = vec![0usize; BUCKETS + 1];
    for b in 0..BUCKETS {
        starts[b + 1] = starts[b] + counts.iter().map(|c| c[b]).sum::<usize>();
    }
    let total = starts[BUCKETS];
    if total == 0 {
        return (Vec::new(), Vec::new(), 0);
    }
    // Bucket ranges of about `total / ranges` keys each.
    let entry_bytes = std::mem::size_of::<u64>() + std::mem::size_of::<u32>();
    let ranges = (total * entry_bytes)
        .div_ceil(range_bytes.max(1))
        .clamp(1, BUCKETS);
    let mut bounds = vec![0usize];
    for (b, &start) in starts.iter().enumerate().take(BUCKETS).skip(1) {
        if start * ranges >= bounds.len() * total {
            bounds.push(b);
        }
    }
    bounds.push(BUCKETS);
    let mut items = vec![0u32; total];
    let mut item_parts: Vec<&mut [u32]> = Vec::with_capacity(BUCKETS);
    let mut rest: &mut [u32] = &mut items;
    for b in 0..BUCKETS {
        let (part, after) = rest.split_at_mut(starts[b + 1] - starts[b]);
        item_parts.push(part);
        rest = after;
    }
    let mut item_parts = item_parts.into_iter();
    let (mut runs, mut skipped) = (Vec::new(), 0);
    for range in bounds.windows(2) {
        let (lo, hi) = (range[0], range[1]);
        let shares: Vec<Bucketed> = keys
            .par_chunks(share)
            .zip(&counts)
            .enumerate()
            .map(|(c, (chunk, count))| {
                let mut starts = vec![0usize; hi - lo + 1];
                for b in lo..hi {
                    starts[b - lo + 1] = starts[b - lo] + count[b];
                }
                let len = starts[hi - lo];
                let (mut bucket_keys, mut items) = (vec![0u64; len], vec![0u32; len]);
                let mut next = starts.clone();
                for (i, ks) in chunk.iter().enumerate() {
                    let item = (c * share + i) as u32;
                    for &k in ks.as_ref() {
                        let b = bucket(k);
                        if (lo..hi).contains(&b) {
                            let slot = &mut next[b - lo];
                            bucket_keys[*slot] = k;
                            items[*slot] = item;
                            *slot += 1;
                        }
                    }
                }
                Bucketed {
                    starts,
                    keys: bucket_keys,
                    items,
                }
            })
            .collect();
        let per_bucket: Vec<(Vec<(u32, u32)>, usize)> = item_parts
            .by_ref()
            .take(hi - lo)
            .collect::<Vec<_>>()
            .into_par_iter()
            .enumerate()
            .map_init(Vec::new, |scratch: &mut Vec<(u64, u32)>, (r, is)| {
                scratch.clear();
                for s in &shares {
                    let span = s.starts[r]..s.starts[r + 1];
                    let (ks, its) = (&s.keys[span.clone()], &s.items[span]);
                    scratch.extend(ks.iter().copied().zip(its.iter().copied()));
                }
                scratch.sort_unstable();
                for (slot, &(_, i)) in is.iter_mut().zip(scratch.iter()) {
                    *slot = i;
                }
                let (mut runs, mut skipped, mut start) = (Vec::new(), 0, starts[lo + r]);
                for run in scratch.chunk_by(|a, b| a.0 == b.0) {
                    if run.len() > max_posting {
                        skipped += 1;
                    } else if run.len() > 1 {
                        runs.push((start as u32, (start + run.len()) as u32));
                    }
                    start += run.len();
                }
                (runs, skipped)
            })
            .collect();
        for (r, s) in per_bucket {
            runs.extend(r);
            skipped += s;
        }
    }
    (items, runs, skipped)
}

/// The bytes of keys and items a range of buckets holds at most, about
/// (a bucket is not split). Each range reads every key once more: at 20k
/// documents' fingerprints (24 MB) eight ranges made the containment stage
/// 30% slower; at 200k (240 MB) eight ranges took 160 MB off the peak at
/// the same speed.
const RANGE_BYTES: usize = 32 << 20;

/// One share of the items' keys and items in a range of buckets, bucket
/// by bucket: the range's `r`-th bucket is `starts[r]..starts[r + 1]` of
/// both.
struct Bucketed {
    starts: Vec<usize>,
    keys: Vec<u64>,
    items: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_shared_keys_of_later_items_only() {
        let keys = vec![vec![1, 2, 3], vec![2, 3, 9], vec![3, 7], vec![10]];
        let (pairs, skipped) = shared_key_pairs(&keys, 10, Visit::InOrder, |_, _, s| s >= 1);
        assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(skipped, 0);
        let (pairs, _) = shared_key_pairs(&keys, 10, Visit::ByFirstList, |_, _, s| s >= 2);
        assert_eq!(pairs, vec![(0, 1)]);
        // Key 3 is held by three items: over a cap of 2 it is skipped.
        let (pairs, skipped) = shared_key_pairs(&keys, 2, Visit::ByFirstList, |_, _, s| s >= 1);
        assert_eq!(pairs, vec![(0, 1)]);
        assert_eq!(skipped, 1);
    }

    #[test]
    fn bucketed_posting_lists_equal_those_of_a_full_sort() {
        // Spread keys (over every bucket range), keys sharing their top
        // bits (one bucket), and the extremes.
        let mut x = 0x1234_5678_9abc_def0u64;
        let mut keys: Vec<Vec<u64>> = (0..300)
            .map(|i| {
                let mut ks: Vec<u64> = (0..i % 17)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        match x % 3 {
                            0 => x >> 20,
                            1 => x,
                            _ => x % 50,
                        }
                    })
                    .collect();
                ks.sort_unstable();
                ks.dedup();
                ks
            })
            .collect();
        keys.push(vec![0, u64::MAX]);
        keys.push(vec![u64::MAX]);
        let mut all: Vec<(u64, u32)> = keys
            .iter()
            .enumerate()
            .flat_map(|(i, ks)| ks.iter().map(move |&k| (k, i as u32)))
            .collect();
        all.sort_unstable();
        let max_posting = 3;
        let (mut want_runs, mut want_skipped, mut start) = (Vec::new(), 0, 0u32);
        for run in all.chunk_by(|a, b| a.0 == b.0) {
            let len = run.len() as u32;
            if run.len() > max_posting {
                want_skipped += 1;
            } else if len > 1 {
                want_runs.push((start, start + len));
            }
            start += len;
        }
        let want_items: Vec<u32> = all.iter().map(|&(_, i)| i).collect();
        // One to five shares, in one range of buckets and in many.
        for (workers, range_bytes) in (1..=5).flat_map(|w| [(w, RANGE_BYTES), (w, 1000)]) {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(workers)
                .build()
                .unwrap();
            let (items, runs, skipped) =
                pool.install(|| posting_runs(&keys, max_posting, range_bytes));
            assert_eq!(items, want_items, "{workers} workers, {range_bytes} bytes");
            assert_eq!(runs, want_runs, "{workers} workers, {range_bytes} bytes");
            assert_eq!(skipped, want_skipped);
            assert!(!runs.is_empty() && skipped > 0);
        }
    }
}
