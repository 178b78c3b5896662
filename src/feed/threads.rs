//! The live thread level ([`Config::thread`](crate::Config::thread)).
//!
//! A re-linking makes the threads again with the batch's thread stage
//! ([`thread::link_stories`]) over the live articles and stories, so that a
//! re-linked index has the batch's threads. Between re-linkings, the first
//! article of a new story is placed as the batch stage would weigh it: its
//! base vector (thread terms weighed with the frequencies of the last
//! re-linking), its nearest live articles over the base vectors' postings
//! (each term's postings cut to the heaviest holders), its vector expanded
//! with theirs, and the story joins the thread of one of its nearest
//! articles whose mean cosine with the newcomer, over all of the thread's
//! expanded vectors, is highest and reaches
//! [`ThreadConfig::threshold`](crate::ThreadConfig::threshold): average
//! linkage of one new unit. An article that joins an existing story joins
//! its thread. Placed one by one, threads never merge, so the threads alone
//! are made again once the stories started since reach
//! [`FeedConfig::thread_relink`] of the live stories.

use super::*;

use std::collections::VecDeque;

use crate::thread::{self, ThreadDoc};

/// One live thread, keyed as its stories say.
#[derive(Debug, Clone)]
pub(super) struct ThreadState {
    pub(super) stories: Vec<StoryKey>,
    /// Arrival number of the canonical member: its lead story's canonical.
    pub(super) canonical: ArticleSeq,
    /// The sum of its members' expanded vectors (added in arrival order)
    /// and how many there are; `None` when a change since asks for them to
    /// be summed again.
    pub(super) sum: Option<(SparseVec, u32)>,
}

impl ThreadState {
    /// A thread of `stories`, its canonical and sum yet to be found.
    fn new(stories: Vec<StoryKey>) -> Self {
        ThreadState {
            stories,
            canonical: ArticleSeq(0),
            sum: None,
        }
    }
}

/// What placing a new story in a thread reads: the thread-term frequencies
/// of the last re-linking and the postings of the live base vectors.
#[derive(Debug, Clone, Default)]
pub(super) struct ThreadModel {
    pub(super) df: AHashMap<u64, u64>,
    pub(super) n: u64,
    /// Term to its live holders and weights, in arrival order (a deque:
    /// the oldest leave first).
    pub(super) postings: AHashMap<u64, VecDeque<(ArticleSeq, f32)>>,
    /// Stories started since the threads were last made.
    pub(super) new_stories: u64,
}

impl FeedIndex {
    /// Whether the thread level is on.
    pub(super) fn threads_on(&self) -> bool {
        self.fx.config().thread.enabled
    }

    /// The canonical member of story `sk`'s thread (its story's canonical
    /// with the thread level off).
    pub(super) fn thread_canonical(&self, sk: StoryKey) -> ArticleSeq {
        let s = self.story(sk);
        match self.threads.get(&s.thread) {
            Some(t) if self.threads_on() => t.canonical,
            _ => s.canonical,
        }
    }

    /// Story `sk` of thread `tk` changed, or is new in it: the canonical is
    /// chosen again (and a new story's members are summed when next read).
    pub(super) fn thread_changed(&mut self, tk: StoryKey, sk: StoryKey) {
        if !self.threads_on() {
            return;
        }
        let t = self
            .threads
            .entry(tk)
            .or_insert_with(|| ThreadState::new(Vec::new()));
        if !t.stories.contains(&sk) {
            t.stories.push(sk);
            t.sum = None;
        }
        self.refresh_thread(tk);
    }

    /// An article with an expanded vector joined or left story `sk`: its
    /// thread's members are summed again when next read.
    pub(super) fn thread_sum_changed(&mut self, sk: StoryKey) {
        if !self.threads_on() {
            return;
        }
        let tk = self.story(sk).thread;
        if let Some(t) = self.threads.get_mut(&tk) {
            t.sum = None;
        }
    }

