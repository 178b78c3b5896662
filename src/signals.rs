//! Story signals: IDF-weighted term vectors with named entities boosted.
//!
//! Each document becomes a sparse vector over its content words (boilerplate
//! removed, stop words dropped) and its headline words:
//! `w(t) = (1 + ln tf(t)) · idf(t) · boost(t)`, L2-normalized, where
//! `idf(t) = ln((N + 1) / (df(t) + 1)) + 1` over the corpus being clustered
//! (plus a saved [`IdfModel`], if one is given) and `boost(t)` is
//! [`StoryConfig::entity_boost`](crate::StoryConfig::entity_boost) for names: words
//! written with a capital letter where a sentence does not start (people,
//! places, organisations), and for numbers (years, counts, scores).
//!
//! Terms are the stable token hashes of [`token_hash`], so a saved IDF model
//! stays valid across runs and machines.

use hash_hasher::{HashedMap, HashedSet};
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::shingle::token_hash;
use crate::sparse::{SparseVec, normalize, sum_runs_in_place};

/// Common English function words, left out of story vectors.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "said",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "told",
    "new",
    "one",
    "two",
    "year",
    "years",
    "people",
    "percent",
    "says",
    "according",
    "reuters",
    "ap",
    "afp",
    "news",
    "reported",
    "report",
    "like",
    "get",
    "got",
    "made",
    "make",
    "may",
    "might",
    "must",
    "many",
    "much",
    "since",
    "still",
    "yet",
    "however",
    "last",
    "first",
    "us",
];

/// The languages whose stop words (the NLTK lists, from the `stop-words`
/// crate) are known besides English, by ISO 639-1 code. English uses
/// [`STOP_WORDS`], tuned for news.
const OTHER_LANGUAGES: [&str; 26] = [
    "ar", "az", "ca", "da", "de", "el", "es", "eu", "fi", "fr", "he", "hu", "id", "it", "kk", "ne",
    "nl", "no", "pt", "ro", "ru", "sl", "sv", "tg", "tr", "zh",
];

/// Tokens of a document that decide its language: enough for a sentence
/// or three, where stop words are a third to a half of the words.
const LANGUAGE_SAMPLE: usize = 100;

/// Stop words of several languages, by token hash, each with a bit per
/// language that lists it (bit 0: English).
///
/// A document's story terms drop the stop words of its language: the one
/// whose stop words its text holds most of (English on ties and when none
/// occur). One language per document, because a word that is empty in one
/// language carries meaning in another (German "die", English "die").
#[derive(Debug, Clone)]
pub(crate) struct StopWords {
    languages: HashedMap<u64, u32>,
    /// English alone (most documents), a set small enough to stay in cache.
    english: HashedSet<u64>,
}

/// The stop words, built once per process (some 7,000 words tokenized and
/// hashed) and shared by every run and live index.
pub(crate) fn stop_words() -> &'static StopWords {
    static STOP: std::sync::OnceLock<StopWords> = std::sync::OnceLock::new();
    STOP.get_or_init(StopWords::new)
}

impl StopWords {
    fn new() -> Self {
        let mut languages: HashedMap<u64, u32> = HashedMap::default();
        let lists = std::iter::once(STOP_WORDS).chain(
            OTHER_LANGUAGES
                .iter()
                .map(|l| stop_words::lookup(l).unwrap_or(&[])),
        );
        for (bit, words) in lists.enumerate() {
            for w in words {
                // As the tokenizer writes it; lists hold a few phrases, and
                // those are left out.
                let mut tokens = Vec::new();
                crate::normalize::for_each_token(w, false, |t| tokens.push(token_hash(t)));
                if let [h] = tokens[..] {
                    *languages.entry(h).or_default() |= 1 << bit;
                }
            }
        }
        let english = languages
            .iter()
            .filter(|&(_, &m)| m & 1 != 0)
            .map(|(&h, _)| h)
            .collect();
        StopWords { languages, english }
    }

