//! What a run writes, and how: every file of a run goes into a staging folder beside `--out`,
//! and the finished folder replaces the old one in one atomic step, so `--out` always holds one
//! complete run, the old one or the new one, whatever kills the process and whenever.
use crate::bins::Cut;
use crate::cluster::NOISE;
use crate::error::{Error, Result};
use crate::features::Matrix;
use crate::metrics::Scores;
use crate::progress::Progress;
use crate::reads::{ReadIndex, export_fasta, write_atomically};
use crate::refine::Split;
use crate::settings::MapInput;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files and folders a run writes into `--out`; anything else there is not ours.
pub const RUN_FILES: &[&str] = &[
    "bins",
    "assignments.tsv",
    "bins.tsv",
    "loss.tsv",
    "settings.json",
    "report.json",
    "latent.tsv",
];

/// One row of `loss.tsv`.
#[derive(Clone, Debug, PartialEq)]
pub struct LossRow {
    pub step: u64,
    pub epoch: usize,
    pub rl: f32,
    pub kld: f32,
    pub total: f32,
}

/// Bin name of a cluster label, as used in file names and `assignments.tsv`.
pub fn bin_name(label: i32) -> String {
    if label < 0 {
        "unbinned".into()
    } else {
        format!("bin_{}", label + 1)
    }
}

/// One bin's row of `bins.tsv` and `report.json`'s `per_bin`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BinRow {
    pub bin: String,
    pub reads: usize,
    pub bases: u64,
    pub mean_length: f64,
    pub n50: u32,
    pub gc: f64,
    /// Standard deviation of the reads' GC.
    pub gc_sd: f64,
    /// Mean HDBSCAN membership strength (0–1).
    pub membership: f64,
    /// Median 15-mer depth of the reads (relative abundance; saturates at 255; null without coverage).
    pub coverage: Option<f64>,
    /// Share of the reads' overlaps inside the bin (null without the graph or overlaps).
    pub overlap_agreement: Option<f64>,
    /// Coverage (×) and genome size (Mb) that the reads' lengths and overlaps imply (null
    /// without the graph, or the size when no two reads of the bin overlap).
    pub overlap_coverage: Option<f64>,
    pub genome_mb: Option<f64>,
    /// With labels: the most common label and its share of the bin's labelled reads.
    pub majority: Option<String>,
    pub purity: Option<f64>,
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl BinRow {
    pub fn of(b: &crate::bins::BinSummary, cut: &Cut) -> BinRow {
        BinRow {
            bin: cut.name(b.label),
            reads: b.reads,
            bases: b.bases,
            mean_length: round(b.mean_length, 1),
            n50: b.n50,
            gc: round(b.gc, 4),
            gc_sd: round(b.gc_sd, 4),
            membership: round(b.membership, 3),
            coverage: b.coverage.map(|c| round(c, 2)),
            overlap_agreement: b.agreement.map(|a| round(a, 3)),
            overlap_coverage: b.genome.map(|g| round(g.coverage, 2)),
            genome_mb: b
                .genome
                .map(|g| g.size)
                .filter(|s| s.is_finite())
                .map(|s| round(s / 1e6, 3)),
            majority: b.majority.as_ref().map(|m| m.0.clone()),
            purity: b.majority.as_ref().map(|m| round(m.1, 4)),
        }
    }
}

/// Writes `bins.tsv`: one row per bin, then the unbinned reads; empty cells where a value is
/// not known.
pub fn write_bin_table(path: &Path, rows: &[BinRow]) -> Result<()> {
    let cell = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        writeln!(
            w,
            "bin\treads\tbases\tmean_length\tn50\tgc\tgc_sd\tmembership\tcoverage\toverlap_agreement\toverlap_coverage\tgenome_mb\tmajority\tpurity"
        )
        .map_err(io)?;
        for r in rows {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.bin,
                r.reads,
                r.bases,
                r.mean_length,
                r.n50,
                r.gc,
                r.gc_sd,
                r.membership,
                cell(r.coverage),
                cell(r.overlap_agreement),
                cell(r.overlap_coverage),
                cell(r.genome_mb),
                r.majority.as_deref().unwrap_or(""),
                cell(r.purity)
            )
            .map_err(io)?;
        }
        Ok(())
    })?;
    fault_point("bin table");
    Ok(())
}

/// Which map's bins a run kept, by the reads the overlaps doubt under each
/// ([`crate::graph::doubted`]; ties keep the latent's, the method's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MapChoice {
    pub latent_doubted: usize,
    pub kmers_doubted: usize,
    pub kept: MapInput,
}

