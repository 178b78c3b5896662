//! The thread level: headlines of one running story, each angle in its own
//! words, share a thread; other running stories keep theirs; threads nest
//! stories; the result does not depend on input order.

use std::collections::{BTreeSet, HashMap};

use wirecluster::{Clusterer, Config, Document, FeedConfig, FeedIndex, Id};

/// `(thread, headline, link)`: headline-only records, as feeds give them.
const HEADLINES: &[(&str, &str, &str)] = &[
    (
        "ebay",
        "eBay rejects Icahn slate of directors",
        "https://a.example/business/ebay-rejects-icahn-slate",
    ),
    (
        "ebay",
        "Icahn slate rejected by eBay board",
        "https://b.example/2014/03/icahn-slate-rejected-by-ebay-board.html",
    ),
    (
        "ebay",
        "eBay says Icahn nominees unqualified",
        "https://c.example/news/ebay-icahn-nominees",
    ),
    (
        "ebay",
        "Why eBay spinning off PayPal makes sense",
        "https://d.example/opinion/why-ebay-spinning-off-paypal-makes-sense",
    ),
    (
        "ebay",
        "Icahn pushes eBay to spin off PayPal",
        "https://e.example/tech/icahn-pushes-ebay-paypal-spin-off",
    ),
    (
        "ebay",
        "eBay and Icahn trade barbs over PayPal",
        "https://f.example/markets/ebay-icahn-barbs-paypal",
    ),
    (
        "fed",
        "Fed's Plosser sees high bar for change in pace of tapering",
        "https://a.example/business/fed-plosser-tapering-pace",
    ),
    (
        "fed",
        "Fed official says weak data caused by weather, should not slow taper",
        "https://b.example/2014/03/fed-official-weather-taper.html",
    ),
    (
        "fed",
        "Stocks fall after Fed official hints at accelerated tapering",
        "https://c.example/news/stocks-fall-fed-tapering",
    ),
    (
        "fed",
        "Fed risks falling behind the curve, Plosser says",
        "https://d.example/economy/fed-plosser-behind-curve",
    ),
    (
        "fed",
        "Plosser: Fed should speed up the taper",
        "https://e.example/markets/plosser-fed-taper-speed",
    ),
    (
        "fed",
        "Weather to blame for weak data, Fed official says",
        "https://f.example/economy/fed-weather-weak-data",
    ),
    (
        "iphone",
        "Apple iPhone 6 to have bigger screen, suppliers say",
        "https://a.example/tech/apple-iphone-6-bigger-screen",
    ),
    (
        "iphone",
        "iPhone 6 screen sizes leak from Apple suppliers",
        "https://b.example/2014/03/iphone-6-screen-sizes-leak.html",
    ),
    (
        "iphone",
        "Apple to launch larger iPhone in September",
        "https://c.example/news/apple-larger-iphone-september",
    ),
    (
        "iphone",
        "New iPhone 6 photos show thinner Apple phone",
        "https://d.example/gadgets/iphone-6-photos-thinner",
    ),
    (
        "iphone",
        "Apple suppliers ramp up iPhone 6 production",
        "https://e.example/tech/apple-suppliers-iphone-production",
    ),
    (
        "iphone",
        "Larger screen iPhone expected from Apple this fall",
        "https://f.example/mobile/larger-screen-iphone-apple-fall",
    ),
];

fn documents(order: &[usize]) -> Vec<Document> {
    order
        .iter()
        .map(|&i| {
            let (_, title, url) = HEADLINES[i];
            let mut d = Document::new(format!("h{i:02}"), title);
            d.title = Some(title.to_string());
            d.url = Some(url.to_string());
            d
        })
        .collect()
}

fn thread_level() -> Config {
    let mut cfg = Config::default();
    cfg.thread.enabled = true;
    cfg
}

/// The headline indices of each running story: the threads expected.
fn running_stories() -> BTreeSet<BTreeSet<usize>> {
    ["ebay", "fed", "iphone"]
        .iter()
        .map(|t| {
            (0..HEADLINES.len())
                .filter(|&i| HEADLINES[i].0 == *t)
                .collect()
        })
        .collect()
}

/// The partition of headline indices by a field of the assignments.
fn partition(docs: &[Document], labels: &[impl AsRef<str>]) -> BTreeSet<BTreeSet<usize>> {
    let mut by: HashMap<&str, BTreeSet<usize>> = HashMap::new();
    for (d, l) in docs.iter().zip(labels) {
        by.entry(l.as_ref())
            .or_default()
            .insert(d.id[1..].parse().unwrap());
    }
    by.into_values().collect()
}

