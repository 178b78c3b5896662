//! The live index's state and its transitions: articles, duplicate groups
//! and stories, how articles join, leave, move and split off, how canonicals
//! and expiry keys follow, and eviction.

use super::*;

/// An article's arrival number: 0 for the first article an index ever
/// took, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct ArticleSeq(pub(super) u64);

/// A duplicate group's key: a counter of groups created, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct GroupKey(pub(super) u64);

/// A story's key: the number of the group that started it (a group's key
/// is taken by at most one story, so keys never collide).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct StoryKey(pub(super) u64);

impl ArticleSeq {
    /// The arrival number after this one.
    pub(super) fn next(self) -> ArticleSeq {
        ArticleSeq(self.0 + 1)
    }

    /// Arrivals from `earlier` to this one.
    pub(super) fn since(self, earlier: ArticleSeq) -> u64 {
        self.0 - earlier.0
    }
}

impl GroupKey {
    /// The group key after this one.
    pub(super) fn next(self) -> GroupKey {
        GroupKey(self.0 + 1)
    }

    /// The key of a story started by this group.
    pub(super) fn story_key(self) -> StoryKey {
        StoryKey(self.0)
    }
}

/// One live article.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: String,
    pub(super) published: Option<i64>,
    pub(super) source: Option<String>,
    /// The headline and text: a save keeps these and what cannot be
    /// recomputed from them; a load recomputes the rest.
    pub(super) title: Option<String>,
    pub(super) text: String,
    /// Its link, for the thread level's link words (kept with the level on).
    pub(super) url: Option<String>,
    /// With the thread level on: its base thread vector (over term hashes)
    /// and, when weighed at the last re-linking or placed since as a new
    /// story's first article, its expanded one.
    pub(super) thread_base: SparseVec,
    pub(super) thread_vector: Option<SparseVec>,
    /// Learned sentences known when its features were computed (the
    /// features are recomputed with as many on load).
    pub(super) learned_at: u32,
    /// Sorted, distinct shingles.
    pub(super) set: Vec<u64>,
    /// What the updated-figures rule reads.
    pub(super) figures: Figures,
    pub(super) fingerprints: Vec<u64>,
    /// LSH band keys.
    pub(super) band_keys: Vec<u64>,
    /// Distinct story terms (counted in the document frequencies), sorted.
    pub(super) terms: Vec<u64>,
    /// Each term's weighted count ([`signals::RawTerms::counts`]), and the
    /// terms that are names or numbers: what re-weighing needs.
    pub(super) tf: Vec<f32>,
    pub(super) names: Vec<u64>,
    /// Learnable sentences with their contexts (counted for learning).
    pub(super) sentences: Vec<(u64, u64)>,
    /// Its story vector, weighed on arrival or at the last re-linking
    /// (saved: the frequencies it was weighed with are gone), and its
    /// names-and-numbers part.
    pub(super) vector: SparseVec,
    pub(super) entities: SparseVec,
    pub(super) group: GroupKey,
    /// The member it joined through (`None` for a group's founder).
    pub(super) parent: Option<ArticleSeq>,
    /// When the link to the parent is a containment-only edge: `(c, true)`
    /// if this article is the smaller side, contained `c` in the parent;
    /// `(c, false)` if the parent is, contained `c` in this article.
    pub(super) link: Option<(f64, bool)>,
    /// "Most complete" score parts, gathered as members join.
    pub(super) complete: MostCompleteParts,
    /// Its headline's terms, for the aggregator guard
    /// ([`crate::headline::title_terms`]).
    pub(super) title_terms: Vec<u64>,
}

