//! The distributed steps (`wirecluster::distributed`) over Arrow columns:
//! every method takes and returns whole columns as buffers (`bytes` of
//! little-endian `int64` values, and variable-length columns as `int64`
//! offsets plus data), so a batch of rows crosses into Rust without a
//! Python object per row. `wirecluster/_columns.py` converts to and from
//! pyarrow arrays.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use wirecluster::distributed::{Shard, StoryPlace, ThreadMatch};
use wirecluster::parse_jsonl_line;

use crate::error;

/// A column of `int64` values.
fn ints(b: &[u8]) -> PyResult<Vec<i64>> {
    if !b.len().is_multiple_of(8) {
        return Err(error("an int64 column buffer is not a multiple of 8 bytes"));
    }
    Ok(b.chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

fn bytes<'py>(py: Python<'py>, v: &[i64]) -> Bound<'py, PyBytes> {
    let mut out = Vec::with_capacity(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    PyBytes::new(py, &out)
}

/// A variable-length column: `offsets` (n + 1 values) into `data`.
struct Var<'a> {
    offsets: Vec<i64>,
    data: &'a [u8],
}

impl<'a> Var<'a> {
    fn new(offsets: &[u8], data: &'a [u8]) -> PyResult<Self> {
        let offsets = ints(offsets)?;
        let ok = !offsets.is_empty()
            && offsets.windows(2).all(|w| w[0] <= w[1])
            && offsets.first().is_some_and(|&o| o >= 0)
            && offsets.last().is_some_and(|&o| o as usize <= data.len());
        if !ok {
            return Err(error("a variable-length column has bad offsets"));
        }
        Ok(Var { offsets, data })
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn get(&self, i: usize) -> &'a [u8] {
        &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn ints(&self, i: usize) -> PyResult<Vec<i64>> {
        ints(self.get(i))
    }
}

/// A variable-length column being built.
#[derive(Default)]
struct VarOut {
    offsets: Vec<i64>,
    data: Vec<u8>,
}

impl VarOut {
    fn new() -> Self {
        VarOut {
            offsets: vec![0],
            data: Vec::new(),
        }
    }

    fn push(&mut self, item: &[u8]) {
        self.data.extend_from_slice(item);
        self.offsets.push(self.data.len() as i64);
    }

    fn push_ints(&mut self, v: impl IntoIterator<Item = i64>) {
        for x in v {
            self.data.extend_from_slice(&x.to_le_bytes());
        }
        self.offsets.push(self.data.len() as i64);
    }

    fn into_py<'py>(self, py: Python<'py>) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        (bytes(py, &self.offsets), PyBytes::new(py, &self.data))
    }
}

/// A column of optional `int64` values being built: the values (0 where
/// absent) and one presence byte each.
#[derive(Default)]
struct OptInts {
    values: Vec<i64>,
    present: Vec<u8>,
}

impl OptInts {
    fn push(&mut self, v: Option<i64>) {
        self.values.push(v.unwrap_or(0));
        self.present.push(v.is_some() as u8);
    }

    fn into_py<'py>(self, py: Python<'py>) -> (Bound<'py, PyBytes>, Bound<'py, PyBytes>) {
        (bytes(py, &self.values), PyBytes::new(py, &self.present))
    }
}

/// Hashes are `u64`; columns hold them as `int64` with the same bits.
fn signed(v: &[u64]) -> impl Iterator<Item = i64> + '_ {
    v.iter().map(|&x| x as i64)
}

fn unsigned(v: Vec<i64>) -> Vec<u64> {
    v.into_iter().map(|x| x as u64).collect()
}

type Pair<'py> = (Bound<'py, PyBytes>, Bound<'py, PyBytes>);

/// `(term, documents)` pairs from a terms and a counts column.
fn frequencies(terms: &[u8], counts: &[u8]) -> PyResult<Vec<(u64, u64)>> {
    let (t, c) = (ints(terms)?, ints(counts)?);
    if t.len() != c.len() {
        return Err(error("terms and counts differ in length"));
    }
    Ok(t.into_iter()
        .zip(c)
        .map(|(t, c)| (t as u64, c as u64))
        .collect())
}

/// The runs of equal values of a sorted column, as `(start, end)`.
fn runs(keys: &[i64]) -> PyResult<Vec<(usize, usize)>> {
    if keys.windows(2).any(|w| w[0] > w[1]) {
        return Err(error("a component column is not sorted"));
    }
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i] != keys[start] {
            out.push((start, i));
            start = i;
        }
    }
    Ok(out)
}

