//! Property tests: no input can make the readers, the normalizer or the
//! clusterer panic, and nothing is lost on the way.

use proptest::prelude::*;
use wirecluster::{Clusterer, Config, Document, Id, ReadOptions, normalize_text, parse_jsonl};

fn skip() -> ReadOptions {
    ReadOptions {
        skip_invalid: true,
        ..Default::default()
    }
}

/// Lines that are sometimes valid records and sometimes not.
fn jsonl_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-z]{1,4}".prop_map(|id| format!("{{\"id\":\"{id}\",\"text\":\"t {id}\"}}").into_bytes()),
        "[a-z]{0,3}".prop_map(|id| format!("{{\"id\":\"{id}\",\"text\":\"\"}}").into_bytes()),
        any::<u8>().prop_map(|n| format!(
            "{{\"id\":{n},\"body\":\"x\",\"published\":\"2016-13-{n}\"}}"
        )
        .into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..40),
        Just(b"{\"id\":\"q\",\"text\":\"ok\",\"published\":null}".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn reader_never_panics_and_accounts_for_every_line(lines in proptest::collection::vec(jsonl_line(), 0..30)) {
        let mut input = Vec::new();
        for l in &lines {
            // Newlines inside random bytes would split lines; count real lines.
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let out = parse_jsonl(&input, None, &skip()).unwrap();
        let real_lines = input.split(|&b| b == b'\n').count() - 1;
        prop_assert_eq!(out.documents.len() + out.skipped.len() + out.blank_lines, real_lines);
        // Strict mode fails exactly when something would have been skipped.
        let strict = parse_jsonl(&input, None, &ReadOptions::default());
        prop_assert_eq!(strict.is_err(), !out.skipped.is_empty());
    }

    #[test]
    fn normalizer_never_panics(text in any::<String>()) {
        let n = normalize_text(&text);
        prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
    }

    #[test]
    fn repair_never_panics_and_leaves_no_invisible_characters(
        text in "([a-zA-Z<>&;#/ \n-]|[\u{80}-\u{ff}]|\u{2019}|\u{20ac}|\u{200b}|\u{fffd}|\u{4e2d}){0,80}",
        any_text in any::<String>(),
    ) {
        let cfg = wirecluster::RepairConfig::default();
        for t in [&text, &any_text] {
            let out = wirecluster::repair_text(t, &cfg);
            prop_assert!(!out.contains(['\u{ad}', '\u{a0}', '\u{200b}', '\u{feff}']), "{:?} -> {:?}", t, out);
        }
    }

    #[test]
    fn no_config_makes_the_clusterer_panic(
        fields in proptest::collection::vec((0usize..12, prop_oneof![
            any::<i64>().prop_map(serde_json::Value::from),
            (0u64..10).prop_map(serde_json::Value::from),
            any::<f64>().prop_filter("JSON numbers are finite", |v| v.is_finite()).prop_map(serde_json::Value::from),
            (0.0f64..1.5).prop_map(serde_json::Value::from),
            Just(serde_json::json!([9223372036854775807u64, 2])),
            Just(serde_json::json!([3, 40])),
            Just(serde_json::json!("x")),
        ]), 0..6),
    ) {
        const KEYS: [&str; 12] = [
            "num_perm", "lsh_threshold", "lsh_bands_rows", "max_bucket", "winnow_window",
            "containment_candidate", "jaccard_threshold", "containment_threshold",
            "max_posting", "hub_region_overlap", "best_match_margin", "seed",
        ];
        let mut obj = serde_json::Map::new();
        for (k, v) in fields {
            obj.insert(KEYS[k].to_string(), v);
        }
        // Deserializing and validating may refuse; nothing may panic, and
        // a config that validates must run.
        if let Ok(cfg) = serde_json::from_value::<Config>(serde_json::Value::Object(obj))
            && let Ok(c) = Clusterer::new(cfg)
        {
            let docs = vec![
                Document::new("a", "Rebels shelled the northern city overnight as forces pressed on."),
                Document::new("b", "Rebels shelled the northern city overnight as forces pressed on."),
            ];
            prop_assert_eq!(c.cluster(&docs).unwrap().assignments.len(), 2);
        }
    }

    #[test]
    fn normalizing_ascii_is_idempotent(text in "[ -~\n]{0,200}") {
        let once = normalize_text(&text);
        prop_assert_eq!(normalize_text(&once), once.clone());
    }

    #[test]
    fn clusterer_assigns_every_document_once(texts in proptest::collection::vec("[a-e ]{0,60}", 1..25)) {
        let docs: Vec<Document> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Document::new(format!("d{i}"), t.clone()))
            .collect();
        let c = Clusterer::new(Config::default()).unwrap().cluster(&docs).unwrap();
        prop_assert_eq!(c.assignments.len(), docs.len());
        let mut seen = vec![0usize; docs.len()];
        for g in &c.groups {
            for m in &g.members {
                seen[m.index] += 1;
            }
        }
        prop_assert!(seen.iter().all(|&s| s == 1));
        let in_stories: usize = c.stories.iter().map(|s| s.members.len()).sum();
        prop_assert_eq!(in_stories, docs.len());
    }
}

/// Sentences that articles are built from, so that reprints, excerpts and
/// shared passages happen often.
const SENTENCES: [&str; 6] = [
    "The central bank raised its key interest rate by half a point on Tuesday citing inflation.",
    "Storms closed schools and roads across the northern region on Monday officials said.",
    "Russia and the United States agreed to work on a deal to curb fighting in Syria.",
    "The company said quarterly profit rose sharply on strong demand for its new phones.",
    "Police charged a man with two counts of murder after the shooting at the bakery plant.",
    "Subscribe now for the latest news from our newsroom delivered to your inbox every day.",
];