impl MapChoice {
    pub fn of(latent_doubted: usize, kmers_doubted: usize) -> Self {
        MapChoice {
            latent_doubted,
            kmers_doubted,
            kept: if kmers_doubted < latent_doubted {
                MapInput::Kmers
            } else {
                MapInput::Latent
            },
        }
    }

    /// One line for the user.
    pub fn describe(&self) -> String {
        let (kept, other, a, b) = match self.kept {
            MapInput::Latent => (
                "the latent's",
                "the k-mer vectors'",
                self.latent_doubted,
                self.kmers_doubted,
            ),
            MapInput::Kmers => (
                "the k-mer vectors'",
                "the latent's",
                self.kmers_doubted,
                self.latent_doubted,
            ),
        };
        format!("kept {kept} bins: their overlaps doubt {a} reads, against {b} in {other}")
    }
}

/// `report.json`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub reads: usize,
    pub bases: u64,
    pub read_n50: u32,
    pub skipped_reads: usize,
    pub bins: usize,
    pub binned_reads: usize,
    pub binned_fraction: f64,
    pub min_cluster_size: usize,
    /// How the min cluster size was chosen, when it was not given: the cut kept `bins` bins
    /// at every size tried from `from` to `to`.
    pub min_cluster_size_chosen: Option<crate::cluster::Steady>,
    pub min_samples: usize,
    pub epochs_run: usize,
    pub seconds: serde_json::Map<String, serde_json::Value>,
    pub scores: Option<Scores>,
    /// Bins that refinement split (before → after sizes).
    pub refined: Vec<Split>,
    /// What the read-overlap graph changed (absent with `--no-graph`).
    pub graph: Option<crate::graph::GraphReport>,
    /// The latent's and the k-mer vectors' bins compared by the reads their overlaps doubt, and
    /// which were kept (absent when the run did not compare: `Settings::compares`).
    pub map_compared: Option<MapChoice>,
    /// The binned reads by how many of their overlaps share their bin (absent with
    /// `--no-graph`); per read in `assignments.tsv`.
    pub read_support: Option<crate::graph::SupportSummary>,
    /// Per bin (then the unbinned reads): size and the quality signs that need no truth, as
    /// in `bins.tsv`.
    pub per_bin: Vec<BinRow>,
    pub warnings: Vec<String>,
}

/// A run's output folder while it is being written: a staging folder next to `out` (same
/// file system, so the swap is a rename). Dropped without [`RunFolder::commit`], it is removed
/// and `out` is as it was.
pub struct RunFolder {
    out: PathBuf,
    stage: PathBuf,
    committed: bool,
}

const STAGE_TAG: &str = ".binscape-new";
const OLD_TAG: &str = ".binscape-old";

