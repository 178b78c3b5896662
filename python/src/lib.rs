//! Python bindings of wirecluster: a thin layer over the crate's public
//! API. Records, configs and results cross as JSON texts, so every record
//! is read and checked by the crate's own reader (`parse_record`) and every
//! result has the CLI's shape; `wirecluster/__init__.py` turns them into
//! dicts. The work runs with the GIL released.

use std::path::PathBuf;

mod shard;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use wirecluster::{parse_record, Clusterer, Config, Document, FeedConfig, FeedIndex};

create_exception!(
    _wirecluster,
    WireclusterError,
    PyValueError,
    "Bad input, a bad config or a failed file operation; the message says which and where."
);

fn error(e: impl std::fmt::Display) -> PyErr {
    WireclusterError::new_err(e.to_string())
}

/// A config from JSON (a dict, serialized by the Python side), a file path
/// (`.toml` or JSON), or the defaults; validated.
fn config(json: Option<&str>, path: Option<PathBuf>) -> PyResult<Config> {
    let cfg = match (json, path) {
        (Some(j), _) => {
            serde_json::from_str::<Config>(j).map_err(|e| error(format!("config: {e}")))?
        }
        (None, Some(p)) => Config::from_path(p).map_err(error)?,
        (None, None) => Config::default(),
    };
    cfg.validate().map_err(error)?;
    Ok(cfg)
}

/// Documents from records as JSON texts; a bad record is an error naming its
/// position (0-based, as Python counts) and the reason.
fn documents(records: &[String]) -> PyResult<Vec<Document>> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            parse_record(r.as_bytes()).map_err(|reason| error(format!("record {i}: {reason}")))
        })
        .collect()
}

fn json(v: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(v).map_err(error)
}

/// Clusters records (JSON texts) and returns the assignments as a JSON list,
/// one per record in order, as `wirecluster cluster` writes them.
#[pyfunction]
#[pyo3(signature = (records, config_json=None, config_path=None))]
fn cluster(
    py: Python<'_>,
    records: Vec<String>,
    config_json: Option<String>,
    config_path: Option<PathBuf>,
) -> PyResult<String> {
    let cfg = config(config_json.as_deref(), config_path)?;
    py.allow_threads(|| {
        let docs = documents(&records)?;
        let c = Clusterer::new(cfg)
            .map_err(error)?
            .cluster(&docs)
            .map_err(error)?;
        json(&c.assignments)
    })
}

/// A live index (see `wirecluster::FeedIndex`).
#[pyclass(name = "FeedIndex", module = "wirecluster._wirecluster")]
struct PyFeedIndex {
    inner: FeedIndex,
}

#[pymethods]
impl PyFeedIndex {
    #[new]
    #[pyo3(signature = (config_json=None, config_path=None, feed_json=None))]
    fn new(
        config_json: Option<String>,
        config_path: Option<PathBuf>,
        feed_json: Option<String>,
    ) -> PyResult<Self> {
        let cfg = config(config_json.as_deref(), config_path)?;
        let feed = match feed_json {
            Some(j) => serde_json::from_str::<FeedConfig>(&j)
                .map_err(|e| error(format!("feed config: {e}")))?,
            None => FeedConfig::default(),
        };
        Ok(PyFeedIndex {
            inner: FeedIndex::new(cfg, feed).map_err(error)?,
        })
    }

    /// Places records in order; their assignments as a JSON list.
    fn insert_batch(&mut self, py: Python<'_>, records: Vec<String>) -> PyResult<String> {
        let inner = &mut self.inner;
        py.allow_threads(|| {
            let docs = documents(&records)?;
            json(&inner.insert_batch(&docs).map_err(error)?)
        })
    }

    /// Where a record would go, without placing it, as JSON.
    fn query(&self, record: String) -> PyResult<String> {
        let doc = documents(std::slice::from_ref(&record))?.remove(0);
        json(&self.inner.query(&doc))
    }

    /// The state of a live article as JSON, or `None`.
    fn get(&self, id: &str) -> PyResult<Option<String>> {
        self.inner.get(id).map(|s| json(&s)).transpose()
    }

    /// Removes a live article; its state before as JSON.
    fn remove(&mut self, id: &str) -> PyResult<String> {
        json(&self.inner.remove(id).map_err(error)?)
    }

    /// Re-links the live stories; the number of stories.
    fn consolidate(&mut self, py: Python<'_>) -> usize {
        let inner = &mut self.inner;
        py.allow_threads(|| inner.consolidate())
    }

    fn save(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let inner = &mut self.inner;
        py.allow_threads(|| inner.save(path).map_err(error))
    }

    fn checkpoint(&mut self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let inner = &mut self.inner;
        py.allow_threads(|| inner.checkpoint(path).map_err(error))
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = py.allow_threads(|| FeedIndex::load(path).map_err(error))?;
        Ok(PyFeedIndex { inner })
    }

    /// Counts, as JSON.
    fn stats(&self) -> PyResult<String> {
        json(&self.inner.stats())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

#[pymodule]
fn _wirecluster(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("WireclusterError", m.py().get_type::<WireclusterError>())?;
    m.add_function(wrap_pyfunction!(cluster, m)?)?;
    m.add_class::<PyFeedIndex>()?;
    m.add_class::<shard::PyShard>()?;
    m.add_function(wrap_pyfunction!(shard::cluster_column, m)?)?;
    Ok(())
}