#[derive(Debug, Clone)]
enum Op {
    /// Insert an article of these sentences, published on this day.
    Insert(Vec<usize>, u8),
    /// Remove the live article at this position (modulo the live count).
    Remove(usize),
    /// Save, drop and load the index.
    Reload,
    /// Re-link the stories.
    Consolidate,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (proptest::collection::vec(0..SENTENCES.len(), 1..5), 0u8..12)
            .prop_map(|(s, d)| Op::Insert(s, d)),
        1 => any::<usize>().prop_map(Op::Remove),
        1 => Just(Op::Reload),
        1 => Just(Op::Consolidate),
    ]
}

/// Every live article is in one group and one story whose sizes and
/// canonicals agree with the members; and every article ever inserted is
/// live, removed or evicted.
fn check_consistent(ix: &wirecluster::FeedIndex) -> Result<(), TestCaseError> {
    use std::collections::HashMap;
    let st = ix.statuses();
    prop_assert_eq!(st.len(), ix.len());
    let mut groups: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut stories: HashMap<&str, (usize, usize)> = HashMap::new();
    for s in &st {
        let g = groups.entry(&s.duplicate_group).or_default();
        g.0 += 1;
        g.1 += usize::from(s.canonical);
        let t = stories.entry(&s.story).or_default();
        t.0 += 1;
        t.1 += usize::from(s.story_canonical);
        if s.canonical {
            prop_assert_eq!(&s.duplicate_group, &s.id);
        }
        if s.story_canonical {
            prop_assert_eq!(&s.story, &s.id);
        }
    }
    for s in &st {
        prop_assert_eq!(groups[s.duplicate_group.as_str()], (s.group_size, 1));
        prop_assert_eq!(stories[s.story.as_str()], (s.story_size, 1));
    }
    let stats = ix.stats();
    prop_assert_eq!(stats.groups, groups.len());
    prop_assert_eq!(stats.stories, stories.len());
    prop_assert_eq!(
        stats.inserted,
        ix.len() as u64 + stats.removed + stats.evicted_documents
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn feed_index_stays_consistent_through_any_operations(ops in proptest::collection::vec(op(), 1..40)) {
        let path = std::env::temp_dir().join(format!("wirecluster-prop-{}.wcf", std::process::id()));
        let mut feed = wirecluster::FeedConfig::default();
        feed.window_days = 3.0;
        feed.consolidate_every = 7;
        let mut ix = wirecluster::FeedIndex::new(Config::default(), feed).unwrap();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                Op::Insert(sentences, day) => {
                    let text: Vec<&str> = sentences.iter().map(|&i| SENTENCES[i]).collect();
                    let published = wirecluster::Timestamp::from_seconds(1_500_000_000 + day as i64 * 86_400);
                    let doc = Document::new(format!("a{n}"), text.join("\n")).with_published(published);
                    ix.insert(&doc).unwrap();
                }
                Op::Remove(k) => {
                    let live = ix.statuses();
                    if !live.is_empty() {
                        ix.remove(&live[k % live.len()].id).unwrap();
                    }
                }
                Op::Reload => {
                    ix.save(&path).unwrap();
                    let loaded = wirecluster::FeedIndex::load(&path).unwrap();
                    prop_assert_eq!(loaded.statuses(), ix.statuses());
                    prop_assert_eq!(loaded.stats(), ix.stats());
                    ix = loaded;
                }
                Op::Consolidate => {
                    ix.consolidate();
                }
            }
            check_consistent(&ix)?;
        }
        let _ = std::fs::remove_file(&path);
    }
}

/// A corpus with a group larger than the 64 members that canonical scores
/// compare: one dispatch in 90 copies, some cut short, some with an
/// outlet's header, beside the Syria sample.
fn order_corpus() -> Vec<Document> {
    let dispatch = "Rebels shelled the northern city overnight as government forces pressed their \
        advance on the last opposition districts, residents said on Tuesday. Aid groups said food \
        and medicine were running out and that thousands of families had fled toward the border. \
        The United Nations called for a pause in the fighting so that convoys could reach the \
        wounded. Talks between the two sides are due to resume in Geneva on Friday.";
    let words: Vec<&str> = dispatch.split(' ').collect();
    let mut docs: Vec<Document> = (0..90)
        .map(|i| {
            let cut = words.len() - (i % 7) * 3;
            let body = words[..cut].join(" ");
            let text = if i % 3 == 0 {
                format!("Outlet {i} brings you this report.\n{body}")
            } else {
                body
            };
            Document::new(format!("copy-{i:02}"), text)
        })
        .collect();
    let syria = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/syria-2016.jsonl"
    ))
    .unwrap();
    docs.extend(
        parse_jsonl(syria.as_bytes(), None, &ReadOptions::default())
            .unwrap()
            .documents,
    );
    docs
}

/// Groups, their canonicals and stories, as sets of ids.
fn partition(docs: &[Document]) -> Vec<(Id, Id, Vec<Id>)> {
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(docs)
        .unwrap();
    let mut v: Vec<(Id, Id, Vec<Id>)> = c
        .groups
        .iter()
        .map(|g| {
            let mut ids: Vec<Id> = g.members.iter().map(|m| m.id.clone()).collect();
            ids.sort();
            let story = &c.assignments.iter().find(|a| a.id == g.id).unwrap().story;
            (g.id.clone(), story.clone(), ids)
        })
        .collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// The same documents in any order give the same groups, canonicals and
    /// stories.
    #[test]
    fn results_do_not_depend_on_input_order(seed in any::<u64>()) {
        let docs = order_corpus();
        let mut shuffled = docs.clone();
        // Fisher-Yates with a small generator seeded by proptest.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(partition(&shuffled), partition(&docs));
    }
}