    /// The language (a bit) of a document's content tokens, guessed from
    /// its first [`LANGUAGE_SAMPLE`] tokens.
    pub fn language_of(&self, tokens: &[u64]) -> u32 {
        let mut hits = [0u32; 1 + OTHER_LANGUAGES.len()];
        for t in tokens.iter().take(LANGUAGE_SAMPLE) {
            if let Some(&mask) = self.languages.get(t) {
                let mut m = mask;
                while m != 0 {
                    hits[m.trailing_zeros() as usize] += 1;
                    m &= m - 1;
                }
            }
        }
        let best = (0..hits.len())
            .max_by_key(|&i| (hits[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        1 << best
    }

    /// Whether `t` is a stop word of `language` (a bit from
    /// [`StopWords::language_of`]).
    pub fn is_stop(&self, t: u64, language: u32) -> bool {
        if language == 1 {
            self.english.contains(&t)
        } else {
            self.languages.get(&t).is_some_and(|&m| m & language != 0)
        }
    }
}

/// Document frequencies learned from a corpus, to save and reuse.
///
/// ```
/// use wirecluster::IdfModel;
/// let m = IdfModel::from_texts(["the quake hit Chile", "a quake in Peru", "Chile won"]);
/// assert_eq!(m.documents, 3);
/// assert!(m.idf("peru") > m.idf("quake"));
/// let json = serde_json::to_string(&m).unwrap();
/// assert_eq!(serde_json::from_str::<IdfModel>(&json).unwrap(), m);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IdfModel {
    /// Format version of a saved model.
    pub version: u32,
    /// Documents counted.
    pub documents: u64,
    /// Documents containing each term, by [`token_hash`](crate::token_hash).
    pub df: BTreeMap<u64, u64>,
}

/// The format version written by [`IdfModel::save`].
pub const IDF_MODEL_VERSION: u32 = 1;

impl IdfModel {
    /// Counts document frequencies of the normalized words of some texts.
    pub fn from_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut m = IdfModel {
            version: IDF_MODEL_VERSION,
            ..Default::default()
        };
        for t in texts {
            let mut terms = Vec::new();
            crate::normalize::for_each_token(t, true, |w| terms.push(token_hash(w)));
            terms.sort_unstable();
            terms.dedup();
            m.add_document(&terms);
        }
        m
    }

    pub(crate) fn add_document(&mut self, distinct_terms: &[u64]) {
        self.documents += 1;
        for &t in distinct_terms {
            *self.df.entry(t).or_insert(0) += 1;
        }
    }

    /// Adds another model's counts to this one.
    pub fn merge(&mut self, other: &IdfModel) {
        self.documents += other.documents;
        for (&t, &c) in &other.df {
            *self.df.entry(t).or_insert(0) += c;
        }
    }

    /// The IDF of a normalized word: `ln((N + 1) / (df + 1)) + 1`.
    pub fn idf(&self, word: &str) -> f64 {
        self.idf_hash(token_hash(word))
    }

    pub(crate) fn idf_hash(&self, term: u64) -> f64 {
        idf(self.documents, self.df.get(&term).copied().unwrap_or(0))
    }

    /// Writes the model as JSON, whole or not at all ([`AtomicFile`](crate::AtomicFile)).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let mut file = crate::atomic::AtomicFile::create(path)?;
        serde_json::to_writer(&mut file, self).map_err(|e| Error::io(path)(e.into()))?;
        file.commit()
    }

    /// Reads a model written by [`IdfModel::save`]; a file that is not one
    /// (or of another format version) is an [`Error::IdfFile`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(Error::io(path))?;
        let bad = |reason: String| Error::IdfFile {
            path: path.to_path_buf(),
            reason,
        };
        let m: IdfModel = serde_json::from_slice(&bytes)
            .map_err(|e| bad(format!("not an IDF model (JSON): {e}")))?;
        if m.version != IDF_MODEL_VERSION {
            return Err(bad(format!(
                "IDF model format version {}; this build reads version {IDF_MODEL_VERSION}",
                m.version
            )));
        }
        Ok(m)
    }
}

