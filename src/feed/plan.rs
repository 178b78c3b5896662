//! Placing an article: its features, then a plan computed read-only (time
//! window, duplicate candidates, verified edges, the group joined, links
//! cut, the story joined), then the plan applied.

use super::*;

/// A page that contains another article only after this fraction of its
/// text (by a containment-only edge) starts its own group: chosen on a
/// synthetic tuning corpus (`make_corpus.py --seed 11`, not the seed-1
/// evaluation corpus) from 0.2, 1/3, 0.5 and off.
pub(super) const LATE_START: f64 = 1.0 / 3.0;

/// Features of an article, computed without touching the index (in
/// parallel for batches).
pub(super) struct Prepared {
    pub(super) tokenized: normalize::Tokenized,
    pub(super) sentences: Vec<(u64, u64)>,
    /// Learned sentences known when the features were computed.
    pub(super) learned_at: usize,
    pub(super) set: Vec<u64>,
    pub(super) fingerprints: Vec<u64>,
    pub(super) band_keys: Vec<u64>,
    pub(super) raw: signals::RawTerms,
}

/// A decision, computed read-only, then applied.
pub(super) struct Plan {
    pub(super) clock: Option<i64>,
    pub(super) expired: Vec<u64>,
    pub(super) terms: Vec<u64>,
    pub(super) vector: SparseVec,
    pub(super) entities: SparseVec,
    pub(super) top: Vec<u64>,
    pub(super) group: Option<(u64, DuplicateMatch)>,
    /// The member it joins through.
    pub(super) parent: Option<u64>,
    /// The link of the new article to the member it joins through.
    pub(super) link: Option<(f64, bool)>,
    /// Links the new article supersedes (see [`Cut`]).
    pub(super) cut: Option<Cut>,
    pub(super) story: Option<(u64, Option<StoryMatch>)>,
    /// `(candidate, shingles shared with it)` for every verified candidate,
    /// by arrival number.
    pub(super) shared: Vec<(u64, usize)>,
}

/// Links that a new article shows to be weak, as the batch pipeline sets
/// aside a containment edge of a document that is far better contained
/// elsewhere. The new article contains `member` with containment `c`:
/// when `member` was linked to its parent as the smaller side with a
/// containment below `c − best_match_margin`, that link is cut and the
/// member's subtree moves into the new article's group (`move_member`);
/// children that were linked to `member` because it was contained in them,
/// that weakly, are split off into groups of their own.
pub(super) struct Cut {
    pub(super) member: u64,
    pub(super) c: f64,
    pub(super) move_member: bool,
    pub(super) split_children: Vec<u64>,
}

impl FeedIndex {
    pub(super) fn prepare(&self, doc: &Document) -> Prepared {
        let tokenized = self.fx.tokenize(&doc.text);
        let b = &self.fx.config().normalize.boilerplate;
        let sentences = if b.learn {
            normalize::learnable_sentences(&tokenized, b.max_line_words)
        } else {
            Vec::new()
        };
        let mut p = Prepared {
            tokenized,
            sentences,
            learned_at: self.learned.len(),
            set: Vec::new(),
            fingerprints: Vec::new(),
            band_keys: Vec::new(),
            raw: Default::default(),
        };
        self.features(doc, &mut p);
        p
    }

    /// Shingles, signature, fingerprints and story terms with the current
    /// boilerplate model.
    pub(super) fn features(&self, doc: &Document, p: &mut Prepared) {
        let mut signature = vec![u64::MAX; self.fx.signature_len()];
        let f = self
            .fx
            .extract(&p.tokenized, doc, &mut Default::default(), &mut signature);
        p.learned_at = self.learned.len();
        p.set = f.set;
        p.fingerprints = f.fingerprints;
        p.band_keys = self.fx.band_keys(&signature);
        p.raw = f.raw;
    }

