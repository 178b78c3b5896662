//! Duplicate groups from verified edges, with a guard against chaining.
//!
//! Groups are the connected components of the verified duplicate edges,
//! after one guard: a document whose neighbours fall into separate parts
//! (neighbours not linked to each other) that cover **disjoint regions** of
//! it is a page holding several stories, such as an aggregator page or a
//! round-up. It keeps its edges to the part that covers the earliest text of
//! the page (its lead story) and its edges to the other parts are cut, so the
//! page cannot glue two stories' groups together.
//!
//! Parts that cover overlapping regions (several truncations of one dispatch
//! all share its lede) are left alone, unless a part's strongest tie to the
//! document (its best overlap coefficient) is clearly weaker than the lead
//! part's: then the shared region is stock text ("X said it filed a
//! registration statement with the Securities and Exchange Commission") that
//! a short document shares with an unrelated story, and that edge is cut.

use rayon::prelude::*;

use crate::lsh::{pack, unpack};
use crate::similarity::for_each_match;

/// Disjoint-set forest with path halving and union by size.
#[derive(Debug, Clone)]
pub(crate) struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        if self.size[ra as usize] < self.size[rb as usize] {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb as usize] = ra;
        self.size[ra as usize] += self.size[rb as usize];
        true
    }

    /// Components as sorted member lists, ordered by their smallest member.
    pub fn components(&mut self) -> Vec<Vec<usize>> {
        let n = self.parent.len();
        let mut index = vec![u32::MAX; n];
        let mut out: Vec<Vec<usize>> = Vec::new();
        for x in 0..n {
            let r = self.find(x as u32) as usize;
            if index[r] == u32::MAX {
                index[r] = out.len() as u32;
                out.push(Vec::new());
            }
            out[index[r] as usize].push(x);
        }
        out
    }
}

/// The indices of `pairs` (packed, see [`pack`]) ordered by the component
/// of the graph they form (then by index), so that work on the pairs of one
/// component, such as the reprints of one text, reads the same documents'
/// data one after the other while it is in cache.
pub(crate) fn component_order(n: usize, pairs: &[u64]) -> Vec<u32> {
    let mut uf = UnionFind::new(n);
    for &p in pairs {
        let (a, b) = unpack(p);
        uf.union(a, b);
    }
    let root: Vec<u32> = (0..n as u32).map(|i| uf.find(i)).collect();
    crate::index::order_by_key(pairs.len(), |k| root[unpack(pairs[k]).0 as usize])
}

/// Neighbourhoods larger than this are not examined for hubs: a bound on
/// the work for pathological inputs. It is far above the degree a page
/// reaches when each of its stories has hundreds of reprints (a two-story
/// aggregator page of two dispatches reprinted 600 times each has a degree
/// near 1,200), which the guard must still see.
const MAX_HUB_DEGREE: usize = 20_000;

/// A part of a neighbourhood whose best tie is weaker than the lead part's by
/// more than this, over the same region, is cut: the region is stock text
/// that the document shares with an unrelated story.
const STRENGTH_MARGIN: f64 = 0.15;
/// On a page without a headline, a part whose region is under this share of
/// the largest part's region is a teaser, not the page's lead story.
const TEASER_SHARE: f64 = 0.25;
/// On a page without a headline, a part none of whose members has at least
/// this share of its text on the page is a teaser, when another part's
/// member has.
const WHOLE_SHARE: f64 = 0.5;
/// A part is a page's lead by its headlines when they match the page's
/// headline at least this well (word Jaccard) …
const TITLE_LEAD: f64 = 0.5;
/// … and every other part's match is lower by at least this much.
const TITLE_MARGIN: f64 = 0.3;

/// Among the `candidates` (parts covering disjoint regions of a page), the
/// one whose headlines clearly match the page's own, if any.
fn title_lead(titles: &[f64], candidates: &[usize]) -> Option<usize> {
    let score = |k: usize| titles.get(k).copied().unwrap_or(0.0);
    let best = candidates
        .iter()
        .copied()
        .max_by(|&a, &b| score(a).total_cmp(&score(b)).then(b.cmp(&a)))?;
    let clear = candidates
        .iter()
        .all(|&k| k == best || score(k) <= score(best) - TITLE_MARGIN);
    (score(best) >= TITLE_LEAD && clear).then_some(best)
}

