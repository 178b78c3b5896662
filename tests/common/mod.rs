//! Helpers shared by the integration tests.

#![allow(dead_code)]

use wirecluster::{Clustering, Document, ReadOptions, Scores, read_jsonl, score};

/// The path of a bundled data file.
pub fn data(name: &str) -> String {
    format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The documents of a bundled data file.
pub fn load(name: &str) -> Vec<Document> {
    read_jsonl(data(name), &ReadOptions::default())
        .expect("bundled data reads")
        .documents
}

/// Duplicate groups scored against the documents' `cluster` labels.
pub fn group_scores(c: &Clustering, docs: &[Document]) -> Scores {
    let pred: Vec<&str> = c
        .assignments
        .iter()
        .map(|a| a.duplicate_group.as_str())
        .collect();
    let gold: Vec<&str> = docs
        .iter()
        .map(|d| d.label.as_deref().expect("labelled"))
        .collect();
    score(&pred, &gold)
}

/// Three counts of one election table: `count-1`, a later `count-2` of the
/// same night with some figures updated (its shingles alone fall below the
/// duplicate thresholds), and `other-year`, the same template with every
/// figure but one new (a recurring report, not an update).
pub fn election_counts() -> Vec<Document> {
    let table = |n: [&str; 13]| {
        format!(
            "Election results by district, with turnout: North {} votes for Ruiz, {} for Okafor, turnout {} percent; \
             East {} for Ruiz, {} for Okafor, turnout {} percent; South {} for Ruiz, {} for Okafor, turnout {} percent; \
             West {} for Ruiz, {} for Okafor, turnout {} percent. Counting in the last {} precincts ends on Sunday.",
            n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12]
        )
    };
    vec![
        Document::new(
            "count-1",
            table([
                "52,310", "48,220", "61.2", "39,870", "44,105", "58.4", "61,402", "35,998", "66.0",
                "28,770", "31,450", "54.9", "14",
            ]),
        ),
        Document::new(
            "count-2",
            table([
                "53,904", "48,220", "61.9", "40,215", "44,105", "58.4", "62,877", "36,410", "66.0",
                "28,770", "31,980", "55.3", "6",
            ]),
        ),
        Document::new(
            "other-year",
            table([
                "41,077", "50,912", "57.8", "37,645", "42,380", "55.1", "58,233", "39,004", "63.7",
                "30,118", "29,876", "52.6", "22",
            ]),
        ),
    ]
}
