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

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

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
    let mut g = |t: &str, e: bool| {
        if !t.is_empty() {
            f(t, e)
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

/// Byte classes for the tokenizer's inner loop: [`ALNUM`] for ASCII letters
/// and digits, with [`DIGIT`] or [`UPPER`] beside it.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() {
            t[i] = ALNUM;
        }
        if b.is_ascii_digit() {
            t[i] |= DIGIT;
        }
        if b.is_ascii_uppercase() {
            t[i] |= UPPER;
        }
        i += 1;
    }
    t
};
const ALNUM: u8 = 1;
const DIGIT: u8 = 2;
const UPPER: u8 = 4;

/// The streaming tokenizer behind [`for_each_token`]. It holds back one token
/// to fold two-word variants ("united states", "per cent").
///
/// Each token comes with a flag: `true` for a name or number, that is a word
/// written with a capital letter where no sentence or line starts, or a word
/// with a digit.
struct Tokenizer {
    fold: bool,
    word: String,
    non_ascii: bool,
    held: Option<(Held, bool)>,
    /// The next word starts a sentence.
    sentence_start: bool,
    /// The current word is a name or number.
    entity: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Held {
    United,
    Per,
}

impl Tokenizer {
    fn new(fold: bool) -> Self {
        Tokenizer {
            fold,
            word: String::with_capacity(32),
            non_ascii: false,
            held: None,
            sentence_start: true,
            entity: false,
        }
    }

    /// Notes the first character of a new word.
    fn start_word(&mut self, upper: bool) {
        self.entity = upper && !self.sentence_start;
        self.sentence_start = false;
    }

    /// Notes the first character of a word in a script without case
    /// (Chinese, Japanese, Thai, Arabic, Hebrew, …), where no capital can
    /// mark a name: every such word counts as a possible name, and the
    /// story level's IDF weighting lets the rare ones (the names) dominate.
    fn start_caseless_word(&mut self) {
        self.entity = true;
        self.sentence_start = false;
    }