/// How well each part's headlines match a page's: the best word Jaccard
/// between the page's headline terms and those of the part's members.
/// Empty when the page has no headline.
pub(crate) fn title_scores<'a, I>(page: &[u64], parts: impl Iterator<Item = I>) -> Vec<f64>
where
    I: Iterator<Item = &'a [u64]>,
{
    if page.is_empty() {
        return Vec::new();
    }
    parts
        .map(|members| {
            members
                .map(|t| crate::headline::title_overlap(page, t))
                .fold(0.0, f64::max)
        })
        .collect()
}

/// A shingle of a document is in a part's region when at least this share of
/// the part's members hold it.
const REGION_SUPPORT: f64 = 0.1;

/// A neighbour holding less than this share of a document's shingles, over
/// less than this share of its text, covers only a part of it. When the
/// neighbourhood is one linked part, such partial neighbours are what can
/// still show several stories: other copies of the same multi-story page
/// link every part together, but each story's own reprints cover only its
/// region of the page.
const PARTIAL_COVER: f64 = 0.9;

/// Two neighbours that together cover up to this much more than the whole
/// document may still cover disjoint parts of it (shingle counts of a
/// region differ a little from copy to copy).
const DISJOINT_SLACK: f64 = 0.05;

/// How many of the neighbours covering least of a document are tried as one
/// side of a disjoint pair.
const DISJOINT_TRIES: usize = 16;

/// A page found to hold several stories, and the edges cut from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hub {
    pub doc: usize,
    /// The neighbours whose edges to `doc` were cut.
    pub cut: Vec<usize>,
    /// The neighbours of the part it kept (its lead story), sorted.
    pub kept: Vec<usize>,
}

/// What grouping produced.
pub(crate) struct Grouping {
    /// Groups as sorted member lists, ordered by smallest member.
    pub groups: Vec<Vec<usize>>,
    /// Multi-story pages and the edges cut from them.
    pub hubs: Vec<Hub>,
}

/// Groups `n` documents by the verified `edges` (packed, sorted pairs).
/// `sets` are sorted shingle sets; `ordered(p)` gives document `p`'s
/// shingles in text order; `shared[i]` is the size of the intersection of
/// the sets of the two documents of `edges[i]`.
pub(crate) fn group(
    n: usize,
    edges: &[u64],
    sets: &[Vec<u64>],
    ordered: &(dyn Fn(usize) -> Vec<u64> + Sync),
    titles: &(dyn Fn(usize) -> Vec<u64> + Sync),
    shared: &[u32],
    region_overlap: f64,
) -> Grouping {
    // Neighbours, sorted, each with the size of the intersection.
    let mut links: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (&e, &s) in edges.iter().zip(shared) {
        let (a, b) = unpack(e);
        links[a as usize].push((b, s));
        links[b as usize].push((a, s));
    }
    for l in &mut links {
        l.sort_unstable();
    }
    let adj: Vec<Vec<u32>> = links
        .iter()
        .map(|l| l.iter().map(|&(u, _)| u).collect())
        .collect();
    let shared_with: Vec<Vec<u32>> = links
        .into_iter()
        .map(|l| l.into_iter().map(|(_, s)| s).collect())
        .collect();
    let page = PageText { ordered, titles };
    let mut hubs: Vec<Hub> = (0..n)
        .into_par_iter()
        .filter_map(|p| find_hub(p, &adj, &adj, &shared_with[p], sets, &page, region_overlap))
        .collect();
    // A second look, without the links the pages found so far cut, at the
    // documents next to them: another copy of a multi-story page can seem
    // one story only because such a page links its stories' reprints.
    let again = second_look(n, &hubs, &adj);
    if !again.is_empty() {
        let unlinked = without_cuts(&adj, &hubs);
        let more: Vec<Hub> = again
            .into_par_iter()
            .filter_map(|p| {
                let mut hub = find_hub(
                    p,
                    &adj,
                    &unlinked,
                    &shared_with[p],
                    sets,
                    &page,
                    region_overlap,
                )?;
                // Links already cut from the other side are not cut again.
                hub.cut
                    .retain(|&x| unlinked[p].binary_search(&(x as u32)).is_ok());
                (!hub.cut.is_empty()).then_some(hub)
            })
            .collect();
        hubs.extend(more);
        hubs.sort_unstable_by_key(|h| h.doc);
    }
    cut_between_leads(&mut hubs, &adj);
    let mut cut: Vec<u64> = hubs
        .iter()
        .flat_map(|h| h.cut.iter().map(move |&x| pack(h.doc as u32, x as u32)))
        .collect();
    cut.sort_unstable();
    let mut uf = UnionFind::new(n);
    for &e in edges {
        if cut.binary_search(&e).is_err() {
            let (a, b) = unpack(e);
            uf.union(a, b);
        }
    }
    Grouping {
        groups: uf.components(),
        hubs,
    }
}

