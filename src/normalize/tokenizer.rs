//! The tokenizer: words, case folding, NFKC, variant folding, and
//! character tokens for scripts written without spaces.

use super::*;

/// Byte classes for the tokenizer's inner loop: [`ALNUM`] for ASCII letters
/// and digits, with [`DIGIT`] or [`UPPER`] beside it.
pub(super) static CLASS: [u8; 256] = {
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
pub(super) const ALNUM: u8 = 1;
pub(super) const DIGIT: u8 = 2;
pub(super) const UPPER: u8 = 4;

/// What the tokenizer knows of a token: whether it is a name or number
/// (see [`Tokenizer`]) and whether it holds a digit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TokenFlags {
    /// A name or number.
    pub entity: bool,
    /// A digit (of any script) is among its characters.
    pub figure: bool,
}

/// The streaming tokenizer behind [`for_each_token`]. It holds back one token
/// to fold two-word variants ("united states", "per cent").
///
/// Each token comes with a flag: `true` for a name or number, that is a word
/// written with a capital letter where no sentence or line starts, or a word
/// with a digit.
pub(super) struct Tokenizer {
    fold: bool,
    word: String,
    non_ascii: bool,
    held: Option<(Held, TokenFlags)>,
    /// The next word starts a sentence.
    pub(super) sentence_start: bool,
    /// Whether the current word is a name or number, and holds a digit.
    flags: TokenFlags,
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Held {
    United,
    Per,
}

impl Tokenizer {
    pub(super) fn new(fold: bool) -> Self {
        Tokenizer {
            fold,
            word: String::with_capacity(32),
            non_ascii: false,
            held: None,
            sentence_start: true,
            flags: TokenFlags::default(),
        }
    }

    /// Notes the first character of a new word.
    pub(super) fn start_word(&mut self, upper: bool) {
        self.flags = TokenFlags {
            entity: upper && !self.sentence_start,
            figure: false,
        };
        self.sentence_start = false;
    }

    /// Notes the first character of a word in a script without case
    /// (Chinese, Japanese, Thai, Arabic, Hebrew, …), where no capital can
    /// mark a name: every such word counts as a possible name, and the
    /// story level's IDF weighting lets the rare ones (the names) dominate.
    pub(super) fn start_caseless_word(&mut self) {
        self.flags = TokenFlags {
            entity: true,
            figure: false,
        };
        self.sentence_start = false;
    }

    pub(super) fn run(&mut self, text: &str, f: &mut impl FnMut(&str, TokenFlags)) {
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
                        self.flags = TokenFlags {
                            entity: true,
                            figure: true,
                        };
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
                    self.flags = TokenFlags::default();
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
                    if !c.is_alphabetic() {
                        self.flags.figure = true;
                    }
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
    pub(super) fn sentence_end(&mut self, next: Option<u8>, f: &mut impl FnMut(&str, TokenFlags)) {
        if next.is_none_or(|n| n.is_ascii_whitespace() || n == b'"') {
            self.end_sentence(f);
        }
    }

    /// Signals a sentence boundary with the empty token.
    pub(super) fn end_sentence(&mut self, f: &mut impl FnMut(&str, TokenFlags)) {
        self.flush(f);
        f("", TokenFlags::default());
        self.sentence_start = true;
    }

    pub(super) fn end_word(&mut self, f: &mut impl FnMut(&str, TokenFlags)) {
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

    pub(super) fn emit(&mut self, word: &str, f: &mut impl FnMut(&str, TokenFlags)) {
        let flags = self.flags;
        if !self.fold {
            f(word, flags);
            return;
        }
        let none = TokenFlags::default();
        if let Some((held, held_flags)) = self.held.take() {
            match (held, word) {
                (Held::United, "states") => return f("us", held_flags),
                (Held::United, "kingdom") => return f("uk", held_flags),
                (Held::Per, "cent") => return f("percent", none),
                (Held::United, _) => f("united", held_flags),
                (Held::Per, _) => f("per", none),
            }
        }
        if !may_fold(word) {
            return f(word, flags);
        }
        match word {
            "united" => self.held = Some((Held::United, flags)),
            "per" => self.held = Some((Held::Per, flags)),
            _ => f(fold_word(word), flags),
        }
    }

    pub(super) fn flush(&mut self, f: &mut impl FnMut(&str, TokenFlags)) {
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
pub(super) fn unspaced_script(c: char) -> bool {
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
pub(super) const FOLDS: [(&str, &str); 16] = [
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
pub(super) const HELD: [&str; 2] = ["united", "per"];

/// For each word length below 16, the first letters (bit `c − 'a'`) of the
/// words that folding may change or hold back ([`FOLDS`] and [`HELD`]). Most
/// words are passed on after one look-up here.
pub(super) static FOLD_FIRST: [u32; 16] = {
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
pub(super) fn may_fold(w: &str) -> bool {
    let b = w.as_bytes();
    let first = b.first().map_or(u8::MAX, |c| c.wrapping_sub(b'a'));
    b.len() < 16 && first < 26 && FOLD_FIRST[b.len()] >> first & 1 == 1
}

/// One-word variant folding (see the module docs).
pub(super) fn fold_word(w: &str) -> &str {
    if !may_fold(w) {
        return w;
    }
    FOLDS
        .iter()
        .find(|&&(from, _)| from == w)
        .map_or(w, |&(_, to)| to)
}