    fn run(&mut self, text: &str, f: &mut impl FnMut(&str, bool)) {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b < 0x80 {
                let class = CLASS[b as usize];
                if class & ALNUM != 0 {
                    // A whole run of ASCII letters and digits at once, noting
                    // whether it holds a digit or a capital on the way.
                    let mut end = i + 1;
                    let mut seen = class;
                    while end < bytes.len() {
                        let c = CLASS[bytes[end] as usize];
                        if c & ALNUM == 0 {
                            break;
                        }
                        seen |= c;
                        end += 1;
                    }
                    let run = &text[i..end];
                    if self.word.is_empty() {
                        self.start_word(class & UPPER != 0);
                    }
                    if seen & DIGIT != 0 {
                        self.entity = true;
                    }
                    // Fast path: a whole word that joins nothing after it.
                    let joins_next = match bytes.get(end) {
                        Some(b'.' | b'\'') => bytes
                            .get(end + 1)
                            .is_some_and(|&n| n.is_ascii_alphanumeric() || n >= 0x80),
                        Some(&c) => c >= 0x80,
                        None => false,
                    };
                    if self.word.is_empty() && !joins_next {
                        if seen & UPPER == 0 {
                            self.emit(run, f);
                        } else {
                            // The empty word buffer serves as scratch:
                            // lower-cased in place, it stays valid UTF-8
                            // with no check.
                            let mut word = std::mem::take(&mut self.word);
                            word.push_str(run);
                            word.make_ascii_lowercase();
                            self.emit(&word, f);
                            word.clear();
                            self.word = word;
                        }
                        i = end;
                        continue;
                    }
                    if seen & UPPER != 0 {
                        self.word
                            .extend(run.bytes().map(|c| c.to_ascii_lowercase() as char));
                    } else {
                        self.word.push_str(run);
                    }
                    i = end;
                    continue;
                } else if (b == b'.' || b == b'\'') && !self.word.is_empty() {
                    // Joins only when a word character follows.
                    let next_is_word = bytes
                        .get(i + 1)
                        .is_some_and(|&n| n.is_ascii_alphanumeric() || n >= 0x80);
                    if !next_is_word {
                        self.end_word(f);
                        if b == b'.' {
                            self.sentence_end(bytes.get(i + 1).copied(), f);
                        }
                    }
                } else if b == b'.' || b == b'!' || b == b'?' {
                    self.end_word(f);
                    self.sentence_end(bytes.get(i + 1).copied(), f);
                } else if b == b'%' {
                    self.end_word(f);
                    self.entity = false;
                    self.emit("percent", f);
                } else {
                    self.end_word(f);
                    if matches!(b, b'\n' | b':' | b'"') {
                        self.sentence_start = true;
                    }
                }
                i += 1;
            } else {
                let c = text[i..].chars().next().unwrap_or(' ');
                let len = c.len_utf8();
                if unspaced_script(c) {
                    // Scripts written without spaces: each character is a
                    // token, so word shingles become character shingles.
                    self.end_word(f);
                    self.start_caseless_word();
                    self.non_ascii = true;
                    self.word.push(c);
                    self.end_word(f);
                } else if c.is_alphanumeric() {
                    if self.word.is_empty() {
                        if c.is_uppercase() || c.is_lowercase() || !c.is_alphabetic() {
                            self.start_word(c.is_uppercase());
                        } else {
                            self.start_caseless_word();
                        }
                    }
                    self.non_ascii = true;
                    self.word.extend(c.to_lowercase());
                } else if matches!(c, '\u{2019}' | '\u{2018}' | '\u{02bc}') && !self.word.is_empty()
                {
                    let next_is_word = text[i + len..]
                        .chars()
                        .next()
                        .is_some_and(char::is_alphanumeric);
                    if !next_is_word {
                        self.end_word(f);
                    }
                } else if matches!(c, '\u{3002}' | '\u{ff01}' | '\u{ff1f}' | '\u{ff0e}') {
                    // The full stop, exclamation and question marks of
                    // Chinese and Japanese end a sentence wherever they are.
                    self.end_word(f);
                    self.end_sentence(f);
                } else {
                    self.end_word(f);
                    if c == '\u{201c}' {
                        self.sentence_start = true;
                    }
                }
                i += len;
            }
        }
        self.end_word(f);
    }

    /// After `.`, `!` or `?` followed by white space or the end of the line,
    /// signals a sentence boundary with the empty token.
    fn sentence_end(&mut self, next: Option<u8>, f: &mut impl FnMut(&str, bool)) {
        if next.is_none_or(|n| n.is_ascii_whitespace() || n == b'"') {
            self.end_sentence(f);
        }
    }

    /// Signals a sentence boundary with the empty token.
    fn end_sentence(&mut self, f: &mut impl FnMut(&str, bool)) {
        self.flush(f);
        f("", false);
        self.sentence_start = true;
    }

    fn end_word(&mut self, f: &mut impl FnMut(&str, bool)) {
        if self.word.is_empty() {
            return;
        }
        let mut word = std::mem::take(&mut self.word);
        if self.non_ascii {
            self.non_ascii = false;
            if !unicode_normalization::is_nfkc_quick(word.chars())
                .eq(&unicode_normalization::IsNormalized::Yes)
            {
                // Compatibility forms can decompose into capitals, spaces or
                // marks ("ℌ" → "H", "ﹲ" → " ٌ"): fold case again and keep
                // only letters and digits.
                word = word
                    .nfkc()
                    .flat_map(char::to_lowercase)
                    .filter(|c| c.is_alphanumeric())
                    .collect();
            }
        }
        if !word.is_empty() {
            self.emit(&word, f);
        }
        word.clear();
        self.word = word;
    }

