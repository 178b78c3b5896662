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
