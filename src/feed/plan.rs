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
    pub(super) figures: Figures,
    pub(super) fingerprints: Vec<u64>,
    pub(super) band_keys: Vec<u64>,
    pub(super) raw: signals::RawTerms,
}

/// A decision, computed read-only, then applied.
pub(super) struct Plan {
    pub(super) clock: Option<i64>,
    pub(super) expired: Vec<StoryKey>,
    pub(super) terms: Vec<u64>,
    pub(super) vector: SparseVec,
    pub(super) entities: SparseVec,
    pub(super) top: Vec<u64>,
    pub(super) group: Option<(GroupKey, DuplicateMatch)>,
    /// The member it joins through.
    pub(super) parent: Option<ArticleSeq>,
    /// The link of the new article to the member it joins through.
    pub(super) link: Option<(f64, bool)>,
    /// Links the new article supersedes (see [`Cut`]).
    pub(super) cut: Option<Cut>,
    pub(super) story: Option<(StoryKey, Option<StoryMatch>)>,
    /// `(candidate, shingles shared with it)` for every verified candidate,
    /// by arrival number.
    pub(super) shared: Vec<(ArticleSeq, usize)>,
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
    pub(super) member: ArticleSeq,
    pub(super) c: f64,
    pub(super) move_member: bool,
    pub(super) split_children: Vec<ArticleSeq>,
}

/// A verified edge of the arriving article to a live article.
type Verified = (ArticleSeq, Overlap, EdgeKind);

/// Whether the arriving article is the smaller side of an edge (its
/// containment in the other is the larger).
fn smaller_side(o: &Overlap) -> bool {
    o.containment_a_in_b() >= o.containment_b_in_a()
}

impl Prepared {
    /// Tokens, learnable sentences and features of an article's text and
    /// headline, by `fx`, whose normalizer knows `learned_at` learned
    /// sentences: as an article arrives, and again as a load recomputes it.
    pub(super) fn new(
        fx: &FeatureExtractor,
        text: &str,
        title: Option<&str>,
        learned_at: usize,
    ) -> Prepared {
        let tokenized = fx.tokenize(text);
        let b = &fx.config().normalize.boilerplate;
        let sentences = if b.learn {
            normalize::learnable_sentences(&tokenized, b.max_line_words)
        } else {
            Vec::new()
        };
        let mut p = Prepared {
            tokenized,
            sentences,
            learned_at,
            set: Vec::new(),
            figures: Figures::default(),
            fingerprints: Vec::new(),
            band_keys: Vec::new(),
            raw: Default::default(),
        };
        p.featurize(fx, text, title, learned_at);
        p
    }

    /// Shingles, signature, fingerprints and story terms by `fx` (whose
    /// normalizer knows `learned_at` learned sentences).
    pub(super) fn featurize(
        &mut self,
        fx: &FeatureExtractor,
        text: &str,
        title: Option<&str>,
        learned_at: usize,
    ) {
        let mut signature = vec![u64::MAX; fx.signature_len()];
        let f = fx.extract(
            &self.tokenized,
            text,
            title,
            &mut Default::default(),
            &mut signature,
        );
        self.learned_at = learned_at;
        self.set = f.set;
        self.band_keys = fx.band_keys(&signature, &f.figures);
        self.figures = f.figures;
        self.fingerprints = f.fingerprints;
        self.raw = f.raw;
    }
}

impl FeedIndex {
    pub(super) fn prepare(&self, doc: &Document) -> Prepared {
        Prepared::new(
            &self.fx,
            &doc.text,
            doc.title.as_deref(),
            self.learned.len(),
        )
    }

    /// Shingles, signature, fingerprints and story terms with the current
    /// boilerplate model.
    pub(super) fn features(&self, doc: &Document, p: &mut Prepared) {
        p.featurize(
            &self.fx,
            &doc.text,
            doc.title.as_deref(),
            self.learned.len(),
        );
    }

