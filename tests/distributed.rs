//! The distributed steps (`wirecluster::distributed`), driven here by a
//! plain in-memory driver doing what the Spark driver does with joins and
//! aggregations, give the batch pipeline's output line for line.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use wirecluster::distributed::{Shard, StoryPlace, ThreadMatch};
use wirecluster::{Clusterer, Config, Document, ReadOptions, read_jsonl};

/// Connected components of `n` items joined by `pairs`, as lists of items.
fn components(n: usize, pairs: &[(u64, u64)]) -> Vec<Vec<u64>> {
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for &(a, b) in pairs {
        let (ra, rb) = (find(&mut parent, a as usize), find(&mut parent, b as usize));
        parent[ra.max(rb)] = ra.min(rb);
    }
    let mut out: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
    for x in 0..n {
        out.entry(find(&mut parent, x)).or_default().push(x as u64);
    }
    out.into_values().collect()
}

/// Pairs of items sharing keys, with the count of keys shared, over keys
/// held by 2 to `max_posting` items.
fn shared_keys(keys: &[Vec<u64>], max_posting: usize) -> BTreeMap<(u64, u64), usize> {
    let mut postings: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for &k in ks {
            postings.entry(k).or_default().push(i as u64);
        }
    }
    let mut shared = BTreeMap::new();
    for list in postings.values_mut() {
        for pair in Shard::posting_pairs(list, max_posting) {
            *shared.entry(pair).or_insert(0) += 1;
        }
    }
    shared
}