    /// Takes story `sk` out of thread `tk` (dropped when it was the last).
    pub(super) fn leave_thread(&mut self, tk: StoryKey, sk: StoryKey) {
        let Some(t) = self.threads.get_mut(&tk) else {
            return;
        };
        t.stories.retain(|&s| s != sk);
        t.sum = None;
        if t.stories.is_empty() {
            self.threads.remove(&tk);
        } else {
            self.refresh_thread(tk);
        }
    }

    /// A thread's canonical: that of its lead story (the largest, ties by
    /// date then id), as in the batch ([`canonical::story_lead`]).
    fn refresh_thread(&mut self, tk: StoryKey) {
        let Some(t) = self.threads.get(&tk) else {
            return;
        };
        let lead = canonical::story_lead(t.stories.iter().map(|&sk| {
            let s = self.story(sk);
            let c = self.entry(s.canonical);
            (s.size, c.published, c.id.as_str())
        }))
        .map(|i| self.story(t.stories[i]).canonical)
        .expect("a live thread has stories");
        self.threads.get_mut(&tk).expect("checked above").canonical = lead;
    }

    /// The thread map made again from the stories' thread keys, and the
    /// postings from the base vectors (after a load).
    pub(super) fn rebuild_threads(&mut self) {
        self.threads.clear();
        self.thread_model.postings.clear();
        if !self.threads_on() {
            return;
        }
        let mut keys: Vec<StoryKey> = self.stories.keys().copied().collect();
        keys.sort_unstable();
        for sk in keys {
            let tk = self.story(sk).thread;
            self.threads
                .entry(tk)
                .or_insert_with(|| ThreadState::new(Vec::new()))
                .stories
                .push(sk);
        }
        let tks: Vec<StoryKey> = self.threads.keys().copied().collect();
        for tk in tks {
            self.refresh_thread(tk);
        }
        let mut seqs: Vec<ArticleSeq> = self.entries.keys().copied().collect();
        seqs.sort_unstable();
        for seq in seqs {
            self.post_thread_terms(seq);
        }
    }

    /// Adds an article's base vector to the postings.
    fn post_thread_terms(&mut self, seq: ArticleSeq) {
        let e = &self.entries[&seq];
        for &(t, w) in &e.thread_base {
            self.thread_model
                .postings
                .entry(t)
                .or_default()
                .push_back((seq, w));
        }
    }

    /// Takes a leaving article's base vector out of the postings.
    pub(super) fn unpost_thread_terms(&mut self, seq: ArticleSeq, base: &SparseVec) {
        for &(t, _) in base {
            if let Some(l) = self.thread_model.postings.get_mut(&t) {
                if let Ok(i) = l.binary_search_by_key(&seq, |&(s, _)| s) {
                    l.remove(i);
                }
                if l.is_empty() {
                    self.thread_model.postings.remove(&t);
                }
            }
        }
    }

    /// An arriving article's base vector, weighed with the frequencies of
    /// the last re-linking (the article counted), and posted.
    pub(super) fn weigh_thread_terms(&mut self, seq: ArticleSeq) {
        if !self.threads_on() {
            return;
        }
        let e = &self.entries[&seq];
        let terms = thread::thread_terms(&thread_doc(e), &self.fx.config().thread);
        let m = &self.thread_model;
        let base = thread::weigh(terms.into_iter(), |t| {
            signals::idf(m.n + 1, m.df.get(&t).copied().unwrap_or(0) + 1)
        });
        self.entry_mut(seq).thread_base = base;
        self.post_thread_terms(seq);
    }

    /// Whether enough stories started since the threads were last made to
    /// make them again ([`FeedConfig::thread_relink`]).
    pub(super) fn threads_due(&self) -> bool {
        let f = self.feed.thread_relink;
        self.threads_on()
            && f > 0.0
            && self.thread_model.new_stories as f64 >= f * self.stories.len() as f64
    }

