//! Cluster the bundled sample corpus and show the largest duplicate groups.
//!
//! Run with `cargo run --release --example cluster_sample`.

use wirecluster::{Clusterer, Config, ReadOptions, read_jsonl, score};

fn main() -> Result<(), wirecluster::Error> {
    // Step 1: read the articles. Every bad line would be an error naming its line.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/news-sample.jsonl");
    let docs = read_jsonl(path, &ReadOptions::default())?.documents;

    // Step 2: cluster with the default config (word 5-shingles, MinHash LSH,
    // containment candidates, exact verification, anti-chaining guard).
    let clustering = Clusterer::new(Config::default())?.cluster(&docs)?;

    // Step 3: show the three largest groups and why their canonical won.
    let mut groups: Vec<_> = clustering.groups.iter().collect();
    groups.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then(a.id.cmp(&b.id)));
    for g in groups.iter().take(3) {
        let title = docs[g.members[0].index].title.as_deref().unwrap_or("");
        println!("{} ({} members): {title}", g.id, g.members.len());
        println!("  {}", g.canonical_reason);
    }

    // Step 4: the sample has gold labels, so score the groups.
    let predicted: Vec<&str> = clustering
        .assignments
        .iter()
        .map(|a| a.duplicate_group.as_str())
        .collect();
    let gold: Vec<&str> = docs
        .iter()
        .map(|d| d.label.as_deref().unwrap_or(""))
        .collect();
    let s = score(&predicted, &gold);
    println!(
        "{} documents, {} groups; pairwise F1 {:.3}, ARI {:.3}",
        docs.len(),
        clustering.groups.len(),
        s.pairwise.f1,
        s.ari
    );
    Ok(())
}