/// The components of a sorted item column, each with the range of its
/// pairs in a sorted pair column: `(start, end, pairs_start, pairs_end)`.
fn component_runs(comp: &[i64], pair_comp: &[i64]) -> PyResult<Vec<(usize, usize, usize, usize)>> {
    if pair_comp.windows(2).any(|w| w[0] > w[1]) {
        return Err(error("a pair component column is not sorted"));
    }
    let mut p = 0;
    let mut out = Vec::new();
    for (s, e) in runs(comp)? {
        let c = comp[s];
        while p < pair_comp.len() && pair_comp[p] < c {
            p += 1;
        }
        let from = p;
        while p < pair_comp.len() && pair_comp[p] == c {
            p += 1;
        }
        out.push((s, e, from, p));
    }
    Ok(out)
}

/// The distributed steps with one config (`wirecluster::distributed::Shard`).
#[pyclass(name = "Shard", module = "wirecluster._wirecluster")]
pub(crate) struct PyShard {
    inner: Shard,
}

#[pymethods]
impl PyShard {
    #[new]
    #[pyo3(signature = (config_json=None, config_path=None))]
    fn new(config_json: Option<&str>, config_path: Option<std::path::PathBuf>) -> PyResult<Self> {
        let cfg = crate::config(config_json, config_path)?;
        Ok(PyShard {
            inner: Shard::new(cfg).map_err(error)?,
        })
    }

    /// The config as JSON.
    fn config_json(&self) -> PyResult<String> {
        crate::json(self.inner.config())
    }

    /// A copy that takes learned sentences (an int64 column).
    fn with_boilerplate(&self, learned: &[u8]) -> PyResult<Self> {
        let keys = unsigned(ints(learned)?);
        Ok(PyShard {
            inner: self.inner.clone().with_boilerplate(&keys),
        })
    }

    /// A copy that takes story-term document frequencies.
    fn with_document_frequencies(
        &self,
        n_docs: u64,
        terms: &[u8],
        counts: &[u8],
    ) -> PyResult<Self> {
        let df = frequencies(terms, counts)?;
        Ok(PyShard {
            inner: self.inner.clone().with_document_frequencies(n_docs, &df),
        })
    }

    fn min_sentence_docs(&self, n_docs: u64) -> u64 {
        self.inner.min_sentence_docs(n_docs)
    }