/// The lead part of a document's neighbourhood, and which parts to cut.
///
/// `sp` is the document's shingle set and `text_order` its shingles in text
/// order; each part is the shingle sets of a group of neighbours that belong
/// together. The lead part is the most strongly tied (best overlap
/// coefficient), or, among parts covering disjoint regions of the document
/// (overlap below `region_overlap`), the one whose region starts first: the
/// lead story of a multi-story page. A part is cut when its region is
/// disjoint from the lead's, or when it is tied more weakly by more than
/// [`STRENGTH_MARGIN`] over the same region (stock text).
///
/// `titles[k]` is how well part `k`'s headlines match the document's own
/// (see [`title_scores`]; empty when unknown): a part whose headlines match
/// it ([`TITLE_LEAD`]) clearly better than every other part's is the lead,
/// wherever its region is. A page's headline names its own story; teasers
/// of other stories come with other headlines.
pub(crate) fn lead_part(
    sp: &[u64],
    parts: &[Vec<&[u64]>],
    text_order: &[u64],
    region_overlap: f64,
    titles: &[f64],
) -> (usize, Vec<bool>) {
    // The region of the document each part covers: the shingles that at
    // least a tenth of its members hold ([`REGION_SUPPORT`]; any member, for
    // parts under twenty), so that a few members running into another
    // story's text (copies of the page cut short) do not stretch it.
    let regions: Vec<Vec<u64>> = parts
        .iter()
        .map(|part| {
            let mut held = vec![0u32; sp.len()];
            for sx in part {
                for_each_match(sp, sx, |i, _| held[i] += 1);
            }
            let support = ((REGION_SUPPORT * part.len() as f64).floor() as u32).max(1);
            sp.iter()
                .zip(&held)
                .filter(|&(_, &c)| c >= support)
                .map(|(&h, _)| h)
                .collect()
        })
        .collect();
    let first_pos = |r: &Vec<u64>| {
        text_order
            .iter()
            .position(|h| r.binary_search(h).is_ok())
            .unwrap_or(usize::MAX)
    };
    let pos: Vec<usize> = regions.iter().map(first_pos).collect();
    // How strongly each part is tied: its best overlap coefficient; and how
    // much of its best-covered member the page holds.
    let (strength, on_page): (Vec<f64>, Vec<f64>) = parts
        .iter()
        .map(|part| {
            part.iter()
                .map(|sx| {
                    let shared = crate::similarity::intersection_size(sx, sp) as f64;
                    (
                        shared / sx.len().min(sp.len()).max(1) as f64,
                        shared / sx.len().max(1) as f64,
                    )
                })
                .fold((0.0, 0.0), |(a, b), (x, y)| {
                    (f64::max(a, x), f64::max(b, y))
                })
        })
        .unzip();
    let overlapping = |a: usize, b: usize| {
        let shared = crate::similarity::intersection_size(&regions[a], &regions[b]);
        let smaller = regions[a].len().min(regions[b].len()).max(1);
        shared as f64 >= region_overlap * smaller as f64
    };
    // The strongest part; among parts of equal strength (rounded to 1e-9),
    // the one covering the earliest text.
    let keep = (0..parts.len())
        .min_by_key(|&k| {
            (
                std::cmp::Reverse((strength[k] * 1e9).round() as u64),
                pos[k],
                k,
            )
        })
        .unwrap_or(0);
    // With disjoint regions, the lead story of a multi-story page is the
    // part whose headlines clearly match the page's own; failing that, the
    // one that starts first. A page without a headline cannot say which
    // story is its own: there a region under [`TEASER_SHARE`] of the
    // largest is taken for a teaser (a headline and a line or two of
    // another story, as round-up pages carry them above their own story),
    // never the lead. (With headlines, that size rule costs more than it
    // gains: an aggregator page's lead story can be short beside the story
    // appended to it.)
    // Nor, on such a page, is a part whose stories are mostly not on the
    // page ([`WHOLE_SHARE`]) when another part's are: a teaser carries the
    // first lines of another story, the page's own story all of it.
    let candidates: Vec<usize> = (0..parts.len())
        .filter(|&k| !overlapping(k, keep))
        .chain(std::iter::once(keep))
        .collect();
    let largest = regions.iter().map(Vec::len).max().unwrap_or(0);
    let any_whole = candidates.iter().any(|&k| on_page[k] >= WHOLE_SHARE);
    let story_sized = |k: usize| {
        !titles.is_empty()
            || (regions[k].len() as f64 >= TEASER_SHARE * largest as f64
                && (!any_whole || on_page[k] >= WHOLE_SHARE))
    };
    let keep = title_lead(titles, &candidates).unwrap_or_else(|| {
        candidates
            .iter()
            .copied()
            .filter(|&k| story_sized(k))
            .min_by_key(|&k| (pos[k], k))
            .unwrap_or(keep)
    });
    let cut = (0..parts.len())
        .map(|k| {
            k != keep && (!overlapping(k, keep) || strength[k] < strength[keep] - STRENGTH_MARGIN)
        })
        .collect();
    (keep, cut)
}

