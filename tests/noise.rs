//! The noise of scraped text, one kind at a time: every article of the
//! bundled sample gets a noisy reprint, and each reprint must land in the
//! duplicate group of its clean original.
//!
//! For each kind: recall is the share of noisy reprints grouped with their
//! original; precision is pairwise precision over the whole corpus (clean
//! sample and reprints, labelled by the sample's `cluster` field). The noise
//! is made here, with a seeded generator printed in the failure message.

use wirecluster::{Clusterer, Config, Document, score};

mod common;
use common::load;

/// xorshift64*: a small seeded generator, so the suite needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SEED: u64 = 0x005e_ed0f_2026;

/// Applies `f` to every word (a run of non-space characters).
fn map_words(text: &str, mut f: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut word = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            if !word.is_empty() {
                out.push_str(&f(&word));
                word.clear();
            }
            out.push(c);
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        out.push_str(&f(&word));
    }
    out
}

fn soft_hyphens(text: &str, rng: &mut Rng) -> String {
    map_words(text, |w| {
        let n = w.chars().count();
        if n >= 6 && w.chars().all(char::is_alphabetic) && rng.chance(0.5) {
            let cut = 2 + rng.below(n - 3);
            let (a, b): (String, String) =
                (w.chars().take(cut).collect(), w.chars().skip(cut).collect());
            format!("{a}\u{ad}{b}")
        } else {
            w.to_string()
        }
    })
}

fn updated_figures(text: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(text.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String, rng: &mut Rng| {
        if digits.is_empty() {
            return;
        }
        if rng.chance(0.5) {
            let v: u64 = digits.parse().unwrap_or(7);
            let nv = (v + 1 + rng.below(9) as u64).to_string();
            out.push_str(&nv);
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() && digits.len() < 18 {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out, rng);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out, rng);
    out
}

fn entities(text: &str, rng: &mut Rng) -> String {
    let mut out = String::from("<p>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&quot;"),
            ',' => out.push_str(if rng.chance(0.5) { "&#44;" } else { "," }),
            '\n' => out.push_str("</p>\n<p>"),
            ' ' if rng.chance(0.1) => out.push_str("&nbsp;"),
            'e' if rng.chance(0.05) => out.push_str("e&shy;"),
            c => out.push(c),
        }
    }
    out.push_str("</p>");
    out
}

/// Typographic quotes and dashes, then the UTF-8 bytes read as
/// Windows-1252.
fn mojibake(text: &str, rng: &mut Rng) -> String {
    let mut typographic = String::new();
    let mut open = true;
    let mut prev = ' ';
    for c in text.chars() {
        match c {
            '\'' => typographic.push('’'),
            '"' => {
                typographic.push(if open { '“' } else { '”' });
                open = !open;
            }
            // A dash between spaces, not a hyphen inside or after a word.
            '-' if prev == ' ' && rng.chance(0.5) => typographic.push('—'),
            c => typographic.push(c),
        }
        prev = c;
    }
    const HIGH: [u32; 32] = [
        0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013,
        0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178,
    ];
    typographic
        .bytes()
        .map(|b| match b {
            0x80..=0x9f => char::from_u32(HIGH[(b - 0x80) as usize]).unwrap(),
            _ => char::from(b),
        })
        .collect()
}

/// Re-wrapped at 60 columns, long words broken with a hyphen.
fn wrapped_hyphens(text: &str, _rng: &mut Rng) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let mut col = 0;
        for (i, w) in para.split(' ').enumerate() {
            let n = w.chars().count();
            if i > 0 {
                if col + 1 + n > 60 && n >= 6 && w.chars().all(char::is_alphabetic) {
                    let cut = (60usize.saturating_sub(col + 2)).clamp(2, n - 2);
                    let a: String = w.chars().take(cut).collect();
                    let b: String = w.chars().skip(cut).collect();
                    out.push(' ');
                    out.push_str(&a);
                    out.push_str("-\n");
                    out.push_str(&b);
                    col = n - cut;
                    continue;
                } else if col + 1 + n > 60 {
                    out.push('\n');
                    col = 0;
                } else {
                    out.push(' ');
                    col += 1;
                }
            }
            out.push_str(w);
            col += n;
        }
        out.push('\n');
    }
    out
}

fn no_break_spaces(text: &str, rng: &mut Rng) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' && rng.chance(0.4) {
                '\u{a0}'
            } else {
                c
            }
        })
        .collect()
}