    /// Learned sentences from `(sentence, documents, contexts)` columns.
    fn learned_sentences<'py>(
        &self,
        py: Python<'py>,
        n_docs: u64,
        keys: &[u8],
        docs: &[u8],
        contexts: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (k, d, c) = (ints(keys)?, ints(docs)?, ints(contexts)?);
        let counts: Vec<(u64, u64, u64)> = k
            .iter()
            .zip(&d)
            .zip(&c)
            .map(|((&k, &d), &c)| (k as u64, d as u64, c as u64))
            .collect();
        let learned = self.inner.learned_sentences(n_docs, &counts);
        Ok(bytes(py, &signed(&learned).collect::<Vec<_>>()))
    }

    /// Parses JSONL lines: per line, an error message (empty when the line
    /// is a record, `-` for a blank line) and the record's id.
    fn parse<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>)> {
        let lines = Var::new(off, data)?;
        let (mut errors, mut ids) = (VarOut::new(), VarOut::new());
        py.allow_threads(|| {
            for i in 0..lines.len() {
                match parse_jsonl_line(lines.get(i)) {
                    None => {
                        errors.push(b"-");
                        ids.push(b"");
                    }
                    Some(Ok(d)) => {
                        errors.push(b"");
                        ids.push(d.id.as_bytes());
                    }
                    Some(Err(e)) => {
                        errors.push(e.to_string().as_bytes());
                        ids.push(b"");
                    }
                }
            }
        });
        Ok((errors.into_py(py), ids.into_py(py)))
    }

    /// Step 1 over JSONL lines (records only): `(sentence, context)` lists.
    fn sentence_contexts<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>)> {
        let lines = Var::new(off, data)?;
        let (mut keys, mut ctxs) = (VarOut::new(), VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..lines.len() {
                let d = document(lines.get(i))?;
                let pairs = self.inner.sentence_contexts(&d.text);
                keys.push_ints(pairs.iter().map(|p| p.0 as i64));
                ctxs.push_ints(pairs.iter().map(|p| p.1 as i64));
            }
            Ok(())
        })?;
        Ok((keys.into_py(py), ctxs.into_py(py)))
    }

    /// Step 2 over JSONL lines (records only): band keys, fingerprints and
    /// story terms (int64 lists), pair parts and document parts (binary).
    #[allow(clippy::type_complexity)]
    fn sketch<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>)> {
        let lines = Var::new(off, data)?;
        let mut cols: [VarOut; 5] = std::array::from_fn(|_| VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..lines.len() {
                let s = self.inner.sketch(&document(lines.get(i))?);
                cols[0].push_ints(signed(&s.band_keys));
                cols[1].push_ints(signed(&s.fingerprints));
                cols[2].push_ints(signed(&s.story_terms));
                cols[3].push(&s.pair_part);
                cols[4].push(&s.document);
            }
            Ok(())
        })?;
        let [a, b, c, d, e] = cols;
        Ok((
            a.into_py(py),
            b.into_py(py),
            c.into_py(py),
            d.into_py(py),
            e.into_py(py),
        ))
    }

    /// Per-document features over JSONL lines (records only): shingle
    /// sets, signatures, band keys, fingerprints and story terms (int64
    /// lists).
    #[allow(clippy::type_complexity)]
    fn features<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>)> {
        let lines = Var::new(off, data)?;
        let mut cols: [VarOut; 5] = std::array::from_fn(|_| VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..lines.len() {
                let f = self.inner.features(
                    &document(lines.get(i)).map_err(|e| error(format!("record {i}: {e}")))?,
                );
                cols[0].push_ints(signed(&f.shingles));
                cols[1].push_ints(signed(&f.signature));
                cols[2].push_ints(signed(&f.band_keys));
                cols[3].push_ints(signed(&f.fingerprints));
                cols[4].push_ints(signed(&f.story_terms));
            }
            Ok(())
        })?;
        let [a, b, c, d, e] = cols;
        Ok((
            a.into_py(py),
            b.into_py(py),
            c.into_py(py),
            d.into_py(py),
            e.into_py(py),
        ))
    }

    /// Step 3: the pairs of int64 lists, `(a, b)` columns: LSH buckets
    /// (`bucket=True`) or posting lists capped at `max_posting`.
    #[pyo3(signature = (off, data, bucket, max_posting=0))]
    fn list_pairs<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
        bucket: bool,
        max_posting: usize,
    ) -> PyResult<Pair<'py>> {
        let lists = Var::new(off, data)?;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..lists.len() {
                let mut m = unsigned(lists.ints(i)?);
                let pairs = if bucket {
                    self.inner.bucket_pairs(&mut m)
                } else {
                    Shard::posting_pairs(&mut m, max_posting)
                };
                for (x, y) in pairs {
                    a.push(x as i64);
                    b.push(y as i64);
                }
            }
            Ok(())
        })?;
        Ok((bytes(py, &a), bytes(py, &b)))
    }

    /// Step 3: whether each pair is a duplicate pair (one byte each), from
    /// the two pair-part columns and the shared fingerprints (-1 for an
    /// LSH pair).
    fn verify<'py>(
        &self,
        py: Python<'py>,
        a_off: &[u8],
        a_data: &[u8],
        b_off: &[u8],
        b_data: &[u8],
        shared: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (a, b, shared) = (
            Var::new(a_off, a_data)?,
            Var::new(b_off, b_data)?,
            ints(shared)?,
        );
        let out = py.allow_threads(|| -> PyResult<Vec<u8>> {
            (0..a.len())
                .map(|i| {
                    let s = usize::try_from(shared[i]).ok();
                    let ok = self.inner.verify(a.get(i), b.get(i), s).map_err(error)?;
                    Ok(ok as u8)
                })
                .collect()
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// Step 4 over whole components: documents `(comp, index, part)` and
    /// pairs `(comp, a, b)`, both sorted by component. Returns rows
    /// `(kind, index, terms, part, score_part)`: kind 0 an assignment, 1 a
    /// story unit.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn group_components<'py>(
        &self,
        py: Python<'py>,
        comp: &[u8],
        index: &[u8],
        part_off: &[u8],
        part_data: &[u8],
        pair_comp: &[u8],
        pair_a: &[u8],
        pair_b: &[u8],
    ) -> PyResult<(
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Pair<'py>,
        Pair<'py>,
        Pair<'py>,
    )> {
        let (comp, index, parts) = (ints(comp)?, ints(index)?, Var::new(part_off, part_data)?);
        let (pc, pa, pb) = (ints(pair_comp)?, ints(pair_a)?, ints(pair_b)?);
        let (mut kind, mut idx) = (Vec::new(), Vec::new());
        let (mut terms, mut out, mut score) = (VarOut::new(), VarOut::new(), VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for (s, e, from, to) in component_runs(&comp, &pc)? {
                let docs: Vec<(u64, &[u8])> =
                    (s..e).map(|i| (index[i] as u64, parts.get(i))).collect();
                let pairs: Vec<(u64, u64)> =
                    (from..to).map(|j| (pa[j] as u64, pb[j] as u64)).collect();
                let g = self.inner.group_component(&docs, &pairs).map_err(error)?;
                for (i, a) in g.assignments {
                    kind.push(0);
                    idx.push(i as i64);
                    terms.push_ints([]);
                    out.push(&a);
                    score.push(b"");
                }
                for u in g.units {
                    kind.push(1);
                    idx.push(u.key as i64);
                    terms.push_ints(signed(&u.top_terms));
                    out.push(&u.part);
                    score.push(&u.score_part);
                }
            }
            Ok(())
        })?;
        Ok((
            bytes(py, &kind),
            bytes(py, &idx),
            terms.into_py(py),
            out.into_py(py),
            score.into_py(py),
        ))
    }

    /// Step 5: the score of each unit pair (float64), from the two
    /// score-part columns.
    fn score_pairs<'py>(
        &self,
        py: Python<'py>,
        a_off: &[u8],
        a_data: &[u8],
        b_off: &[u8],
        b_data: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (a, b) = (Var::new(a_off, a_data)?, Var::new(b_off, b_data)?);
        let out = py.allow_threads(|| -> PyResult<Vec<u8>> {
            let mut out = Vec::with_capacity(a.len() * 8);
            for i in 0..a.len() {
                let s = self.inner.score_pair(a.get(i), b.get(i)).map_err(error)?;
                out.extend_from_slice(&s.to_le_bytes());
            }
            Ok(out)
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// Step 5: each unit's neighbours (int64 lists) from its scored
    /// candidates: list offsets (in elements), scores (float64) and the
    /// other units' keys.
    fn neighbours<'py>(
        &self,
        py: Python<'py>,
        offsets: &[u8],
        scores: &[u8],
        others: &[u8],
    ) -> PyResult<Pair<'py>> {
        let (offsets, scores, others) = (ints(offsets)?, ints(scores)?, ints(others)?);
        let mut out = VarOut::new();
        py.allow_threads(|| {
            for w in offsets.windows(2) {
                let c: Vec<(f64, u64)> = (w[0] as usize..w[1] as usize)
                    .map(|k| (f64::from_bits(scores[k] as u64), others[k] as u64))
                    .collect();
                out.push_ints(signed(&self.inner.neighbours(c)));
            }
        });
        Ok(out.into_py(py))
    }

    /// Step 5: mixed scores (float64) of pairs `(a, b, score)` with both
    /// units' neighbour lists.
    #[allow(clippy::too_many_arguments)]
    fn mixed_scores<'py>(
        &self,
        py: Python<'py>,
        a: &[u8],
        b: &[u8],
        score: &[u8],
        knn_a_off: &[u8],
        knn_a: &[u8],
        knn_b_off: &[u8],
        knn_b: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (a, b, score) = (ints(a)?, ints(b)?, ints(score)?);
        let (ka, kb) = (Var::new(knn_a_off, knn_a)?, Var::new(knn_b_off, knn_b)?);
        let out = py.allow_threads(|| -> PyResult<Vec<u8>> {
            let mut out = Vec::with_capacity(a.len() * 8);
            for i in 0..a.len() {
                let (x, y) = (unsigned(ka.ints(i)?), unsigned(kb.ints(i)?));
                let m = self.inner.mixed_score(
                    a[i] as u64,
                    b[i] as u64,
                    f64::from_bits(score[i] as u64),
                    &x,
                    &y,
                );
                out.extend_from_slice(&m.to_le_bytes());
            }
            Ok(out)
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// Step 5 over whole components: units `(comp, key, part)` and pairs
    /// `(comp, a, b, mixed score)` by unit key, both sorted by component.
    /// Returns `(index, story, canonical, similarity)` columns, canonical
    /// one byte each and similarity float64.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn link_components<'py>(
        &self,
        py: Python<'py>,
        comp: &[u8],
        key: &[u8],
        part_off: &[u8],
        part_data: &[u8],
        pair_comp: &[u8],
        pair_a: &[u8],
        pair_b: &[u8],
        pair_score: &[u8],
    ) -> PyResult<(
        Bound<'py, PyBytes>,
        Pair<'py>,
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
    )> {
        let (comp, key, parts) = (ints(comp)?, ints(key)?, Var::new(part_off, part_data)?);
        let (pc, pa, pb) = (ints(pair_comp)?, ints(pair_a)?, ints(pair_b)?);
        let ps = ints(pair_score)?;
        let (mut idx, mut story, mut canonical, mut sim) =
            (Vec::new(), VarOut::new(), Vec::new(), Vec::new());
        py.allow_threads(|| -> PyResult<()> {
            for (s, e, from, to) in component_runs(&comp, &pc)? {
                let units: Vec<(u64, &[u8])> =
                    (s..e).map(|i| (key[i] as u64, parts.get(i))).collect();
                let pairs: Vec<(u64, u64, f64)> = (from..to)
                    .map(|j| (pa[j] as u64, pb[j] as u64, f64::from_bits(ps[j] as u64)))
                    .collect();
                for p in self.inner.link_component(&units, &pairs).map_err(error)? {
                    idx.push(p.index as i64);
                    story.push(p.story.as_bytes());
                    canonical.push(p.canonical as u8);
                    sim.extend_from_slice(&p.similarity.to_le_bytes());
                }
            }
            Ok(())
        })?;
        Ok((
            bytes(py, &idx),
            story.into_py(py),
            PyBytes::new(py, &canonical),
            PyBytes::new(py, &sim),
        ))
    }

    /// Thread step 1 over JSONL lines (records only): thread terms (int64
    /// lists) and thread-terms parts (binary).
    fn thread_sketch<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>)> {
        let lines = Var::new(off, data)?;
        let (mut terms, mut parts) = (VarOut::new(), VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..lines.len() {
                let s = self.inner.thread_sketch(&document(lines.get(i))?);
                terms.push_ints(signed(&s.terms));
                parts.push(&s.part);
            }
            Ok(())
        })?;
        Ok((terms.into_py(py), parts.into_py(py)))
    }

    /// A copy that takes thread-term document frequencies.
    fn with_thread_frequencies(&self, n_docs: u64, terms: &[u8], counts: &[u8]) -> PyResult<Self> {
        let df = frequencies(terms, counts)?;
        Ok(PyShard {
            inner: self.inner.clone().with_thread_frequencies(n_docs, &df),
        })
    }

    /// Thread step 2 over thread-terms parts: each base vector's terms and
    /// weights (int64 lists, the weights as the bits of an IEEE float32,
    /// which sort as the weights do), date and time bucket (int64 with a
    /// one-byte presence flag each), and vector parts (binary).
    #[allow(clippy::type_complexity)]
    fn thread_base<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>)> {
        let parts = Var::new(off, data)?;
        let (mut terms, mut weights, mut out) = (VarOut::new(), VarOut::new(), VarOut::new());
        let (mut published, mut bucket) = (OptInts::default(), OptInts::default());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..parts.len() {
                let b = self.inner.thread_base(parts.get(i)).map_err(error)?;
                terms.push_ints(b.vector.iter().map(|&(t, _)| t as i64));
                weights.push_ints(b.vector.iter().map(|&(_, w)| w.to_bits() as i64));
                published.push(b.published);
                bucket.push(b.bucket);
                out.push(&b.part);
            }
            Ok(())
        })?;
        Ok((
            terms.into_py(py),
            weights.into_py(py),
            published.into_py(py),
            bucket.into_py(py),
            out.into_py(py),
        ))
    }

    /// Thread step 3 over holder lists (one per term and bucket): element
    /// offsets, and per holder its index, id and weight bits. Returns one
    /// byte per holder: whether the postings keep it.
    fn thread_cut<'py>(
        &self,
        py: Python<'py>,
        offsets: &[u8],
        index: &[u8],
        id_off: &[u8],
        id_data: &[u8],
        weight: &[u8],
    ) -> PyResult<Bound<'py, PyBytes>> {
        let (offsets, index, weight) = (ints(offsets)?, ints(index)?, ints(weight)?);
        let ids = Var::new(id_off, id_data)?;
        let mut keep = vec![0u8; index.len()];
        py.allow_threads(|| -> PyResult<()> {
            for w in offsets.windows(2) {
                let range = w[0] as usize..w[1] as usize;
                let holders: Vec<(u64, &str, f32)> = range
                    .clone()
                    .map(|k| {
                        let id = std::str::from_utf8(ids.get(k))
                            .map_err(|_| error("an id that is not UTF-8"))?;
                        Ok((index[k] as u64, id, f32::from_bits(weight[k] as u32)))
                    })
                    .collect::<PyResult<_>>()?;
                let kept = self.inner.thread_cut(&holders);
                for k in range {
                    if kept.binary_search(&(index[k] as u64)).is_ok() {
                        keep[k] = 1;
                    }
                }
            }
            Ok(())
        })?;
        Ok(PyBytes::new(py, &keep))
    }

    /// Thread step 4 over documents with their matches: each document's
    /// index and date (int64, presence flags), element offsets into the
    /// match columns (term, weight bits, holder, holder weight bits, holder
    /// date and its flags). Returns each document's neighbours and their
    /// similarities (int64 lists, the similarities as float32 bits).
    #[allow(clippy::too_many_arguments)]
    fn thread_neighbours<'py>(
        &self,
        py: Python<'py>,
        index: &[u8],
        published: &[u8],
        has_published: &[u8],
        offsets: &[u8],
        term: &[u8],
        weight: &[u8],
        holder: &[u8],
        holder_weight: &[u8],
        holder_published: &[u8],
        holder_has_published: &[u8],
    ) -> PyResult<(Pair<'py>, Pair<'py>)> {
        let (index, published, offsets) = (ints(index)?, ints(published)?, ints(offsets)?);
        let (term, weight, holder) = (ints(term)?, ints(weight)?, ints(holder)?);
        let (holder_weight, holder_published) = (ints(holder_weight)?, ints(holder_published)?);
        let opt = |v: &[i64], has: &[u8], k: usize| (has[k] != 0).then_some(v[k]);
        let (mut near, mut sims) = (VarOut::new(), VarOut::new());
        py.allow_threads(|| {
            for (i, w) in offsets.windows(2).enumerate() {
                let mut matches: Vec<ThreadMatch> = (w[0] as usize..w[1] as usize)
                    .map(|k| ThreadMatch {
                        term: term[k] as u64,
                        weight: f32::from_bits(weight[k] as u32),
                        holder: holder[k] as u64,
                        holder_weight: f32::from_bits(holder_weight[k] as u32),
                        holder_published: opt(&holder_published, holder_has_published, k),
                    })
                    .collect();
                let n = self.inner.thread_neighbours(
                    index[i] as u64,
                    opt(&published, has_published, i),
                    &mut matches,
                );
                near.push_ints(n.iter().map(|&(j, _)| j as i64));
                sims.push_ints(n.iter().map(|&(_, s)| s.to_bits() as i64));
            }
        });
        Ok((near.into_py(py), sims.into_py(py)))
    }

    /// Thread step 5: expanded parts, from each document's vector part and
    /// its neighbours' (element offsets, similarity bits, vector parts), in
    /// neighbour order.
    #[allow(clippy::too_many_arguments)]
    fn thread_expand<'py>(
        &self,
        py: Python<'py>,
        own_off: &[u8],
        own_data: &[u8],
        offsets: &[u8],
        sims: &[u8],
        near_off: &[u8],
        near_data: &[u8],
    ) -> PyResult<Pair<'py>> {
        let (own, near) = (Var::new(own_off, own_data)?, Var::new(near_off, near_data)?);
        let (offsets, sims) = (ints(offsets)?, ints(sims)?);
        let mut out = VarOut::new();
        py.allow_threads(|| -> PyResult<()> {
            for (i, w) in offsets.windows(2).enumerate() {
                let near: Vec<(f32, &[u8])> = (w[0] as usize..w[1] as usize)
                    .map(|k| (f32::from_bits(sims[k] as u32), near.get(k)))
                    .collect();
                out.push(&self.inner.thread_expand(own.get(i), &near).map_err(error)?);
            }
            Ok(())
        })?;
        Ok(out.into_py(py))
    }

    /// Thread step 6 over stories: each story's canonical index, element
    /// offsets into its members' indices and expanded parts. Returns each
    /// story's key and part.
    fn thread_stories<'py>(
        &self,
        py: Python<'py>,
        canonical: &[u8],
        offsets: &[u8],
        index: &[u8],
        part_off: &[u8],
        part_data: &[u8],
    ) -> PyResult<(Bound<'py, PyBytes>, Pair<'py>)> {
        let (canonical, offsets, index) = (ints(canonical)?, ints(offsets)?, ints(index)?);
        let parts = Var::new(part_off, part_data)?;
        let (mut keys, mut out) = (Vec::new(), VarOut::new());
        py.allow_threads(|| -> PyResult<()> {
            for (s, w) in offsets.windows(2).enumerate() {
                let members: Vec<(u64, &[u8])> = (w[0] as usize..w[1] as usize)
                    .map(|k| (index[k] as u64, parts.get(k)))
                    .collect();
                let u = self
                    .inner
                    .thread_story(canonical[s] as u64, &members)
                    .map_err(error)?;
                keys.push(u.key as i64);
                out.push(&u.part);
            }
            Ok(())
        })?;
        Ok((bytes(py, &keys), out.into_py(py)))
    }

    /// Thread step 7: the threads of all stories (keys, parts) linked by
    /// pairs of story keys. Returns `(story key, thread id, canonical
    /// index)` columns.
    #[allow(clippy::type_complexity)]
    fn link_threads<'py>(
        &self,
        py: Python<'py>,
        keys: &[u8],
        part_off: &[u8],
        part_data: &[u8],
        pair_a: &[u8],
        pair_b: &[u8],
    ) -> PyResult<(Bound<'py, PyBytes>, Pair<'py>, Bound<'py, PyBytes>)> {
        let (keys, parts) = (ints(keys)?, Var::new(part_off, part_data)?);
        let (a, b) = (ints(pair_a)?, ints(pair_b)?);
        let (mut story, mut thread, mut canonical) = (Vec::new(), VarOut::new(), Vec::new());
        py.allow_threads(|| -> PyResult<()> {
            let stories: Vec<(u64, &[u8])> = (0..parts.len())
                .map(|i| (keys[i] as u64, parts.get(i)))
                .collect();
            let pairs: Vec<(u64, u64)> = a
                .iter()
                .zip(&b)
                .map(|(&x, &y)| (x as u64, y as u64))
                .collect();
            for p in self.inner.link_threads(&stories, &pairs).map_err(error)? {
                story.push(p.story as i64);
                thread.push(p.thread.as_bytes());
                canonical.push(p.canonical as i64);
            }
            Ok(())
        })?;
        Ok((bytes(py, &story), thread.into_py(py), bytes(py, &canonical)))
    }

    /// Each assignment part's duplicate group (strings) and whether it is
    /// the group's canonical (one byte each).
    fn assignment_groups<'py>(
        &self,
        py: Python<'py>,
        off: &[u8],
        data: &[u8],
    ) -> PyResult<(Pair<'py>, Bound<'py, PyBytes>)> {
        let parts = Var::new(off, data)?;
        let (mut groups, mut canonical) = (VarOut::new(), Vec::new());
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..parts.len() {
                let (g, c) = self.inner.assignment_group(parts.get(i)).map_err(error)?;
                groups.push(g.as_bytes());
                canonical.push(c as u8);
            }
            Ok(())
        })?;
        Ok((groups.into_py(py), PyBytes::new(py, &canonical)))
    }

    /// Step 7: output lines from assignment parts and, per row, the story
    /// place (`has_story` one byte each; story ids, canonical bytes and
    /// float64 similarities, ignored where `has_story` is 0) and the thread
    /// (`has_thread`, thread ids and canonical bytes, likewise).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (part_off, part_data, has_story, story_off, story_data, canonical, similarity, has_thread=None, thread_off=None, thread_data=None, thread_canonical=None))]
    fn assignment_lines<'py>(
        &self,
        py: Python<'py>,
        part_off: &[u8],
        part_data: &[u8],
        has_story: &[u8],
        story_off: &[u8],
        story_data: &[u8],
        canonical: &[u8],
        similarity: &[u8],
        has_thread: Option<&[u8]>,
        thread_off: Option<&[u8]>,
        thread_data: Option<&[u8]>,
        thread_canonical: Option<&[u8]>,
    ) -> PyResult<Pair<'py>> {
        let threads = match (has_thread, thread_off, thread_data, thread_canonical) {
            (Some(h), Some(o), Some(d), Some(c)) => Some((h, Var::new(o, d)?, c)),
            (None, None, None, None) => None,
            _ => return Err(error("thread columns come all four or none")),
        };
        let (parts, stories) = (
            Var::new(part_off, part_data)?,
            Var::new(story_off, story_data)?,
        );
        let sims = ints(similarity)?;
        let mut out = VarOut::new();
        py.allow_threads(|| -> PyResult<()> {
            for i in 0..parts.len() {
                let place = (has_story[i] != 0).then(|| StoryPlace {
                    index: i as u64,
                    story: String::from_utf8_lossy(stories.get(i)).into_owned(),
                    canonical: canonical[i] != 0,
                    similarity: f64::from_bits(sims[i] as u64),
                });
                let thread = match &threads {
                    Some((has, ids, canonical)) if has[i] != 0 => Some((
                        std::str::from_utf8(ids.get(i))
                            .map_err(|_| error("a thread id that is not UTF-8"))?,
                        canonical[i] != 0,
                    )),
                    _ => None,
                };
                let line = self
                    .inner
                    .assignment_line(parts.get(i), place.as_ref(), thread)
                    .map_err(error)?;
                out.push(line.as_bytes());
            }
            Ok(())
        })?;
        Ok(out.into_py(py))
    }
}

