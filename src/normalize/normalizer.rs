//! [`Normalizer`]: content tokens of a document with boilerplate removed,
//! and the sentences learned as boilerplate from a corpus.

use super::*;

/// Normalizes texts and removes boilerplate, with sentences learned from a
/// corpus.
///
/// A sentence is learned as boilerplate when it has 3 to
/// [`BoilerplateConfig::max_line_words`] words, occurs in at least
/// [`BoilerplateConfig::min_docs`] documents (and
/// [`BoilerplateConfig::min_doc_fraction`] of them), and keeps different
/// company in them: the longest other sentence of the documents it occurs in
/// differs in at least [`BoilerplateConfig::min_context_diversity`] of them.
/// The last condition keeps the sentences of a dispatch that hundreds of
/// outlets reprint: they recur, but always with the same lead sentence.
///
/// ```
/// use wirecluster::{NormalizeConfig, Normalizer};
/// let docs: Vec<String> = (0..30)
///     .map(|i| format!("Story number {i} is about topic {i}. Our outlet footer line is here.\nSubscribe now"))
///     .collect();
/// let norm = Normalizer::learn(docs.iter().map(String::as_str), &NormalizeConfig::default());
/// assert_eq!(norm.learned_sentences(), 1); // the footer; "Subscribe now" is a rule
/// let removed = norm.explain(&docs[0]);
/// assert_eq!(removed.len(), 2);
/// assert_eq!(norm.content_text(&docs[0]), "story number 0 is about topic 0");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    cfg: NormalizeConfig,
    learned: ahash::AHashSet<u64>,
}

impl Normalizer {
    /// A normalizer with rules only, nothing learned.
    pub fn new(cfg: &NormalizeConfig) -> Self {
        Normalizer {
            cfg: cfg.clone(),
            learned: Default::default(),
        }
    }

