//! Criterion benches: the text primitives, each batch stage, the whole
//! pipeline and the live index.
//!
//! The bundled sample always runs. Set `WIRECLUSTER_BENCH_CORPUS` to a JSONL
//! file (e.g. the 20k corpus from `../shared/eval/make_corpus.py`) to bench
//! the whole pipeline on it too, from JSONL bytes to groups.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirecluster::{
    Clusterer, Config, MinHasher, ReadOptions, SignatureAlgorithm, parse_jsonl, read_jsonl,
    token_hash, word_shingles,
};

fn sample_path() -> String {
    format!("{}/data/news-sample.jsonl", env!("CARGO_MANIFEST_DIR"))
}

fn stages(c: &mut Criterion) {
    let docs = read_jsonl(sample_path(), &ReadOptions::default())
        .unwrap()
        .documents;
    let bytes: usize = docs.iter().map(|d| d.text.len()).sum();
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("normalize", |b| {
        b.iter(|| {
            let n: usize = docs
                .iter()
                .map(|d| wirecluster::normalize_text(&d.text).len())
                .sum();
            assert!(n > 0);
            black_box(n)
        })
    });
    let tokens: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| {
            wirecluster::normalize_text(&d.text)
                .split(' ')
                .map(token_hash)
                .collect()
        })
        .collect();
    g.bench_function("shingle", |b| {
        b.iter(|| {
            let n: usize = tokens.iter().map(|t| word_shingles(t, 5).len()).sum();
            assert!(n > 0);
            black_box(n)
        })
    });
    let sets: Vec<Vec<u64>> = tokens.iter().map(|t| word_shingles(t, 5)).collect();
    for alg in [
        SignatureAlgorithm::OnePermutation,
        SignatureAlgorithm::Classic,
    ] {
        let mh = MinHasher::new(alg, 128, 1);
        g.bench_function(format!("signature/{alg:?}"), |b| {
            b.iter(|| {
                let n = sets
                    .iter()
                    .map(|s| mh.signature(s)[0] as usize & 1)
                    .sum::<usize>();
                black_box(n)
            })
        });
    }
    g.finish();
}

/// The levels benched: duplicate groups and stories (the default),
/// duplicate groups only, and all three levels (the thread level on).
fn levels() -> [(&'static str, Config); 3] {
    let mut groups_only = wirecluster::StoryConfig::default();
    groups_only.enabled = false;
    let mut threads = Config::default();
    threads.thread.enabled = true;
    [
        ("stories", Config::default()),
        (
            "groups_only",
            Config::builder().story(groups_only).build().unwrap(),
        ),
        ("threads", threads),
    ]
}

fn end_to_end(c: &mut Criterion) {
    let mut inputs = vec![("sample".to_string(), std::fs::read(sample_path()).unwrap())];
    if let Ok(p) = std::env::var("WIRECLUSTER_BENCH_CORPUS") {
        inputs.push((
            p.clone(),
            std::fs::read(&p).expect("WIRECLUSTER_BENCH_CORPUS reads"),
        ));
    }
    let levels = levels();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (level, cfg) in &levels {
            let clusterer = Clusterer::new(cfg.clone()).unwrap();
            for (name, bytes) in &inputs {
                let n = parse_jsonl(bytes, None, &ReadOptions::default())
                    .unwrap()
                    .documents
                    .len();
                let mut g = c.benchmark_group(format!("end_to_end/{level}/{threads}thread"));
                g.sample_size(10);
                // Elements are documents: criterion reports docs/s.
                g.throughput(Throughput::Elements(n as u64));
                g.bench_function(format!("{name} ({} bytes)", bytes.len()), |b| {
                    b.iter(|| {
                        pool.install(|| {
                            let docs = parse_jsonl(bytes, None, &ReadOptions::default())
                                .unwrap()
                                .documents;
                            let out = clusterer.cluster(&docs).unwrap();
                            assert_eq!(out.assignments.len(), n);
                            black_box(out.groups.len())
                        })
                    })
                });
                g.finish();
            }
        }
    }
}

/// The inputs benched by name and path (the bundled sample, and
/// `WIRECLUSTER_BENCH_CORPUS` when set), and a pool of one thread.
fn inputs_and_one_thread() -> (Vec<(String, String)>, rayon::ThreadPool) {
    let mut inputs = vec![("sample".to_string(), sample_path())];
    if let Ok(p) = std::env::var("WIRECLUSTER_BENCH_CORPUS") {
        inputs.push((p.clone(), p));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    (inputs, pool)
}

/// Live index: articles placed one by one on one thread, from parsed
/// documents, at both levels (criterion reports articles/s).
fn feed_insert(c: &mut Criterion) {
    let (inputs, pool) = inputs_and_one_thread();
    for (name, path) in inputs {
        let docs = read_jsonl(&path, &ReadOptions::default())
            .unwrap()
            .documents;
        for (level, cfg) in levels() {
            let mut g = c.benchmark_group(format!("feed_insert/{level}/1thread"));
            g.sample_size(10);
            g.throughput(Throughput::Elements(docs.len() as u64));
            // The index is returned and dropped outside the timed part: the
            // rate is of inserting, not of tearing the index down.
            g.bench_function(&name, |b| {
                b.iter_with_large_drop(|| {
                    pool.install(|| {
                        let mut ix =
                            wirecluster::FeedIndex::new(cfg.clone(), Default::default()).unwrap();
                        for d in &docs {
                            black_box(ix.insert(d).unwrap());
                        }
                        assert_eq!(ix.stats().inserted as usize, docs.len());
                        ix
                    })
                })
            });
            g.finish();
        }
    }
}

/// The batch pipeline one stage at a time, on one thread, each from the
/// kept output of the stage before (`wirecluster::stages`); every run
/// asserts the count its stage produced in the whole run.
fn pipeline_stages(c: &mut Criterion) {
    let (inputs, pool) = inputs_and_one_thread();
    let clusterer = Clusterer::new(Config::default()).unwrap();
    for (name, path) in inputs {
        let docs = read_jsonl(&path, &ReadOptions::default())
            .unwrap()
            .documents;
        let staged = wirecluster::stages::Staged::new(&clusterer, &docs);
        let want = staged.counts();
        // The stages kept are those of a whole run.
        let stats = clusterer.cluster(&docs).unwrap().stats;
        assert_eq!(want.candidates, stats.verified_pairs);
        assert_eq!(want.edges, stats.duplicate_edges);
        assert_eq!(want.groups, stats.groups);
        assert_eq!(want.stories, stats.stories);
        let mut g = c.benchmark_group("stage/1thread");
        g.sample_size(10);
        g.throughput(Throughput::Elements(docs.len() as u64));
        let mut stage = |stage: &str, run: &(dyn Fn() -> usize + Sync), want: usize| {
            g.bench_function(format!("{stage}/{name}"), |b| {
                b.iter(|| assert_eq!(black_box(pool.install(run)), want))
            });
        };
        stage("features", &|| staged.features(), want.shingles);
        stage("candidates", &|| staged.candidates(), want.candidates);
        stage("verify", &|| staged.verify(), want.edges);
        stage("group", &|| staged.group(), want.groups);
        stage("canonical", &|| staged.canonicals(), want.groups);
        stage("stories", &|| staged.stories(), want.stories);
        g.finish();
    }
}

criterion_group!(benches, stages, pipeline_stages, end_to_end, feed_insert);
criterion_main!(benches);
