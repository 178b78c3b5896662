//! Text normalization and boilerplate removal.
//!
//! Normalization turns a text into a sequence of tokens:
//!
//! | step | example |
//! |---|---|
//! | split into words: runs of letters and digits; `.` and `'` (any apostrophe) inside a word are dropped | `U.S.` → `us`, `don’t` → `dont` |
//! | case folding (Unicode lower case, ASCII fast path) and NFKC for non-ASCII words | `ＢＢＣ` → `bbc` |
//! | `%` is the word `percent`; quotes, dashes and other punctuation separate words | `5%` → `5 percent` |
//! | in scripts written without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) each character is a token, so shingles of words become shingles of characters | `东京电力` → `东 京 电 力` |
//! | variant folding ([`NormalizeConfig::fold_variants`]) | `United States`, `USA` → `us`; `per cent` → `percent`; `September`, `Sept` → `sep`; `says`, `stated` → `said` |
//!
//! Boilerplate removal works on lines, before shingling:
//!
//! * **rules** ([`BoilerplateRule`]): lines that are plainly not article text,
//!   such as "Read more …", "The post … appeared first on …", copyright lines,
//!   bylines, photo captions, bare URLs, share and subscribe prompts, and lines
//!   of fewer than three words;
//! * **learned**: sentences that recur across many documents of the corpus
//!   among different neighbours, such as an outlet's footer or a stock
//!   "readers have been following this story" intro (see [`Normalizer`]).
//!
//! Every removed line can be listed with its reason by
//! [`Normalizer::explain`].
//!
//! Layout: `tokenizer` turns text into tokens, `rules` holds the built-in
//! line rules, `normalizer` the [`Normalizer`] with its learned sentences;
//! this module the settings and [`tokenize`], which repairs a text and
//! splits it into lines and sentences of token hashes.

mod normalizer;
mod rules;
mod tokenizer;

pub use normalizer::Normalizer;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use rules::rule_for_line;
use tokenizer::{TokenFlags, Tokenizer};

use crate::repair::{RepairConfig, Repairs};
use crate::shingle::{fmix64, token_hash};

/// Settings for text normalization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NormalizeConfig {
    /// Text repair before normalization ([`RepairConfig`]): mojibake,
    /// markup, hyphenation, invisible characters, Unicode spaces. Default:
    /// every step on.
    pub repair: RepairConfig,
    /// Fold common spelling variants of news copy (see the module table).
    /// Default: `true`.
    pub fold_variants: bool,
    /// Boilerplate removal settings.
    pub boilerplate: BoilerplateConfig,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        NormalizeConfig {
            repair: RepairConfig::default(),
            fold_variants: true,
            boilerplate: BoilerplateConfig::default(),
        }
    }
}

/// Settings for boilerplate removal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BoilerplateConfig {
    /// Apply the built-in line rules ([`BoilerplateRule`]). Default: `true`.
    pub rules: bool,
    /// Learn recurring lines from the corpus. Default: `true`.
    pub learn: bool,
    /// A line is learned as boilerplate when it occurs in at least this many
    /// documents … Default: 8.
    pub min_docs: usize,
    /// … and in at least this fraction of all documents. Default: 0.0005.
    pub min_doc_fraction: f64,
    /// Only sentences of at most this many words are learned. Default: 24.
    pub max_line_words: usize,
    /// A frequent sentence is boilerplate only when the documents it occurs
    /// in have distinct longest other sentences in at least this fraction of
    /// them. Default: 0.7.
    pub min_context_diversity: f64,
}

impl BoilerplateConfig {
    /// The fewest documents a sentence must occur in to be learned, in a
    /// corpus (or live index) of `corpus_docs` documents.
    pub(crate) fn min_sentence_docs(&self, corpus_docs: usize) -> usize {
        self.min_docs
            .max((self.min_doc_fraction * corpus_docs as f64).ceil() as usize)
            .max(2)
    }

