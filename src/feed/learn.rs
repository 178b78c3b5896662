//! Boilerplate learned as articles arrive, with the batch rule
//! ([`BoilerplateConfig`](crate::BoilerplateConfig)) on the live articles.

use super::*;

impl FeedIndex {
    /// Counts an arriving article's sentences, learns the ones that became
    /// boilerplate, and recomputes the article's features if one of its own
    /// sentences was learned after they were computed. Features thus always
    /// reflect the model after counting the article, whether it came alone or
    /// in a batch.
    pub(super) fn learn(&mut self, doc: &Document, p: &mut Prepared) {
        let b = self.fx.config().normalize.boilerplate.clone();
        if !b.learn {
            return;
        }
        self.count_sentences(&p.sentences);
        let threshold = b.min_sentence_docs(self.entries.len() + 1);
        for &(key, _) in &p.sentences {
            if let Some(&(docs, distinct)) = self.sentence_docs.get(&key)
                && docs as usize >= threshold
                && b.keeps_different_company(docs as usize, distinct as usize)
            {
                self.sentence_docs.remove(&key);
                self.fx.normalizer_mut().add_learned(key);
                self.learned.push(key);
            }
        }
        let stale = self.learned[p.learned_at..]
            .iter()
            .any(|k| p.sentences.binary_search_by_key(k, |&(s, _)| s).is_ok());
        if stale {
            self.features(doc, p);
        }
        p.learned_at = self.learned.len();
    }

    /// Adds an article's sentences to the learning counts (learned sentences
    /// are no longer counted).
    pub(super) fn count_sentences(&mut self, sentences: &[(u64, u64)]) {
        for &(key, ctx) in sentences {
            if self.fx.normalizer().is_learned(key) {
                continue;
            }
            let c = self.sentence_contexts.entry((key, ctx)).or_insert(0);
            *c += 1;
            let first = *c == 1;
            let d = self.sentence_docs.entry(key).or_insert((0, 0));
            d.0 += 1;
            if first {
                d.1 += 1;
            }
        }
    }

    pub(super) fn uncount_sentences(&mut self, sentences: &[(u64, u64)]) {
        for &(key, ctx) in sentences {
            let mut last = false;
            if let Some(c) = self.sentence_contexts.get_mut(&(key, ctx)) {
                *c -= 1;
                last = *c == 0;
                if last {
                    self.sentence_contexts.remove(&(key, ctx));
                }
            }
            if let Some(d) = self.sentence_docs.get_mut(&key) {
                d.0 -= 1;
                if last {
                    d.1 -= 1;
                }
                if d.0 == 0 {
                    self.sentence_docs.remove(&key);
                }
            }
        }
    }
}
