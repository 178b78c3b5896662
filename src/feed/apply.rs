//! Applying a plan: the arriving article enters the postings, the
//! frequencies and its group and story; links it cut move or split members;
//! stories are re-linked when due.

use super::*;

impl FeedIndex {
    /// Plans and applies one insert.
    pub(super) fn place(&mut self, doc: &Document, mut p: Prepared) -> FeedAssignment {
        self.learn(doc, &mut p);
        let seq = self.next_seq;
        let plan = self.plan(doc, &p, seq);
        let evicted: Vec<EvictedStory> = plan.expired.iter().map(|&s| self.evict(s)).collect();
        self.next_seq = seq.next();
        self.clock = plan.clock;
        self.stats.inserted += 1;
        self.n_docs += 1;
        for &t in &plan.terms {
            *self.df.entry(t).or_insert(0) += 1;
        }
        self.post(seq, &doc.id, &p.band_keys, &p.fingerprints);
        let new_group = plan.group.is_none();
        let gk = match &plan.group {
            Some((g, _)) => *g,
            None => self.new_group_key(),
        };
        self.entries.insert(
            seq,
            Entry {
                id: doc.id.clone(),
                published: doc.published.map(|t| t.seconds()),
                source: doc.source.clone(),
                title: doc.title.clone(),
                text: doc.text.clone(),
                url: doc.url.clone().filter(|_| self.fx.config().thread.enabled),
                thread_base: SparseVec::new(),
                thread_vector: None,
                learned_at: p.learned_at as u32,
                set: p.set,
                figures: p.figures,
                fingerprints: p.fingerprints,
                band_keys: p.band_keys,
                terms: plan.terms,
                tf: p.raw.weights,
                names: p.raw.entities,
                sentences: p.sentences,
                vector: plan.vector,
                entities: plan.entities,
                group: gk,
                parent: plan.parent,
                link: plan.link,
                complete: MostCompleteParts::default(),
                title_terms: crate::headline::title_terms(doc.title.as_deref()),
            },
        );

        let (sk, new_story) = match (&plan.group, &plan.story) {
            (Some((g, _)), _) => (self.group(*g).story, false),
            (None, Some((s, _))) => (*s, false),
            (None, None) => (gk.story_key(), true),
        };
        let prev_group_canonical = if new_group {
            self.start_group(gk, seq, plan.top, sk);
            None
        } else {
            let prev = self.group(gk).canonical;
            self.join_group(gk, seq, &plan.shared);
            Some(prev)
        };
        self.weigh_thread_terms(seq);
        let prev_story_canonical = if new_story {
            self.start_story(sk, vec![gk]);
            self.place_in_thread(seq, sk);
            None
        } else {
            if new_group {
                self.story_mut(sk).groups.push(gk);
            }
            let prev = self.story(sk).canonical;
            self.refresh_story(sk);
            Some(prev)
        };
        let (mut moved, mut split_off) = (Vec::new(), Vec::new());
        if let Some(cut) = plan.cut {
            for &c in &cut.split_children {
                split_off.extend(self.split_off(c));
            }
            if cut.move_member {
                moved = self.move_subtree(cut.member, gk, seq, cut.c);
            }
        }

        self.stats.since_consolidation += 1;
        self.since_weighed += 1;
        let every = self.feed.consolidate_every;
        let consolidated =
            every > 0 && self.stats.since_consolidation >= every.max(self.groups.len() as u64);
        if consolidated {
            self.relink(false);
        }
        let threads_relinked = !consolidated && self.threads_due();
        if threads_relinked {
            self.link_threads();
        }
        let gk = self.entry(seq).group;
        let g = self.group(gk);
        let s = self.story(g.story);
        let thread = self.thread_canonical(g.story);
        let changed = |prev: Option<ArticleSeq>, now: ArticleSeq| match prev {
            Some(p) if p != now => Some(self.doc_id(p)),
            _ => None,
        };
        FeedAssignment {
            id: doc.id.clone(),
            seq: seq.0,
            duplicate_group: self.doc_id(g.canonical),
            new_group,
            canonical: g.canonical == seq,
            group_size: g.members.len(),
            duplicate_of: plan.group.map(|(_, m)| m),
            group_canonical_changed: changed(prev_group_canonical, g.canonical),
            story: self.doc_id(s.canonical),
            new_story,
            story_canonical: s.canonical == seq,
            story_size: s.size,
            story_match: plan.story.and_then(|(_, m)| m),
            story_canonical_changed: changed(prev_story_canonical, s.canonical),
            thread: self.doc_id(thread),
            thread_canonical: thread == seq,
            moved,
            split_off,
            evicted,
            consolidated,
            threads_relinked,
        }
    }
}