/// What the guard reads of a document beyond its shingle set, computed
/// only for the pages it examines: its shingles in text order, and its
/// headline terms ([`crate::headline::title_terms`]).
pub(crate) struct PageText<'a> {
    pub ordered: &'a (dyn Fn(usize) -> Vec<u64> + Sync),
    pub titles: &'a (dyn Fn(usize) -> Vec<u64> + Sync),
}

/// The documents that are not pages found so far but are linked both to
/// what a page kept and to what it cut: only there can a second look, with
/// the page's cut links gone, find a page that the first did not.
fn second_look(n: usize, hubs: &[Hub], adj: &[Vec<u32>]) -> Vec<usize> {
    let mut is_hub = vec![false; n];
    for h in hubs {
        is_hub[h.doc] = true;
    }
    let meets = |u: usize, members: &[usize]| links_any(&adj[u], members);
    let mut look: Vec<usize> = hubs
        .iter()
        .flat_map(|h| {
            adj[h.doc]
                .iter()
                .map(|&u| u as usize)
                .filter(|&u| !is_hub[u] && meets(u, &h.cut) && meets(u, &h.kept))
        })
        .collect();
    look.sort_unstable();
    look.dedup();
    look
}

/// Whether the sorted adjacency `linked` holds any of the sorted `members`.
fn links_any(linked: &[u32], members: &[usize]) -> bool {
    let mut j = 0;
    linked.iter().any(|&v| {
        while j < members.len() && members[j] < v as usize {
            j += 1;
        }
        j < members.len() && members[j] == v as usize
    })
}

/// The adjacency without the edges the `hubs` cut.
fn without_cuts(adj: &[Vec<u32>], hubs: &[Hub]) -> Vec<Vec<u32>> {
    let mut out = adj.to_vec();
    for h in hubs {
        for &x in &h.cut {
            out[h.doc].retain(|&u| u as usize != x);
            out[x].retain(|&u| u as usize != h.doc);
        }
    }
    out
}