/// The output lines of a distributed run over `docs`, in input order.
fn distributed_lines(cfg: &Config, docs: &[Document]) -> Vec<String> {
    let n = docs.len();
    let shard = Shard::new(cfg.clone()).unwrap();
    // Step 1: boilerplate.
    let mut per_sentence: BTreeMap<u64, (u64, BTreeSet<u64>)> = BTreeMap::new();
    for d in docs {
        let contexts = shard.sentence_contexts(&d.text);
        let keys: BTreeSet<u64> = contexts.iter().map(|p| p.0).collect();
        for k in keys {
            per_sentence.entry(k).or_default().0 += 1;
        }
        for (k, c) in contexts {
            per_sentence.entry(k).or_default().1.insert(c);
        }
    }
    let counts: Vec<(u64, u64, u64)> = per_sentence
        .iter()
        .map(|(&k, (d, c))| (k, *d, c.len() as u64))
        .collect();
    let learned = shard.learned_sentences(n as u64, &counts);
    let shard = shard.with_boilerplate(&learned);
    // Step 2: sketches; document frequencies.
    let sketches: Vec<_> = docs.iter().map(|d| shard.sketch(d)).collect();
    let mut df: BTreeMap<u64, u64> = BTreeMap::new();
    for s in &sketches {
        for &t in &s.story_terms {
            *df.entry(t).or_insert(0) += 1;
        }
    }
    let df: Vec<(u64, u64)> = df.into_iter().collect();
    let shard = shard.with_document_frequencies(n as u64, &df);
    // Step 3: candidates and verification.
    let mut buckets: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for (i, s) in sketches.iter().enumerate() {
        for &k in &s.band_keys {
            buckets.entry(k).or_default().push(i as u64);
        }
    }
    let mut candidates: BTreeMap<(u64, u64), Option<usize>> = BTreeMap::new();
    for list in buckets.values_mut() {
        for pair in shard.bucket_pairs(list) {
            candidates.insert(pair, None);
        }
    }
    let fps: Vec<Vec<u64>> = sketches.iter().map(|s| s.fingerprints.clone()).collect();
    for (pair, shared) in shared_keys(&fps, cfg.max_posting) {
        candidates.entry(pair).or_insert(Some(shared));
    }
    let edges: Vec<(u64, u64)> = candidates
        .into_iter()
        .filter(|&((a, b), shared)| {
            let part = |i: u64| &sketches[i as usize].pair_part[..];
            shard.verify(part(a), part(b), shared).unwrap()
        })
        .map(|(p, _)| p)
        .collect();
    // Step 4: groups per component.
    let mut assignments: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut units = Vec::new();
    for comp in components(n, &edges) {
        let members: Vec<(u64, &[u8])> = comp
            .iter()
            .map(|&i| (i, &sketches[i as usize].document[..]))
            .collect();
        let pairs: Vec<(u64, u64)> = edges
            .iter()
            .copied()
            .filter(|(a, _)| comp.binary_search(a).is_ok())
            .collect();
        let out = shard.group_component(&members, &pairs).unwrap();
        assignments.extend(out.assignments);
        units.extend(out.units);
    }
    // Step 5: stories per component of unit pairs.
    let mut places: BTreeMap<u64, StoryPlace> = BTreeMap::new();
    if cfg.story.enabled {
        units.sort_by_key(|u| u.key);
        let top: Vec<Vec<u64>> = units.iter().map(|u| u.top_terms.clone()).collect();
        let pairs: Vec<(u64, u64)> = shared_keys(&top, cfg.story.max_posting)
            .into_iter()
            .filter(|&(_, s)| s >= cfg.story.min_shared_terms)
            .map(|(p, _)| p)
            .collect();
        let scores: Vec<f64> = pairs
            .iter()
            .map(|&(a, b)| {
                let part = |u: u64| &units[u as usize].score_part[..];
                shard.score_pair(part(a), part(b)).unwrap()
            })
            .collect();
        let mut candidates: Vec<Vec<(f64, u64)>> = vec![Vec::new(); units.len()];
        for (&(a, b), &s) in pairs.iter().zip(&scores) {
            candidates[a as usize].push((s, units[b as usize].key));
            candidates[b as usize].push((s, units[a as usize].key));
        }
        let knn: Vec<Vec<u64>> = candidates
            .into_iter()
            .map(|c| shard.neighbours(c))
            .collect();
        let mixed: Vec<f64> = pairs
            .iter()
            .zip(&scores)
            .map(|(&(a, b), &s)| {
                let key = |u: u64| units[u as usize].key;
                shard.mixed_score(key(a), key(b), s, &knn[a as usize], &knn[b as usize])
            })
            .collect();
        let strong: Vec<(u64, u64)> = pairs
            .iter()
            .zip(&mixed)
            .filter(|&(_, &m)| m >= cfg.story.threshold)
            .map(|(&p, _)| p)
            .collect();
        for comp in components(units.len(), &strong) {
            let members: Vec<(u64, &[u8])> = comp
                .iter()
                .map(|&u| (units[u as usize].key, &units[u as usize].part[..]))
                .collect();
            let scored: Vec<(u64, u64, f64)> = pairs
                .iter()
                .zip(&mixed)
                .filter(|&(&(a, b), _)| {
                    comp.binary_search(&a).is_ok() && comp.binary_search(&b).is_ok()
                })
                .map(|(&(a, b), &m)| (units[a as usize].key, units[b as usize].key, m))
                .collect();
            for p in shard.link_component(&members, &scored).unwrap() {
                places.insert(p.index, p);
            }
        }
    }
    // Threads.
    let threads = if cfg.thread.enabled {
        let stories: Vec<(String, bool)> = (0..n as u64)
            .map(|i| match places.get(&i) {
                Some(p) => (p.story.clone(), p.canonical),
                None => shard.assignment_group(&assignments[&i]).unwrap(),
            })
            .collect();
        thread_places(&shard, docs, &stories)
    } else {
        Vec::new()
    };
    // Step 6: lines.
    (0..n as u64)
        .map(|i| {
            let thread = threads.get(i as usize).map(|(t, c)| (t.as_str(), *c));
            shard
                .assignment_line(&assignments[&i], places.get(&i), thread)
                .unwrap()
        })
        .collect()
}