/// One live duplicate group, keyed by a counter of groups created. Its
/// sums, norms and time range follow from its members (in member order) and
/// are recomputed on load.
#[derive(Debug, Clone)]
pub(super) struct Group {
    /// Member arrival numbers, in arrival order.
    pub(super) members: Vec<ArticleSeq>,
    pub(super) canonical: ArticleSeq,
    /// Sums of the members' story vectors and name vectors.
    pub(super) sum: SparseVec,
    pub(super) entity_sum: SparseVec,
    /// Euclidean norms of the two sums.
    pub(super) sum_norm: f64,
    pub(super) entity_norm: f64,
    /// Publication range of the dated members.
    pub(super) time: Option<(i64, i64)>,
    /// Terms it is indexed under for story candidates.
    pub(super) top: Vec<u64>,
    pub(super) story: StoryKey,
}

/// One live story, keyed by the key of its first group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoryState {
    /// Group keys, in the order they joined.
    pub(super) groups: Vec<GroupKey>,
    /// Arrival number of the canonical member.
    pub(super) canonical: ArticleSeq,
    pub(super) size: usize,
    pub(super) newest_time: Option<i64>,
    pub(super) newest_seq: ArticleSeq,
    /// Its thread: the key of a story the thread had when it was made (the
    /// story's own key until a re-linking puts it into a larger thread).
    pub(super) thread: StoryKey,
}

impl FeedIndex {
    /// A live article. Panics if `seq` is not live: every key the index
    /// holds names a live item, so this is a bug, never bad input.
    pub(super) fn entry(&self, seq: ArticleSeq) -> &Entry {
        self.entries
            .get(&seq)
            .expect("a key held by the index names a live article")
    }

    pub(super) fn entry_mut(&mut self, seq: ArticleSeq) -> &mut Entry {
        self.entries
            .get_mut(&seq)
            .expect("a key held by the index names a live article")
    }

    /// A live group (see [`Self::entry`]).
    pub(super) fn group(&self, gk: GroupKey) -> &Group {
        self.groups
            .get(&gk)
            .expect("a key held by the index names a live group")
    }

    pub(super) fn group_mut(&mut self, gk: GroupKey) -> &mut Group {
        self.groups
            .get_mut(&gk)
            .expect("a key held by the index names a live group")
    }

    /// A live story (see [`Self::entry`]).
    pub(super) fn story(&self, sk: StoryKey) -> &StoryState {
        self.stories
            .get(&sk)
            .expect("a key held by the index names a live story")
    }

    pub(super) fn story_mut(&mut self, sk: StoryKey) -> &mut StoryState {
        self.stories
            .get_mut(&sk)
            .expect("a key held by the index names a live story")
    }

    /// A key for a new group, never used before.
    pub(super) fn new_group_key(&mut self) -> GroupKey {
        let gk = self.next_key;
        self.next_key = gk.next();
        gk
    }

