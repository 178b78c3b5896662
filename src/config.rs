//! Run configuration: one struct, validated by its builder, serializable so a
//! run can be reproduced.

use serde::{Deserialize, Serialize};

use crate::canonical::CanonicalPolicy;
use crate::error::{Error, Result};
use crate::lsh::LshParams;
use crate::minhash::SignatureAlgorithm;
use crate::normalize::NormalizeConfig;
use crate::shingle::ShingleUnit;
use crate::story::StoryConfig;
use crate::thread::ThreadConfig;

/// The longest signature [`Config::validate`] accepts: 32 KiB per document.
const MAX_NUM_PERM: usize = 4096;
/// The longest shingle and winnowing window it accepts.
const MAX_SHINGLE: usize = 1000;

/// Every setting of a clustering run.
///
/// Quick advice: [`Config::default()`] is tuned for news reprints (word
/// 5-shingles, 128-value one-permutation MinHash, LSH at Jaccard 0.3,
/// winnowed containment candidates, duplicate edges at Jaccard ≥ 0.5 or
/// containment ≥ 0.4). Use [`Config::builder()`] to change a setting; `build`
/// checks that the values fit together.
///
/// ```
/// use wirecluster::{Config, ShingleUnit};
/// let cfg = Config::builder().shingle(ShingleUnit::Words(4)).num_perm(256).build()?;
/// assert_eq!(cfg.num_perm, 256);
/// assert!(Config::builder().containment_threshold(1.5).build().is_err());
/// # Ok::<(), wirecluster::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Normalization and boilerplate removal.
    pub normalize: NormalizeConfig,
    /// Shingle unit and size. Default: word 5-shingles.
    pub shingle: ShingleUnit,
    /// Signature algorithm. Default: one-permutation hashing.
    pub algorithm: SignatureAlgorithm,
    /// Signature length k. Default: 128.
    pub num_perm: usize,
    /// Seed of the signature hash functions. Default: 1.
    pub seed: u64,
    /// Jaccard threshold the LSH banding is tuned for. Default: 0.3.
    pub lsh_threshold: f64,
    /// Weight of false positives in the banding objective. Default: 0.3.
    pub lsh_fp_weight: f64,
    /// Weight of false negatives in the banding objective. Default: 0.7.
    pub lsh_fn_weight: f64,
    /// Explicit `(bands, rows)`, overriding the derivation from
    /// `lsh_threshold`. Default: none.
    pub lsh_bands_rows: Option<(usize, usize)>,
    /// A bucket (LSH band bucket) larger than this pairs each member with the
    /// next `max_bucket` members only. Default: 256.
    pub max_bucket: usize,
    /// Winnowing window for containment fingerprints. Default: 4, so any
    /// shared passage of 8 words yields a shared fingerprint.
    pub winnow_window: usize,
    /// A pair is a containment candidate when the shared fingerprints reach
    /// this fraction of the smaller document's. Default: 0.25.
    pub containment_candidate: f64,
    /// Fingerprints held by more documents than this are ignored for
    /// candidates. Default: 256.
    pub max_posting: usize,
    /// A verified pair is a duplicate edge when its Jaccard reaches this …
    /// Default: 0.5.
    pub jaccard_threshold: f64,
    /// … or when the smaller document's containment in the larger reaches
    /// this. Default: 0.4.
    pub containment_threshold: f64,
    /// A containment edge (below the Jaccard threshold) is set aside when the
    /// smaller document's containment in the other is lower than its best
    /// containment in any document by more than this: it shares stock text
    /// with the other, and its real source is elsewhere. Default: 0.2.
    pub best_match_margin: f64,
    /// Containment edges need at least this many shared shingles. Default: 3.
    pub min_shared_shingles: usize,
    /// Updated figures: a pair below both thresholds is still a duplicate
    /// when, with every figure (a token holding a digit) masked, the Jaccard
    /// of its shingle sets reaches this, and at least
    /// [`Config::figures_agreement`] of the figures of the one with fewer
    /// figures also occur in the other. `None` turns the rule off; it applies
    /// to word shingles only. Default: 0.9.
    pub figures_jaccard: Option<f64>,
    /// See [`Config::figures_jaccard`]: the share of figures that must
    /// agree, so that a recurring report (the same template, every figure
    /// new) stays apart. Default: 0.3.
    pub figures_agreement: f64,
    /// Pairs published further apart than this many seconds are never
    /// duplicates (only when both dates are known). Default: none.
    pub max_time_gap_secs: Option<i64>,
    /// Anti-chaining: the neighbours of a document that are not linked to
    /// each other are separate stories inside it (an aggregator page) when
    /// the parts of it they cover overlap by less than this fraction.
    /// Default: 0.2.
    pub hub_region_overlap: f64,
    /// How each group's canonical representative is chosen.
    pub canonical: CanonicalPolicy,
    /// The story level.
    pub story: StoryConfig,
    /// The thread level, above stories.
    pub thread: ThreadConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            normalize: NormalizeConfig::default(),
            shingle: ShingleUnit::Words(5),
            algorithm: SignatureAlgorithm::OnePermutation,
            num_perm: 128,
            seed: 1,
            lsh_threshold: 0.3,
            lsh_fp_weight: 0.3,
            lsh_fn_weight: 0.7,
            lsh_bands_rows: None,
            max_bucket: 256,
            winnow_window: 4,
            containment_candidate: 0.25,
            max_posting: 256,
            jaccard_threshold: 0.5,
            containment_threshold: 0.4,
            best_match_margin: 0.2,
            min_shared_shingles: 3,
            figures_jaccard: Some(0.9),
            figures_agreement: 0.3,
            max_time_gap_secs: None,
            hub_region_overlap: 0.2,
            canonical: CanonicalPolicy::MostComplete,
            story: StoryConfig::default(),
            thread: ThreadConfig::default(),
        }
    }
}

