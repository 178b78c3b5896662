//! Text repair: undoing what scraping and re-encoding do to a text, before it
//! is normalized.
//!
//! Each step is switched by a field of [`RepairConfig`] (all on by default)
//! and counted per document in [`Stats::repaired`](crate::Stats::repaired):
//!
//! | step | before | after |
//! |---|---|---|
//! | `mojibake`: UTF-8 that was decoded as Windows-1252 or Latin-1, once or twice | `donâ€™t`, `donÃ¢â‚¬â„¢t` | `don’t` |
//! | `markup`: HTML tags (only where the text holds markup) and character references, named, decimal and hex | `<p>Tom &amp; Jerry&#39;s</p>` | `Tom & Jerry's` |
//! | `hyphenation`: a word broken at a line end with a hyphen is joined | `bench-`⏎`mark tests` | `benchmark`⏎`tests` |
//! | `invisible`: soft hyphens, zero-width and bidirectional control characters removed | `bench\u{ad}mark` | `benchmark` |
//! | `spaces`: every Unicode space (no-break, thin, ideographic …) becomes a plain space | `10\u{a0}000` | `10 000` |
//!
//! The rules, so that a repair is never a guess the text cannot support:
//!
//! * **mojibake**: a character sequence is replaced only when the bytes its
//!   characters stand for in Windows-1252 (or Latin-1, for the five bytes
//!   that Windows-1252 leaves undefined) form one valid multi-byte UTF-8
//!   character: a lead byte `C2`–`F4` followed by the right number of
//!   continuation bytes `80`–`BF`. Real text almost never spells such a
//!   sequence (`Ã©`, `â€™`). The pass runs up to three times, for text
//!   that was mis-decoded more than once. The sequence `â€` followed by
//!   U+FFFD (what a strict Windows-1252 decoder leaves of `”`) becomes `”`.
//! * **markup**: tags are stripped only when the text holds at least one
//!   known HTML tag (`<p>`, `<br>`, `<div>`, `<a …>`, …) or comment; block
//!   tags become line breaks, the contents of `<script>` and `<style>` go.
//!   Character references are decoded by the [`htmlize`] crate (the full
//!   HTML5 table), twice when the first pass uncovers an escaped reference
//!   (`&amp;#39;`).
//! * **hyphenation**: a letter, a hyphen (`-`, U+2010 or a soft hyphen), a
//!   line break, then a lower-case letter: the two halves are joined and
//!   the line break moves after the joined word, so line numbers stay as
//!   written. The hyphen is kept (`well-known`) when the text spells the
//!   same two halves with a hyphen elsewhere on one line. A compound that a
//!   wrap breaks at its own hyphen (`long-` `term`) and that the text spells
//!   nowhere else becomes one word: measured on the 20k synthetic corpus,
//!   whose Reuters texts hold over a hundred such wraps, keeping the hyphen
//!   instead changed nothing there and lost reprints whose words were
//!   hyphenated (`bench-` `mark`).
//!
//! ```
//! use wirecluster::{RepairConfig, repair_text};
//! let cfg = RepairConfig::default();
//! assert_eq!(repair_text("It donâ€™t matter &amp; the bench-\nmark says\u{a0}so", &cfg),
//!            "It don’t matter & the benchmark\n says so");
//! assert_eq!(repair_text("co\u{ad}op\u{200b}er\u{ad}ation", &cfg), "cooperation");
//! ```

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Which repairs run (see the module docs). All are on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairConfig {
    /// Undo UTF-8 decoded as Windows-1252 or Latin-1. Default: `true`.
    pub mojibake: bool,
    /// Strip HTML tags and decode character references. Default: `true`.
    pub markup: bool,
    /// Join words hyphenated across line breaks. Default: `true`.
    pub hyphenation: bool,
    /// Remove soft hyphens, zero-width and bidi control characters.
    /// Default: `true`.
    pub invisible: bool,
    /// Turn every Unicode space into a plain space. Default: `true`.
    pub spaces: bool,
}

impl Default for RepairConfig {
    fn default() -> Self {
        RepairConfig {
            mojibake: true,
            markup: true,
            hyphenation: true,
            invisible: true,
            spaces: true,
        }
    }
}

impl RepairConfig {
    /// No repair at all.
    pub fn none() -> Self {
        RepairConfig {
            mojibake: false,
            markup: false,
            hyphenation: false,
            invisible: false,
            spaces: false,
        }
    }
}

/// The repairs one document needed, one bit per step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Repairs(u8);