    /// Whether a sentence found in `docs` documents, beside `contexts`
    /// distinct longest other sentences, keeps different company enough to
    /// be boilerplate ([`Self::min_context_diversity`]).
    pub(crate) fn keeps_different_company(&self, docs: usize, contexts: usize) -> bool {
        contexts as f64 >= self.min_context_diversity * docs as f64
    }
}

impl Default for BoilerplateConfig {
    fn default() -> Self {
        BoilerplateConfig {
            rules: true,
            learn: true,
            min_docs: 8,
            min_doc_fraction: 0.0005,
            max_line_words: 24,
            min_context_diversity: 0.7,
        }
    }
}

/// Why a line was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BoilerplateRule {
    /// "Read more", "Related:", "Read also".
    ReadMore,
    /// "The post … appeared first on …".
    AppearedFirstOn,
    /// Copyright and "All rights reserved" lines.
    Copyright,
    /// Subscribe, share, follow, sign-up, listen and advertisement prompts,
    /// comment counters, syndication notes.
    Prompt,
    /// Credits: "(Reporting by …)", "Editing by …", "source: …", short bylines
    /// ("By X Staff").
    Credit,
    /// "Published … | Updated …" lines.
    Dateline,
    /// Photo and image captions ("PHOTO: …", "Image: …", "AFP photo").
    Caption,
    /// A line that is only a URL.
    Url,
    /// Fewer than three words: section labels, outlet names, stray tokens.
    ShortLine,
    /// Learned from the corpus: a sentence that recurs in many documents
    /// among different neighbours.
    Learned,
}

/// A line removed from one document, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedLine {
    /// 1-based line number in the document's text.
    pub line: usize,
    /// The line as written.
    pub text: String,
    /// Why it was removed.
    pub rule: BoilerplateRule,
}

/// Calls `f` with each normalized token of `text`, using `buf` as scratch.
///
/// ```
/// let mut toks = Vec::new();
/// wirecluster::for_each_token("The U.S. economy grew 5% in Sept.", true, |t| toks.push(t.to_string()));
/// assert_eq!(toks, ["the", "us", "economy", "grew", "5", "percent", "in", "sep"]);
/// ```
pub fn for_each_token(text: &str, fold_variants: bool, mut f: impl FnMut(&str)) {
    for_each_flagged_token(text, fold_variants, |t, _| f(t));
}

/// Like [`for_each_token`], with a flag per token: `true` for names and
/// numbers (capitalized where no sentence starts, with a digit, or any word
/// of a script without case).
pub(crate) fn for_each_flagged_token(
    text: &str,
    fold_variants: bool,
    mut f: impl FnMut(&str, bool),
) {
    let mut tok = Tokenizer::new(fold_variants);
    let mut g = |t: &str, flags: TokenFlags| {
        if !t.is_empty() {
            f(t, flags.entity)
        }
    };
    tok.run(text, &mut g);
    tok.flush(&mut g);
}

/// The normalized text: tokens joined by single spaces.
///
/// ```
/// assert_eq!(wirecluster::normalize_text("“Per cent” — says UNITED STATES"), "percent said us");
/// ```
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for_each_token(text, true, |t| {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(t);
    });
    out
}

/// One line of a document after tokenizing: where its tokens are and which
/// rule removes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineInfo {
    /// End of the line's tokens in the document's token vector.
    pub end: u32,
    /// 1-based line number in the text.
    pub number: u32,
    /// The built-in rule that matched, if any.
    pub rule: Option<BoilerplateRule>,
}

/// One sentence (a run of tokens ended by `.`, `!`, `?` or the end of its
/// line); the unit of learned boilerplate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub start: u32,
    pub end: u32,
    /// Hash of the sentence's token sequence (equal for sentences that
    /// normalize the same).
    pub key: u64,
}