impl Config {
    /// A builder starting from the defaults.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The defaults with LSH and the Jaccard edge threshold set to
    /// `threshold` (validated).
    ///
    /// ```
    /// let cfg = wirecluster::Config::from_threshold(0.8)?;
    /// assert_eq!(cfg.jaccard_threshold, 0.8);
    /// assert!(wirecluster::Config::from_threshold(0.0).is_err());
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn from_threshold(threshold: f64) -> Result<Self> {
        Config::builder()
            .lsh_threshold(threshold)
            .jaccard_threshold(threshold)
            .build()
    }

    /// Reads a config file: TOML when its name ends in `.toml` (with the
    /// `toml` feature, on by default through `cli`), JSON otherwise. Fields
    /// not given keep their defaults; unknown fields are refused; the result
    /// is validated.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("wirecluster-doc-{}.json", std::process::id()));
    /// std::fs::write(&path, r#"{"jaccard_threshold": 0.6, "story": {"threshold": 0.2}}"#).unwrap();
    /// let cfg = wirecluster::Config::from_path(&path)?;
    /// assert_eq!(cfg.jaccard_threshold, 0.6);
    /// assert_eq!(cfg.story.threshold, 0.2);
    /// std::fs::write(&path, r#"{"jacard_threshold": 0.6}"#).unwrap();
    /// let err = wirecluster::Config::from_path(&path).unwrap_err().to_string();
    /// assert!(err.contains("unknown field `jacard_threshold`"), "{err}");
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), wirecluster::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let bad = |reason: String| Error::ConfigFile {
            path: path.to_path_buf(),
            reason,
        };
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let cfg: Config = if is_toml {
            #[cfg(feature = "toml")]
            {
                toml::from_str(&text).map_err(|e| bad(e.to_string()))?
            }
            #[cfg(not(feature = "toml"))]
            {
                return Err(bad(
                    "a TOML config needs the `toml` feature of wirecluster; or write it as JSON"
                        .to_string(),
                ));
            }
        } else {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?
        };
        cfg.validate()?;
        Ok(cfg)
    }

    /// The banding in force: explicit, or derived from `lsh_threshold`.
    pub fn lsh_params(&self) -> LshParams {
        match self.lsh_bands_rows {
            Some((bands, rows)) => {
                let (false_positive, false_negative) =
                    crate::lsh::expected_errors(self.lsh_threshold, bands, rows);
                LshParams {
                    bands,
                    rows,
                    false_positive,
                    false_negative,
                }
            }
            None => LshParams::from_threshold(
                self.lsh_threshold,
                self.num_perm,
                self.lsh_fp_weight,
                self.lsh_fn_weight,
            ),
        }
    }

    /// Checks that every value is in range and that they fit together.
    pub fn validate(&self) -> Result<()> {
        fn unit(field: &'static str, v: f64) -> Result<()> {
            if v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(Error::Config {
                    field,
                    value: v.to_string(),
                    reason: "must be in (0, 1]",
                })
            }
        }
        fn positive(field: &'static str, v: usize) -> Result<()> {
            if v > 0 {
                Ok(())
            } else {
                Err(Error::Config {
                    field,
                    value: v.to_string(),
                    reason: "must be at least 1",
                })
            }
        }
        positive("shingle", self.shingle.size())?;
        positive("num_perm", self.num_perm)?;
        for (field, v, max) in [
            ("num_perm", self.num_perm, MAX_NUM_PERM),
            ("shingle", self.shingle.size(), MAX_SHINGLE),
            ("winnow_window", self.winnow_window, MAX_SHINGLE),
        ] {
            if v > max {
                return Err(Error::Config {
                    field,
                    value: v.to_string(),
                    reason: match field {
                        "num_perm" => "must be at most 4096",
                        _ => "must be at most 1000",
                    },
                });
            }
        }
        positive("max_bucket", self.max_bucket)?;
        positive("winnow_window", self.winnow_window)?;
        positive("max_posting", self.max_posting)?;
        unit("lsh_threshold", self.lsh_threshold)?;
        unit("containment_candidate", self.containment_candidate)?;
        unit("jaccard_threshold", self.jaccard_threshold)?;
        unit("containment_threshold", self.containment_threshold)?;
        unit("hub_region_overlap", self.hub_region_overlap)?;
        unit("best_match_margin", self.best_match_margin)?;
        unit("figures_agreement", self.figures_agreement)?;
        if let Some(j) = self.figures_jaccard {
            unit("figures_jaccard", j)?;
        }
        unit("story.threshold", self.story.threshold)?;
        unit("story.neighbour_mix", self.story.neighbour_mix)?;
        positive("story.neighbours", self.story.neighbours)?;
        if !(0.0..=1.0).contains(&self.story.neighbour_floor) {
            return Err(Error::Config {
                field: "story.neighbour_floor",
                value: self.story.neighbour_floor.to_string(),
                reason: "must be in [0, 1]",
            });
        }
        unit("story.max_df_fraction", self.story.max_df_fraction)?;
        positive("story.top_terms", self.story.top_terms)?;
        positive("story.min_shared_terms", self.story.min_shared_terms)?;
        positive("story.max_posting", self.story.max_posting)?;
        positive("story.max_terms", self.story.max_terms)?;
        unit("thread.threshold", self.thread.threshold)?;
        positive("thread.neighbours", self.thread.neighbours)?;
        positive("thread.max_terms", self.thread.max_terms)?;
        positive("thread.links", self.thread.links)?;
        positive("thread.max_posting", self.thread.max_posting)?;
        positive("thread.lead_words", self.thread.lead_words)?;
        for (field, v) in [
            ("story.entity_boost", self.story.entity_boost),
            ("story.time_window_days", self.story.time_window_days),
            ("thread.expansion", self.thread.expansion),
            ("thread.time_window_days", self.thread.time_window_days),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::Config {
                    field,
                    value: v.to_string(),
                    reason: "must be a finite number >= 0",
                });
            }
        }
        for (field, w) in [
            ("lsh_fp_weight", self.lsh_fp_weight),
            ("lsh_fn_weight", self.lsh_fn_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::Config {
                    field,
                    value: w.to_string(),
                    reason: "must be a finite number >= 0",
                });
            }
        }
        if let Some((b, r)) = self.lsh_bands_rows
            && (b == 0 || r == 0 || b.checked_mul(r).is_none_or(|n| n > self.num_perm))
        {
            return Err(Error::Config {
                field: "lsh_bands_rows",
                value: format!("({b}, {r})"),
                reason: "bands and rows must be >= 1 with bands * rows <= num_perm",
            });
        }
        if let Some(g) = self.max_time_gap_secs
            && g < 0
        {
            return Err(Error::Config {
                field: "max_time_gap_secs",
                value: g.to_string(),
                reason: "must be >= 0",
            });
        }
        if self.normalize.boilerplate.min_doc_fraction.is_nan()
            || !(0.0..=1.0).contains(&self.normalize.boilerplate.min_doc_fraction)
        {
            return Err(Error::Config {
                field: "normalize.boilerplate.min_doc_fraction",
                value: self.normalize.boilerplate.min_doc_fraction.to_string(),
                reason: "must be in [0, 1]",
            });
        }
        Ok(())
    }
}