impl RunFolder {
    /// Checks that `out` can take a run (absent, or a readable folder) and creates the staging
    /// folder, so an unwritable place fails before any work. Staging folders that killed runs
    /// left behind are removed first.
    pub fn prepare(out: &Path) -> Result<RunFolder> {
        let out = std::path::absolute(out).map_err(|e| Error::write(out, e))?;
        let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
            return Err(Error::Input {
                path: out.clone(),
                reason: "cannot be an output folder (it has no parent)".into(),
            });
        };
        let name = name.to_string_lossy().into_owned();
        remove_stale(parent, &name, &out);
        match std::fs::metadata(&out) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::Input {
                    path: out.clone(),
                    reason: "exists and is not a folder; choose a folder for --out".into(),
                });
            }
            Ok(_) => {
                std::fs::read_dir(&out).map_err(|e| Error::write(&out, e))?;
            }
            Err(_) => {}
        }
        std::fs::create_dir_all(parent).map_err(|e| Error::write(&out, e))?;
        let stage = parent.join(format!(".{name}{STAGE_TAG}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stage);
        std::fs::create_dir(&stage).map_err(|e| Error::write(&out, e))?;
        Ok(RunFolder {
            out,
            stage,
            committed: false,
        })
    }

    /// Where the run's files are written until the commit.
    pub fn path(&self) -> &Path {
        &self.stage
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    /// Puts the staged run in place of `out` in one step: a rename when `out` is new, an atomic
    /// exchange (Linux `renameat2(RENAME_EXCHANGE)`) when it holds an earlier run, whose files
    /// are then removed.
    pub fn commit(mut self) -> Result<()> {
        let exists = std::fs::symlink_metadata(&self.out).is_ok();
        if exists {
            self.carry_foreign()?;
        }
        fault_point("commit");
        if !exists {
            std::fs::rename(&self.stage, &self.out).map_err(|e| Error::write(&self.out, e))?;
        } else if let Err(e) = exchange(&self.stage, &self.out) {
            // No atomic exchange on this system or file system: two renames, with the old run
            // parked under a name that `prepare` restores if we die in between.
            if e.raw_os_error() != Some(libc_einval())
                && e.kind() != std::io::ErrorKind::Unsupported
            {
                return Err(Error::write(&self.out, e));
            }
            let old = self.parked();
            std::fs::rename(&self.out, &old).map_err(|e| Error::write(&self.out, e))?;
            fault_point("parked");
            std::fs::rename(&self.stage, &self.out).map_err(|e| Error::write(&self.out, e))?;
            let _ = std::fs::remove_dir_all(&old);
            self.committed = true;
            return Ok(());
        }
        self.committed = true;
        fault_point("exchanged");
        // The staging name now holds the old run.
        let _ = std::fs::remove_dir_all(&self.stage);
        Ok(())
    }

    /// Files in `out` that are not a run's (the user's notes, the reads themselves) go into the
    /// new folder too, as hard links (copies where links fail): the swap must not lose them,
    /// and until it happens the originals stay where they are.
    fn carry_foreign(&self) -> Result<()> {
        let entries = std::fs::read_dir(&self.out).map_err(|e| Error::write(&self.out, e))?;
        for e in entries.flatten() {
            let name = e.file_name();
            let n = name.to_string_lossy();
            if RUN_FILES.contains(&n.as_ref()) || is_old_temp(&n) {
                continue;
            }
            carry(&e.path(), &self.stage.join(&name))
                .map_err(|err| Error::write(&e.path(), err))?;
        }
        Ok(())
    }

    fn parked(&self) -> PathBuf {
        let name = self.out.file_name().unwrap_or_default().to_string_lossy();
        self.out
            .with_file_name(format!(".{name}{OLD_TAG}{}", std::process::id()))
    }
}

impl Drop for RunFolder {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.stage);
        }
    }
}

/// `src` recreated at `dst`: files hard-linked (copied where that fails), folders rebuilt,
/// symbolic links re-made.
fn carry(src: &Path, dst: &Path) -> std::io::Result<()> {
    let m = std::fs::symlink_metadata(src)?;
    if m.file_type().is_symlink() {
        #[cfg(unix)]
        return std::os::unix::fs::symlink(std::fs::read_link(src)?, dst);
        #[cfg(not(unix))]
        return std::fs::copy(src, dst).map(|_| ());
    }
    if m.is_dir() {
        std::fs::create_dir(dst)?;
        for e in std::fs::read_dir(src)? {
            let e = e?;
            carry(&e.path(), &dst.join(e.file_name()))?;
        }
        return Ok(());
    }
    std::fs::hard_link(src, dst).or_else(|_| std::fs::copy(src, dst).map(|_| ()))
}

