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

use crate::lsh::pack;

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

/// Neighbourhoods larger than this are not examined for hubs (cost is
/// quadratic in the degree); such documents sit in very large groups of
/// copies, where the guard is not needed.
const MAX_HUB_DEGREE: usize = 400;

/// A part of a neighbourhood whose best tie is weaker than the lead part's by
/// more than this, over the same region, is cut: the region is stock text
/// that the document shares with an unrelated story.
const STRENGTH_MARGIN: f64 = 0.15;

/// A page found to hold several stories, and the edges cut from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hub {
    pub doc: usize,
    /// The neighbours whose edges to `doc` were cut.
    pub cut: Vec<usize>,
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
/// shingles in text order.
pub(crate) fn group(
    n: usize,
    edges: &[u64],
    sets: &[Vec<u64>],
    ordered: &(dyn Fn(usize) -> Vec<u64> + Sync),
    region_overlap: f64,
) -> Grouping {
    let mut adj: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &e in edges {
        let (a, b) = crate::lsh::unpack(e);
        adj[a as usize].push(b);
        adj[b as usize].push(a);
    }
    for a in &mut adj {
        a.sort_unstable();
    }
    let hubs: Vec<Hub> = (0..n)
        .into_par_iter()
        .filter_map(|p| find_hub(p, &adj, edges, sets, ordered, region_overlap))
        .collect();
    let mut cut: Vec<u64> = hubs
        .iter()
        .flat_map(|h| h.cut.iter().map(move |&x| pack(h.doc as u32, x as u32)))
        .collect();
    cut.sort_unstable();
    let mut uf = UnionFind::new(n);
    for &e in edges {
        if cut.binary_search(&e).is_err() {
            let (a, b) = crate::lsh::unpack(e);
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
pub(crate) fn lead_part(
    sp: &[u64],
    parts: &[Vec<&[u64]>],
    text_order: &[u64],
    region_overlap: f64,
) -> (usize, Vec<bool>) {
    // The region of the document each part covers, and where it starts.
    let regions: Vec<Vec<u64>> = parts
        .iter()
        .map(|part| {
            let mut r: Vec<u64> = part
                .iter()
                .flat_map(|sx| {
                    sp.iter()
                        .copied()
                        .filter(move |h| sx.binary_search(h).is_ok())
                })
                .collect();
            r.sort_unstable();
            r.dedup();
            r
        })
        .collect();
    let first_pos = |r: &Vec<u64>| {
        text_order
            .iter()
            .position(|h| r.binary_search(h).is_ok())
            .unwrap_or(usize::MAX)
    };
    let pos: Vec<usize> = regions.iter().map(first_pos).collect();
    // How strongly each part is tied: its best overlap coefficient.
    let strength: Vec<f64> = parts
        .iter()
        .map(|part| {
            part.iter()
                .map(|sx| {
                    let shared = crate::similarity::intersection_size(sx, sp);
                    shared as f64 / sx.len().min(sp.len()).max(1) as f64
                })
                .fold(0.0, f64::max)
        })
        .collect();
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
    // one that starts first.
    let keep = (0..parts.len())
        .filter(|&k| !overlapping(k, keep))
        .chain(std::iter::once(keep))
        .min_by_key(|&k| (pos[k], k))
        .unwrap_or(keep);
    let cut = (0..parts.len())
        .map(|k| {
            k != keep && (!overlapping(k, keep) || strength[k] < strength[keep] - STRENGTH_MARGIN)
        })
        .collect();
    (keep, cut)
}

fn find_hub(
    p: usize,
    adj: &[Vec<u32>],
    edges: &[u64],
    sets: &[Vec<u64>],
    ordered: &(dyn Fn(usize) -> Vec<u64> + Sync),
    region_overlap: f64,
) -> Option<Hub> {
    let nb = &adj[p];
    if nb.len() < 2 || nb.len() > MAX_HUB_DEGREE {
        return None;
    }
    // Parts: components of the neighbours linked among themselves.
    let mut uf = UnionFind::new(nb.len());
    for i in 0..nb.len() {
        for j in i + 1..nb.len() {
            if edges.binary_search(&pack(nb[i], nb[j])).is_ok() {
                uf.union(i as u32, j as u32);
            }
        }
    }
    let parts = uf.components();
    if parts.len() < 2 {
        return None;
    }
    let part_sets: Vec<Vec<&[u64]>> = parts
        .iter()
        .map(|part| {
            part.iter()
                .map(|&i| sets[nb[i] as usize].as_slice())
                .collect()
        })
        .collect();
    let (_, cut_parts) = lead_part(&sets[p], &part_sets, &ordered(p), region_overlap);
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
    Some(Hub { doc: p, cut })
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

    /// Docs 0,1 tell story A; docs 2,3 story B; doc 4 is a page with A then B.
    fn aggregator_fixture() -> (Vec<Vec<u64>>, Vec<Vec<u64>>, Vec<u64>) {
        let a: Vec<u64> = (0..100).collect();
        let b: Vec<u64> = (1000..1100).collect();
        let ordered = vec![
            a.clone(),
            a[..60].to_vec(),
            b.clone(),
            b[..50].to_vec(),
            a.iter().chain(&b[..70]).copied().collect(),
        ];
        let sets: Vec<Vec<u64>> = ordered
            .iter()
            .map(|o| crate::shingle::into_set(o.clone()))
            .collect();
        let mut edges = vec![
            pack(0, 1),
            pack(2, 3),
            pack(0, 4),
            pack(1, 4),
            pack(2, 4),
            pack(3, 4),
        ];
        edges.sort_unstable();
        (ordered, sets, edges)
    }

    #[test]
    fn aggregator_page_does_not_glue_two_stories() {
        let (ordered, sets, edges) = aggregator_fixture();
        let g = group(5, &edges, &sets, &|p| ordered[p].clone(), 0.2);
        assert_eq!(g.groups, vec![vec![0, 1, 4], vec![2, 3]]);
        assert_eq!(
            g.hubs,
            vec![Hub {
                doc: 4,
                cut: vec![2, 3]
            }]
        );
    }

    #[test]
    fn truncations_sharing_the_lede_stay_together() {
        // Doc 0 is the full text; 1 and 2 are truncations not linked to each other.
        let full: Vec<u64> = (0..100).collect();
        let ordered = [full.clone(), full[..40].to_vec(), full[..70].to_vec()];
        let sets: Vec<Vec<u64>> = ordered
            .iter()
            .map(|o| crate::shingle::into_set(o.clone()))
            .collect();
        let edges = vec![pack(0, 1), pack(0, 2)];
        let g = group(3, &edges, &sets, &|p| ordered[p].clone(), 0.2);
        assert_eq!(g.groups, vec![vec![0, 1, 2]]);
        assert!(g.hubs.is_empty());
    }
}