/// `adj[p]` is the neighbourhood of `p` examined; `links` tells which of
/// those neighbours are linked among themselves (`adj` itself, or `adj`
/// without the links pages already cut). `shared[i]` is the intersection
/// of `p`'s set with that of its `i`-th neighbour.
fn find_hub(
    p: usize,
    adj: &[Vec<u32>],
    links: &[Vec<u32>],
    shared: &[u32],
    sets: &[Vec<u64>],
    page: &PageText,
    region_overlap: f64,
) -> Option<Hub> {
    let ordered = page.ordered;
    let nb = &adj[p];
    if nb.len() < 2 || nb.len() > MAX_HUB_DEGREE {
        return None;
    }
    let order_cell = std::cell::OnceCell::new();
    let text_order = || order_cell.get_or_init(|| ordered(p));
    let parts = match linked_parts(nb, links) {
        // A linked part can still hold two stories, joined through copies
        // of the page itself (noisy or cut short): the largest is split by
        // region too, when it can be.
        Some(mut parts) => {
            let largest = (0..parts.len())
                .max_by_key(|&k| (parts[k].len(), std::cmp::Reverse(k)))
                .unwrap_or(0);
            if let Some(split) =
                region_parts(p, nb, &parts[largest], links, sets, &text_order, shared)
            {
                parts.swap_remove(largest);
                parts.extend(split);
                parts.sort_unstable();
            }
            parts
        }
        None => {
            let all: Vec<usize> = (0..nb.len()).collect();
            region_parts(p, nb, &all, links, sets, &text_order, shared)?
        }
    };
    let part_sets: Vec<Vec<&[u64]>> = parts
        .iter()
        .map(|part| {
            part.iter()
                .map(|&i| sets[nb[i] as usize].as_slice())
                .collect()
        })
        .collect();
    // The members' headlines are read only when the page has one.
    let page_title = (page.titles)(p);
    let member_titles: Vec<Vec<Vec<u64>>> = if page_title.is_empty() {
        Vec::new()
    } else {
        parts
            .iter()
            .map(|part| {
                part.iter()
                    .map(|&i| (page.titles)(nb[i] as usize))
                    .collect()
            })
            .collect()
    };
    let titles = title_scores(
        &page_title,
        member_titles.iter().map(|m| m.iter().map(Vec::as_slice)),
    );
    let (keep, cut_parts) = lead_part(&sets[p], &part_sets, text_order(), region_overlap, &titles);
    let mut cut: Vec<usize> = parts
        .iter()
        .zip(&cut_parts)
        .filter(|&(_, &c)| c)
        .flat_map(|(part, _)| part.iter().map(|&i| nb[i] as usize))
        .collect();
    if cut.is_empty() {
        return None;
    }
    cut.sort_unstable();
    let mut kept: Vec<usize> = parts[keep].iter().map(|&i| nb[i] as usize).collect();
    kept.sort_unstable();
    // A neighbour in no part (a copy of the whole page, or a stretch across
    // its stories) that is linked to what was cut and not to what was kept
    // tells the cut story: its link to the page would join the stories
    // again.
    let mut placed = vec![false; nb.len()];
    for &i in parts.iter().flatten() {
        placed[i] = true;
    }
    let meets = |u: u32, members: &[usize]| links_any(&links[u as usize], members);
    let also: Vec<usize> = (0..nb.len())
        .filter(|&i| !placed[i] && meets(nb[i], &cut) && !meets(nb[i], &kept))
        .map(|i| nb[i] as usize)
        .collect();
    if !also.is_empty() {
        cut.extend(also);
        cut.sort_unstable();
    }
    Some(Hub { doc: p, cut, kept })
}

/// Two linked pages that both hold the same stories, each leading with a
/// different one (one page's lead is among what the other cut), are cut
/// apart: each keeps its own lead, and the link between them would join the
/// stories again.
fn cut_between_leads(hubs: &mut [Hub], adj: &[Vec<u32>]) {
    let at: ahash::AHashMap<usize, usize> =
        hubs.iter().enumerate().map(|(k, h)| (h.doc, k)).collect();
    let meets = |a: &[usize], b: &[usize]| crate::similarity::intersection_size(a, b) > 0;
    let mut extra: Vec<(usize, usize)> = Vec::new();
    for (k, h) in hubs.iter().enumerate() {
        for &u in &adj[h.doc] {
            let Some(&j) = at.get(&(u as usize)) else {
                continue;
            };
            let o = &hubs[j];
            if o.doc > h.doc && (meets(&h.kept, &o.cut) || meets(&o.kept, &h.cut)) {
                extra.push((k, o.doc));
            }
        }
    }
    for (k, u) in extra {
        let cut = &mut hubs[k].cut;
        if let Err(i) = cut.binary_search(&u) {
            cut.insert(i, u);
        }
    }
}