#[test]
fn each_running_story_is_one_thread_and_the_others_stay_apart() {
    let order: Vec<usize> = (0..HEADLINES.len()).collect();
    let docs = documents(&order);
    let c = Clusterer::new(thread_level())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let threads: Vec<Id> = c.assignments.iter().map(|a| a.thread.clone()).collect();
    assert_eq!(partition(&docs, &threads), running_stories());
    assert_eq!(c.threads.len(), 3);
    assert_eq!(c.stats.news_threads, 3);
    // Each thread's canonical is its first member and is marked so.
    for t in &c.threads {
        assert_eq!(t.id, t.members[0].id);
        assert!(c.assignments[t.members[0].index].thread_canonical);
        assert_eq!(t.members[0].similarity_to_canonical, 1.0);
    }
}

#[test]
fn threads_nest_stories_and_do_not_depend_on_input_order() {
    let forward: Vec<usize> = (0..HEADLINES.len()).collect();
    let mut shuffled = forward.clone();
    shuffled.reverse();
    shuffled.swap(0, 7);
    let clusterer = Clusterer::new(thread_level()).unwrap();
    let mut partitions = Vec::new();
    for order in [forward, shuffled] {
        let docs = documents(&order);
        let c = clusterer.cluster(&docs).unwrap();
        let mut thread_of_story: HashMap<&str, &str> = HashMap::new();
        for a in &c.assignments {
            let t = thread_of_story.entry(&a.story).or_insert(&a.thread);
            assert_eq!(*t, a.thread, "story {} split across threads", a.story);
        }
        let threads: Vec<Id> = c.assignments.iter().map(|a| a.thread.clone()).collect();
        partitions.push(partition(&docs, &threads));
    }
    assert_eq!(partitions[0], partitions[1]);
}

#[test]
fn with_the_level_off_each_story_is_its_own_thread() {
    let docs = documents(&(0..HEADLINES.len()).collect::<Vec<_>>());
    let c = Clusterer::new(Config::default())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    assert!(c.threads.is_empty());
    for a in &c.assignments {
        assert_eq!(
            (&a.thread, a.thread_canonical),
            (&a.story, a.story_canonical)
        );
    }
}

/// Headlines placed one by one in a live index with the thread level on.
fn live(docs: &[Document], feed: FeedConfig) -> FeedIndex {
    let mut ix = FeedIndex::new(thread_level(), feed).unwrap();
    for d in docs {
        let a = ix.insert(d).unwrap();
        let s = ix.get(&d.id).unwrap();
        assert_eq!(
            (&a.thread, a.thread_canonical),
            (&s.thread, s.thread_canonical)
        );
    }
    ix
}

#[test]
fn the_live_index_gives_the_batch_threads_once_re_linked() {
    let docs = documents(&(0..HEADLINES.len()).collect::<Vec<_>>());
    let batch = Clusterer::new(thread_level())
        .unwrap()
        .cluster(&docs)
        .unwrap();
    let mut ix = live(&docs, FeedConfig::default());
    ix.consolidate();
    for (d, a) in docs.iter().zip(&batch.assignments) {
        let s = ix.get(&d.id).unwrap();
        assert_eq!(
            (s.story.as_str(), s.thread.as_str(), s.thread_canonical),
            (a.story.as_str(), a.thread.as_str(), a.thread_canonical),
            "{}",
            d.id
        );
    }
    assert_eq!(batch.threads.len(), 3);
}

#[test]
fn new_stories_join_their_thread_as_they_arrive() {
    // The three running stories interleaved; re-linked once, after the
    // first two headlines of each, and never again: the other twelve are
    // placed as they arrive.
    let order: Vec<usize> = (0..6).flat_map(|k| [k, 6 + k, 12 + k]).collect();
    let docs = documents(&order);
    let mut feed = FeedConfig::default();
    feed.consolidate_every = 0;
    feed.thread_relink = 0.0;
    let mut ix = live(&docs[..6], feed);
    ix.consolidate();
    for d in &docs[6..] {
        let a = ix.insert(d).unwrap();
        assert!(!a.consolidated && !a.threads_relinked);
    }
    let threads: Vec<String> = docs.iter().map(|d| ix.get(&d.id).unwrap().thread).collect();
    assert_eq!(partition(&docs, &threads), running_stories());
}