    /// Learns recurring boilerplate sentences from a corpus of texts.
    pub fn learn<'a>(texts: impl IntoIterator<Item = &'a str>, cfg: &NormalizeConfig) -> Self {
        let tokenized: Vec<Tokenized> = texts.into_iter().map(|t| tokenize(t, cfg)).collect();
        Self::from_tokenized(&tokenized, cfg)
    }

    pub(crate) fn from_tokenized(docs: &[Tokenized], cfg: &NormalizeConfig) -> Self {
        let mut norm = Normalizer::new(cfg);
        let b = &cfg.boilerplate;
        if !b.learn || docs.is_empty() {
            return norm;
        }
        let threshold = b.min_sentence_docs(docs.len());
        let eligible = |s: &Segment| learnable(s, b.max_line_words);
        // Pass 1: documents per sentence (each document's distinct keys,
        // gathered and sorted on all cores).
        let mut keys: Vec<u64> = docs
            .par_iter()
            .flat_map_iter(|d| {
                let mut per_doc: Vec<u64> = d
                    .segments
                    .iter()
                    .filter(|s| eligible(s))
                    .map(|s| s.key)
                    .collect();
                per_doc.sort_unstable();
                per_doc.dedup();
                per_doc
            })
            .collect();
        keys.par_sort_unstable();
        let mut frequent: Vec<u64> = Vec::new();
        for run in keys.chunk_by(|a, b| a == b) {
            if run.len() >= threshold {
                frequent.push(run[0]);
            }
        }
        if frequent.is_empty() {
            return norm;
        }
        // Pass 2: the company each frequent sentence keeps. Its context in a
        // document is the document's longest other sentence: the same for
        // every reprint of one dispatch, different for every story that an
        // outlet's stock line is pasted into.
        let mut contexts: Vec<(u64, u64)> = docs
            .par_iter()
            .flat_map_iter(|d| {
                let mut found = Vec::new();
                for_each_context(d, |i, ctx| {
                    let key = d.segments[i].key;
                    if frequent.binary_search(&key).is_ok() {
                        found.push((key, ctx));
                    }
                });
                found
            })
            .collect();
        contexts.par_sort_unstable();
        contexts.dedup();
        // `contexts` now holds distinct (sentence, context) pairs; compare
        // their number with the sentence's document count.
        let doc_count = |key: u64| {
            let from = keys.partition_point(|&k| k < key);
            keys[from..].partition_point(|&k| k == key)
        };
        for run in contexts.chunk_by(|a, b| a.0 == b.0) {
            if b.keeps_different_company(doc_count(run[0].0), run.len()) {
                norm.learned.insert(run[0].0);
            }
        }
        norm
    }

    /// Adds a learned sentence (by key); `false` if it was known.
    pub(crate) fn add_learned(&mut self, key: u64) -> bool {
        self.learned.insert(key)
    }

    /// Whether a sentence key is learned boilerplate.
    pub(crate) fn is_learned(&self, key: u64) -> bool {
        self.learned.contains(&key)
    }

    /// How many distinct sentences were learned as boilerplate.
    pub fn learned_sentences(&self) -> usize {
        self.learned.len()
    }

    /// The config in use.
    pub fn config(&self) -> &NormalizeConfig {
        &self.cfg
    }

    /// Calls `keep(start, end)` for each token range of content, and
    /// `removed(line_or_segment, rule)` for each removed piece.
    fn walk(
        &self,
        doc: &Tokenized,
        mut keep: impl FnMut(usize, usize),
        mut removed: impl FnMut(Removed, BoilerplateRule),
    ) {
        let mut segs = doc.segments.iter().peekable();
        for l in &doc.lines {
            if let Some(rule) = l.rule {
                removed(Removed::Line(l), rule);
                continue;
            }
            while let Some(s) = segs.next_if(|s| s.start < l.end) {
                if self.learned.contains(&s.key) {
                    removed(Removed::Segment(l, s), BoilerplateRule::Learned);
                } else {
                    keep(s.start as usize, s.end as usize);
                }
            }
        }
    }

    /// Appends the token hashes of the content (boilerplate removed) to
    /// `out` in order, and to `figures` the positions in `out` of its figures
    /// ([`Tokenized::figures`]). Returns the number of removed lines and
    /// sentences.
    pub(crate) fn content_into(
        &self,
        doc: &Tokenized,
        out: &mut Vec<u64>,
        figures: &mut Vec<u32>,
    ) -> usize {
        let mut removed = 0;
        self.walk(
            doc,
            |a, b| {
                let base = out.len() as u32;
                out.extend_from_slice(&doc.tokens[a..b]);
                let from = doc.figures.partition_point(|&p| (p as usize) < a);
                for &p in doc.figures[from..]
                    .iter()
                    .take_while(|&&p| (p as usize) < b)
                {
                    figures.push(base + p - a as u32);
                }
            },
            |_, _| removed += 1,
        );
        removed
    }

    /// The normalized tokens of the text's content, as strings.
    pub fn content_tokens(&self, text: &str) -> Vec<String> {
        let repaired = crate::repair::repair_text(text, &self.cfg.repair);
        let text = repaired.as_ref();
        let words = all_tokens(text, self.cfg.fold_variants);
        let t = tokenize(text, &self.cfg);
        let mut out = Vec::new();
        self.walk(&t, |a, b| out.extend_from_slice(&words[a..b]), |_, _| {});
        out
    }

    /// The normalized content text (boilerplate removed), tokens joined by
    /// single spaces.
    pub fn content_text(&self, text: &str) -> String {
        self.content_tokens(text).join(" ")
    }

    /// Every line or sentence of `text` that is removed, with the reason.
    /// Removed lines are quoted as repaired ([`RepairConfig`]); learned
    /// sentences in normalized form.
    pub fn explain(&self, text: &str) -> Vec<RemovedLine> {
        let repaired = crate::repair::repair_text(text, &self.cfg.repair);
        let text = repaired.as_ref();
        let words = all_tokens(text, self.cfg.fold_variants);
        let lines: Vec<&str> = text.split('\n').collect();
        let t = tokenize(text, &self.cfg);
        let mut out = Vec::new();
        self.walk(
            &t,
            |_, _| {},
            |piece, rule| {
                let (line, text) = match piece {
                    Removed::Line(l) => (l.number, lines[l.number as usize - 1].to_string()),
                    Removed::Segment(l, s) => {
                        (l.number, words[s.start as usize..s.end as usize].join(" "))
                    }
                };
                out.push(RemovedLine {
                    line: line as usize,
                    text,
                    rule,
                });
            },
        );
        out
    }
}

pub(super) enum Removed<'a> {
    Line(&'a LineInfo),
    Segment(&'a LineInfo, &'a Segment),
}

/// All tokens of a text as strings, in the order `tokenize` hashes them.
pub(super) fn all_tokens(text: &str, fold: bool) -> Vec<String> {
    let mut words = Vec::new();
    for line in text.split('\n') {
        for_each_token(line, fold, |w| words.push(w.to_string()));
    }
    words
}