/// The parts of a neighbourhood `nb` (sorted): components of the neighbours
/// linked among themselves, as lists of positions in `nb`; `None` when they
/// are all one part.
fn linked_parts(nb: &[u32], adj: &[Vec<u32>]) -> Option<Vec<Vec<usize>>> {
    // The common case, a document among many copies of one dispatch: some
    // neighbour is linked to all the others. The best-connected neighbour
    // is the one to try.
    let star = nb
        .iter()
        .copied()
        .max_by_key(|&u| (adj[u as usize].len(), std::cmp::Reverse(u)))?;
    let linked_to_star = |v: u32| v == star || adj[star as usize].binary_search(&v).is_ok();
    if nb.iter().all(|&v| linked_to_star(v)) {
        return None;
    }
    // The links of neighbour `i` to later neighbours are where its sorted
    // adjacency meets the later neighbours.
    let mut uf = UnionFind::new(nb.len());
    for (i, &u) in nb.iter().enumerate() {
        let au = &adj[u as usize];
        let later = &au[au.partition_point(|&w| w <= u)..];
        for_each_match(later, &nb[i + 1..], |_, y| {
            uf.union(i as u32, (i + 1 + y) as u32);
        });
    }
    let parts = uf.components();
    (parts.len() >= 2).then_some(parts)
}

