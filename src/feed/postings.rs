//! Inverted-index postings of the live index: LSH band keys, containment
//! fingerprints and story top terms to the articles or groups holding them.

use super::*;

/// A posting list: most keys are held by one or two items, kept inline
/// without a heap allocation.
pub(super) type Posting<T> = smallvec::SmallVec<[T; 2]>;

/// Bits of a fingerprint posting item that hold the article's fingerprint
/// count; the arrival number takes the rest (2^48 arrivals, nearly 900
/// years at 10,000 articles/s). Articles have far fewer than 65,535
/// fingerprints; those with more are looked up.
pub(super) const FP_COUNT_BITS: u32 = 16;

/// The largest count held in an item; articles with more are looked up.
pub(super) const FP_COUNT_MAX: u64 = (1 << FP_COUNT_BITS) - 1;

/// A fingerprint posting item: the article's arrival number and its
/// fingerprint count, so that the containment-candidate test needs no
/// look-up of the article. Items sort by arrival number.
pub(super) fn fingerprint_item(seq: ArticleSeq, count: usize) -> u64 {
    debug_assert!(
        seq.0 < 1 << (64 - FP_COUNT_BITS),
        "arrival number overflows"
    );
    (seq.0 << FP_COUNT_BITS) | (count as u64).min(FP_COUNT_MAX)
}

pub(super) fn remove_posting<T: PartialEq>(map: &mut AHashMap<u64, Posting<T>>, key: u64, item: T) {
    if let Some(list) = map.get_mut(&key) {
        list.retain(|x| *x != item);
        if list.is_empty() {
            map.remove(&key);
        }
    }
}

impl FeedIndex {
    /// Enters an arriving (or loaded) article into the postings and the id
    /// map, after the articles before it.
    pub(super) fn post(
        &mut self,
        seq: ArticleSeq,
        id: &str,
        band_keys: &[u64],
        fingerprints: &[u64],
    ) {
        for &key in band_keys {
            self.bands.entry(key).or_default().push(seq);
        }
        let item = fingerprint_item(seq, fingerprints.len());
        for &fp in fingerprints {
            self.fingerprints.entry(fp).or_default().push(item);
        }
        self.ids.insert(id.to_string(), seq);
    }

    /// The arrival number and fingerprint count of a fingerprint posting
    /// item (see [`fingerprint_item`]).
    pub(super) fn fingerprint_holder(&self, item: u64) -> (ArticleSeq, usize) {
        let seq = ArticleSeq(item >> FP_COUNT_BITS);
        let count = (item & FP_COUNT_MAX) as usize;
        if count < FP_COUNT_MAX as usize {
            (seq, count)
        } else {
            (seq, self.entry(seq).fingerprints.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_items_keep_arrival_order_and_count() {
        let a = fingerprint_item(ArticleSeq(5), 3);
        let b = fingerprint_item(ArticleSeq(6), 0);
        assert!(a < b, "items sort by arrival number");
        let ix = FeedIndex::new(Config::default(), FeedConfig::default()).unwrap();
        assert_eq!(ix.fingerprint_holder(a), (ArticleSeq(5), 3));
        assert_eq!(ix.fingerprint_holder(b), (ArticleSeq(6), 0));
        // A count too large for the item saturates (and is then looked up).
        let big = fingerprint_item(ArticleSeq(7), usize::MAX);
        assert_eq!(big >> FP_COUNT_BITS, 7);
        assert_eq!(big & FP_COUNT_MAX, FP_COUNT_MAX);
    }
}
