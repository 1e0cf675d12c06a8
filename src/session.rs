//! Sessions: a day's work in one `.binscape` file (settings, where the reads are and which
//! reads they were, the latent, the map, the bins with their hand edits and names, the
//! selection and the loss curves), reopened in seconds without training again.
//!
//! Layout: a text line `binscape-session 1`, one line of JSON (everything but the per-read
//! arrays), then the arrays as little-endian f32 / i32 / u32 in the order the header lists.
//! The reads themselves are not stored: reopening reads them again (the vectors take seconds)
//! and checks by count, bases and a hash of the ids that they are the reads the session was
//! made on.
use crate::bins::Cut;
use crate::cluster::Clustering;
use crate::error::{Error, Result};
use crate::features::Matrix;
use crate::graph::GraphReport;
use crate::reads::{ReadIndex, write_atomically};
use crate::refine::Split;
use crate::settings::Settings;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &str = "binscape-session 1";
/// The file extension sessions are saved with.
pub const EXTENSION: &str = "binscape";

/// Which reads a session was made on.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Fingerprint {
    pub reads: usize,
    pub bases: u64,
    /// FNV-1a of the read ids in order.
    pub ids: u64,
}

impl Fingerprint {
    pub fn of(index: &ReadIndex) -> Fingerprint {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for id in &index.ids {
            for &b in id.as_bytes().iter().chain(b"\n") {
                h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Fingerprint {
            reads: index.len(),
            bases: index.total_bases(),
            ids: h,
        }
    }
}

/// The loss curves (step, value), as the explorer draws them.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Curves {
    pub rl: Vec<[f64; 2]>,
    pub kld: Vec<[f64; 2]>,
    pub total: Vec<[f64; 2]>,
    /// (step, w_rl, w_kld) where new weights took effect.
    pub weight_changes: Vec<(u64, f64, f64)>,
}

/// Everything but the per-read arrays.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    settings: Settings,
    reads: PathBuf,
    labels: Option<PathBuf>,
    fingerprint: Fingerprint,
    latent_cols: usize,
    min_cluster_size: usize,
    n_clusters: usize,
    names: Vec<Option<String>>,
    refined: Option<Vec<Split>>,
    /// What the overlap graph changed, when the bins were corrected by it (absent in sessions
    /// saved before it was recorded).
    #[serde(default)]
    graph: Option<GraphReport>,
    selected: usize,
    curves: Curves,
    /// What the hand edits were, oldest first (for the record; the bins hold their result).
    edits: Vec<String>,
}

/// A saved session.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub settings: Settings,
    /// The reads file, as an absolute path.
    pub reads: PathBuf,
    pub labels: Option<PathBuf>,
    pub fingerprint: Fingerprint,
    /// n × latent size; None when the map was of the k-mer vectors.
    pub latent: Option<Matrix>,
    /// n × 2.
    pub map: Vec<f32>,
    pub min_cluster_size: usize,
    pub clustering: Clustering,
    pub names: Vec<Option<String>>,
    pub refined: Option<Vec<Split>>,
    /// Some: the bins were corrected by the overlap graph (so reopening does not redo it).
    pub graph: Option<GraphReport>,
    /// Selected rows, ascending.
    pub selected: Vec<u32>,
    pub curves: Curves,
    pub edits: Vec<String>,
}

impl Session {
    /// The session's bins as a cut of `index` (the reads it was made on).
    pub fn cut(&self, index: &ReadIndex, labels: Option<&crate::reads::Labels>) -> Cut {
        Cut::of(
            self.clustering.clone(),
            self.min_cluster_size,
            index,
            labels,
            self.refined.clone(),
        )
        .named(self.names.clone())
        .with_graph(self.graph.clone())
    }