/// Temporary names that earlier versions left inside `out`: a run file's name between a dot
/// and `.tmp<pid>` or `.old<pid>` (`.bins.tmp4711`), and nothing else: a user's own dot-files
/// (`.settings.old`, `.backup.tmp/`) are theirs.
fn is_old_temp(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('.') else {
        return false;
    };
    RUN_FILES.iter().any(|f| {
        rest.strip_prefix(f)
            .and_then(|r| r.strip_prefix(".tmp").or_else(|| r.strip_prefix(".old")))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// Removes staging folders of `out` whose process is gone (killed runs), and earlier versions'
/// temporary files inside it; a parked old run whose swap never finished is put back.
fn remove_stale(parent: &Path, name: &str, out: &Path) {
    let alive = |pid: &str| {
        pid.parse::<u32>().is_ok_and(|p| {
            p == std::process::id()
                || Path::new("/proc").join(pid).exists()
                || !Path::new("/proc/self").exists()
        })
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = n.strip_prefix('.').and_then(|r| r.strip_prefix(name)) else {
            continue;
        };
        if let Some(pid) = rest.strip_prefix(STAGE_TAG) {
            if !alive(pid) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        } else if let Some(pid) = rest.strip_prefix(OLD_TAG)
            && !alive(pid)
        {
            if std::fs::symlink_metadata(out).is_err() {
                let _ = std::fs::rename(e.path(), out);
            } else {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if is_old_temp(&n) {
                let p = e.path();
                let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: two valid NUL-terminated paths; renameat2 only reads them.
    let r = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

fn libc_einval() -> i32 {
    #[cfg(target_os = "linux")]
    {
        libc::EINVAL
    }
    #[cfg(not(target_os = "linux"))]
    {
        -1
    }
}

/// Fault injection for the tests of the output phase: with `BINSCAPE_ABORT_AT=N`, the process
/// aborts (as SIGKILL would end it: no cleanup) at the N-th point of the output phase.
pub fn fault_point(_what: &str) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static SEEN: AtomicUsize = AtomicUsize::new(0);
    let Some(at) = std::env::var("BINSCAPE_ABORT_AT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    if SEEN.fetch_add(1, Ordering::SeqCst) + 1 == at {
        std::process::abort();
    }
}

/// Writes `dir/bins/bin_<n>.fasta` and `unbinned.fasta` (always present, maybe empty).
pub fn write_bins(dir: &Path, index: &ReadIndex, cut: &Cut, progress: &Progress) -> Result<()> {
    let (labels, n_bins) = (&cut.clustering.labels, cut.clustering.n_clusters);
    let bins = dir.join("bins");
    std::fs::create_dir_all(&bins).map_err(|e| Error::write(&bins, e))?;
    let mut paths: Vec<PathBuf> = (0..n_bins as i32)
        .map(|l| bins.join(format!("{}.fasta", cut.name(l))))
        .collect();
    paths.push(bins.join(format!("{}.fasta", bin_name(NOISE))));
    let group: Vec<Option<usize>> = labels
        .iter()
        .map(|&l| Some(if l < 0 { n_bins } else { l as usize }))
        .collect();
    export_fasta(index, &group, &paths, progress)?;
    fault_point("bins");
    Ok(())
}

/// Writes `loss.tsv`.
pub fn write_losses(path: &Path, losses: &[LossRow]) -> Result<()> {
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        writeln!(w, "step\tepoch\trl\tkld\ttotal").map_err(io)?;
        for l in losses {
            writeln!(
                w,
                "{}\t{}\t{}\t{}\t{}",
                l.step, l.epoch, l.rl, l.kld, l.total
            )
            .map_err(io)?;
        }
        Ok(())
    })?;
    fault_point("loss");
    Ok(())
}

/// Writes `read_id  bin  x  y  overlaps  overlaps_in_bin` for every read (the map is n × 2),
/// atomically. The last two say why a read is in its bin: how many reads it overlaps and how
/// many of those share its bin (`NA` without the overlap graph).
pub fn write_assignments(
    path: &Path,
    index: &ReadIndex,
    cut: &Cut,
    map: &Matrix,
    support: Option<&[crate::graph::Support]>,
) -> Result<()> {
    let labels = &cut.clustering.labels;
    let names: Vec<String> = (0..cut.clustering.n_clusters as i32)
        .map(|l| cut.name(l))
        .collect();
    let name = |l: i32| {
        usize::try_from(l)
            .ok()
            .and_then(|b| names.get(b).cloned())
            .unwrap_or_else(|| bin_name(l))
    };
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        writeln!(w, "read_id\tbin\tx\ty\toverlaps\toverlaps_in_bin").map_err(io)?;
        for (i, ((id, &l), xy)) in index
            .ids
            .iter()
            .zip(labels)
            .zip(map.data.chunks_exact(2))
            .enumerate()
        {
            let (name, x, y) = (name(l), xy[0], xy[1]);
            match support.and_then(|s| s.get(i)) {
                Some(s) => writeln!(w, "{id}\t{name}\t{x}\t{y}\t{}\t{}", s.overlaps, s.in_bin),
                None => writeln!(w, "{id}\t{name}\t{x}\t{y}\tNA\tNA"),
            }
            .map_err(io)?;
        }
        Ok(())
    })?;
    fault_point("assignments");
    Ok(())
}

/// Pretty JSON of `v`, written atomically.
pub fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::write(path, e.into()))? + "\n";
    write_atomically(path, |w| {
        w.write_all(text.as_bytes())
            .map_err(|e| Error::write(path, e))
    })?;
    fault_point("json");
    Ok(())
}

/// Writes `m` as a TSV with the read ids in the first column (`read_id  z1  z2 …`).
pub fn write_matrix(path: &Path, index: &ReadIndex, m: &Matrix) -> Result<()> {
    write_atomically(path, |w| {
        let io = |e| Error::write(path, e);
        let head: Vec<String> = (1..=m.cols).map(|j| format!("z{j}")).collect();
        writeln!(w, "read_id\t{}", head.join("\t")).map_err(io)?;
        for i in 0..m.rows {
            let row: Vec<String> = m.row(i).iter().map(|v| v.to_string()).collect();
            writeln!(w, "{}\t{}", index.ids[i], row.join("\t")).map_err(io)?;
        }
        Ok(())
    })?;
    fault_point("matrix");
    Ok(())
}
