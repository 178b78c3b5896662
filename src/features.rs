//! What each document contributes, computed one way for the batch pipeline
//! and the live index: content shingles in text order, the shingle set, the
//! MinHash signature and its LSH band keys, winnowed containment
//! fingerprints, and story terms.

use crate::config::Config;
use crate::lsh::{self, LshParams};
use crate::minhash::MinHasher;
use crate::normalize::{self, Normalizer, Tokenized};
use crate::shingle::{self, ShingleUnit};
use crate::signals::{self, RawTerms};
use crate::winnow;

/// Computes documents' features with one config and one boilerplate model.
///
/// The batch pipeline builds one after learning boilerplate from the whole
/// corpus; the live index keeps one and adds sentences to its normalizer as
/// it learns them.
#[derive(Debug, Clone)]
pub(crate) struct FeatureExtractor {
    config: Config,
    norm: Normalizer,
    hasher: MinHasher,
    params: LshParams,
}

/// What one document contributes: its shingle set, containment
/// fingerprints, removed boilerplate lines and story terms.
pub(crate) struct DocFeatures {
    /// Sorted, deduplicated shingles.
    pub set: Vec<u64>,
    /// Winnowed fingerprints, sorted.
    pub fingerprints: Vec<u64>,
    /// Lines and sentences removed as boilerplate.
    pub removed: usize,
    /// Story terms (empty when the story level is off).
    pub raw: RawTerms,
}

/// Buffers reused from one document's features to the next.
#[derive(Default)]
pub(crate) struct Scratch {
    /// The content token hashes.
    content: Vec<u64>,
    /// Story term occurrences before they are counted.
    terms: Vec<(u64, f32)>,
}

impl FeatureExtractor {
    /// An extractor for a validated config with the normalizer `norm`.
    pub fn new(config: &Config, norm: Normalizer) -> Self {
        FeatureExtractor {
            hasher: MinHasher::new(config.algorithm, config.num_perm, config.seed),
            params: config.lsh_params(),
            config: config.clone(),
            norm,
        }
    }

    /// The config in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The normalizer in use.
    pub fn normalizer(&self) -> &Normalizer {
        &self.norm
    }

    /// The normalizer, to add learned boilerplate to.
    pub fn normalizer_mut(&mut self) -> &mut Normalizer {
        &mut self.norm
    }

    /// The LSH banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.params
    }

    /// Values per signature.
    pub fn signature_len(&self) -> usize {
        self.hasher.len()
    }

    /// Repairs, normalizes and tokenizes a text.
    pub fn tokenize(&self, text: &str) -> Tokenized {
        normalize::tokenize(text, &self.config.normalize)
    }

    /// Shingles of one document's content in text order (repeats kept), and
    /// the number of boilerplate lines removed. `content` receives the
    /// content token hashes.
    pub fn ordered_shingles(
        &self,
        t: &Tokenized,
        text: &str,
        content: &mut Vec<u64>,
    ) -> (Vec<u64>, usize) {
        content.clear();
        let removed = self.norm.content_hashes_into(t, content);
        let ordered = match self.config.shingle {
            ShingleUnit::Words(n) => {
                let mut o = Vec::with_capacity(content.len());
                shingle::word_shingles_into(content, n, &mut o);
                o
            }
            ShingleUnit::Chars(n) => shingle::char_shingles(&self.norm.content_text(text), n),
        };
        (ordered, removed)
    }

    /// Shingles of one document's content in text order: what the
    /// anti-chaining guard reads to tell a page's parts apart.
    pub fn text_order(&self, t: &Tokenized, text: &str) -> Vec<u64> {
        self.ordered_shingles(t, text, &mut Vec::new()).0
    }

    /// Computes the features of a document's `text` (tokenized as `t`) and
    /// headline, and writes its signature into `sig`
    /// ([`Self::signature_len`] values).
    pub fn extract(
        &self,
        t: &Tokenized,
        text: &str,
        title: Option<&str>,
        scratch: &mut Scratch,
        sig: &mut [u64],
    ) -> DocFeatures {
        let cfg = &self.config;
        let content = &mut scratch.content;
        let (mut ordered, removed) = self.ordered_shingles(t, text, content);
        let raw = if cfg.story.enabled {
            signals::raw_terms(
                &mut scratch.terms,
                content,
                &t.entities,
                title,
                signals::stop_words(),
                cfg.normalize.fold_variants,
                signals::Positional {
                    lede_words: cfg.story.lede_words,
                    lede_boost: cfg.story.lede_boost as f32,
                },
            )
        } else {
            RawTerms::default()
        };
        let fingerprints = winnow::winnow(&ordered, cfg.winnow_window);
        ordered.sort_unstable();
        ordered.dedup();
        ordered.shrink_to_fit();
        self.hasher.signature_into_slice(&ordered, sig);
        DocFeatures {
            set: ordered,
            fingerprints,
            removed,
            raw,
        }
    }

    /// The LSH band keys of a signature (none for an empty set's).
    pub fn band_keys(&self, sig: &[u64]) -> Vec<u64> {
        lsh::band_keys(sig, &self.params)
    }
}