/// Builds a validated [`Config`]; every setter documents its default on the
/// matching [`Config`] field.
#[derive(Debug, Clone, Default)]
pub struct ConfigBuilder {
    cfg: Config,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(&mut self, value: $ty) -> &mut Self {
                self.cfg.$name = value;
                self
            }
        )*
    };
}

impl ConfigBuilder {
    setters! {
        /// See [`Config::normalize`].
        normalize: NormalizeConfig,
        /// See [`Config::shingle`].
        shingle: ShingleUnit,
        /// See [`Config::algorithm`].
        algorithm: SignatureAlgorithm,
        /// See [`Config::num_perm`].
        num_perm: usize,
        /// See [`Config::seed`].
        seed: u64,
        /// See [`Config::lsh_threshold`].
        lsh_threshold: f64,
        /// See [`Config::lsh_fp_weight`].
        lsh_fp_weight: f64,
        /// See [`Config::lsh_fn_weight`].
        lsh_fn_weight: f64,
        /// See [`Config::lsh_bands_rows`].
        lsh_bands_rows: Option<(usize, usize)>,
        /// See [`Config::max_bucket`].
        max_bucket: usize,
        /// See [`Config::winnow_window`].
        winnow_window: usize,
        /// See [`Config::containment_candidate`].
        containment_candidate: f64,
        /// See [`Config::max_posting`].
        max_posting: usize,
        /// See [`Config::jaccard_threshold`].
        jaccard_threshold: f64,
        /// See [`Config::containment_threshold`].
        containment_threshold: f64,
        /// See [`Config::best_match_margin`].
        best_match_margin: f64,
        /// See [`Config::min_shared_shingles`].
        min_shared_shingles: usize,
        /// See [`Config::figures_jaccard`].
        figures_jaccard: Option<f64>,
        /// See [`Config::figures_agreement`].
        figures_agreement: f64,
        /// See [`Config::max_time_gap_secs`].
        max_time_gap_secs: Option<i64>,
        /// See [`Config::hub_region_overlap`].
        hub_region_overlap: f64,
        /// See [`Config::canonical`].
        canonical: CanonicalPolicy,
        /// See [`Config::story`].
        story: StoryConfig,
        /// See [`Config::thread`].
        thread: ThreadConfig,
    }