impl Repairs {
    pub const MOJIBAKE: u8 = 1;
    pub const MARKUP: u8 = 2;
    pub const HYPHENATION: u8 = 4;
    pub const INVISIBLE: u8 = 8;
    pub const SPACES: u8 = 16;
    /// The step names, in bit order, as the run summary prints them.
    pub const NAMES: [&'static str; 5] =
        ["mojibake", "markup", "hyphenation", "invisible", "spaces"];

    #[cfg(test)]
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Documents per step, by step name; steps that changed nothing left out.
    pub fn count(all: impl Iterator<Item = Repairs>) -> std::collections::BTreeMap<String, usize> {
        let mut n = [0usize; 5];
        for r in all {
            for (i, c) in n.iter_mut().enumerate() {
                *c += usize::from(r.0 >> i & 1 == 1);
            }
        }
        Self::NAMES
            .iter()
            .zip(n)
            .filter(|&(_, c)| c > 0)
            .map(|(name, c)| (name.to_string(), c))
            .collect()
    }
}

/// Repairs a text (see the module docs); the text itself when nothing needs
/// repair.
pub fn repair_text<'a>(text: &'a str, cfg: &RepairConfig) -> Cow<'a, str> {
    repair(text, cfg).0
}

/// [`repair_text`] with the steps that changed something.
pub(crate) fn repair<'a>(text: &'a str, cfg: &RepairConfig) -> (Cow<'a, str>, Repairs) {
    let mut done = 0u8;
    let scan = Scan::of(text.as_bytes());
    if !scan.mojibake && !scan.markup && !scan.hyphen_break && !scan.invisible {
        return (Cow::Borrowed(text), Repairs(0));
    }
    let mut cur: Cow<'a, str> = Cow::Borrowed(text);
    if cfg.mojibake && scan.mojibake {
        for _ in 0..3 {
            match fix_mojibake(&cur) {
                Some(fixed) => {
                    cur = Cow::Owned(fixed);
                    done |= Repairs::MOJIBAKE;
                }
                None => break,
            }
        }
    }
    if cfg.markup && (scan.markup || done & Repairs::MOJIBAKE != 0) {
        if let Some(s) = strip_tags(&cur) {
            cur = Cow::Owned(s);
            done |= Repairs::MARKUP;
        }
        for _ in 0..2 {
            if !cur.contains('&') {
                break;
            }
            match htmlize::unescape(cur.as_ref()) {
                Cow::Owned(s) if s != cur.as_ref() => {
                    cur = Cow::Owned(s);
                    done |= Repairs::MARKUP;
                }
                _ => break,
            }
        }
    }
    if cfg.hyphenation
        && (scan.hyphen_break || done != 0)
        && let Some(s) = join_hyphenated(&cur)
    {
        cur = Cow::Owned(s);
        done |= Repairs::HYPHENATION;
    }
    // Earlier steps can uncover invisible characters (`&shy;`, `Â\u{a0}`).
    if (cfg.invisible || cfg.spaces) && (scan.invisible || done != 0) && !cur.is_ascii() {
        let mut out: Option<String> = None;
        let mut changed = 0u8;
        for (i, c) in cur.char_indices() {
            let rep = if cfg.invisible && is_invisible(c) {
                changed |= Repairs::INVISIBLE;
                None
            } else if cfg.spaces && is_unicode_space(c) {
                changed |= Repairs::SPACES;
                Some(' ')
            } else {
                Some(c)
            };
            if out.is_none() && rep != Some(c) {
                let mut s = String::with_capacity(cur.len());
                s.push_str(&cur[..i]);
                out = Some(s);
            }
            if let Some(out) = out.as_mut() {
                out.extend(rep);
            }
        }
        if let Some(out) = out {
            cur = Cow::Owned(out);
            done |= changed;
        }
    }
    (cur, Repairs(done))
}

/// What one pass over the bytes found: which steps may change something.
/// Most texts need none, and this is all they cost.
struct Scan {
    /// `Ã` to `ô` (U+00C2–U+00F4, bytes `C3 82`–`C3 B4`): a mojibake lead.
    mojibake: bool,
    /// `&` or `<`.
    markup: bool,
    /// A line break after a hyphen, a soft hyphen, a space or `\r`.
    hyphen_break: bool,
    /// The first bytes of an invisible character or a Unicode space.
    invisible: bool,
}

