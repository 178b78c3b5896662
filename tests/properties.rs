//! Property tests: no input can make the readers, the normalizer or the
//! clusterer panic, and nothing is lost on the way.

use proptest::prelude::*;
use wirecluster::{Clusterer, Config, Document, ReadOptions, normalize_text, parse_jsonl};

fn skip() -> ReadOptions {
    ReadOptions { skip_invalid: true }
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