    /// Stories the clock `clock` and arrival `seq` put out of the window.
    pub(super) fn expired(&self, clock: Option<i64>, seq: u64) -> Vec<u64> {
        let mut out = Vec::new();
        if let Some(now) = clock {
            let limit = now - self.feed.window_secs();
            out.extend(
                self.dated_expiry
                    .iter()
                    .take_while(|&&(t, _)| t < limit)
                    .map(|&(_, s)| s),
            );
        }
        out.extend(
            self.undated_expiry
                .iter()
                .take_while(|&&(q, _)| seq - q > self.feed.window_arrivals)
                .map(|&(_, s)| s),
        );
        out.sort_unstable();
        out
    }

    /// Decides where an article goes, without changing the index.
    pub(super) fn plan(&self, doc: &Document, p: &Prepared, seq: u64) -> Plan {
        let cfg = self.fx.config();
        let published = doc.published.map(|t| t.seconds());
        let clock = match (self.clock, published) {
            (Some(c), Some(t)) => Some(c.max(t)),
            (c, t) => c.or(t),
        };
        let expired = self.expired(clock, seq);
        let live_story = |s: u64| expired.binary_search(&s).is_err();

        // Duplicate candidates: shared bands (the most recent members of a
        // big bucket) and enough shared fingerprints.
        let mut cands: Vec<u64> = Vec::new();
        for key in &p.band_keys {
            if let Some(b) = self.bands.get(key) {
                cands.extend_from_slice(&b[b.len().saturating_sub(cfg.max_bucket)..]);
            }
        }
        let mut met: Vec<u64> = Vec::new();
        for fp in &p.fingerprints {
            if let Some(list) = self.fingerprints.get(fp)
                && list.len() <= cfg.max_posting
            {
                met.extend_from_slice(list);
            }
        }
        met.sort_unstable();
        for run in met.chunk_by(|a, b| a == b) {
            let (y, other) = self.fingerprint_holder(run[0]);
            if verify::containment_candidate(
                run.len(),
                p.fingerprints.len(),
                other,
                cfg.containment_candidate,
            ) {
                cands.push(y);
            }
        }
        cands.sort_unstable();
        cands.dedup();

        // Verify exactly; keep (strength, seq, overlap, kind), and every
        // intersection size for the completeness scores of the group joined.
        let mut edges: Vec<(u64, Overlap, EdgeKind)> = Vec::new();
        let mut shared: Vec<(u64, usize)> = Vec::with_capacity(cands.len());
        for &y in &cands {
            let e = &self.entries[&y];
            if !live_story(self.groups[&e.group].story) {
                continue;
            }
            if verify::too_far_apart(cfg, verify::time_gap(published, e.published)) {
                continue;
            }
            let o = Overlap::of(&p.set, &e.set);
            shared.push((y, o.shared));
            if let Some(kind) = verify::edge_kind(cfg, &o) {
                edges.push((y, o, kind));
            }
        }
        // The batch rule for containment-only edges: the new article, when
        // it is the smaller side, keeps only edges near its best containment.
        let smaller_side = |o: &Overlap| o.containment_a_in_b() >= o.containment_b_in_a();
        let best = edges
            .iter()
            .filter(|(_, o, _)| smaller_side(o))
            .map(|(_, o, _)| o.containment_a_in_b())
            .fold(0.0f64, f64::max);
        // Groups reached by any verified edge, before the weaker ones are set
        // aside (for the second-edge rule below).
        let mut reached: Vec<(u64, u64)> = edges
            .iter()
            .map(|(y, _, _)| (self.entries[y].group, *y))
            .collect();
        reached.sort_unstable();
        edges.retain(|(_, o, _)| {
            !(smaller_side(o) && verify::superseded(cfg, o.jaccard(), o.containment_a_in_b(), best))
        });
        edges.sort_by(|a, b| {
            verify::strength(&b.1)
                .total_cmp(&verify::strength(&a.1))
                .then(a.0.cmp(&b.0))
        });
        // Joining a group of several by a containment-only edge needs a
        // second edge into that group: an excerpt that is mostly a stock
        // passage is contained in articles of many stories, and a round-up
        // page contains several stories; one such edge must not chain them.
        let group_of = |y: u64| self.entries[&y].group;
        edges.retain(|(y, o, _)| {
            let g = group_of(*y);
            o.jaccard() >= cfg.jaccard_threshold
                || self.groups[&g].members.len() == 1
                || reached.iter().any(|&(rg, z)| rg == g && z != *y)
        });
        // Edges into several groups: the article may be a page holding
        // several stories. As in the batch guard, it joins the lead part:
        // the most strongly tied group, or, among groups covering disjoint
        // regions of it, the one whose region starts first.
        // The article's shingles in text order, computed at most once and
        // only when a guard needs them.
        let order_cell = std::cell::OnceCell::new();
        let text_order = || order_cell.get_or_init(|| self.fx.text_order(&p.tokenized, &doc.text));
        let mut parts: Vec<u64> = edges.iter().map(|(y, _, _)| group_of(*y)).collect();
        parts.sort_unstable();
        parts.dedup();
        let lead = if parts.len() > 1 {
            let part_sets: Vec<Vec<&[u64]>> = parts
                .iter()
                .map(|&g| {
                    edges
                        .iter()
                        .filter(|(y, _, _)| group_of(*y) == g)
                        .map(|(y, _, _)| self.entries[y].set.as_slice())
                        .collect()
                })
                .collect();
            let order = text_order();
            let page_title = crate::similarity::title_terms(doc.title.as_deref());
            let titles = crate::cluster::title_scores(
                &page_title,
                parts.iter().map(|&g| {
                    edges
                        .iter()
                        .filter(move |(y, _, _)| group_of(*y) == g)
                        .map(|(y, _, _)| self.entries[y].title_terms.as_slice())
                }),
            );
            let (keep, _) = crate::cluster::lead_part(
                &p.set,
                &part_sets,
                order,
                cfg.hub_region_overlap,
                &titles,
            );
            Some(parts[keep])
        } else {
            None
        };
        let mut best_edge = edges
            .iter()
            .find(|(y, _, _)| lead.is_none_or(|g| group_of(*y) == g));
        // A page that contains another article only in its later part, by a
        // containment-only edge, is likely a round-up whose lead story has
        // not arrived yet: it starts a group of its own.
        if let Some((y, o, _)) = best_edge
            && o.jaccard() < cfg.jaccard_threshold
            && !smaller_side(o)
        {
            let order = text_order();
            let sy = &self.entries[y].set;
            let start = order
                .iter()
                .position(|h| sy.binary_search(h).is_ok())
                .unwrap_or(0);
            if start as f64 > LATE_START * order.len() as f64 {
                best_edge = None;
            }
        }
        // The new article contains the member it joins through, as a
        // containment-only edge: links of that member that are far weaker
        // are cut.
        let margin = cfg.best_match_margin;
        let cut = best_edge.and_then(|(y, o, _)| {
            let c = o.containment_b_in_a();
            if o.jaccard() >= cfg.jaccard_threshold || c < o.containment_a_in_b() {
                return None;
            }
            let e = &self.entries[y];
            let move_member = matches!(e.link, Some((c0, true)) if c >= c0 + margin);
            let split_children: Vec<u64> = self.groups[&e.group]
                .members
                .iter()
                .copied()
                .filter(|m| {
                    let em = &self.entries[m];
                    em.parent == Some(*y)
                        && matches!(em.link, Some((c1, false)) if c >= c1 + margin)
                })
                .collect();
            (move_member || !split_children.is_empty()).then_some(Cut {
                member: *y,
                c,
                move_member,
                split_children,
            })
        });
        let joins = best_edge.filter(|_| !cut.as_ref().is_some_and(|c| c.move_member));
        let link = joins.and_then(|(_, o, _)| {
            (o.jaccard() < cfg.jaccard_threshold).then(|| {
                if smaller_side(o) {
                    (o.containment_a_in_b(), true)
                } else {
                    (o.containment_b_in_a(), false)
                }
            })
        });
        let group = joins.map(|(y, o, kind)| {
            let e = &self.entries[y];
            (
                e.group,
                DuplicateMatch {
                    id: e.id.clone(),
                    jaccard: o.jaccard(),
                    containment: o.max_containment(),
                    kind: *kind,
                },
            )
        });

        // Story vectors, weighed with the frequencies seen so far plus this
        // article.
        // The article's distinct terms, sorted (as its counts are).
        let terms: Vec<u64> = p.raw.counts.iter().map(|&(t, _)| t).collect();
        let sc = &cfg.story;
        let n = self.n_docs + 1;
        // One hash probe per term; weighing takes the frequencies by the
        // terms' positions, and the top-term filter tests the few terms
        // too common to be top terms.
        let dfs: Vec<u64> = terms
            .iter()
            .map(|t| self.df.get(t).copied().unwrap_or(0) + 1)
            .collect();
        let idf_of = |i: usize, _| signals::idf(n, dfs[i]);
        let vector = signals::weigh(&p.raw, &idf_of, sc.entity_boost, sc.max_terms);
        let entities = signals::entity_part(&vector, &p.raw);
        let max_df = sc.max_df(n);
        let common: Vec<u64> = terms
            .iter()
            .zip(&dfs)
            .filter(|&(_, &d)| d > max_df)
            .map(|(&t, _)| t)
            .collect();
        let top = if sc.enabled && group.is_none() {
            story::top_terms(&vector, sc.top_terms, &|t| {
                common.binary_search(&t).is_err()
            })
        } else {
            Vec::new()
        };
        // Groups move as units: joining a group joins its story.
        let story = match &group {
            Some((g, _)) => Some((self.groups[g].story, None)),
            None => self
                .best_story(&top, &vector, &entities, published, &live_story)
                .map(|(s, m)| (s, Some(m))),
        };
        Plan {
            clock,
            expired,
            terms,
            vector,
            entities,
            top,
            group,
            parent: joins.map(|(y, _, _)| *y),
            link,
            cut,
            story,
            shared,
        }
    }