/// The thread steps over documents with their stories `(story id,
/// canonical)`: each document's thread and whether it is its canonical.
fn thread_places(
    shard: &Shard,
    docs: &[Document],
    stories: &[(String, bool)],
) -> Vec<(String, bool)> {
    let cfg = &shard.config().thread;
    let n = docs.len();
    let sketches: Vec<_> = docs.iter().map(|d| shard.thread_sketch(d)).collect();
    let mut df: BTreeMap<u64, u64> = BTreeMap::new();
    for s in &sketches {
        for &t in &s.terms {
            *df.entry(t).or_insert(0) += 1;
        }
    }
    let df: Vec<(u64, u64)> = df.into_iter().collect();
    let shard = shard.clone().with_thread_frequencies(n as u64, &df);
    let base: Vec<_> = sketches
        .iter()
        .map(|s| shard.thread_base(&s.part).unwrap())
        .collect();
    // Postings by (term, bucket), cut.
    // Holders `(index, id, weight)` by term and bucket.
    type Holders<'a> = Vec<(u64, &'a str, f32)>;
    let mut lists: BTreeMap<(u64, Option<i64>), Holders> = BTreeMap::new();
    for (i, b) in base.iter().enumerate() {
        for &(t, w) in &b.vector {
            lists
                .entry((t, b.bucket))
                .or_default()
                .push((i as u64, docs[i].id.as_str(), w));
        }
    }
    let mut kept: BTreeMap<u64, Vec<(u64, f32)>> = BTreeMap::new();
    for ((t, _), holders) in &lists {
        for j in shard.thread_cut(holders) {
            let w = holders.iter().find(|h| h.0 == j).unwrap().2;
            kept.entry(*t).or_default().push((j, w));
        }
    }
    // Every match of a query term with a kept holder (the bucket rule is
    // left to the step).
    let near: Vec<Vec<(u64, f32)>> = base
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let base = &base;
            let kept = &kept;
            let mut matches: Vec<ThreadMatch> = b
                .vector
                .iter()
                .flat_map(|&(t, w)| {
                    kept[&t].iter().map(move |&(j, wj)| ThreadMatch {
                        term: t,
                        weight: w,
                        holder: j,
                        holder_weight: wj,
                        holder_published: base[j as usize].published,
                    })
                })
                .collect();
            shard.thread_neighbours(i as u64, b.published, &mut matches)
        })
        .collect();
    let expanded: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let parts: Vec<(f32, &[u8])> = near[i]
                .iter()
                .map(|&(j, s)| (s, &base[j as usize].part[..]))
                .collect();
            shard.thread_expand(&base[i].part, &parts).unwrap()
        })
        .collect();
    // Stories as units, keyed by their smallest index.
    let mut members: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (i, (s, _)) in stories.iter().enumerate() {
        members.entry(s).or_default().push(i as u64);
    }
    let mut key_of = vec![0u64; n];
    let mut units = Vec::new();
    for m in members.values() {
        let canonical = *m.iter().find(|&&i| stories[i as usize].1).unwrap();
        let parts: Vec<(u64, &[u8])> = m.iter().map(|&i| (i, &expanded[i as usize][..])).collect();
        let u = shard.thread_story(canonical, &parts).unwrap();
        for &i in m {
            key_of[i as usize] = u.key;
        }
        units.push(u);
    }
    let pairs: Vec<(u64, u64)> = near
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            let key_of = &key_of;
            l.iter()
                .take(cfg.links)
                .map(move |&(j, _)| (key_of[i], key_of[j as usize]))
        })
        .collect();
    let units: Vec<(u64, &[u8])> = units.iter().map(|u| (u.key, &u.part[..])).collect();
    let threads: BTreeMap<u64, (String, u64)> = shard
        .link_threads(&units, &pairs)
        .unwrap()
        .into_iter()
        .map(|p| (p.story, (p.thread, p.canonical)))
        .collect();
    (0..n)
        .map(|i| {
            let (t, c) = &threads[&key_of[i]];
            (t.clone(), *c == i as u64)
        })
        .collect()
}

