//! Not part of the public API: the batch pipeline's stages run one at a
//! time, so that the criterion benches (`benches/pipeline.rs`) can time
//! each. It may change in any release.

use crate::cluster::Grouping;
use crate::document::Document;
use crate::output::{DuplicateGroup, Edge};
use crate::pipeline::{Candidates, Clusterer, Features, Timer};
use crate::verify::EdgeKind;

/// One batch run kept stage by stage: each method runs one stage again
/// from the kept output of the stage before and returns what it counts.
pub struct Staged<'a> {
    clusterer: &'a Clusterer,
    docs: &'a [Document],
    features: Features,
    candidates: Candidates,
    /// Edges as verification leaves them (before the aggregator guard).
    verified: Vec<Edge>,
    /// Edges as grouping leaves them.
    edges: Vec<Edge>,
    grouping: Grouping,
    groups: Vec<DuplicateGroup>,
}

/// What each stage of a [`Staged`] run produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageCounts {
    /// Shingles over all documents' sets.
    pub shingles: usize,
    /// Distinct candidate pairs.
    pub candidates: usize,
    /// Duplicate edges (not superseded).
    pub edges: usize,
    /// Duplicate groups.
    pub groups: usize,
    /// Stories.
    pub stories: usize,
}

impl<'a> Staged<'a> {
    /// Runs every stage once.
    pub fn new(clusterer: &'a Clusterer, docs: &'a [Document]) -> Self {
        let t = &mut Timer::new();
        let features = clusterer.features(docs, t);
        let candidates = clusterer.candidates(&features, t);
        let verified = clusterer.verify(
            docs,
            &features.sets,
            &features.figures,
            &candidates.pairs,
            t,
        );
        let mut edges = verified.clone();
        let grouping = clusterer.group(docs, &features.fx, &features.sets, &mut edges, t);
        let (groups, _) = clusterer.canonicals(docs, &features.sets, &grouping, &edges, t);
        Staged {
            clusterer,
            docs,
            features,
            candidates,
            verified,
            edges,
            grouping,
            groups,
        }
    }

    /// The counts of the kept run.
    pub fn counts(&self) -> StageCounts {
        StageCounts {
            shingles: self.features.sets.iter().map(Vec::len).sum(),
            candidates: self.candidates.pairs.len(),
            edges: self
                .verified
                .iter()
                .filter(|e| e.kind != EdgeKind::Superseded)
                .count(),
            groups: self.groups.len(),
            stories: self.stories(),
        }
    }

    /// Tokens, boilerplate, shingles, signatures, fingerprints, story
    /// terms; returns the shingles.
    pub fn features(&self) -> usize {
        let f = self.clusterer.features(self.docs, &mut Timer::new());
        f.sets.iter().map(Vec::len).sum()
    }

    /// LSH and containment candidates; returns the distinct pairs.
    pub fn candidates(&self) -> usize {
        let c = self.clusterer.candidates(&self.features, &mut Timer::new());
        c.pairs.len()
    }

    /// Exact verification and the supersede rule; returns the edges kept.
    pub fn verify(&self) -> usize {
        let edges = self.clusterer.verify(
            self.docs,
            &self.features.sets,
            &self.features.figures,
            &self.candidates.pairs,
            &mut Timer::new(),
        );
        edges
            .iter()
            .filter(|e| e.kind != EdgeKind::Superseded)
            .count()
    }

    /// Grouping with the anti-chaining guards (on a copy of the verified
    /// edges, which it marks); returns the groups.
    pub fn group(&self) -> usize {
        let mut edges = self.verified.clone();
        let g = self.clusterer.group(
            self.docs,
            &self.features.fx,
            &self.features.sets,
            &mut edges,
            &mut Timer::new(),
        );
        g.groups.len()
    }

    /// Canonical members and assignments; returns the groups.
    pub fn canonicals(&self) -> usize {
        let (groups, _) = self.clusterer.canonicals(
            self.docs,
            &self.features.sets,
            &self.grouping,
            &self.edges,
            &mut Timer::new(),
        );
        groups.len()
    }

    /// The story level (vectors, candidates, linkage, canonicals); returns
    /// the stories.
    pub fn stories(&self) -> usize {
        let st = self
            .clusterer
            .stories(self.docs, &self.features, &self.groups, &mut Timer::new());
        st.stories.len()
    }
}