/// A document split into lines and sentences of token hashes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tokenized {
    pub tokens: Vec<u64>,
    pub lines: Vec<LineInfo>,
    /// Sentences of the lines that no rule removed, in text order.
    pub segments: Vec<Segment>,
    /// Hashes of the tokens flagged as names or numbers, sorted, distinct.
    pub entities: Vec<u64>,
    /// Positions in `tokens` of the figures (tokens holding a digit), in
    /// order.
    pub figures: Vec<u32>,
    /// The text repairs the document needed.
    pub repairs: Repairs,
}

fn sequence_key(tokens: &[u64]) -> u64 {
    let mut key = 0u64;
    for &t in tokens {
        key = key
            .wrapping_mul(crate::shingle::SHINGLE_BASE)
            .wrapping_add(t);
    }
    fmix64(key ^ tokens.len() as u64)
}

/// The byte ranges of `bytes.split(|&b| b == b'\n')`, by the `memchr`
/// crate's search (most lines are short, where the standard library's
/// per-call setup dominates; a byte at a time it is slower still).
pub(crate) fn line_ranges(bytes: &[u8]) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    memchr::memchr_iter(b'\n', bytes)
        .chain(std::iter::once(bytes.len()))
        .map(move |end| {
            let line = start..end;
            start = end + 1;
            line
        })
}

/// `text.split('\n')` ([`line_ranges`]).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    // A newline is one byte, never inside a character.
    line_ranges(text.as_bytes()).map(move |r| &text[r])
}

/// Repairs a text ([`crate::repair`]), then tokenizes it line by line,
/// hashing each token with [`token_hash`].
pub(crate) fn tokenize(text: &str, cfg: &NormalizeConfig) -> Tokenized {
    let (text, repairs) = crate::repair::repair(text, &cfg.repair);
    let text = text.as_ref();
    let mut out = Tokenized {
        tokens: Vec::with_capacity(text.len() / 5),
        lines: Vec::new(),
        segments: Vec::new(),
        entities: Vec::new(),
        figures: Vec::new(),
        repairs,
    };
    let mut tok = Tokenizer::new(cfg.fold_variants);
    let mut bounds: Vec<u32> = Vec::new();
    for (number, line) in lines(text).enumerate() {
        let start = out.tokens.len();
        bounds.clear();
        tok.sentence_start = true;
        let tokens = &mut out.tokens;
        let entities = &mut out.entities;
        let figures = &mut out.figures;
        let mut push = |t: &str, flags: TokenFlags| {
            if t.is_empty() {
                bounds.push(tokens.len() as u32);
            } else {
                let h = token_hash(t);
                if flags.entity {
                    entities.push(h);
                    if flags.figure {
                        figures.push(tokens.len() as u32);
                    }
                }
                tokens.push(h);
            }
        };
        tok.run(line, &mut push);
        tok.flush(&mut push);
        let end = out.tokens.len();
        if end == start {
            continue;
        }
        let rule = if cfg.boilerplate.rules {
            rule_for_line(line, end - start)
        } else {
            None
        };
        out.lines.push(LineInfo {
            end: end as u32,
            number: number as u32 + 1,
            rule,
        });
        if rule.is_none() {
            bounds.push(end as u32);
            let mut s = start as u32;
            for &b in bounds.iter() {
                if b > s {
                    out.segments.push(Segment {
                        start: s,
                        end: b,
                        key: sequence_key(&out.tokens[s as usize..b as usize]),
                    });
                    s = b;
                }
            }
        }
    }
    out.entities.sort_unstable();
    out.entities.dedup();
    // A batch keeps every document's tokens until its boilerplate is
    // learned: the guessed capacity is given back (a shrink in place).
    out.tokens.shrink_to_fit();
    out
}

/// Calls `f(i, context)` for every sentence `i` of a document, where the
/// context is the key of the document's longest other sentence (longest by
/// tokens, ties by the larger key; 0 when there is no other sentence).
pub(crate) fn for_each_context(d: &Tokenized, mut f: impl FnMut(usize, u64)) {
    let rank = |s: &Segment| (s.end - s.start, s.key);
    let (mut first, mut second): (Option<usize>, Option<usize>) = (None, None);
    for (i, s) in d.segments.iter().enumerate() {
        if first.is_none_or(|j| rank(s) >= rank(&d.segments[j])) {
            second = first;
            first = Some(i);
        } else if second.is_none_or(|j| rank(s) >= rank(&d.segments[j])) {
            second = Some(i);
        }
    }
    for i in 0..d.segments.len() {
        let other = if Some(i) == first { second } else { first };
        f(i, other.map_or(0, |j| d.segments[j].key));
    }
}