    /// The best live story for a new group, by mean pair score.
    pub(super) fn best_story(
        &self,
        top: &[u64],
        vector: &SparseVec,
        entities: &SparseVec,
        published: Option<i64>,
        live_story: &dyn Fn(u64) -> bool,
    ) -> Option<(u64, StoryMatch)> {
        let sc = &self.fx.config().story;
        if !sc.enabled || top.is_empty() {
            return None;
        }
        let mut met: Vec<u64> = Vec::new();
        for t in top {
            if let Some(list) = self.terms.get(t)
                && list.len() <= sc.max_posting
            {
                met.extend_from_slice(list);
            }
        }
        met.sort_unstable();
        // Per story: sum of pair scores, and the best pair.
        let mut per_story: BTreeMap<u64, (f64, f64, u64, PairSignals)> = BTreeMap::new();
        for run in met.chunk_by(|a, b| a == b) {
            if run.len() < sc.min_shared_terms {
                continue;
            }
            let g = &self.groups[&run[0]];
            if !live_story(g.story) {
                continue;
            }
            // As in the batch stage, the story-vector cosine is skipped when
            // the names-and-numbers or time factor already makes the score
            // zero; such a pair's signals are never reported (a story is
            // chosen only with a positive mean, and its best pair then has a
            // positive score).
            let ent = sparse::scaled_cosine(entities, &g.entity_sum, g.entity_norm);
            let gap = story::range_gap(published.map(|t| (t, t)), g.time);
            let zero = (sc.entity_agreement > 0.0 && ent == 0.0)
                || story::time_factor(gap, sc.time_window_days) == 0.0;
            let cos = if zero {
                0.0
            } else {
                sparse::scaled_cosine(vector, &g.sum, g.sum_norm)
            };
            let sig = story::combine(cos, ent, gap, sc);
            let score = sig.total();
            let slot = per_story
                .entry(g.story)
                .or_insert((0.0, f64::NEG_INFINITY, run[0], sig));
            slot.0 += score;
            if score > slot.1 {
                *slot = (slot.0, score, run[0], sig);
            }
        }
        per_story
            .into_iter()
            .map(|(s, (sum, _, g, sig))| (s, sum / self.stories[&s].groups.len() as f64, g, sig))
            .filter(|&(_, mean, _, _)| mean >= self.feed.story_threshold && mean > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(s, mean, g, sig)| {
                (
                    s,
                    StoryMatch {
                        score: mean,
                        best_group: self.group_id(g),
                        signals: sig,
                    },
                )
            })
    }