    /// Stories the clock `clock` and arrival `seq` put out of the window.
    pub(super) fn expired(&self, clock: Option<i64>, seq: ArticleSeq) -> Vec<StoryKey> {
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
                .take_while(|&&(q, _)| seq.since(q) > self.feed.window_arrivals)
                .map(|&(_, s)| s),
        );
        out.sort_unstable();
        out
    }

    /// Decides where an article goes, without changing the index: the time
    /// window, the group it joins (candidates, exact verification, the
    /// batch's edge rules), the links it cuts, and the story it joins.
    pub(super) fn plan(&self, doc: &Document, p: &Prepared, seq: ArticleSeq) -> Plan {
        let published = doc.published.map(|t| t.seconds());
        let clock = match (self.clock, published) {
            (Some(c), Some(t)) => Some(c.max(t)),
            (c, t) => c.or(t),
        };
        let expired = self.expired(clock, seq);
        let live_story = |s: StoryKey| expired.binary_search(&s).is_err();

        let candidates = self.duplicate_candidates(p);
        let (edges, shared) = self.verified_edges(p, &candidates, published, &live_story);
        // The article's shingles in text order, computed at most once and
        // only when a guard needs them.
        let order_cell = std::cell::OnceCell::new();
        let text_order = || order_cell.get_or_init(|| self.fx.text_order(&p.tokenized, &doc.text));
        let best_edge = self.best_edge(doc, p, &edges, &text_order);
        let cut = best_edge.and_then(|e| self.links_cut(e));
        let joins = best_edge.filter(|_| !cut.as_ref().is_some_and(|c| c.move_member));
        let cfg = self.fx.config();
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
            let e = self.entry(*y);
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

        let (terms, dfs, vector, entities) = self.story_vectors(p);
        // Groups move as units: joining a group joins its story.
        let (top, story) = match &group {
            Some((g, _)) => (Vec::new(), Some((self.group(*g).story, None))),
            None => {
                let top = self.top_terms(&terms, &dfs, &vector);
                let story = self
                    .best_story(&top, &vector, &entities, published, &live_story)
                    .map(|(s, m)| (s, Some(m)));
                (top, story)
            }
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

    /// Duplicate candidates: articles sharing an LSH band (the most recent
    /// [`Config::max_bucket`] of a bucket) or enough fingerprints (the
    /// containment-candidate test), in arrival order.
    fn duplicate_candidates(&self, p: &Prepared) -> Vec<ArticleSeq> {
        let cfg = self.fx.config();
        let mut cands: Vec<ArticleSeq> = Vec::new();
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
        cands
    }

    /// Verifies the candidates in live stories exactly and applies the
    /// batch's edge rules: weak containment edges of the article are set
    /// aside ([`verify::superseded`]), and joining a group of several by a
    /// containment-only edge needs a second edge into that group (an excerpt
    /// that is mostly a stock passage is contained in articles of many
    /// stories, and a round-up page contains several stories; one such edge
    /// must not chain them). Returns the edges, strongest first, and every
    /// candidate's intersection size (for the completeness scores of the
    /// group joined).
    fn verified_edges(
        &self,
        p: &Prepared,
        candidates: &[ArticleSeq],
        published: Option<i64>,
        live_story: &dyn Fn(StoryKey) -> bool,
    ) -> (Vec<Verified>, Vec<(ArticleSeq, usize)>) {
        let cfg = self.fx.config();
        let mut edges: Vec<Verified> = Vec::new();
        let mut shared: Vec<(ArticleSeq, usize)> = Vec::with_capacity(candidates.len());
        for &y in candidates {
            let e = self.entry(y);
            if !live_story(self.group(e.group).story) {
                continue;
            }
            if verify::too_far_apart(cfg, verify::time_gap(published, e.published)) {
                continue;
            }
            let o = Overlap::of(&p.set, &e.set);
            shared.push((y, o.shared));
            if let Some((o, kind)) = verify::judge(cfg, o, &p.figures, &e.figures) {
                edges.push((y, o, kind));
            }
        }
        let best = edges
            .iter()
            .filter(|(_, o, _)| smaller_side(o))
            .map(|(_, o, _)| o.containment_a_in_b())
            .fold(0.0f64, f64::max);
        // Groups reached by any verified edge, before the weaker ones are set
        // aside (for the second-edge rule).
        let mut reached: Vec<(GroupKey, ArticleSeq)> = edges
            .iter()
            .map(|(y, _, _)| (self.entry(*y).group, *y))
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
        edges.retain(|(y, o, _)| {
            let g = self.entry(*y).group;
            o.jaccard() >= cfg.jaccard_threshold
                || self.group(g).members.len() == 1
                || reached.iter().any(|&(rg, z)| rg == g && z != *y)
        });
        (edges, shared)
    }

    /// The edge the article joins by, if any. With edges into several
    /// groups the article may be a page holding several stories: as in the
    /// batch guard, it joins the lead part (the most strongly tied group,
    /// or, among groups covering disjoint regions of it, the one its
    /// headline names or whose region starts first). A page that contains
    /// another article only in its later part, by a containment-only edge,
    /// is likely a round-up whose lead story has not arrived yet: it starts
    /// a group of its own.
    fn best_edge<'e>(
        &self,
        doc: &Document,
        p: &Prepared,
        edges: &'e [Verified],
        text_order: &dyn Fn() -> &'e Vec<u64>,
    ) -> Option<&'e Verified> {
        let cfg = self.fx.config();
        let group_of = |y: ArticleSeq| self.entry(y).group;
        let mut parts: Vec<GroupKey> = edges.iter().map(|(y, _, _)| group_of(*y)).collect();
        parts.sort_unstable();
        parts.dedup();
        let lead = if parts.len() > 1 {
            let part_sets: Vec<Vec<&[u64]>> = parts
                .iter()
                .map(|&g| {
                    edges
                        .iter()
                        .filter(|(y, _, _)| group_of(*y) == g)
                        .map(|(y, _, _)| self.entry(*y).set.as_slice())
                        .collect()
                })
                .collect();
            let page_title = crate::headline::title_terms(doc.title.as_deref());
            let titles = crate::cluster::title_scores(
                &page_title,
                parts.iter().map(|&g| {
                    edges
                        .iter()
                        .filter(move |(y, _, _)| group_of(*y) == g)
                        .map(|(y, _, _)| self.entry(*y).title_terms.as_slice())
                }),
            );
            let (keep, _) = crate::cluster::lead_part(
                &p.set,
                &part_sets,
                text_order(),
                cfg.hub_region_overlap,
                &titles,
            );
            Some(parts[keep])
        } else {
            None
        };
        let mut best = edges
            .iter()
            .find(|(y, _, _)| lead.is_none_or(|g| group_of(*y) == g))?;
        if self.off_a_pages_lead(doc, p, best, edges) {
            // Another story of a page already placed: not joined through
            // the page, as the batch guard cuts that edge.
            let page_group = group_of(best.0);
            best = edges.iter().find(|(y, _, _)| group_of(*y) != page_group)?;
        }
        let (y, o, _) = best;
        if o.jaccard() < cfg.jaccard_threshold && !smaller_side(o) {
            let order = text_order();
            let sy = &self.entry(*y).set;
            let start = order
                .iter()
                .position(|h| sy.binary_search(h).is_ok())
                .unwrap_or(0);
            if start as f64 > LATE_START * order.len() as f64 {
                return None;
            }
        }
        Some(best)
    }

    /// Whether the member `y` of the edge `best` is a multi-story page that
    /// was placed before the article, and the article is not of its lead
    /// story: the check the batch guard makes of every page, made here when
    /// the article reaches `y` alone of its group (as a page's other story
    /// reaches the page and none of the reprints of its lead) and is the
    /// smaller side. The page's parts are its links in the group (its
    /// parent and the members that joined through it) and the article,
    /// told apart as the batch tells them ([`crate::cluster::lead_part`]).
    fn off_a_pages_lead(
        &self,
        doc: &Document,
        p: &Prepared,
        (y, o, _): &Verified,
        edges: &[Verified],
    ) -> bool {
        let page = self.entry(*y);
        let group = self.group(page.group);
        if group.members.len() < 2
            || !smaller_side(o)
            || edges
                .iter()
                .any(|(z, _, _)| z != y && self.entry(*z).group == page.group)
        {
            return false;
        }
        let links: Vec<&Entry> = group
            .members
            .iter()
            .filter(|&&m| m != *y && (page.parent == Some(m) || self.entry(m).parent == Some(*y)))
            .map(|&m| self.entry(m))
            .collect();
        if links.is_empty() {
            return false;
        }
        let parts: Vec<Vec<&[u64]>> = vec![
            links.iter().map(|e| e.set.as_slice()).collect(),
            vec![p.set.as_slice()],
        ];
        let title = crate::headline::title_terms(doc.title.as_deref());
        let titles = crate::cluster::title_scores(
            &page.title_terms,
            [
                links
                    .iter()
                    .map(|e| e.title_terms.as_slice())
                    .collect::<Vec<_>>(),
                vec![title.as_slice()],
            ]
            .into_iter()
            .map(Vec::into_iter),
        );
        let order = self
            .fx
            .text_order(&self.fx.tokenize(&page.text), &page.text);
        let cfg = self.fx.config();
        let (lead, cut) =
            crate::cluster::lead_part(&page.set, &parts, &order, cfg.hub_region_overlap, &titles);
        lead == 0 && cut[1]
    }

    /// The links of the member joined through that the article shows to be
    /// weak ([`Cut`]): the article contains that member by a
    /// containment-only edge, far better than the member's own links.
    fn links_cut(&self, (y, o, _): &Verified) -> Option<Cut> {
        let cfg = self.fx.config();
        let margin = cfg.best_match_margin;
        let c = o.containment_b_in_a();
        if o.jaccard() >= cfg.jaccard_threshold || c < o.containment_a_in_b() {
            return None;
        }
        let e = self.entry(*y);
        let move_member = matches!(e.link, Some((c0, true)) if c >= c0 + margin);
        let split_children: Vec<ArticleSeq> = self
            .group(e.group)
            .members
            .iter()
            .copied()
            .filter(|&m| {
                let em = self.entry(m);
                em.parent == Some(*y) && matches!(em.link, Some((c1, false)) if c >= c1 + margin)
            })
            .collect();
        (move_member || !split_children.is_empty()).then_some(Cut {
            member: *y,
            c,
            move_member,
            split_children,
        })
    }

    /// The article's distinct terms (sorted) with their document
    /// frequencies counting it, its story vector and its names-and-numbers
    /// vector, weighed with the frequencies seen so far plus this article.
    fn story_vectors(&self, p: &Prepared) -> (Vec<u64>, Vec<u64>, SparseVec, SparseVec) {
        let sc = &self.fx.config().story;
        let terms: Vec<u64> = p.raw.terms.clone();
        let n = self.n_docs + 1;
        // One hash probe per term; weighing takes the frequencies by the
        // terms' positions.
        let dfs: Vec<u64> = terms
            .iter()
            .map(|t| self.df.get(t).copied().unwrap_or(0) + 1)
            .collect();
        let idf_of = |i: usize, _| signals::idf(n, dfs[i]);
        let vector = signals::weigh(
            p.raw.counts(),
            &p.raw.entities,
            &idf_of,
            sc.entity_boost,
            sc.max_terms,
        );
        let entities = signals::entity_part(&vector, &p.raw.entities);
        (terms, dfs, vector, entities)
    }

    /// The top terms a new group is indexed under for story candidates: the
    /// heaviest terms not too common (the few terms above the document
    /// frequency limit are tested by a sorted list of them).
    fn top_terms(&self, terms: &[u64], dfs: &[u64], vector: &SparseVec) -> Vec<u64> {
        let sc = &self.fx.config().story;
        if !sc.enabled {
            return Vec::new();
        }
        let max_df = sc.max_df(self.n_docs + 1);
        let common: Vec<u64> = terms
            .iter()
            .zip(dfs)
            .filter(|&(_, &d)| d > max_df)
            .map(|(&t, _)| t)
            .collect();
        story::top_terms(vector, sc.top_terms, &|t| common.binary_search(&t).is_err())
    }

    /// The best live story for a new group, by mean pair score.
    fn best_story(
        &self,
        top: &[u64],
        vector: &SparseVec,
        entities: &SparseVec,
        published: Option<i64>,
        live_story: &dyn Fn(StoryKey) -> bool,
    ) -> Option<(StoryKey, StoryMatch)> {
        let sc = &self.fx.config().story;
        if !sc.enabled || top.is_empty() {
            return None;
        }
        let mut met: Vec<GroupKey> = Vec::new();
        for t in top {
            if let Some(list) = self.terms.get(t)
                && list.len() <= sc.max_posting
            {
                met.extend_from_slice(list);
            }
        }
        met.sort_unstable();
        // Per story: sum of pair scores, and the best pair.
        let mut per_story: BTreeMap<StoryKey, (f64, f64, GroupKey, PairSignals)> = BTreeMap::new();
        for run in met.chunk_by(|a, b| a == b) {
            if run.len() < sc.min_shared_terms {
                continue;
            }
            let g = self.group(run[0]);
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
            .map(|(s, (sum, _, g, sig))| (s, sum / self.story(s).groups.len() as f64, g, sig))
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
}