    /// Validates and returns the config.
    pub fn build(&self) -> Result<Config> {
        self.cfg.validate()?;
        Ok(self.cfg.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let p =
            std::env::temp_dir().join(format!("wirecluster-config-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[cfg(feature = "toml")]
    #[test]
    fn toml_files_are_read_and_validated() {
        let p = file(
            "ok.toml",
            "jaccard_threshold = 0.7\n[story]\nthreshold = 0.3\n",
        );
        let cfg = Config::from_path(&p).unwrap();
        assert_eq!((cfg.jaccard_threshold, cfg.story.threshold), (0.7, 0.3));
        let p = file("bad.toml", "jaccard_threshold = 7.0\n");
        let err = Config::from_path(&p).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config {
                    field: "jaccard_threshold",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[cfg(not(feature = "toml"))]
    #[test]
    fn toml_files_need_the_feature() {
        let p = file("any.toml", "jaccard_threshold = 0.7\n");
        let err = Config::from_path(&p).unwrap_err();
        assert!(matches!(err, Error::ConfigFile { .. }), "{err}");
        assert!(err.to_string().contains("`toml` feature"), "{err}");
    }

    #[test]
    fn a_file_that_is_no_config_is_named() {
        let p = file("bad.json", "[1, 2]");
        let err = Config::from_path(&p).unwrap_err();
        assert!(
            matches!(err, Error::ConfigFile { ref path, .. } if *path == p),
            "{err}"
        );
    }
}