#[test]
fn live_threads_survive_a_save_and_follow_removals() {
    let docs = documents(&(0..HEADLINES.len()).collect::<Vec<_>>());
    let mut ix = live(&docs, FeedConfig::default());
    ix.consolidate();
    let dir = std::env::temp_dir().join(format!("wirecluster-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("index.wcf");
    ix.save(&path).unwrap();
    let loaded = FeedIndex::load(&path).unwrap();
    assert_eq!(loaded.statuses(), ix.statuses());
    // Saved midway (the model and the vectors go with it), loaded, and
    // continued: the same as never stopping.
    let order: Vec<usize> = (0..6).flat_map(|k| [k, 6 + k, 12 + k]).collect();
    let mixed = documents(&order);
    let mut feed = FeedConfig::default();
    feed.consolidate_every = 0;
    let mut whole = live(&mixed[..6], feed);
    whole.consolidate();
    let (mut started, mut relinked) = (0, 0);
    for d in &mixed[6..8] {
        let a = whole.insert(d).unwrap();
        started += usize::from(a.new_story);
        relinked += usize::from(a.threads_relinked);
    }
    assert_eq!(relinked, 0);
    whole.save(&path).unwrap();
    let mut resumed = FeedIndex::load(&path).unwrap();
    // The threads are made again when the stories started since reach
    // `thread_relink` of the live ones.
    let fraction = FeedConfig::default().thread_relink;
    for d in &mixed[8..] {
        let a = whole.insert(d).unwrap();
        started += usize::from(a.new_story);
        let due = started as f64 >= fraction * whole.stats().stories as f64;
        assert_eq!(a.threads_relinked, due, "{}", d.id);
        if due {
            (started, relinked) = (0, relinked + 1);
        }
        assert_eq!(resumed.insert(d).unwrap(), a);
    }
    assert_eq!(resumed.statuses(), whole.statuses());
    assert!(relinked >= 2, "{relinked}");
    // The eBay thread's canonical leaves: another eBay headline leads it.
    let ebay = ix.get("h00").unwrap().thread;
    ix.remove(&ebay).unwrap();
    let now = ix.get("h01").unwrap().thread;
    assert_ne!(now, ebay);
    for i in 0..6 {
        let id = format!("h{i:02}");
        if id != ebay {
            assert_eq!(ix.get(&id).unwrap().thread, now, "{id}");
        }
    }
    assert!(ix.get(&now).unwrap().thread_canonical);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_says_whether_two_headlines_share_a_thread_and_why() {
    let docs = documents(&(0..HEADLINES.len()).collect::<Vec<_>>());
    let clusterer = Clusterer::new(thread_level()).unwrap();
    let same = clusterer.explain(&docs, "h00", "h03").unwrap();
    let t = same
        .thread
        .as_ref()
        .expect("thread evidence with the level on");
    assert_eq!(t.threads.0, t.threads.1);
    assert!(t.cosine > 0.0 && t.cosine <= 1.0 + 1e-6, "{}", t.cosine);
    assert!(same.summary.contains("same thread"), "{}", same.summary);
    let apart = clusterer.explain(&docs, "h00", "h06").unwrap();
    let u = apart.thread.as_ref().unwrap();
    assert_ne!(u.threads.0, u.threads.1);
    assert!(u.cosine < t.cosine);
    assert!(
        apart.summary.contains("different threads"),
        "{}",
        apart.summary
    );
    let off = Clusterer::new(Config::default()).unwrap();
    assert!(off.explain(&docs, "h00", "h03").unwrap().thread.is_none());
}

#[test]
fn evicted_stories_leave_their_threads() {
    // The eBay headlines on day 1, the Fed's on day 2 and the iPhone's on
    // day 6: with a two-day window the first two running stories are
    // evicted, thread and all, and the iPhone thread stays whole.
    let docs: Vec<Document> = documents(&(0..HEADLINES.len()).collect::<Vec<_>>())
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let day = [1, 2, 6][i / 6];
            d.with_published(format!("2014-03-{day:02}").parse().unwrap())
        })
        .collect();
    let mut feed = FeedConfig::default();
    feed.window_days = 2.0;
    let mut ix = FeedIndex::new(thread_level(), feed).unwrap();
    let mut evicted = Vec::new();
    for d in &docs[..12] {
        ix.insert(d).unwrap();
    }
    ix.consolidate();
    let fed = ix.get("h06").unwrap().thread;
    assert!((6..12).all(|i| ix.get(&format!("h{i:02}")).unwrap().thread == fed));
    for d in &docs[12..] {
        let a = ix.insert(d).unwrap();
        evicted.extend(a.evicted.into_iter().flat_map(|e| e.members));
    }
    evicted.sort();
    let want: Vec<String> = (0..12).map(|i| format!("h{i:02}")).collect();
    assert_eq!(evicted, want);
    ix.consolidate();
    let live = ix.statuses();
    assert_eq!(live.len(), 6);
    assert!(live.iter().all(|s| s.thread == live[0].thread));
    assert_eq!(live.iter().filter(|s| s.thread_canonical).count(), 1);
}