    /// The members of `root`'s group that joined through `root`, directly
    /// or not, and `root` itself, in arrival order.
    pub(super) fn subtree(&self, root: ArticleSeq) -> Vec<ArticleSeq> {
        let gk = self.entry(root).group;
        let mut out: Vec<ArticleSeq> = self
            .group(gk)
            .members
            .iter()
            .copied()
            .filter(|&m| {
                let mut cur = m;
                loop {
                    if cur == root {
                        return true;
                    }
                    match self.entry(cur).parent {
                        Some(p) if self.entries.get(&p).is_some_and(|e| e.group == gk) => cur = p,
                        _ => return false,
                    }
                }
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Starts group `gk` with live article `first` as its only member,
    /// indexed under the terms `top` for story candidates, in story `sk`.
    pub(super) fn start_group(
        &mut self,
        gk: GroupKey,
        first: ArticleSeq,
        top: Vec<u64>,
        sk: StoryKey,
    ) {
        self.entry_mut(first).group = gk;
        self.insert_group(gk, vec![first], first, top, sk);
    }

    /// Enters group `gk` of live articles `members` (their `group` already
    /// `gk`), indexed under the terms `top` for story candidates: its sums,
    /// norms and time range from its members ([`Self::sum_group`]). For a
    /// new group and for a loaded one.
    pub(super) fn insert_group(
        &mut self,
        gk: GroupKey,
        members: Vec<ArticleSeq>,
        canonical: ArticleSeq,
        top: Vec<u64>,
        story: StoryKey,
    ) {
        for &t in &top {
            self.terms.entry(t).or_default().push(gk);
        }
        let g = Group {
            members,
            canonical,
            sum: SparseVec::new(),
            entity_sum: SparseVec::new(),
            sum_norm: 0.0,
            entity_norm: 0.0,
            time: None,
            top,
            story,
        };
        self.groups.insert(gk, g);
        self.sum_group(gk);
    }

    /// Starts story `sk` of live groups, computing its size, canonical and
    /// expiry key.
    pub(super) fn start_story(&mut self, sk: StoryKey, groups: Vec<GroupKey>) {
        let first = self.group(groups[0]).members[0];
        self.stories.insert(
            sk,
            StoryState {
                groups,
                canonical: first,
                size: 0,
                newest_time: None,
                newest_seq: first,
                thread: sk,
            },
        );
        self.refresh_story(sk);
    }

    /// Takes articles out of their (common) group, updating or dropping the
    /// group and its story.
    pub(super) fn leave_group(&mut self, xs: &[ArticleSeq]) {
        let old = self.entry(xs[0]).group;
        let old_story = self.group(old).story;
        self.thread_sum_changed(old_story);
        let g = self.group_mut(old);
        g.members.retain(|m| xs.binary_search(m).is_err());
        if g.members.is_empty() {
            self.drop_group(old);
            let s = self.story_mut(old_story);
            s.groups.retain(|&k| k != old);
            if s.groups.is_empty() {
                let gone = self.drop_story(old_story);
                self.leave_thread(gone.thread, old_story);
                return;
            }
        } else {
            self.rebuild_group(old);
        }
        self.refresh_story(old_story);
    }

    /// Moves `root` and the members that joined through it into group `gk`,
    /// linked to article `to` with containment `c` (root the smaller side).
    pub(super) fn move_subtree(
        &mut self,
        root: ArticleSeq,
        gk: GroupKey,
        to: ArticleSeq,
        c: f64,
    ) -> Vec<String> {
        let xs = self.subtree(root);
        self.leave_group(&xs);
        let e = self.entry_mut(root);
        e.parent = Some(to);
        e.link = Some((c, true));
        for &x in &xs {
            self.entry_mut(x).group = gk;
            self.join_group(gk, x, &[]);
        }
        let sk = self.group(gk).story;
        self.refresh_story(sk);
        xs.iter().map(|&x| self.doc_id(x)).collect()
    }

    /// Splits `root` and the members that joined through it off into a new
    /// group and story of their own.
    pub(super) fn split_off(&mut self, root: ArticleSeq) -> Vec<String> {
        let xs = self.subtree(root);
        self.leave_group(&xs);
        let e = self.entry_mut(root);
        e.parent = None;
        e.link = None;
        let gk = self.new_group_key();
        self.entry_mut(xs[0]).complete = MostCompleteParts::default();
        self.start_group(gk, xs[0], Vec::new(), gk.story_key());
        for &x in &xs[1..] {
            self.entry_mut(x).group = gk;
            self.join_group(gk, x, &[]);
        }
        self.start_story(gk.story_key(), vec![gk]);
        xs.iter().map(|&x| self.doc_id(x)).collect()
    }

    /// Adds article `x` to group `gk`: completeness scores, vector sums,
    /// time range, canonical. `known` holds intersection sizes of `x` with
    /// some articles, by arrival number, that need not be computed again.
    pub(super) fn join_group(
        &mut self,
        gk: GroupKey,
        x: ArticleSeq,
        known: &[(ArticleSeq, usize)],
    ) {
        if self.entry(x).thread_vector.is_some() {
            self.thread_sum_changed(self.group(gk).story);
        }
        let members: Vec<ArticleSeq> = self
            .group(gk)
            .members
            .iter()
            .take(MAX_COMPARED)
            .copied()
            .collect();
        let mut x_parts = MostCompleteParts::default();
        let x_len = self.entry(x).set.len();
        for &o in &members {
            let so = &self.entry(o).set;
            let shared = match known.binary_search_by_key(&o, |&(y, _)| y) {
                Ok(i) => known[i].1,
                Err(_) => intersection_size(so, &self.entry(x).set),
            };
            x_parts.add(shared, so.len());
            let eo = self.entry_mut(o);
            if (eo.complete.compared as usize) < MAX_COMPARED {
                eo.complete.add(shared, x_len);
            }
        }
        self.entry_mut(x).complete = x_parts;
        let (ex, g) = (self.entry(x), self.group(gk));
        let t = ex.published;
        let sum = sparse::add(&g.sum, &ex.vector);
        let entity_sum = sparse::add(&g.entity_sum, &ex.entities);
        let g = self.group_mut(gk);
        g.members.push(x);
        g.sum = sum;
        g.entity_sum = entity_sum;
        g.sum_norm = sparse::norm(&g.sum);
        g.entity_norm = sparse::norm(&g.entity_sum);
        if let Some(t) = t {
            g.time = Some(g.time.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
        }
        let canonical = self.choose_canonical(&self.group(gk).members);
        self.group_mut(gk).canonical = canonical;
    }

    /// Recomputes a group from its members after a removal.
    pub(super) fn rebuild_group(&mut self, gk: GroupKey) {
        self.sum_group(gk);
        let members = self.group(gk).members.clone();
        for &m in &members {
            let mut parts = MostCompleteParts::default();
            for &o in members.iter().filter(|&&o| o != m).take(MAX_COMPARED) {
                let so = &self.entry(o).set;
                parts.add(intersection_size(so, &self.entry(m).set), so.len());
            }
            self.entry_mut(m).complete = parts;
        }
        let canonical = self.choose_canonical(&members);
        self.group_mut(gk).canonical = canonical;
    }

    /// A group's vector sums, norms and time range from its members, added
    /// in member order: what joining the members one by one gave.
    pub(super) fn sum_group(&mut self, gk: GroupKey) {
        let (mut sum, mut ent, mut time) = (SparseVec::new(), SparseVec::new(), None);
        for &m in &self.group(gk).members {
            let e = self.entry(m);
            sum = sparse::add(&sum, &e.vector);
            ent = sparse::add(&ent, &e.entities);
            if let Some(t) = e.published {
                time = Some(time.map_or((t, t), |(a, b): (i64, i64)| (a.min(t), b.max(t))));
            }
        }
        let g = self.group_mut(gk);
        g.sum_norm = sparse::norm(&sum);
        g.entity_norm = sparse::norm(&ent);
        g.sum = sum;
        g.entity_sum = ent;
        g.time = time;
    }

    /// The canonical member by the configured policy
    /// ([`canonical::best_candidate`]).
    pub(super) fn choose_canonical(&self, members: &[ArticleSeq]) -> ArticleSeq {
        let policy = &self.fx.config().canonical;
        let candidates = members.iter().map(|m| {
            let e = &self.entries[m];
            canonical::Candidate {
                score: canonical::policy_score(
                    policy,
                    e.complete,
                    e.set.len(),
                    e.source.as_deref(),
                ),
                text_len: e.text.len(),
                published: e.published,
                id: &e.id,
            }
        });
        members[canonical::best_candidate(policy, candidates).expect("a group has members")]
    }

    /// Recomputes a story's size, newest times, canonical (the canonical of
    /// its largest group, ties by date then id) and expiry keys.
    pub(super) fn refresh_story(&mut self, sk: StoryKey) {
        let old = self.drop_story(sk);
        let (mut size, mut newest_time, mut newest_seq) = (0, None, ArticleSeq(0));
        for &g in &old.groups {
            let g = self.group(g);
            size += g.members.len();
            if let Some(&last) = g.members.last() {
                newest_seq = newest_seq.max(last);
            }
            if let Some((_, t)) = g.time {
                newest_time = Some(newest_time.map_or(t, |n: i64| n.max(t)));
            }
        }
        let lead = canonical::story_lead(old.groups.iter().map(|&g| {
            let g = self.group(g);
            let c = self.entry(g.canonical);
            (g.members.len(), c.published, c.id.as_str())
        }))
        .map(|i| self.group(old.groups[i]))
        .expect("a live story has groups");
        let s = StoryState {
            canonical: lead.canonical,
            size,
            newest_time,
            newest_seq,
            groups: old.groups,
            thread: old.thread,
        };
        self.expiry_insert(sk, &s);
        let tk = s.thread;
        self.stories.insert(sk, s);
        self.thread_changed(tk, sk);
    }

    pub(super) fn expiry_insert(&mut self, sk: StoryKey, s: &StoryState) {
        match s.newest_time {
            Some(t) => self.dated_expiry.insert((t, sk)),
            None => self.undated_expiry.insert((s.newest_seq, sk)),
        };
    }

    pub(super) fn expiry_remove(&mut self, sk: StoryKey, s: &StoryState) {
        match s.newest_time {
            Some(t) => self.dated_expiry.remove(&(t, sk)),
            None => self.undated_expiry.remove(&(s.newest_seq, sk)),
        };
    }

    /// Removes an article from the postings, the id map and the frequencies.
    pub(super) fn drop_entry(&mut self, seq: ArticleSeq) -> Entry {
        let e = self
            .entries
            .remove(&seq)
            .expect("a key held by the index names a live article");
        self.ids.remove(&e.id);
        self.uncount_sentences(&e.sentences);
        for &key in &e.band_keys {
            remove_posting(&mut self.bands, key, seq);
        }
        let item = fingerprint_item(seq, e.fingerprints.len());
        for &fp in &e.fingerprints {
            remove_posting(&mut self.fingerprints, fp, item);
        }
        self.unpost_thread_terms(seq, &e.thread_base);
        self.n_docs = self.n_docs.saturating_sub(1);
        for t in &e.terms {
            if let Some(c) = self.df.get_mut(t) {
                *c -= 1;
                if *c == 0 {
                    self.df.remove(t);
                }
            }
        }
        e
    }

    pub(super) fn drop_group(&mut self, gk: GroupKey) -> Group {
        let g = self
            .groups
            .remove(&gk)
            .expect("a key held by the index names a live group");
        for &t in &g.top {
            remove_posting(&mut self.terms, t, gk);
        }
        g
    }

    pub(super) fn drop_story(&mut self, sk: StoryKey) -> StoryState {
        let s = self
            .stories
            .remove(&sk)
            .expect("a key held by the index names a live story");
        self.expiry_remove(sk, &s);
        s
    }

    /// Evicts a whole story.
    pub(super) fn evict(&mut self, sk: StoryKey) -> EvictedStory {
        let story = self.doc_id(self.story(sk).canonical);
        let s = self.drop_story(sk);
        self.leave_thread(s.thread, sk);
        let mut members: Vec<(ArticleSeq, String)> = Vec::with_capacity(s.size);
        let mut groups = Vec::with_capacity(s.groups.len());
        for gk in s.groups {
            let g = self.drop_group(gk);
            let canonical = self.doc_id(g.canonical);
            let mut ids = Vec::with_capacity(g.members.len());
            for m in g.members {
                let id = self.drop_entry(m).id;
                ids.push(id.clone());
                members.push((m, id));
            }
            groups.push((canonical, ids));
        }
        members.sort_unstable();
        self.stats.evicted_stories += 1;
        self.stats.evicted_documents += members.len() as u64;
        EvictedStory {
            story,
            members: members.into_iter().map(|(_, id)| id).collect(),
            groups,
            newest: s.newest_time.map(Timestamp::from_seconds),
        }
    }
}