    /// Whether `index` holds the reads the session was made on; if not, what differs.
    pub fn check_reads(&self, index: &ReadIndex) -> Result<()> {
        let now = Fingerprint::of(index);
        if now == self.fingerprint {
            return Ok(());
        }
        let f = &self.fingerprint;
        let what = if now.reads != f.reads {
            format!("it now holds {} reads, the session {}", now.reads, f.reads)
        } else if now.bases != f.bases {
            format!(
                "its reads now hold {} bases, in the session {}",
                now.bases, f.bases
            )
        } else {
            "the read ids differ".to_string()
        };
        Err(Error::Input {
            path: index.path.clone(),
            reason: format!("the reads changed since the session was saved: {what}"),
        })
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let n = self.fingerprint.reads;
        if self.map.len() != 2 * n || self.clustering.labels.len() != n {
            return Err(Error::Settings(
                "the session's map and bins do not match its reads".into(),
            ));
        }
        let header = Header {
            settings: self.settings.clone(),
            reads: self.reads.clone(),
            labels: self.labels.clone(),
            fingerprint: self.fingerprint.clone(),
            latent_cols: self.latent.as_ref().map_or(0, |l| l.cols),
            min_cluster_size: self.min_cluster_size,
            n_clusters: self.clustering.n_clusters,
            names: self.names.clone(),
            refined: self.refined.clone(),
            graph: self.graph.clone(),
            selected: self.selected.len(),
            curves: self.curves.clone(),
            edits: self.edits.clone(),
        };
        let json = serde_json::to_string(&header).map_err(|e| Error::write(path, e.into()))?;
        write_atomically(path, |w| {
            let io = |e| Error::write(path, e);
            writeln!(w, "{MAGIC}").map_err(io)?;
            writeln!(w, "{json}").map_err(io)?;
            let mut put = |bytes: &[u8]| w.write_all(bytes).map_err(io);
            if let Some(l) = &self.latent {
                for v in &l.data {
                    put(&v.to_le_bytes())?;
                }
            }
            for v in &self.map {
                put(&v.to_le_bytes())?;
            }
            for v in &self.clustering.labels {
                put(&v.to_le_bytes())?;
            }
            for v in &self.clustering.strength {
                put(&v.to_le_bytes())?;
            }
            for v in &self.selected {
                put(&v.to_le_bytes())?;
            }
            Ok(())
        })
    }

