//! Simulate a live feed from the bundled corpus: articles arrive one by one,
//! each is placed in a duplicate group and a story as it comes, the index is
//! saved and loaded half-way (as after a restart), and old stories leave
//! the time window.
//!
//! Run with `cargo run --release --example feed_sample`.

use wirecluster::{Config, FeedConfig, FeedIndex, ReadOptions, Timestamp, read_jsonl};

fn main() -> Result<(), wirecluster::Error> {
    // Step 1: the bundled articles, given made-up publication times, 40 a day.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/news-sample.jsonl");
    let docs: Vec<_> = read_jsonl(path, &ReadOptions::default())?
        .documents
        .into_iter()
        .enumerate()
        .map(|(i, d)| d.with_published(Timestamp::from_seconds(1_500_000_000 + i as i64 * 2160)))
        .collect();

    // Step 2: a live index whose stories close after three quiet days.
    let mut feed = FeedConfig::default();
    feed.window_days = 3.0;
    let mut index = FeedIndex::new(Config::default(), feed)?;

    // Step 3: the first half arrives; the service saves and stops.
    let save_to = std::env::temp_dir().join("wirecluster-feed-sample.wcf");
    let half = docs.len() / 2;
    let (mut joined, mut evicted) = (0, 0);
    for d in &docs[..half] {
        let a = index.insert(d)?;
        joined += usize::from(!a.new_group);
        evicted += a.evicted.len();
    }
    index.save(&save_to)?;
    println!("{half} articles in, index saved to {}", save_to.display());

    // Step 4: a new process loads the index and takes the rest.
    let mut index = FeedIndex::load(&save_to)?;
    for d in &docs[half..] {
        let a = index.insert(d)?;
        joined += usize::from(!a.new_group);
        evicted += a.evicted.len();
        if a.story_match.is_some() && a.story_size >= 4 {
            println!(
                "{} joined story {} ({} articles): {}",
                a.id,
                a.story,
                a.story_size,
                d.title.as_deref().unwrap_or("")
            );
        }
    }

    // Step 5: what the index holds now.
    let s = index.stats();
    println!(
        "{} articles placed: {joined} joined an existing duplicate group; {evicted} stories ({} articles) left the window; live: {} articles, {} groups, {} stories",
        s.inserted, s.evicted_documents, s.documents, s.groups, s.stories
    );
    let _ = std::fs::remove_file(&save_to);
    Ok(())
}