    fn emit(&mut self, word: &str, f: &mut impl FnMut(&str, bool)) {
        let entity = self.entity;
        if !self.fold {
            f(word, entity);
            return;
        }
        if let Some((held, held_entity)) = self.held.take() {
            match (held, word) {
                (Held::United, "states") => return f("us", held_entity),
                (Held::United, "kingdom") => return f("uk", held_entity),
                (Held::Per, "cent") => return f("percent", false),
                (Held::United, _) => f("united", held_entity),
                (Held::Per, _) => f("per", false),
            }
        }
        if !may_fold(word) {
            return f(word, entity);
        }
        match word {
            "united" => self.held = Some((Held::United, entity)),
            "per" => self.held = Some((Held::Per, entity)),
            _ => f(fold_word(word), entity),
        }
    }

    fn flush(&mut self, f: &mut impl FnMut(&str, bool)) {
        match self.held.take() {
            Some((Held::United, e)) => f("united", e),
            Some((Held::Per, e)) => f("per", e),
            None => {}
        }
    }
}

/// Whether `c` belongs to a script written without spaces between words
/// (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar): such characters are
/// tokens of their own.
fn unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{0e00}'..='\u{0eff}' // Thai, Lao
        | '\u{1000}'..='\u{109f}' // Myanmar
        | '\u{1780}'..='\u{17ff}' // Khmer
        | '\u{3040}'..='\u{30ff}' // Hiragana, Katakana
        | '\u{3400}'..='\u{4dbf}' // CJK extension A
        | '\u{4e00}'..='\u{9fff}' // CJK unified ideographs
        | '\u{f900}'..='\u{faff}' // CJK compatibility ideographs
        | '\u{ff66}'..='\u{ff9f}' // half-width Katakana
        | '\u{20000}'..='\u{3134f}') // CJK extensions B to G
}