fn document(line: &[u8]) -> PyResult<wirecluster::Document> {
    match parse_jsonl_line(line) {
        Some(Ok(d)) => Ok(d),
        Some(Err(e)) => Err(error(e)),
        None => Err(error("a blank line where a record was expected")),
    }
}

/// Clusters JSONL records given as one Arrow string column and returns the
/// assignments as columns: id, duplicate group and story (strings), group
/// size (int64), canonical and story canonical (one byte each), Jaccard,
/// containment and story similarity (float64). A bad record is an error
/// naming its row (0-based).
#[pyfunction]
#[pyo3(signature = (off, data, config_json=None, config_path=None))]
#[allow(clippy::type_complexity)]
pub(crate) fn cluster_column<'py>(
    py: Python<'py>,
    off: &[u8],
    data: &[u8],
    config_json: Option<&str>,
    config_path: Option<std::path::PathBuf>,
) -> PyResult<(
    (Pair<'py>, Pair<'py>, Pair<'py>, Pair<'py>),
    Bound<'py, PyBytes>,
    (
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
    ),
    (
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
        Bound<'py, PyBytes>,
    ),
)> {
    let cfg = crate::config(config_json, config_path)?;
    let lines = Var::new(off, data)?;
    let mut strings: [VarOut; 4] = std::array::from_fn(|_| VarOut::new());
    let (mut size, mut canonical, mut story_canonical) = (Vec::new(), Vec::new(), Vec::new());
    let mut thread_canonical = Vec::new();
    let mut floats: [Vec<u8>; 3] = Default::default();
    py.allow_threads(|| -> PyResult<()> {
        let docs = (0..lines.len())
            .map(|i| match parse_jsonl_line(lines.get(i)) {
                Some(Ok(d)) => Ok(d),
                Some(Err(e)) => Err(error(format!("record {i}: {e}"))),
                None => Err(error(format!("record {i}: a blank record"))),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let c = wirecluster::Clusterer::new(cfg)
            .map_err(error)?
            .cluster(&docs)
            .map_err(error)?;
        for a in &c.assignments {
            strings[0].push(a.id.as_bytes());
            strings[1].push(a.duplicate_group.as_bytes());
            strings[2].push(a.story.as_bytes());
            strings[3].push(a.thread.as_bytes());
            size.push(a.group_size as i64);
            canonical.push(a.canonical as u8);
            story_canonical.push(a.story_canonical as u8);
            thread_canonical.push(a.thread_canonical as u8);
            floats[0].extend_from_slice(&a.jaccard_to_canonical.to_le_bytes());
            floats[1].extend_from_slice(&a.containment_in_canonical.to_le_bytes());
            floats[2].extend_from_slice(&a.story_similarity.to_le_bytes());
        }
        Ok(())
    })?;
    let [s0, s1, s2, s3] = strings;
    let [f0, f1, f2] = floats;
    Ok((
        (
            s0.into_py(py),
            s1.into_py(py),
            s2.into_py(py),
            s3.into_py(py),
        ),
        bytes(py, &size),
        (
            PyBytes::new(py, &canonical),
            PyBytes::new(py, &story_canonical),
            PyBytes::new(py, &thread_canonical),
        ),
        (
            PyBytes::new(py, &f0),
            PyBytes::new(py, &f1),
            PyBytes::new(py, &f2),
        ),
    ))
}
