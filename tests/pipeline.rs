//! End-to-end tests on the bundled data.

use std::collections::BTreeSet;

use wirecluster::{CanonicalPolicy, Clusterer, Config, Document, EdgeKind, score};

mod common;
use common::{data, load};

fn group_of<'a>(c: &'a wirecluster::Clustering, id: &str) -> &'a str {
    &c.assignments
        .iter()
        .find(|a| a.id == id)
        .expect("id present")
        .duplicate_group
}

#[test]
fn syria_sample_groups_the_two_reuters_rewrites_only() {
    let docs = load("syria-2016.jsonl");
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    assert_eq!(group_of(&c, "syr-000"), "syr-000");
    assert_eq!(group_of(&c, "syr-001"), "syr-000");
    for id in ["syr-002", "syr-003", "syr-004"] {
        assert_eq!(group_of(&c, id), id, "{id} must be alone");
    }
    // Stories: {000, 001, 002}, {003}, {004}, all canonical syr-000 where joined.
    let story_of = |id: &str| {
        c.assignments
            .iter()
            .find(|a| a.id == id)
            .unwrap()
            .story
            .as_str()
    };
    for id in ["syr-000", "syr-001", "syr-002"] {
        assert_eq!(story_of(id), "syr-000", "{id}");
    }
    assert_eq!(story_of("syr-003"), "syr-003");
    assert_eq!(story_of("syr-004"), "syr-004");
    let story = c.stories.iter().find(|s| s.id == "syr-000").unwrap();
    assert_eq!(story.groups, ["syr-000", "syr-002"]);
    assert!(
        story
            .members
            .iter()
            .all(|m| m.similarity_to_canonical > 0.2)
    );
    let g = c.groups.iter().find(|g| g.id == "syr-000").unwrap();
    assert!(
        g.canonical_reason.starts_with("most complete"),
        "{}",
        g.canonical_reason
    );
    // The edge that joined them is returned with its exact scores.
    let e = &c.edges[0];
    assert!(e.jaccard < 0.2 && e.containment_b_in_a > 0.4, "{e:?}");
}

#[test]
fn bundled_corpus_quality_floor() {
    let docs = load("news-sample.jsonl");
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let s = common::group_scores(&c, &docs);
    assert!(s.pairwise.f1 >= 0.97, "pairwise F1 {:?}", s.pairwise);
    assert!(s.ari >= 0.97, "ARI {}", s.ari);
    // Never all pairs: candidates stay far below n(n-1)/2.
    let n = docs.len();
    assert!(
        c.stats.verified_pairs < n * (n - 1) / 2 / 20,
        "{}",
        c.stats.verified_pairs
    );
}

fn canonical_bytes(c: &wirecluster::Clustering) -> String {
    serde_json::to_string(&(&c.groups, &c.assignments, &c.edges)).unwrap()
}

#[test]
fn same_output_for_one_and_two_threads() {
    let docs = load("news-sample.jsonl");
    let clusterer = Clusterer::new(Config::default()).unwrap();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| clusterer.cluster(&docs).unwrap())
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one.stats.threads, 1);
    assert_eq!(two.stats.threads, 2);
    assert_eq!(canonical_bytes(&one), canonical_bytes(&two));
}

#[test]
fn aggregator_pages_do_not_merge_stories() {
    let docs = load("news-sample.jsonl");
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    // Every predicted group holds at most one gold story apart from stray members.
    for g in &c.groups {
        let labels: BTreeSet<&str> = g
            .members
            .iter()
            .map(|m| docs[m.index].label.as_deref().unwrap())
            .collect();
        assert!(labels.len() <= 2, "group {} mixes {labels:?}", g.id);
    }
    assert!(
        c.edges
            .iter()
            .any(|e| e.kind == EdgeKind::CutAggregatorLink)
    );
}

#[test]
fn canonical_policies_are_honoured() {
    let docs = load("syria-2016.jsonl");
    let cfg = Config::builder()
        .canonical(CanonicalPolicy::Earliest)
        .build()
        .unwrap();
    let c = Clusterer::new(cfg).unwrap().cluster(&docs).unwrap();
    assert_eq!(group_of(&c, "syr-001"), "syr-000"); // 2016-09-05 before 2016-09-06
    let cfg = Config::builder()
        .canonical(CanonicalPolicy::SourcePriority(vec!["reprinted".into()]))
        .build()
        .unwrap();
    let c = Clusterer::new(cfg).unwrap().cluster(&docs).unwrap();
    assert_eq!(group_of(&c, "syr-000"), "syr-001");
}

#[test]
fn duplicate_ids_are_rejected() {
    let docs = vec![
        Document::new("x", "one text here"),
        Document::new("x", "another"),
    ];
    let err = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate document id \"x\" (documents 0 and 1, 0-based)"
    );
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Clusterer>();
    check::<wirecluster::Clustering>();
    check::<Config>();
    check::<wirecluster::Normalizer>();
    check::<wirecluster::MinHasher>();
    check::<wirecluster::Error>();
    check::<wirecluster::FeedIndex>();
    check::<wirecluster::Document>();
    check::<wirecluster::AtomicFile>();
    check::<wirecluster::ReadOutcome>();
    // A record reader owns its input, which may be a thread's only.
    fn check_send<T: Send>() {}
    check_send::<wirecluster::RecordReader>();
}

#[test]
fn bundled_corpus_stories_follow_the_real_events() {
    // The bundled sample's bases are ECB+ articles; its `event` field names
    // the real event (several bases report one event), the story label.
    let path = data("news-sample.jsonl");
    let docs = load("news-sample.jsonl");
    let events: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["event"]
                .as_str()
                .or(v["cluster"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let pred: Vec<&str> = c.assignments.iter().map(|a| a.story.as_str()).collect();
    let s = score(&pred, &events);
    assert!(s.bcubed.f1 >= 0.9, "story BCubed {:?}", s.bcubed);
    // Every duplicate group sits inside one story.
    for g in &c.groups {
        let stories: BTreeSet<&str> = g
            .members
            .iter()
            .map(|m| c.assignments[m.index].story.as_str())
            .collect();
        assert_eq!(stories.len(), 1, "group {} split across stories", g.id);
    }
}

#[test]
fn a_count_with_updated_figures_joins_but_a_recurring_report_does_not() {
    let docs = common::election_counts();
    let c = Clusterer::new(Config::default()).unwrap();
    let e = c.explain(&docs, "count-1", "count-2").unwrap();
    assert!(e.same_duplicate_group, "{}", e.summary);
    assert_eq!(e.duplicate.edge, Some(EdgeKind::UpdatedFigures));
    // The shingles alone would not join them.
    assert!(e.duplicate.jaccard < 0.5 && e.duplicate.containment_a_in_b < 0.4);
    assert!(e.summary.contains("updated figures"), "{}", e.summary);
    // Next year's table: the same words, but its figures do not agree.
    for id in ["count-1", "count-2"] {
        let e = c.explain(&docs, id, "other-year").unwrap();
        assert!(!e.same_duplicate_group, "{}", e.summary);
        let f = e.duplicate.figures.unwrap();
        assert!(f.masked_jaccard >= 0.9 && (f.agreeing as f64) < 0.3 * f.fewer as f64);
    }
    // With the rule off the update stands apart.
    let mut off = Config::default();
    off.figures_jaccard = None;
    let e = Clusterer::new(off)
        .unwrap()
        .explain(&docs, "count-1", "count-2")
        .unwrap();
    assert!(!e.same_duplicate_group, "{}", e.summary);
}