/// One-word variants and their folded forms (see the module docs).
const FOLDS: [(&str, &str); 16] = [
    ("usa", "us"),
    ("britain", "uk"),
    ("says", "said"),
    ("stated", "said"),
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep"),
    ("sept", "sep"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
];

/// First words of two-word variants, held back by the tokenizer.
const HELD: [&str; 2] = ["united", "per"];

/// For each word length below 16, the first letters (bit `c − 'a'`) of the
/// words that folding may change or hold back ([`FOLDS`] and [`HELD`]). Most
/// words are passed on after one look-up here.
static FOLD_FIRST: [u32; 16] = {
    let mut t = [0u32; 16];
    let mut i = 0;
    while i < FOLDS.len() + HELD.len() {
        let w = if i < FOLDS.len() {
            FOLDS[i].0
        } else {
            HELD[i - FOLDS.len()]
        }
        .as_bytes();
        t[w.len()] |= 1 << (w[0] - b'a');
        i += 1;
    }
    t
};

/// Whether folding may change or hold back `w`.
#[inline]
fn may_fold(w: &str) -> bool {
    let b = w.as_bytes();
    let first = b.first().map_or(u8::MAX, |c| c.wrapping_sub(b'a'));
    b.len() < 16 && first < 26 && FOLD_FIRST[b.len()] >> first & 1 == 1
}

/// One-word variant folding (see the module docs).
fn fold_word(w: &str) -> &str {
    if !may_fold(w) {
        return w;
    }
    FOLDS
        .iter()
        .find(|&&(from, _)| from == w)
        .map_or(w, |&(_, to)| to)
}

fn starts_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn contains_ci(s: &str, needle: &str) -> bool {
    let n = needle.len();
    s.len() >= n
        && s.as_bytes()
            .windows(n)
            .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The built-in rule matching a line, if any. `words` is the line's number of
/// normalized tokens.
pub(crate) fn rule_for_line(line: &str, words: usize) -> Option<BoilerplateRule> {
    use BoilerplateRule::*;
    let s = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{a0}');
    if words == 0 {
        return None;
    }
    if words < 3 {
        return Some(ShortLine);
    }
    if (s.starts_with("http://") || s.starts_with("https://") || s.starts_with("www."))
        && !s.contains(' ')
    {
        return Some(Url);
    }
    if words > 30 {
        // Longer lines are article text.
        return None;
    }
    if starts_ci(s, "read more") || starts_ci(s, "read also") || starts_ci(s, "related:") {
        return Some(ReadMore);
    }
    if starts_ci(s, "the post ") && contains_ci(s, "appeared first on") {
        return Some(AppearedFirstOn);
    }
    if starts_ci(s, "copyright")
        || s.starts_with('\u{a9}')
        || (words <= 12 && contains_ci(s, "all rights reserved"))
    {
        return Some(Copyright);
    }
    const PROMPTS: [&str; 11] = [
        "subscribe",
        "share this",
        "share on",
        "follow us",
        "sign up",
        "click here",
        "listen to this",
        "advertisement",
        "comments ",
        "this article has been automatically",
        "download our app",
    ];
    if PROMPTS.iter().any(|p| starts_ci(s, p)) {
        return Some(Prompt);
    }
    const CREDITS: [&str; 5] = [
        "(reporting by",
        "reporting by",
        "(editing by",
        "editing by",
        "compiled by",
    ];
    if CREDITS.iter().any(|p| starts_ci(s, p))
        || (words <= 6 && (starts_ci(s, "by ") || starts_ci(s, "by:") || starts_ci(s, "source:")))
    {
        return Some(Credit);
    }
    if starts_ci(s, "published ") && contains_ci(s, "updated") {
        return Some(Dateline);
    }
    if is_caption(s, words) {
        return Some(Caption);
    }
    None
}

/// "PHOTO: …", "FILE PHOTO: …", "Image: …", "AFP photo".
fn is_caption(s: &str, words: usize) -> bool {
    if starts_ci(s, "photo:") || starts_ci(s, "image:") || starts_ci(s, "picture:") {
        return true;
    }
    if words <= 3 && (s.to_ascii_lowercase().ends_with(" photo")) {
        return true;
    }
    // An upper-case label of one or two words followed by a colon.
    if let Some((label, _)) = s.split_once(':') {
        let label = label.trim();
        let n = label.split_whitespace().count();
        return (1..=2).contains(&n)
            && label.len() >= 4
            && label.chars().all(|c| c.is_ascii_uppercase() || c == ' ');
    }
    false
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
        repairs,
    };
    let mut tok = Tokenizer::new(cfg.fold_variants);
    let mut bounds: Vec<u32> = Vec::new();
    for (number, line) in text.split('\n').enumerate() {
        let start = out.tokens.len();
        bounds.clear();
        tok.sentence_start = true;
        let tokens = &mut out.tokens;
        let entities = &mut out.entities;
        let mut push = |t: &str, entity: bool| {
            if t.is_empty() {
                bounds.push(tokens.len() as u32);
            } else {
                let h = token_hash(t);
                tokens.push(h);
                if entity {
                    entities.push(h);
                }
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

/// The sentences of a document that may be learned as boilerplate (3 to
/// `max_words` words), each once, with its context (see
/// [`for_each_context`]), sorted by key.
pub(crate) fn learnable_sentences(d: &Tokenized, max_words: usize) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for_each_context(d, |i, ctx| {
        let s = &d.segments[i];
        if (3..=max_words).contains(&((s.end - s.start) as usize)) {
            out.push((s.key, ctx));
        }
    });
    out.sort_unstable();
    out.dedup_by_key(|p| p.0);
    out
}

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
        let eligible = |s: &Segment| (3..=b.max_line_words).contains(&((s.end - s.start) as usize));
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

    /// The token hashes of the content (boilerplate removed), in order.
    /// Returns the number of removed lines and sentences.
    pub(crate) fn content_hashes_into(&self, doc: &Tokenized, out: &mut Vec<u64>) -> usize {
        let mut removed = 0;
        self.walk(
            doc,
            |a, b| out.extend_from_slice(&doc.tokens[a..b]),
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

enum Removed<'a> {
    Line(&'a LineInfo),
    Segment(&'a LineInfo, &'a Segment),
}

/// All tokens of a text as strings, in the order `tokenize` hashes them.
fn all_tokens(text: &str, fold: bool) -> Vec<String> {
    let mut words = Vec::new();
    for line in text.split('\n') {
        for_each_token(line, fold, |w| words.push(w.to_string()));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

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