/// The bundled ECB+ articles (dated).
fn ecb_plus() -> Vec<Document> {
    let path = format!(
        "{}/tests/data/ecb-plus/ecbplus_articles.jsonl.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    read_jsonl(path, &ReadOptions::default()).unwrap().documents
}

fn batch_lines(cfg: &Config, docs: &[Document]) -> Vec<String> {
    let c = Clusterer::new(cfg.clone()).unwrap().cluster(docs).unwrap();
    c.assignments
        .iter()
        .map(|a| serde_json::to_string(a).unwrap())
        .collect()
}

fn assert_same(cfg: &Config, docs: &[Document]) {
    let (batch, dist) = (batch_lines(cfg, docs), distributed_lines(cfg, docs));
    assert_eq!(batch.len(), dist.len());
    for (b, d) in batch.iter().zip(&dist) {
        assert_eq!(b, d);
    }
}

#[test]
fn distributed_steps_give_the_batch_output_with_stories() {
    let docs = common::load("news-sample.jsonl");
    assert_same(&Config::default(), &docs);
}

#[test]
fn distributed_steps_give_the_batch_output_without_stories() {
    let docs = common::load("news-sample.jsonl");
    let mut cfg = Config::default();
    cfg.story.enabled = false;
    assert_same(&cfg, &docs);
}

#[test]
fn distributed_steps_give_the_batch_stories_of_a_dated_corpus() {
    let docs = ecb_plus();
    assert_same(&Config::default(), &docs);
}

#[test]
fn distributed_steps_give_the_batch_output_for_updated_figures() {
    let mut docs = common::load("news-sample.jsonl");
    docs.extend(common::election_counts());
    assert_same(&Config::default(), &docs);
}

#[test]
fn parts_from_another_step_are_refused() {
    let shard = Shard::new(Config::default()).unwrap();
    let s = shard.sketch(&Document::new("a", "Some words of an article body here."));
    assert!(shard.verify(&s.document, b"\xff\xff", None).is_err());
    assert!(
        shard.group_component(&[(0, &s.document[..])], &[]).is_err(),
        "story level without df"
    );
    let shard = shard.with_document_frequencies(1, &[]);
    let err = shard
        .group_component(&[(0, &s.document[..])], &[(0, 5)])
        .unwrap_err();
    assert!(err.to_string().contains("not in its component"), "{err}");
}

/// The number of distinct stories and threads in output lines.
fn stories_and_threads(lines: &[String]) -> (usize, usize) {
    let field = |k: &str| {
        lines
            .iter()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()[k].to_string())
            .collect::<BTreeSet<_>>()
            .len()
    };
    (field("story"), field("thread"))
}

fn threads_on(cfg: &mut Config) -> &mut Config {
    cfg.thread.enabled = true;
    cfg
}

#[test]
fn distributed_steps_give_the_batch_threads() {
    let docs = common::load("news-sample.jsonl");
    let cfg = threads_on(&mut Config::default()).clone();
    assert_same(&cfg, &docs);
    let (stories, threads) = stories_and_threads(&batch_lines(&cfg, &docs));
    assert!(
        threads < stories,
        "threads join stories: {threads} of {stories}"
    );
    // Without stories (each duplicate group is a story) and with postings
    // cut short, so that the cut decides.
    let mut cfg = Config::default();
    cfg.story.enabled = false;
    threads_on(&mut cfg).thread.max_posting = 2;
    assert_same(&cfg, &docs);
}

#[test]
fn distributed_steps_give_the_batch_threads_of_a_dated_corpus() {
    let docs = ecb_plus();
    let mut cfg = Config::default();
    // A window of days, so that the time buckets and the window decide.
    threads_on(&mut cfg).thread.time_window_days = 3.0;
    cfg.thread.max_posting = 5;
    assert_same(&cfg, &docs);
    let (stories, threads) = stories_and_threads(&batch_lines(&cfg, &docs));
    assert!(
        threads < stories,
        "threads join stories: {threads} of {stories}"
    );
}

#[test]
fn thread_steps_refuse_missing_frequencies_and_foreign_parts() {
    let shard = Shard::new(Config::default()).unwrap();
    let s = shard
        .thread_sketch(&Document::new("a", "Quake hits the coast").with_title("Quake hits coast"));
    let err = shard.thread_base(&s.part).unwrap_err();
    assert!(err.to_string().contains("with_thread_frequencies"), "{err}");
    let shard = shard.with_thread_frequencies(1, &[]);
    let err = shard.thread_base(&s.part).unwrap_err();
    assert!(err.to_string().contains("was not counted"), "{err}");
    assert!(shard.thread_expand(b"\xff", &[]).is_err());
    let err = shard.thread_story(7, &[(3, &[][..])]).unwrap_err();
    assert!(err.to_string().contains("canonical 7"), "{err}");
}