/// The parts of neighbours that are one linked part (`among`, positions in
/// `nb`), by region: those covering only part of document `p`
/// ([`PARTIAL_COVER`]), on either side of the point of `p`'s text that best
/// separates the stretches they cover. `None` when no point has stretches on
/// both sides.
fn region_parts<'a>(
    p: usize,
    nb: &[u32],
    among: &[usize],
    adj: &[Vec<u32>],
    sets: &[Vec<u64>],
    text_order: &dyn Fn() -> &'a Vec<u64>,
    shared: &[u32],
) -> Option<Vec<Vec<usize>>> {
    let sp = &sets[p];
    let cover = |i: usize| shared[i] as f64 / sp.len().max(1) as f64;
    // Partial neighbours, those covering least first.
    let mut partial: Vec<(f64, usize)> = among
        .iter()
        .map(|&i| (cover(i), i))
        .filter(|&(c, _)| c < PARTIAL_COVER)
        .collect();
    partial.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    // A page of several stories has two partial neighbours that are not
    // linked and could cover disjoint parts of it. Tried from the few that
    // cover least, this passes over most documents at the cost of a few
    // look-ups, before any text is read.
    let disjoint_pair = partial.iter().take(DISJOINT_TRIES).any(|&(c0, i0)| {
        let u0 = &adj[nb[i0] as usize];
        partial.iter().any(|&(c, i)| {
            i != i0 && c0 + c <= 1.0 + DISJOINT_SLACK && u0.binary_search(&nb[i]).is_err()
        })
    });
    if !disjoint_pair {
        return None;
    }
    // Where each shingle of `p` first occurs in its text, by its rank in `sp`.
    let order = text_order();
    let max_span = PARTIAL_COVER * order.len() as f64;
    let mut first = vec![u32::MAX; sp.len()];
    for (k, h) in order.iter().enumerate() {
        if let Ok(i) = sp.binary_search(h) {
            first[i] = first[i].min(k as u32);
        }
    }
    let stretches: Vec<(u32, u32, usize)> = partial
        .iter()
        .filter_map(|&(_, i)| {
            let (mut lo, mut hi) = (u32::MAX, 0);
            for_each_match(sp, &sets[nb[i] as usize], |x, _| {
                if first[x] != u32::MAX {
                    lo = lo.min(first[x]);
                    hi = hi.max(first[x]);
                }
            });
            (lo <= hi && ((hi - lo + 1) as f64) < max_span).then_some((lo, hi, i))
        })
        .collect();
    // The page splits where the most neighbours' stretches end before and
    // the most start after: the start of its second story. Stretches across
    // that point are set aside (copies of the page cut short, which tell
    // nothing about either story).
    let n = stretches.len();
    let mut los: Vec<u32> = stretches.iter().map(|s| s.0).collect();
    let mut his: Vec<u32> = stretches.iter().map(|s| s.1).collect();
    los.sort_unstable();
    his.sort_unstable();
    let split = los
        .iter()
        .map(|&k| {
            let before = his.partition_point(|&h| h < k);
            let after = n - los.partition_point(|&l| l < k);
            (before.min(after), k)
        })
        .max_by_key(|&(m, k)| (m, std::cmp::Reverse(k)))
        .filter(|&(m, _)| m > 0)
        .map(|(_, k)| k)?;
    // Both sides hold a stretch: the split was chosen so.
    let side = |keep: &dyn Fn(&(u32, u32, usize)) -> bool| -> Vec<usize> {
        stretches.iter().filter(|s| keep(s)).map(|s| s.2).collect()
    };
    Some(vec![side(&|s| s.1 < split), side(&|s| s.0 >= split)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_components(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
        let mut label: Vec<usize> = (0..n).collect();
        loop {
            let mut changed = false;
            for &(a, b) in edges {
                let m = label[a].min(label[b]);
                if label[a] != m || label[b] != m {
                    label[a] = m;
                    label[b] = m;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for (x, l) in label.into_iter().enumerate() {
            groups.entry(l).or_default().push(x);
        }
        groups.into_values().collect()
    }

    proptest! {
        #[test]
        fn union_find_equals_naive(n in 1usize..40, raw in proptest::collection::vec((0usize..40, 0usize..40), 0..60)) {
            let edges: Vec<(usize, usize)> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
            let mut uf = UnionFind::new(n);
            for &(a, b) in &edges { uf.union(a as u32, b as u32); }
            prop_assert_eq!(uf.components(), naive_components(n, &edges));
        }
    }

    /// Groups documents given as their shingles in text order, linked by
    /// `edges`, with the default region overlap.
    fn group_texts(ordered: &[Vec<u64>], mut edges: Vec<u64>) -> Grouping {
        let sets: Vec<Vec<u64>> = ordered
            .iter()
            .map(|o| crate::shingle::into_set(o.clone()))
            .collect();
        edges.sort_unstable();
        let shared: Vec<u32> = edges
            .iter()
            .map(|&e| {
                let (a, b) = unpack(e);
                crate::similarity::intersection_size(&sets[a as usize], &sets[b as usize]) as u32
            })
            .collect();
        group(
            ordered.len(),
            &edges,
            &sets,
            &|p| ordered[p].clone(),
            &|_| Vec::new(),
            &shared,
            0.2,
        )
    }

    /// Each page found to hold several stories, with the neighbours cut.
    fn cuts(g: &Grouping) -> Vec<(usize, Vec<usize>)> {
        g.hubs.iter().map(|h| (h.doc, h.cut.clone())).collect()
    }

    /// Stories A (`0..100`) and B (`1000..1100`), as shingles in text order.
    fn two_stories() -> (Vec<u64>, Vec<u64>) {
        ((0..100).collect(), (1000..1100).collect())
    }

    /// Docs 0,1 tell story A; docs 2,3 story B; doc 4 is a page with A then B.
    #[test]
    fn aggregator_page_does_not_glue_two_stories() {
        let (a, b) = two_stories();
        let ordered = vec![
            a.clone(),
            a[..60].to_vec(),
            b.clone(),
            b[..50].to_vec(),
            a.iter().chain(&b[..70]).copied().collect(),
        ];
        let edges = vec![
            pack(0, 1),
            pack(2, 3),
            pack(0, 4),
            pack(1, 4),
            pack(2, 4),
            pack(3, 4),
        ];
        let g = group_texts(&ordered, edges);
        assert_eq!(g.groups, vec![vec![0, 1, 4], vec![2, 3]]);
        assert_eq!(cuts(&g), vec![(4, vec![2, 3])]);
    }

    /// A copy of a two-story page cut short in its lead story (5), and a
    /// page of the second story with a third (6), are linked to the whole
    /// page (4) across its stories. Neither may carry the second story's
    /// reprints into the first's group.
    #[test]
    fn partial_copies_of_a_page_do_not_glue_its_stories() {
        let (a, b) = two_stories();
        let c: Vec<u64> = (2000..2050).collect();
        let ordered = vec![
            a.clone(),
            a[..80].to_vec(),
            b.clone(),
            b[..90].to_vec(),
            a.iter().chain(&b).copied().collect(),
            a[..5].iter().chain(&b).copied().collect(),
            a[95..].iter().chain(&b).chain(&c).copied().collect(),
        ];
        let mut edges = vec![
            pack(0, 1),
            pack(2, 3),
            pack(0, 4),
            pack(1, 4),
            pack(2, 4),
            pack(3, 4),
            pack(4, 5),
            pack(0, 5),
            pack(1, 5),
            pack(2, 5),
            pack(3, 5),
            pack(2, 6),
            pack(3, 6),
            pack(4, 6),
            pack(5, 6),
        ];
        edges.sort_unstable();
        let g = group_texts(&ordered, edges);
        let group_of = |d: usize| g.groups.iter().position(|m| m.contains(&d));
        assert_ne!(group_of(0), group_of(2), "{:?}", g.groups);
        assert_eq!(group_of(0), group_of(4));
        assert_eq!(group_of(2), group_of(6));
    }

    /// Hundreds of reprints per story bring several copies of one
    /// two-story page, which link the two stories' reprints into one
    /// neighbourhood part; the stretch of the page each reprint covers
    /// still tells the stories apart.
    #[test]
    fn copies_of_a_two_story_page_do_not_glue_the_stories() {
        let (a, b) = two_stories();
        let page: Vec<u64> = a.iter().chain(&b).copied().collect();
        let ordered = vec![
            a.clone(),
            a[..80].to_vec(),
            b.clone(),
            b[..90].to_vec(),
            page.clone(),
            page.clone(),
            // A copy of the page cut short in its second story: its stretch
            // runs into both and is set aside.
            page[..150].to_vec(),
        ];
        let mut edges = vec![pack(0, 1), pack(2, 3), pack(4, 5), pack(4, 6), pack(5, 6)];
        for story in [0, 1, 2, 3] {
            for p in [4, 5, 6] {
                if !(p == 6 && story >= 2) {
                    edges.push(pack(story, p));
                }
            }
        }
        let g = group_texts(&ordered, edges);
        assert_eq!(g.groups, vec![vec![0, 1, 4, 5, 6], vec![2, 3]]);
        assert_eq!(cuts(&g), vec![(4, vec![2, 3]), (5, vec![2, 3])]);
    }

    /// A part's region is what enough of its members hold: one copy of a
    /// two-story page cut short in the second story, among twenty reprints
    /// of the first, does not make the stories overlap.
    #[test]
    fn a_few_members_running_into_the_next_story_do_not_stretch_a_region() {
        let (a, b) = two_stories();
        let page: Vec<u64> = a.iter().chain(&b).copied().collect();
        let cut_short: Vec<u64> = a.iter().chain(&b[..40]).copied().collect();
        let mut first: Vec<&[u64]> = vec![a.as_slice(); 20];
        first.push(cut_short.as_slice());
        let second: Vec<&[u64]> = vec![b.as_slice(); 5];
        let (keep, cut) = lead_part(&page, &[first, second], &page, 0.2, &[]);
        assert_eq!((keep, cut), (0, vec![false, true]));
    }

    /// Two copies of a two-story page, one leading with each story, are
    /// near-copies of each other; each keeps its own lead, and the link
    /// between them is cut too.
    #[test]
    fn pages_leading_with_different_stories_are_cut_apart() {
        let (a, b) = two_stories();
        let ordered = vec![
            a.clone(),
            a[..80].to_vec(),
            b.clone(),
            b[..90].to_vec(),
            a.iter().chain(&b).copied().collect(),
            b.iter().chain(&a).copied().collect(),
        ];
        let mut edges = vec![pack(0, 1), pack(2, 3), pack(4, 5)];
        for story in [0, 1, 2, 3] {
            edges.extend([pack(story, 4), pack(story, 5)]);
        }
        let g = group_texts(&ordered, edges);
        assert_eq!(g.groups, vec![vec![0, 1, 4], vec![2, 3, 5]]);
    }

    #[test]
    fn truncations_sharing_the_lede_stay_together() {
        // Doc 0 is the full text; 1 and 2 are truncations not linked to each other.
        let full: Vec<u64> = (0..100).collect();
        let ordered = vec![full.clone(), full[..40].to_vec(), full[..70].to_vec()];
        let g = group_texts(&ordered, vec![pack(0, 1), pack(0, 2)]);
        assert_eq!(g.groups, vec![vec![0, 1, 2]]);
        assert!(g.hubs.is_empty());
    }
}