    pub fn load(path: &Path) -> Result<Session> {
        let bad = |reason: String| Error::Input {
            path: path.into(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        let mut r = std::io::BufReader::with_capacity(1 << 20, file);
        let mut line = String::new();
        r.read_line(&mut line)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        if line.trim_end() != MAGIC {
            return Err(bad("not a binscape session (no session header)".into()));
        }
        line.clear();
        r.read_line(&mut line)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        let h: Header =
            serde_json::from_str(&line).map_err(|e| bad(format!("damaged session header: {e}")))?;
        h.settings
            .validate()
            .map_err(|e| bad(format!("the session's settings are invalid: {e}")))?;
        let n = h.fingerprint.reads;
        // The arrays' size follows from the header: check it against the file before
        // allocating anything a damaged header asks for.
        let want = (n as u64)
            .saturating_mul(h.latent_cols as u64 + 4)
            .saturating_add(h.selected as u64)
            .saturating_mul(4);
        let len = std::fs::metadata(path).map_or(0, |m| m.len());
        let header_len = (MAGIC.len() + 1 + line.len()) as u64;
        if len.saturating_sub(header_len) < want {
            return Err(bad(
                "the session is cut short (its arrays are incomplete)".into()
            ));
        }
        let mut words = |count: usize, what: &str| -> Result<Vec<[u8; 4]>> {
            let mut buf = vec![0u8; count * 4];
            r.read_exact(&mut buf)
                .map_err(|_| bad(format!("the session is cut short (in its {what})")))?;
            Ok(buf
                .chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect())
        };
        let latent = if h.latent_cols > 0 {
            let data = words(n * h.latent_cols, "latent")?
                .into_iter()
                .map(f32::from_le_bytes)
                .collect();
            Some(Matrix::new(n, h.latent_cols, data))
        } else {
            None
        };
        let map: Vec<f32> = words(2 * n, "map")?
            .into_iter()
            .map(f32::from_le_bytes)
            .collect();
        let labels: Vec<i32> = words(n, "bins")?
            .into_iter()
            .map(i32::from_le_bytes)
            .collect();
        let strength: Vec<f32> = words(n, "memberships")?
            .into_iter()
            .map(f32::from_le_bytes)
            .collect();
        let selected: Vec<u32> = words(h.selected, "selection")?
            .into_iter()
            .map(u32::from_le_bytes)
            .collect();
        if h.n_clusters > n {
            return Err(bad(format!(
                "damaged session ({} bins for {n} reads)",
                h.n_clusters
            )));
        }
        crate::bins::check_names(&h.names, h.n_clusters)
            .map_err(|e| bad(format!("damaged session (bin names: {e})")))?;
        if labels
            .iter()
            .any(|&l| l < -1 || (l >= 0 && l as usize >= h.n_clusters))
            || selected.iter().any(|&s| s as usize >= n)
            || map.iter().any(|v| !v.is_finite())
        {
            return Err(bad(
                "damaged session (bins, selection or map out of range)".into()
            ));
        }
        // A latent that is not finite would be mapped again ("Re-map latent") into nonsense.
        if latent
            .as_ref()
            .is_some_and(|l| l.data.iter().any(|v| !v.is_finite()))
        {
            return Err(bad("damaged session (its latent is not finite)".into()));
        }
        Ok(Session {
            settings: h.settings,
            reads: h.reads,
            labels: h.labels,
            fingerprint: h.fingerprint,
            latent,
            map,
            min_cluster_size: h.min_cluster_size,
            clustering: Clustering {
                labels,
                n_clusters: h.n_clusters,
                strength,
            },
            names: h.names,
            refined: h.refined,
            graph: h.graph,
            selected,
            curves: h.curves,
            edits: h.edits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(n: usize) -> ReadIndex {
        ReadIndex::uniform(n)
    }

    fn session(n: usize) -> Session {
        Session {
            settings: Settings::default(),
            reads: "/data/reads.fa".into(),
            labels: None,
            fingerprint: Fingerprint::of(&index(n)),
            latent: Some(Matrix::new(
                n,
                3,
                (0..3 * n).map(|i| i as f32 * 0.5).collect(),
            )),
            map: (0..2 * n).map(|i| i as f32).collect(),
            min_cluster_size: 7,
            clustering: Clustering {
                labels: (0..n as i32).map(|i| i % 3 - 1).collect(),
                n_clusters: 2,
                strength: vec![0.25; n],
            },
            names: vec![None, Some("phage".into())],
            refined: Some(vec![Split {
                reads: 10,
                into: vec![6, 4],
                by_depth: true,
                unbinned: 0,
            }]),
            graph: Some(GraphReport {
                edges: 40,
                moved: 3,
                ..GraphReport::default()
            }),
            selected: vec![1, 4],
            curves: Curves {
                total: vec![[1.0, 0.5]],
                ..Curves::default()
            },
            edits: vec!["renamed bin_2 to phage".into()],
        }
    }

    #[test]
    fn a_session_comes_back_as_it_was_saved_and_damage_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.binscape");
        let s = session(12);
        s.save(&p).unwrap();
        let back = Session::load(&p).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.cut(&index(12), None).name(1), "phage");
        back.check_reads(&index(12)).unwrap();
        let other = back.check_reads(&index(13)).unwrap_err().to_string();
        assert!(other.contains("13 reads"), "{other}");
        let mut renamed = index(12);
        renamed.ids[3] = "x".into();
        assert!(back.check_reads(&renamed).is_err());
        // Cut short, or not a session at all: an error that says so.
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 5]).unwrap();
        let e = Session::load(&p).unwrap_err().to_string();
        assert!(e.contains("cut short"), "{e}");
        std::fs::write(&p, b">r1\nACGT\n").unwrap();
        let e = Session::load(&p).unwrap_err().to_string();
        assert!(e.contains("not a binscape session"), "{e}");
    }

    /// A damaged or hand-made header is refused, not trusted: a bin count that wraps to a
    /// small one as an i32 (it then asked for 2^62 bins' summaries and panicked), names that
    /// climb out of the output folder or share a file with another bin.
    #[test]
    fn a_session_whose_header_asks_for_too_many_bins_or_bad_names_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.binscape");
        let bad = |s: Session| {
            s.save(&p).unwrap();
            Session::load(&p).unwrap_err().to_string()
        };
        let mut s = session(12);
        s.clustering.n_clusters = (1usize << 62) + 2;
        assert!(bad(s).contains("bins for 12 reads"));
        let mut s = session(12);
        if let Some(l) = &mut s.latent {
            l.data[5] = f32::NAN;
        }
        assert!(bad(s).contains("latent is not finite"));
        for name in ["../../escaped", "a\tb", "unbinned", "bin_1", ""] {
            let mut s = session(12);
            s.names = vec![None, Some(name.into())];
            let e = bad(s);
            assert!(e.contains("bin names"), "{name}: {e}");
        }
    }
}