/// The inverse document frequency of a term held by `df` of `n` documents:
/// `ln((n + 1) / (df + 1)) + 1`, smoothed so that an unseen term is finite
/// and a term in every document still weighs 1.
pub(crate) fn idf(n: u64, df: u64) -> f64 {
    ((n as f64 + 1.0) / (df as f64 + 1.0)).ln() + 1.0
}

/// Raw story terms of one document: term counts and which terms are names.
/// Terms and counts sit in two arrays (twelve bytes a term, against sixteen
/// for padded pairs): a corpus holds them for every document at once.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawTerms {
    /// Terms, sorted.
    pub terms: Vec<u64>,
    /// Each term's weighted count, in `terms` order.
    pub weights: Vec<f32>,
    /// Terms that are names or numbers, sorted.
    pub entities: Vec<u64>,
}

impl RawTerms {
    /// `(term, weighted count)` sorted by term.
    pub fn counts(&self) -> impl Iterator<Item = (u64, f32)> + '_ {
        self.terms.iter().copied().zip(self.weights.iter().copied())
    }
}

/// How occurrences count towards a term's frequency: the headline and the
/// first `lede_words` words of the content count `lede_boost` times, the rest
/// once. News puts the event (who, where, when) in the headline and lede, and
/// background shared with related events further down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Positional {
    pub lede_words: usize,
    pub lede_boost: f32,
}

/// Counts the story terms of a document from its content token hashes and
/// headline. `scratch` holds the occurrences while they are sorted and
/// summed, so the counts kept for the whole run are allocated once at their
/// exact size.
pub(crate) fn raw_terms(
    scratch: &mut Vec<(u64, f32)>,
    content: &[u64],
    text_entities: &[u64],
    title: Option<&str>,
    stop: &StopWords,
    fold: bool,
    pos: Positional,
) -> RawTerms {
    let language = stop.language_of(content);
    let all = scratch;
    all.clear();
    all.extend(
        content
            .iter()
            .enumerate()
            .filter(|&(_, &t)| !stop.is_stop(t, language))
            .map(|(i, &t)| {
                (
                    t,
                    if i < pos.lede_words {
                        pos.lede_boost
                    } else {
                        1.0
                    },
                )
            }),
    );
    let mut title_entities = Vec::new();
    if let Some(t) = title {
        // One pass gives the headline's terms and which are names.
        crate::normalize::for_each_flagged_token(t, fold, |w, entity| {
            let h = token_hash(w);
            if !stop.is_stop(h, language) {
                all.push((h, pos.lede_boost));
            }
            if entity {
                title_entities.push(h);
            }
        });
    }
    all.sort_unstable_by_key(|&(t, _)| t);
    let n = sum_runs_in_place(all);
    let (terms, weights): (Vec<u64>, Vec<f32>) = all[..n].iter().copied().unzip();
    // Only entities that occur among the counted terms matter.
    let mut entities: Vec<u64> = text_entities
        .iter()
        .chain(&title_entities)
        .copied()
        .filter(|e| terms.binary_search(e).is_ok())
        .collect();
    if !title_entities.is_empty() {
        entities.sort_unstable();
        entities.dedup();
    }
    entities.shrink_to_fit();
    RawTerms {
        terms,
        weights,
        entities,
    }
}