    /// Plans and applies one insert.
    pub(super) fn place(&mut self, doc: &Document, mut p: Prepared) -> FeedAssignment {
        self.learn(doc, &mut p);
        let seq = self.next_seq;
        let plan = self.plan(doc, &p, seq);
        let evicted: Vec<EvictedStory> = plan.expired.iter().map(|&s| self.evict(s)).collect();
        self.next_seq += 1;
        self.clock = plan.clock;
        self.stats.inserted += 1;
        self.n_docs += 1;
        for &t in &plan.terms {
            *self.df.entry(t).or_insert(0) += 1;
        }
        for &key in &p.band_keys {
            self.bands.entry(key).or_default().push(seq);
        }
        let item = fingerprint_item(seq, p.fingerprints.len());
        for &fp in &p.fingerprints {
            self.fingerprints.entry(fp).or_default().push(item);
        }
        self.ids.insert(doc.id.clone(), seq);
        let new_group = plan.group.is_none();
        let gk = match &plan.group {
            Some((g, _)) => *g,
            None => {
                self.next_key += 1;
                self.next_key - 1
            }
        };
        self.entries.insert(
            seq,
            Entry {
                id: doc.id.clone(),
                published: doc.published.map(|t| t.seconds()),
                source: doc.source.clone(),
                set: p.set,
                fingerprints: p.fingerprints,
                band_keys: p.band_keys,
                terms: plan.terms,
                sentences: p.sentences,
                vector: plan.vector,
                entities: plan.entities,
                group: gk,
                parent: plan.parent,
                link: plan.link,
                complete: MostCompleteParts::default(),
                text_len: doc.text.len() as u64,
                title_terms: crate::similarity::title_terms(doc.title.as_deref()),
            },
        );

        let (sk, new_story) = match (&plan.group, &plan.story) {
            (Some((g, _)), _) => (self.groups[g].story, false),
            (None, Some((s, _))) => (*s, false),
            (None, None) => (gk, true),
        };
        let prev_group_canonical = if new_group {
            self.start_group(gk, seq, plan.top, sk);
            None
        } else {
            let prev = self.groups[&gk].canonical;
            self.join_group(gk, seq, &plan.shared);
            Some(prev)
        };
        let prev_story_canonical = if new_story {
            self.start_story(sk, vec![gk]);
            None
        } else {
            if new_group {
                self.stories
                    .get_mut(&sk)
                    .expect("live story")
                    .groups
                    .push(gk);
            }
            let prev = self.stories[&sk].canonical;
            self.refresh_story(sk);
            Some(prev)
        };
        let (mut moved, mut split_off) = (Vec::new(), Vec::new());
        if let Some(cut) = plan.cut {
            for c in &cut.split_children {
                split_off.extend(self.split_off(*c));
            }
            if cut.move_member {
                moved = self.move_subtree(cut.member, gk, seq, cut.c);
            }
        }

        self.stats.since_consolidation += 1;
        let every = self.feed.consolidate_every;
        let consolidated =
            every > 0 && self.stats.since_consolidation >= every.max(self.groups.len() as u64);
        if consolidated {
            self.consolidate();
        }
        let gk = self.entries[&seq].group;
        let sk = self.groups[&gk].story;
        let g = &self.groups[&gk];
        let s = &self.stories[&sk];
        let changed = |prev: Option<u64>, now: u64| match prev {
            Some(p) if p != now => Some(self.doc_id(p)),
            _ => None,
        };
        FeedAssignment {
            id: doc.id.clone(),
            seq,
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
            moved,
            split_off,
            evicted,
            consolidated,
        }
    }
}