    /// Places new story `sk`, of one article `seq`, in the thread of a
    /// nearest article that it resembles as a whole (see the module docs),
    /// or leaves it a thread of its own.
    pub(super) fn place_in_thread(&mut self, seq: ArticleSeq, sk: StoryKey) {
        if !self.threads_on() {
            return;
        }
        self.thread_model.new_stories += 1;
        let cfg = self.fx.config().thread.clone();
        let near = self.nearest_articles(seq, cfg.neighbours.max(cfg.links));
        let expanded = {
            let bases = near[..cfg.neighbours.min(near.len())]
                .iter()
                .map(|&(j, s)| (self.entry(j).thread_base.as_slice(), s));
            let mut acc: AHashMap<u64, f32> = AHashMap::new();
            thread::expand(&self.entry(seq).thread_base, bases, &cfg, &mut acc)
        };
        let mut candidates: Vec<StoryKey> = near[..cfg.links.min(near.len())]
            .iter()
            .map(|&(j, _)| self.story(self.group(self.entry(j).group).story).thread)
            .filter(|&tk| tk != sk)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<(f64, StoryKey)> = None;
        for tk in candidates {
            let (sum, size) = self.thread_sum(tk);
            if size == 0 {
                continue;
            }
            let mean = thread::dot(&expanded, sum) / size as f64;
            if mean >= cfg.threshold && best.is_none_or(|(b, _)| mean > b) {
                best = Some((mean, tk));
            }
        }
        let tk = match best {
            Some((_, tk)) => {
                let own = self.story(sk).thread;
                self.leave_thread(own, sk);
                self.story_mut(sk).thread = tk;
                self.thread_changed(tk, sk);
                tk
            }
            None => self.story(sk).thread,
        };
        // The story is new in its thread, so the thread is summed again,
        // with this vector, when next read.
        debug_assert!(self.threads[&tk].sum.is_none());
        self.entry_mut(seq).thread_vector = Some(expanded);
    }

    /// The sum of thread `tk`'s expanded vectors, in arrival order, and how
    /// many there are (summed again when a change asked for it).
    fn thread_sum(&mut self, tk: StoryKey) -> (&SparseVec, u32) {
        if self.threads[&tk].sum.is_none() {
            let mut seqs: Vec<ArticleSeq> = self.threads[&tk]
                .stories
                .iter()
                .flat_map(|&sk| self.story(sk).groups.iter())
                .flat_map(|&g| self.group(g).members.iter().copied())
                .collect();
            seqs.sort_unstable();
            // Each term's weights are added in arrival order, whatever
            // changed since, so the sum does not depend on the history.
            let mut acc: AHashMap<u64, f32> = AHashMap::new();
            let mut n = 0;
            for s in seqs {
                if let Some(v) = &self.entry(s).thread_vector {
                    for &(t, w) in v {
                        *acc.entry(t).or_insert(0.0) += w;
                    }
                    n += 1;
                }
            }
            let mut sum: SparseVec = acc.into_iter().collect();
            sum.sort_unstable_by_key(|&(t, _)| t);
            self.threads.get_mut(&tk).expect("live").sum = Some((sum, n));
        }
        let (sum, n) = self.threads[&tk].sum.as_ref().expect("summed above");
        (sum, *n)
    }