/// Every kind at once, as real scraped text has them.
fn all_at_once(text: &str, rng: &mut Rng) -> String {
    let t = updated_figures(text, rng);
    let t = soft_hyphens(&t, rng);
    let t = wrapped_hyphens(&t, rng);
    let t = no_break_spaces(&t, rng);
    let t = entities(&t, rng);
    mojibake(&t, rng)
}

/// Clusters the sample with a noisy reprint of every article (made by
/// `noise`, or for round-up pages by `roundup`) and checks recall and
/// precision.
fn check(kind: &str, make: impl Fn(usize, &[Document], &mut Rng) -> String) {
    let clean = load("news-sample.jsonl");
    let mut rng = Rng(SEED);
    let mut docs = clean.clone();
    for (i, d) in clean.iter().enumerate() {
        let mut n = d.clone();
        n.id = format!("{}~{kind}", d.id);
        n.text = make(i, &clean, &mut rng);
        docs.push(n);
    }
    if let Ok(dir) = std::env::var("NOISE_DUMP") {
        let lines: Vec<String> = docs
            .iter()
            .map(|d| serde_json::to_string(d).unwrap())
            .collect();
        std::fs::write(format!("{dir}/{kind}.jsonl"), lines.join("\n")).unwrap();
    }
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let half = clean.len();
    let joined = (0..half)
        .filter(|&i| c.assignments[i].duplicate_group == c.assignments[half + i].duplicate_group)
        .count();
    let recall = joined as f64 / half as f64;
    let pred: Vec<&str> = c
        .assignments
        .iter()
        .map(|a| a.duplicate_group.as_str())
        .collect();
    let gold: Vec<&str> = docs.iter().map(|d| d.label.as_deref().unwrap()).collect();
    let precision = score(&pred, &gold).pairwise.precision;
    println!("{kind}: recall {recall:.4}, precision {precision:.4}");
    if std::env::var("NOISE_DEBUG").is_ok() {
        for g in &c.groups {
            let labels: std::collections::BTreeSet<&str> = g
                .members
                .iter()
                .map(|m| docs[m.index].label.as_deref().unwrap())
                .collect();
            if labels.len() > 1 {
                let ids: Vec<&str> = g.members.iter().map(|m| m.id.as_str()).collect();
                println!("  mixed group {}: {:?}", g.id, ids);
            }
        }
    }
    assert!(
        recall >= 0.97 && precision >= 0.99,
        "{kind} (seed {SEED:#x}): recall {recall:.4} (>= 0.97), precision {precision:.4} (>= 0.99)"
    );
}

fn noise(f: fn(&str, &mut Rng) -> String) -> impl Fn(usize, &[Document], &mut Rng) -> String {
    move |i, docs, rng| f(&docs[i].text, rng)
}

#[test]
fn soft_hyphens_inside_words() {
    check("soft-hyphens", noise(soft_hyphens));
}

#[test]
fn html_entities_and_markup() {
    check("entities", noise(entities));
}

#[test]
fn utf8_read_as_windows_1252() {
    check("mojibake", noise(mojibake));
}

#[test]
fn words_hyphenated_across_line_breaks() {
    check("wrapped-hyphens", noise(wrapped_hyphens));
}

#[test]
fn no_break_spaces_between_words() {
    check("nbsp", noise(no_break_spaces));
}

#[test]
fn figures_updated_in_a_later_version() {
    check("figures", noise(updated_figures));
}

/// Measured at 0.990 recall and 0.966 precision: the reprints of one ECB+
/// story are pulled into another's group through stock sentences once the
/// noisy copies double them. Open: issue 14.
#[test]
#[ignore = "precision 0.966 < 0.99 (issue 14, open)"]
fn every_kind_at_once() {
    check("all", noise(all_at_once));
}

/// A round-up page: the story, then teasers (headline and first lines) of
/// three other stories. Measured at 0.975 recall and 0.677 precision: the
/// teasers link their stories' excerpts to the page, and the aggregator
/// guard does not cut them when every story has such a page. Open: issue 14.
#[test]
#[ignore = "precision 0.677 < 0.99 (issue 14, open)"]
fn round_up_page_joins_its_lead_story() {
    check("roundup", |i, docs, rng| {
        let mut page = docs[i].text.clone();
        for _ in 0..3 {
            let other = &docs[rng.below(docs.len())];
            if other.label == docs[i].label {
                continue;
            }
            let teaser: Vec<&str> = other.text.lines().take(3).collect();
            page.push_str("\n\n");
            page.push_str(&teaser.join("\n"));
        }
        page
    });
}
