//! Helpers shared by the integration tests.

#![allow(dead_code)]

use wirecluster::{Document, ReadOptions, read_jsonl};

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