/// Weights raw terms (`(term, count)` sorted by term, as
/// [`RawTerms::counts`] gives them, with the sorted names and numbers among them) into
/// a unit TF-IDF vector. `idf(i, t)` is the IDF of the `i`-th term, `t`.
pub(crate) fn weigh(
    counts: impl IntoIterator<Item = (u64, f32)>,
    entities: &[u64],
    idf: &dyn Fn(usize, u64) -> f64,
    entity_boost: f64,
    max_terms: usize,
) -> SparseVec {
    // Terms and entities are both sorted: one walk finds the entities.
    let mut entities = entities.iter().peekable();
    let mut v: SparseVec = counts
        .into_iter()
        .enumerate()
        .map(|(i, (t, c))| {
            while entities.next_if(|&&e| e < t).is_some() {}
            let boost = if entities.peek() == Some(&&t) {
                entity_boost
            } else {
                1.0
            };
            // `1 + ln(max(c, 1))`; most terms occur once, where it is 1.
            let tf = if c <= 1.0 { 1.0 } else { 1.0 + (c as f64).ln() };
            (t, (tf * idf(i, t) * boost) as f32)
        })
        .collect();
    if v.len() > max_terms {
        // Keep the heaviest terms (ties by term), then restore term order.
        v.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(max_terms);
        v.sort_unstable_by_key(|&(t, _)| t);
    }
    normalize(&mut v);
    v
}

/// The names-and-numbers part of a story vector (`entities`, sorted),
/// renormalized.
pub(crate) fn entity_part(v: &SparseVec, entities: &[u64]) -> SparseVec {
    let mut entities = entities.iter().peekable();
    let mut e: SparseVec = v
        .iter()
        .copied()
        .filter(|(t, _)| {
            while entities.next_if(|&&x| x < *t).is_some() {}
            entities.peek() == Some(&t)
        })
        .collect();
    normalize(&mut e);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names and numbers in a short text, sorted, distinct.
    fn entity_terms(text: &str, fold: bool) -> Vec<u64> {
        let mut out = Vec::new();
        crate::normalize::for_each_flagged_token(text, fold, |t, entity| {
            if entity {
                out.push(token_hash(t));
            }
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn each_document_drops_the_stop_words_of_its_own_language() {
        let stop = StopWords::new();
        let hashes = |text: &str| {
            let mut v = Vec::new();
            crate::normalize::for_each_token(text, true, |t| v.push(token_hash(t)));
            v
        };
        let english = hashes("The soldiers who die in the war will be remembered by the nation.");
        let german = hashes(
            "Die Regierung hat am Mittwoch ein Paket für die Familien und die Rentner beschlossen.",
        );
        let french = hashes(
            "Le gouvernement a présenté mercredi un plan pour les familles et les retraités.",
        );
        let russian =
            hashes("Центральный банк в пятницу повысил ставку, и это было ожидаемо для рынка.");
        let (en, de) = (stop.language_of(&english), stop.language_of(&german));
        assert_eq!(en, 1, "English is bit 0");
        assert_ne!(de, en);
        assert_ne!(stop.language_of(&french), en);
        assert_ne!(stop.language_of(&russian), en);
        let die = token_hash("die");
        // "die" is a German article, and an English verb.
        assert!(stop.is_stop(die, de));
        assert!(!stop.is_stop(die, en));
        assert!(stop.is_stop(token_hash("und"), de));
        assert!(stop.is_stop(token_hash("the"), en));
    }

    #[test]
    fn names_are_capitalized_words_inside_sentences() {
        let e = entity_terms(
            "Police said Lindsay Lohan entered the Betty Ford Center in 2013. The star",
            true,
        );
        let want: Vec<u64> = {
            let mut v: Vec<u64> = ["lindsay", "lohan", "betty", "ford", "center", "2013"]
                .iter()
                .map(|w| token_hash(w))
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(e, want);
    }

    #[test]
    fn saved_model_round_trips_and_rejects_other_versions() {
        let dir = std::env::temp_dir().join(format!("wirecluster-idf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("idf.json");
        let m = IdfModel::from_texts(["one text", "another text"]);
        m.save(&path).unwrap();
        assert_eq!(IdfModel::load(&path).unwrap(), m);
        let mut old = m.clone();
        old.version = 99;
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        let err = IdfModel::load(&path).unwrap_err().to_string();
        assert!(err.contains("format version 99"), "{err}");
        std::fs::write(&path, b"{\"version\": 1, \"docum").unwrap();
        assert!(IdfModel::load(&path).is_err());
    }
}