/// Whether a sentence may be learned as boilerplate: 3 to `max_words` words.
pub(crate) fn learnable(s: &Segment, max_words: usize) -> bool {
    (3..=max_words).contains(&((s.end - s.start) as usize))
}

/// The sentences of a document that may be learned as boilerplate (see
/// [`learnable`]), each once, with its context (see [`for_each_context`]),
/// sorted by key.
pub(crate) fn learnable_sentences(d: &Tokenized, max_words: usize) -> Vec<(u64, u64)> {
    let mut out = sentence_contexts(d, max_words);
    out.dedup_by_key(|p| p.0);
    out
}

/// The distinct `(sentence, context)` pairs of a document's learnable
/// sentences, sorted: what the batch's second learning pass counts.
pub(crate) fn sentence_contexts(d: &Tokenized, max_words: usize) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for_each_context(d, |i, ctx| {
        let s = &d.segments[i];
        if learnable(s, max_words) {
            out.push((s.key, ctx));
        }
    });
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::tokenizer::FOLDS;
    use super::*;

    #[test]
    fn lines_split_as_the_standard_library_does() {
        for text in ["", "\n", "a", "a\n", "\na\n\nbé\n", "x\ny"] {
            let ours: Vec<&str> = lines(text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    fn toks(s: &str) -> Vec<String> {
        let mut v = Vec::new();
        for_each_token(s, true, |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn variants_fold_to_one_form() {
        assert_eq!(toks("United States"), toks("U.S."));
        assert_eq!(
            toks("the US and the USA"),
            ["the", "us", "and", "the", "us"]
        );
        assert_eq!(toks("5 per cent"), toks("5%"));
        assert_eq!(toks("September 5"), toks("Sept. 5"));
        assert_eq!(toks("United Nations"), ["united", "nations"]);
        assert_eq!(toks("he was per"), ["he", "was", "per"]);
        // Every one-word variant folds, and words like them do not.
        for (from, to) in FOLDS {
            assert_eq!(toks(from), [to]);
        }
        assert_eq!(toks("sayS Junes usable"), ["said", "junes", "usable"]);
    }

    #[test]
    fn quotes_case_and_dashes_do_not_matter() {
        assert_eq!(toks("“Don’t” — SAID he"), toks("\"don't\" - said he"));
        assert_eq!(toks("Ｆｕｌｌ width"), ["full", "width"]);
        assert_eq!(toks("Hasakeh—Qamishli"), ["hasakeh", "qamishli"]);
        assert_eq!(toks("café CAFÉ"), ["café", "café"]);
        // Compatibility forms that decompose into capitals or marks.
        assert_eq!(toks("ℌello"), ["hello"]);
        assert_eq!(normalize_text("ﹲ x"), "\u{64c} x");
    }

    #[test]
    fn words_of_caseless_scripts_may_be_names() {
        let mut flagged = Vec::new();
        for_each_flagged_token(
            "Talks in Geneva. 日内瓦 محادثات the end",
            true,
            |t, e| flagged.push((t.to_string(), e)),
        );
        let names: Vec<&str> = flagged
            .iter()
            .filter(|f| f.1)
            .map(|f| f.0.as_str())
            .collect();
        assert_eq!(names, ["geneva", "日", "内", "瓦", "محادثات"]);
    }

    #[test]
    fn unspaced_scripts_are_tokenized_by_character() {
        assert_eq!(toks("东京电力公司"), ["东", "京", "电", "力", "公", "司"]);
        assert_eq!(toks("ﾃｽﾄ abc"), ["テ", "ス", "ト", "abc"]);
        assert_eq!(toks("กรุงเทพ"), ["ก", "ร", "ุ", "ง", "เ", "ท", "พ"]);
        // Sentences end at the ideographic full stop.
        let t = tokenize("他说了这些。我们听到了", &NormalizeConfig::default());
        let lens: Vec<u32> = t.segments.iter().map(|s| s.end - s.start).collect();
        assert_eq!(lens, [5, 5]);
    }

    #[test]
    fn rules_catch_common_boilerplate_and_keep_text() {
        use BoilerplateRule::*;
        let cases = [
            ("Read more: Other story headline here", Some(ReadMore)),
            (
                "The post Big news appeared first on Gulf Daily.",
                Some(AppearedFirstOn),
            ),
            (
                "Copyright 2016 Gulf Daily. All rights reserved.",
                Some(Copyright),
            ),
            ("Subscribe now", Some(ShortLine)),
            (
                "subscribe Just R20 for the first month. Support journalism.",
                Some(Prompt),
            ),
            ("(Reporting by Jane Roe; Editing by John Doe)", Some(Credit)),
            ("By: Times News Service", Some(Credit)),
            ("Published Sep 5, 2016 | Updated 4:05 PM", Some(Dateline)),
            ("PHOTO: Kerry speaks to reporters. (AFP)", Some(Caption)),
            ("http://ift.tt/eA8V8J", Some(Url)),
            ("https://example.com/a/long/path/with/many/parts", Some(Url)),
            (
                "Russia and the US will work on a deal to curb fighting in Syria.",
                None,
            ),
            (
                "By the end of the year the company expects strong growth in sales.",
                None,
            ),
        ];
        for (line, want) in cases {
            let mut n = 0;
            for_each_token(line, true, |_| n += 1);
            assert_eq!(rule_for_line(line, n), want, "{line}");
        }
    }

    #[test]
    fn learned_sentences_need_enough_documents() {
        let cfg = NormalizeConfig::default();
        let mk = |n: usize| -> Vec<String> {
            (0..n)
                .map(|i| {
                    format!("Unique body text number {i} goes here.\nShared footer of the outlet")
                })
                .collect()
        };
        let few = mk(5);
        assert_eq!(
            Normalizer::learn(few.iter().map(String::as_str), &cfg).learned_sentences(),
            0
        );
        let many = mk(25);
        let n = Normalizer::learn(many.iter().map(String::as_str), &cfg);
        assert_eq!(n.learned_sentences(), 1);
        let ex = n.explain(&many[3]);
        assert_eq!(ex.len(), 1);
        assert_eq!((ex[0].line, ex[0].rule), (2, BoilerplateRule::Learned));
    }

    #[test]
    fn a_widely_reprinted_dispatch_is_not_boilerplate() {
        // 40 verbatim reprints of one dispatch, each with its own outlet intro.
        let dispatch = "Rebels shelled the northern city overnight as government forces pressed their advance on the last opposition districts. \
            Aid groups said food was running out. The talks resume on Friday.";
        let docs: Vec<String> = (0..40)
            .map(|i| format!("Outlet {i} brings you the news.\n{dispatch}"))
            .collect();
        let n = Normalizer::learn(docs.iter().map(String::as_str), &NormalizeConfig::default());
        assert_eq!(n.learned_sentences(), 0);
        assert_eq!(n.content_text(&docs[0]), normalize_text(&docs[0]));
    }

    #[test]
    fn an_intro_before_many_different_stories_is_boilerplate() {
        let docs: Vec<String> = (0..12)
            .map(|i| format!("For residents of Westfield, the news comes at a difficult time. Story {i} tells of event {i} in the town of Westfield and more."))
            .collect();
        let n = Normalizer::learn(docs.iter().map(String::as_str), &NormalizeConfig::default());
        assert_eq!(n.learned_sentences(), 1);
        assert_eq!(
            n.content_text(&docs[5]),
            "story 5 tells of event 5 in the town of westfield and more"
        );
    }
}