    /// The live articles nearest to `seq` by cosine over the postings, read
    /// and cut as the batch reads and cuts them: of each term, the holders
    /// in the time buckets the article reads, each bucket's cut to its
    /// `max_posting` heaviest (ties by id), added in bucket then arrival
    /// order; within the time window, ties by arrival.
    fn nearest_articles(&self, seq: ArticleSeq, k: usize) -> Vec<(ArticleSeq, f32)> {
        let cfg = &self.fx.config().thread;
        let e = self.entry(seq);
        let bucket = |s: ArticleSeq| thread::time_bucket(self.entry(s).published, cfg);
        let q = bucket(seq);
        let mut acc: AHashMap<ArticleSeq, f32> = AHashMap::new();
        for &(t, w) in &e.thread_base {
            let Some(list) = self.thread_model.postings.get(&t) else {
                continue;
            };
            let mut read: Vec<(Option<i64>, ArticleSeq, f32)> = list
                .iter()
                .filter_map(|&(s, ws)| {
                    let b = bucket(s);
                    thread::reads_bucket(q, b).then_some((b, s, ws))
                })
                .collect();
            read.sort_unstable_by_key(|&(b, s, _)| (b, s));
            for run in read.chunk_by(|x, y| x.0 == y.0) {
                let run: Vec<(ArticleSeq, f32)> = run.iter().map(|&(_, s, ws)| (s, ws)).collect();
                let kept = thread::cut_to_heaviest(run, cfg.max_posting, |a, b| {
                    self.entry(a).id.cmp(&self.entry(b).id)
                });
                for (j, wj) in kept {
                    *acc.entry(j).or_insert(0.0) += w * wj;
                }
            }
        }
        thread::nearest_neighbours(
            seq,
            e.published,
            acc.into_iter(),
            |j| self.entry(j).published,
            cfg,
            k,
        )
    }

    /// Threads over the live stories by the batch's thread stage, with the
    /// live articles in arrival order and the stories in the order of
    /// their first article (as the batch orders its stories). Each thread
    /// is keyed by its smallest story key. The frequencies, base and
    /// expanded vectors it weighed are kept for placing new stories.
    pub(super) fn link_threads(&mut self) {
        let mut seqs: Vec<ArticleSeq> = self.entries.keys().copied().collect();
        seqs.sort_unstable();
        let position: AHashMap<ArticleSeq, usize> =
            seqs.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let mut stories: Vec<(Vec<usize>, StoryKey)> = self
            .stories
            .iter()
            .map(|(&sk, s)| {
                let mut m: Vec<usize> = s
                    .groups
                    .iter()
                    .flat_map(|&g| self.group(g).members.iter().map(|x| position[x]))
                    .collect();
                m.sort_unstable();
                (m, sk)
            })
            .collect();
        stories.sort_unstable();
        let (members, keys): (Vec<Vec<usize>>, Vec<StoryKey>) = stories.into_iter().unzip();
        let linked = {
            let docs: Vec<ThreadDoc> = seqs.iter().map(|s| thread_doc(self.entry(*s))).collect();
            thread::link_stories(&docs, &members, &self.fx.config().thread, &mut |_| {})
        };
        let hash = |v: &SparseVec| -> SparseVec {
            v.iter()
                .map(|&(t, w)| (linked.vocabulary[t as usize], w))
                .collect()
        };
        for (i, &seq) in seqs.iter().enumerate() {
            let base = hash(&linked.base[i]);
            let expanded = hash(&linked.vectors[i]);
            let e = self.entry_mut(seq);
            e.thread_base = base;
            e.thread_vector = Some(expanded);
        }
        self.thread_model.n = seqs.len() as u64;
        self.thread_model.df = linked
            .vocabulary
            .iter()
            .copied()
            .zip(linked.df.iter().copied())
            .collect();
        self.threads.clear();
        for units in linked.clusters {
            let sks: Vec<StoryKey> = units.iter().map(|&u| keys[u as usize]).collect();
            let tk = *sks.iter().min().expect("a thread has stories");
            for &sk in &sks {
                self.story_mut(sk).thread = tk;
            }
            self.threads.insert(tk, ThreadState::new(sks));
            self.refresh_thread(tk);
        }
        self.thread_model.postings.clear();
        for seq in seqs {
            self.post_thread_terms(seq);
        }
        self.thread_model.new_stories = 0;
    }
}

/// What the thread stage reads of a live article.
fn thread_doc(e: &Entry) -> ThreadDoc<'_> {
    ThreadDoc {
        id: &e.id,
        title: e.title.as_deref(),
        text: &e.text,
        url: e.url.as_deref(),
        published: e.published,
    }
}