impl Scan {
    fn of(bytes: &[u8]) -> Scan {
        let mut s = Scan {
            mojibake: false,
            markup: false,
            hyphen_break: false,
            invisible: false,
        };
        s.markup = memchr::memchr2(b'&', b'<', bytes).is_some();
        // A line break whose line ends, spaces aside, in a hyphen (`-`, or
        // the last byte of a soft hyphen or of U+2010).
        s.hyphen_break = memchr::memchr_iter(b'\n', bytes).any(|nl| {
            let line = &bytes[..nl];
            let end = line
                .iter()
                .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r'));
            end.is_some_and(|e| matches!(line[e], b'-' | 0xad | 0x90))
        });
        if bytes.is_ascii() {
            return s;
        }
        let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                0xc3 if (0x82..=0xb4).contains(&at(i + 1)) => s.mojibake = true,
                // U+00A0, U+00AD
                0xc2 if matches!(at(i + 1), 0xa0 | 0xad) => s.invisible = true,
                // U+2000–U+200F, U+2028–U+202F, U+205F–U+206F
                0xe2 if (at(i + 1) == 0x80 && matches!(at(i + 2), 0x80..=0x8f | 0xa8..=0xaf))
                    || (at(i + 1) == 0x81 && (0x9f..=0xaf).contains(&at(i + 2))) =>
                {
                    s.invisible = true
                }
                // U+FEFF, U+1680, U+180E, U+3000
                0xef if at(i + 1) == 0xbb && at(i + 2) == 0xbf => s.invisible = true,
                0xe1 if matches!((at(i + 1), at(i + 2)), (0x9a, 0x80) | (0xa0, 0x8e)) => {
                    s.invisible = true
                }
                0xe3 if at(i + 1) == 0x80 && at(i + 2) == 0x80 => s.invisible = true,
                _ => {}
            }
        }
        s
    }
}

/// Soft hyphen, zero-width characters, bidirectional controls, word joiner,
/// byte order mark.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{180e}')
}

