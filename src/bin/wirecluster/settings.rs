//! Clustering and live index settings from the flags and the config file.

use wirecluster::{Clusterer, Config};

use crate::BoxError;
use crate::args::Cli;

pub(crate) fn clusterer(cli: &Cli) -> Result<Clusterer, BoxError> {
    let mut cfg = match &cli.config {
        Some(p) => Config::from_path(p)?,
        None => Config::default(),
    };
    if let Some(v) = cli.jaccard_threshold {
        cfg.jaccard_threshold = v;
    }
    if let Some(v) = cli.containment_threshold {
        cfg.containment_threshold = v;
    }
    if let Some(v) = cli.story_threshold {
        cfg.story.threshold = v;
    }
    if cli.no_stories {
        cfg.story.enabled = false;
    }
    if cli.thread_level {
        cfg.thread.enabled = true;
    }
    if let Some(p) = &cli.canonical {
        cfg.canonical = p.clone();
    }
    // `Clusterer::new` validates the result.
    let c = Clusterer::new(cfg)?;
    Ok(match &cli.idf {
        Some(p) => c.with_idf(wirecluster::IdfModel::load(p)?),
        None => c,
    })
}

/// A new live index with the clusterer config of the flags, the given feed
/// config, and `--idf` frequencies if given.
pub(crate) fn new_feed_index(
    cli: &Cli,
    feed: wirecluster::FeedConfig,
) -> Result<wirecluster::FeedIndex, BoxError> {
    let index = wirecluster::FeedIndex::new(clusterer(cli)?.config().clone(), feed)?;
    Ok(match &cli.idf {
        Some(p) => index.with_idf(&wirecluster::IdfModel::load(p)?),
        None => index,
    })
}

pub(crate) fn feed_config(cli: &Cli) -> wirecluster::FeedConfig {
    let mut feed = wirecluster::FeedConfig::default();
    if let Some(t) = cli.feed_story_threshold {
        feed.story_threshold = t;
    }
    if let Some(n) = cli.consolidate_every {
        feed.consolidate_every = n;
    }
    feed
}