/// Spaces other than the ASCII space, tab and line breaks.
fn is_unicode_space(c: char) -> bool {
    matches!(
        c,
        '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Windows-1252's characters for the bytes 0x80–0x9F (0 where undefined:
/// those bytes read as Latin-1, that is as U+0080–U+009F).
const CP1252_HIGH: [u16; 32] = [
    0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039,
    0x0152, 0, 0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc,
    0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

/// The byte that `c` stands for when a Windows-1252 (or Latin-1) decoder
/// produced it from a byte of 0x80 or more.
fn cp1252_byte(c: char) -> Option<u8> {
    let u = c as u32;
    if (0x80..=0xff).contains(&u) {
        return Some(u as u8);
    }
    if !(0x100..=0xffff).contains(&u) {
        return None;
    }
    CP1252_HIGH
        .iter()
        .position(|&h| h as u32 == u)
        .map(|i| 0x80 + i as u8)
}

/// One pass of mojibake repair; `None` when nothing changed.
fn fix_mojibake(text: &str) -> Option<String> {
    // Only a lead byte C2–F4 can start a repair: characters Â–ô.
    if !text.chars().any(|c| ('\u{c2}'..='\u{f4}').contains(&c)) {
        return None;
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Option<String> = None;
    let mut i = 0;
    let mut copied_to = 0; // byte offset in `text` copied so far
    while i < chars.len() {
        let (at, c) = chars[i];
        let lead = match c {
            '\u{c2}'..='\u{df}' => 2,
            '\u{e0}'..='\u{ef}' => 3,
            '\u{f0}'..='\u{f4}' => 4,
            _ => {
                i += 1;
                continue;
            }
        };
        let mut buf = [c as u8, 0, 0, 0];
        let mut ok = i + lead <= chars.len();
        let mut k = 1;
        while ok && k < lead {
            let next = chars[i + k].1;
            match cp1252_byte(next) {
                Some(b @ 0x80..=0xbf) => buf[k] = b,
                // "â€" + U+FFFD: a strict decoder's remains of "”" (E2 80 9D).
                None if next == '\u{fffd}' && lead == 3 && k == 2 && buf[..2] == [0xe2, 0x80] => {
                    buf[k] = 0x9d
                }
                _ => ok = false,
            }
            k += 1;
        }
        let decoded = if ok {
            std::str::from_utf8(&buf[..lead]).ok()
        } else {
            None
        };
        match decoded {
            Some(s) => {
                let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
                out.push_str(&text[copied_to..at]);
                out.push_str(s);
                i += lead;
                copied_to = chars.get(i).map_or(text.len(), |&(p, _)| p);
            }
            None => i += 1,
        }
    }
    let mut out = out?;
    out.push_str(&text[copied_to..]);
    Some(out)
}

/// Tags whose presence means the text holds markup; the block ones end a
/// line when stripped.
const BLOCK_TAGS: [&str; 24] = [
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "figure",
    "figcaption",
    "hr",
];
const INLINE_TAGS: [&str; 15] = [
    "a", "b", "i", "em", "strong", "span", "img", "u", "small", "sup", "sub", "font", "time",
    "cite", "abbr",
];
const DROPPED_TAGS: [&str; 4] = ["script", "style", "noscript", "iframe"];

/// The tag starting at `s` (which begins with `<`): its lower-case name,
/// whether it closes, and its length; `None` if it is not a known tag.
fn parse_tag(s: &str) -> Option<(String, bool, usize)> {
    if let Some(rest) = s.strip_prefix("<!--") {
        return rest
            .find("-->")
            .map(|e| ("!--".to_string(), false, 4 + e + 3));
    }
    let end = s[1..].find(['>', '<'])? + 1;
    if s.as_bytes()[end] != b'>' || end > 2000 {
        return None;
    }
    let inner = &s[1..end];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(r) => (true, r),
        None => (false, inner),
    };
    let name_end = inner
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(inner.len());
    let name = inner[..name_end].to_ascii_lowercase();
    let rest = &inner[name_end..];
    // After the name: nothing, attributes after white space, or a self-close.
    if !(rest.is_empty() || rest.starts_with([' ', '\t', '\n', '/'])) {
        return None;
    }
    let known = BLOCK_TAGS.contains(&name.as_str())
        || INLINE_TAGS.contains(&name.as_str())
        || DROPPED_TAGS.contains(&name.as_str());
    known.then_some((name, closing, end + 1))
}

/// Strips known HTML tags; `None` when the text holds none.
fn strip_tags(text: &str) -> Option<String> {
    let first = text
        .match_indices('<')
        .find(|&(i, _)| parse_tag(&text[i..]).is_some())?
        .0;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    let mut i = first;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with('<')
            && let Some((name, closing, len)) = parse_tag(rest)
        {
            i += len;
            if DROPPED_TAGS.contains(&name.as_str()) && !closing {
                // Skip to the closing tag, contents and all.
                let close = format!("</{name}");
                let lower = text[i..].to_ascii_lowercase();
                match lower.find(&close) {
                    Some(p) => {
                        i += p;
                        if let Some((_, _, l)) = parse_tag(&text[i..]) {
                            i += l;
                        }
                    }
                    None => i = text.len(),
                }
            } else if BLOCK_TAGS.contains(&name.as_str()) && !out.ends_with('\n') && !out.is_empty()
            {
                out.push('\n');
            }
            continue;
        }
        let step = rest.chars().next().map_or(1, char::len_utf8);
        let next = rest[step..].find('<').map_or(text.len(), |p| i + step + p);
        out.push_str(&text[i..next]);
        i = next;
    }
    Some(out)
}

/// Joins words hyphenated across line breaks; `None` when there are none.
fn join_hyphenated(text: &str) -> Option<String> {
    let mut out: Option<String> = None;
    let mut copied_to = 0;
    let mut search_from = 0;
    while let Some(p) = text[search_from..].find('\n') {
        let nl = search_from + p;
        search_from = nl + 1;
        // Before the break: optional spaces (or \r), a hyphen, a letter.
        let before = text[..nl].trim_end_matches([' ', '\t', '\r']);
        let Some(hyphen) = before.chars().next_back() else {
            continue;
        };
        if !matches!(hyphen, '-' | '\u{2010}' | '\u{ad}') {
            continue;
        }
        let head_end = before.len() - hyphen.len_utf8();
        let head_start = text[..head_end]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_alphabetic())
            .last()
            .map(|(i, _)| i);
        let Some(head_start) = head_start else {
            continue;
        };
        // After the break: optional spaces, then a lower-case word.
        let after = &text[nl + 1..];
        let tail_offset = after.len() - after.trim_start_matches([' ', '\t']).len();
        let tail_start = nl + 1 + tail_offset;
        let tail_len = text[tail_start..]
            .char_indices()
            .take_while(|&(_, c)| c.is_alphabetic())
            .last()
            .map(|(i, c)| i + c.len_utf8());
        let Some(tail_len) = tail_len else { continue };
        if !text[tail_start..]
            .chars()
            .next()
            .is_some_and(char::is_lowercase)
        {
            continue;
        }
        if head_start < copied_to {
            continue;
        }
        let head = &text[head_start..head_end];
        let tail = &text[tail_start..tail_start + tail_len];
        let compound = format!("{head}-{tail}");
        let keep_hyphen = hyphen == '-' && contains_word(text, &compound);
        let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
        out.push_str(&text[copied_to..head_end]);
        if keep_hyphen {
            out.push('-');
        }
        out.push_str(tail);
        out.push('\n');
        copied_to = tail_start + tail_len;
        search_from = copied_to;
    }
    let mut out = out?;
    out.push_str(&text[copied_to..]);
    Some(out)
}

/// Whether `word` occurs in `text` with no letter on either side.
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(s: &str) -> String {
        repair_text(s, &RepairConfig::default()).into_owned()
    }

    #[test]
    fn clean_text_is_borrowed() {
        let s = "A plain text.\nWith two lines - and a dash.";
        assert!(matches!(
            repair_text(s, &RepairConfig::default()),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            repair_text("café Größe naïve “quoted”", &RepairConfig::default()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn mojibake_once_and_twice() {
        let good = "Donald’s café in Zürich — “naïve” résumé; 5 € and 10 °C; 东京";
        let once: String = encoding_as_cp1252(good);
        assert_ne!(once, good);
        assert_eq!(fix(&once), good);
        let twice = encoding_as_cp1252(&once);
        assert_eq!(fix(&twice), good);
        // A strict decoder's U+FFFD for the undefined byte 0x9D.
        assert_eq!(fix("he said â€œyesâ€\u{fffd} today"), "he said “yes” today");
        // Genuine Latin-1 text is left alone.
        for s in ["Größe", "façade à la", "São Paulo", "Ærø", "¿Qué?", "½ × ¼"] {
            assert_eq!(fix(s), s);
        }
    }

    /// UTF-8 bytes read as Windows-1252 (Latin-1 for undefined bytes).
    fn encoding_as_cp1252(s: &str) -> String {
        s.bytes()
            .map(|b| match b {
                0x80..=0x9f => match CP1252_HIGH[(b - 0x80) as usize] {
                    0 => char::from(b),
                    u => char::from_u32(u as u32).unwrap(),
                },
                _ => char::from(b),
            })
            .collect()
    }

    #[test]
    fn markup_and_references() {
        assert_eq!(
            fix("Tom &amp; Jerry&#39;s &#x201C;show&#8221; &shy;"),
            "Tom & Jerry's “show” "
        );
        assert_eq!(fix("a &amp;#44; b"), "a , b");
        assert_eq!(
            fix("<p>First <b>bold</b> para.</p><p>Second<br/>line</p><script>var x = 1;</script>"),
            "First bold para.\nSecond\nline\n"
        );
        // Not markup: kept as written.
        assert_eq!(fix("if a < b and c > d"), "if a < b and c > d");
        assert_eq!(fix("AT&T and P&G"), "AT&T and P&G");
    }

    #[test]
    fn hyphenation_is_joined_and_lines_keep_their_numbers() {
        assert_eq!(fix("the bench-\nmark runs"), "the benchmark\n runs");
        assert_eq!(fix("the bench- \n  mark runs"), "the benchmark\n runs");
        assert_eq!(
            fix("a well-known fact, well-\nknown"),
            "a well-known fact, well-known\n"
        );
        // Capitalized next word: a list or a new sentence, not a broken word.
        assert_eq!(fix("pre-\nWar"), "pre-\nWar");
        // A dash on its own is not a hyphenated word.
        assert_eq!(fix("yes -\nno"), "yes -\nno");
        assert_eq!(fix("bench\u{ad}\nmark"), "benchmark\n");
    }

    #[test]
    fn invisible_and_spaces() {
        assert_eq!(
            fix("co\u{ad}op\u{200b}er\u{200d}ation\u{feff}"),
            "cooperation"
        );
        assert_eq!(fix("10\u{a0}000\u{2009}m\u{3000}x"), "10 000 m x");
        let none = RepairConfig::none();
        assert_eq!(repair_text("a\u{a0}b", &none), "a\u{a0}b");
    }

    #[test]
    fn the_scan_sees_every_character_a_step_repairs() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            let t = format!("a{c}b");
            let scan = Scan::of(t.as_bytes());
            if is_invisible(c) || is_unicode_space(c) {
                assert!(scan.invisible, "{:04x}", c as u32);
            }
            if ('\u{c2}'..='\u{f4}').contains(&c) {
                assert!(scan.mojibake, "{:04x}", c as u32);
            }
        }
    }

    #[test]
    fn steps_are_counted() {
        let (_, r) = repair("x&amp;y\u{ad}", &RepairConfig::default());
        assert!(r.has(Repairs::MARKUP) && r.has(Repairs::INVISIBLE));
        assert!(!r.has(Repairs::MOJIBAKE) && !r.has(Repairs::SPACES));
    }
}
