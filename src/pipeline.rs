//! The stages in their one order — read, train, map, cluster, refine, export — and
//! [`run`], which the CLI and the bench follow from end to end. The explorer runs the same stage
//! functions as separate jobs (so it can show each result and re-cut without re-mapping), in
//! the same order. Nothing below this module imports it.
use crate::bins::Cut;
use crate::cluster::{Clustering, Hierarchy, build_hierarchy};
use crate::embed::{MAP_ROWS, umap_sampled};
use crate::error::{Error, Result};
use crate::features::{Matrix, SCALE_CLIP};
use crate::model::{TrainEvent, Trainer};
use crate::output::{self, LossRow, MapChoice, Report, RunFolder};
use crate::progress::Progress;
use crate::reads::{self, Labels, LoadedReads, ReadIndex};
use crate::settings::{ClusterOn, MapInput, Settings};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// The stages, in order. `key` names each one's seconds in `report.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Read,
    Train,
    Map,
    Cluster,
    Refine,
    Graph,
    /// The k-mer vectors' own bins, mapped, cut, refined and corrected, to compare
    /// ([`Settings::compares`]).
    Compare,
    Export,
}

impl Stage {
    pub const ORDER: [Stage; 8] = [
        Stage::Read,
        Stage::Train,
        Stage::Map,
        Stage::Cluster,
        Stage::Refine,
        Stage::Graph,
        Stage::Compare,
        Stage::Export,
    ];
    pub fn key(self) -> &'static str {
        match self {
            Stage::Read => "read_and_vectors",
            Stage::Train => "train",
            Stage::Map => "map",
            Stage::Cluster => "cluster",
            Stage::Refine => "refine",
            Stage::Graph => "graph",
            Stage::Compare => "compare",
            Stage::Export => "export",
        }
    }
}

/// The warning for reads left out with `--skip-invalid`, naming a few.
pub fn skipped_warning(index: &ReadIndex) -> Option<String> {
    if index.skipped.is_empty() {
        return None;
    }
    let ex: Vec<String> = index
        .skipped
        .iter()
        .take(3)
        .map(|(r, id)| format!("{id} (record {})", r + 1))
        .collect();
    Some(format!(
        "{}: left out {} reads with no valid k-mer, e.g. {}",
        index.path.display(),
        index.skipped.len(),
        ex.join(", ")
    ))
}

/// Stage 1: the reads, their vectors and (optionally) their labels, with the warnings to show.
pub struct Input {
    pub loaded: LoadedReads,
    pub labels: Option<Labels>,
    pub warnings: Vec<String>,
}

pub fn read(
    reads_path: &Path,
    labels_path: Option<&Path>,
    s: &Settings,
    progress: &Progress,
) -> Result<Input> {
    let loaded = reads::load_reads(reads_path, s.feature_options(), progress)?;
    let mut warnings: Vec<String> = skipped_warning(&loaded.index).into_iter().collect();
    let labels = match labels_path {
        Some(p) => {
            let l = reads::load_labels(p, &loaded.index)?;
            warnings.extend(l.warnings(p));
            Some(l)
        }
        None => None,
    };
    s.check_reads(loaded.index.len())?;
    Ok(Input {
        loaded,
        labels,
        warnings,
    })
}

/// Loss rows and epochs as the trainer reports them; the CLI's `loss.tsv` and the bench.
#[derive(Clone, Debug, Default)]
pub struct TrainLog {
    pub losses: Vec<LossRow>,
    pub epochs_run: usize,
}

impl TrainLog {
    pub fn record(&mut self, ev: &TrainEvent) {
        match ev {
            TrainEvent::Batch {
                epoch,
                step,
                rl,
                kld,
                total,
                ..
            } => self.losses.push(LossRow {
                step: *step,
                epoch: *epoch,
                rl: *rl,
                kld: *kld,
                total: *total,
            }),
            TrainEvent::Epoch { epoch, .. } => self.epochs_run = *epoch,
            _ => {}
        }
    }
}

/// Stage 2: trains the VAE on its own thread ([`Trainer`], as the explorer does) and waits for
/// the latent, passing every event to `on_event` and following it in `progress`.
/// Cancellation stops training.
pub fn train(
    features: Arc<Matrix>,
    s: &Settings,
    progress: &Progress,
    on_event: &mut dyn FnMut(&TrainEvent),
) -> Result<(Matrix, TrainLog)> {
    let trainer = Trainer::spawn(
        features.clone(),
        s.train_config(features.rows, features.cols),
    );
    let mut log = TrainLog::default();
    progress.start("training the VAE", 1);
    loop {
        match trainer
            .events
            .recv_timeout(std::time::Duration::from_millis(100))
        {
            Ok(ev) => {
                // Events can come faster than the timeout: look at the flag on each one too.
                if progress.cancelled() {
                    trainer.stop();
                }
                log.record(&ev);
                on_event(&ev);
                match ev {
                    TrainEvent::Batch {
                        step, steps_total, ..
                    } => {
                        progress.set_total(steps_total);
                        progress.set(step);
                    }
                    TrainEvent::Done { latent, .. } => {
                        if progress.cancelled() {
                            return Err(Error::Cancelled);
                        }
                        return Ok((latent, log));
                    }
                    TrainEvent::Failed(e) => return Err(Error::Training(e)),
                    _ => {}
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if progress.cancelled() {
                    trainer.stop();
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                return Err(Error::Training(
                    "the trainer thread ended without a result".into(),
                ));
            }
        }
    }
}

/// The baseline's map input: the k-mer vectors scaled to [0, 1] as the VAE sees them, each
/// column times the square root of its loss weight, so that distances weigh the blocks as the
/// VAE's loss does.
pub fn baseline_input(features: &Matrix, s: &Settings) -> Matrix {
    let baseline_row = baseline_rows(features, s);
    let mut data = vec![0f32; features.rows * features.cols];
    for (r, out) in data.chunks_mut(features.cols.max(1)).enumerate() {
        baseline_row(r, out);
    }
    Matrix::new(features.rows, features.cols, data)
}

/// Writes read `r`'s row of [`baseline_input`] into `out`: one row at a time, so that
/// [`map_input`] needs no scaled copy of a million reads' vectors (600 MB) beside its own.
fn baseline_rows<'a>(features: &'a Matrix, s: &Settings) -> impl Fn(usize, &mut [f32]) + 'a {
    let bounds = features.unit_bounds(SCALE_CLIP);
    let root_w: Vec<f32> = s
        .column_weights(features.cols)
        .iter()
        .map(|w| w.sqrt())
        .collect();
    move |r, out| {
        out.copy_from_slice(features.row(r));
        bounds.scale(out);
        out.iter_mut().zip(&root_w).for_each(|(v, w)| *v *= w);
    }
}

/// What the map is laid out from: the k-mer vectors as the baseline maps them when there is no
/// `latent`; else the latent beside them, each block scaled to its share of the total variance
/// (`s.kmer_share` for the vectors), so squared distances add up in those shares; the latent
/// alone at share 0.
///
/// Why both: on mixes from simulators other than binscape's own (PBSIM's CLR and ONT-like
/// models, Badread) the latent alone scored under the vectors alone on every one (dev, P3, P5 by
/// 0.003–0.007), while on binscape's own mixes with a rare genome beside an abundant relative it
/// was far ahead (I, S, U by 0.02–0.04). Beside each other the two beat both on the first kind;
/// README, session 18.
pub fn map_input(latent: Option<&Matrix>, features: &Matrix, s: &Settings) -> Matrix {
    let Some(latent) = latent else {
        return baseline_input(features, s);
    };
    assert_eq!(latent.rows, features.rows, "one latent row per read");
    if s.kmer_share <= 0.0 {
        return latent.clone();
    }
    let scaled_row = baseline_rows(features, s);
    // The summed column variances of each block, the vectors' as the baseline scales them.
    let total_variance = |rows: usize, cols: usize, row: &mut dyn FnMut(usize, &mut [f32])| {
        let (mut s1, mut s2) = (vec![0f64; cols], vec![0f64; cols]);
        let mut buf = vec![0f32; cols];
        for r in 0..rows {
            row(r, &mut buf);
            for ((a, b), &v) in s1.iter_mut().zip(&mut s2).zip(&buf) {
                *a += v as f64;
                *b += (v as f64) * (v as f64);
            }
        }
        let n = rows.max(1) as f64;
        s1.iter()
            .zip(&s2)
            .map(|(a, b)| (b / n - (a / n).powi(2)).max(0.0))
            .sum::<f64>()
    };
    let kmer_var = total_variance(features.rows, features.cols, &mut |r, out| {
        scaled_row(r, out)
    });
    let latent_var = total_variance(latent.rows, latent.cols, &mut |r, out| {
        out.copy_from_slice(latent.row(r))
    });
    let share = s.kmer_share;
    let fa = ((1.0 - share) / latent_var.max(1e-12)).sqrt() as f32;
    let fb = (share / kmer_var.max(1e-12)).sqrt() as f32;
    let cols = latent.cols + features.cols;
    let mut data = vec![0f32; latent.rows * cols];
    for (r, out) in data.chunks_mut(cols).enumerate() {
        let (a, b) = out.split_at_mut(latent.cols);
        a.iter_mut()
            .zip(latent.row(r))
            .for_each(|(o, v)| *o = v * fa);
        scaled_row(r, b);
        b.iter_mut().for_each(|v| *v *= fb);
    }
    Matrix::new(latent.rows, cols, data)
}

/// Stage 3: the 2-D map of `input` ([`map_input`]).
pub fn project(input: &Matrix, s: &Settings, progress: &Progress) -> Result<Vec<f32>> {
    progress.start("2-D map (UMAP)", 1);
    let mut cb = |done: usize, total: usize| {
        progress.set_total(total as u64);
        progress.set(done as u64);
        !progress.cancelled()
    };
    umap_sampled(&input.data, input.cols, &s.umap_params(), MAP_ROWS, &mut cb)
        .ok_or(Error::Cancelled)
}

/// Stage 4: the HDBSCAN hierarchy of the points to cluster (built once per `min_samples`).
pub fn cluster_hierarchy(points: &Matrix, s: &Settings, progress: &Progress) -> Result<Hierarchy> {
    progress.start("clustering (HDBSCAN)", 1);
    let h = build_hierarchy(
        &points.data,
        points.cols,
        s.min_samples_for(points.rows),
        &|| progress.cancelled(),
    )
    .ok_or(Error::Cancelled)?;
    progress.set(1);
    Ok(h)
}

/// The points HDBSCAN runs on, by the settings.
pub fn cluster_points<'a>(s: &Settings, map: &'a Matrix, latent: &'a Matrix) -> &'a Matrix {
    match s.cluster_on {
        ClusterOn::Map => map,
        ClusterOn::Latent => latent,
    }
}

/// The map of `input` and the HDBSCAN hierarchy of what `cluster_on` names, with the seconds
/// each took.
pub struct Mapping {
    /// n × 2.
    pub map: Matrix,
    /// The points the hierarchy was built on (the map, or `input` itself).
    pub points: Matrix,
    pub hierarchy: Hierarchy,
    pub map_seconds: f64,
    pub cluster_seconds: f64,
}

/// Stages 3 and 4 together.
pub fn map_and_cluster(input: &Matrix, s: &Settings, progress: &Progress) -> Result<Mapping> {
    let t = Instant::now();
    let map = Matrix::new(input.rows, 2, project(input, s, progress)?);
    let map_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let points = cluster_points(s, &map, input).clone();
    let hierarchy = cluster_hierarchy(&points, s, progress)?;
    Ok(Mapping {
        map,
        points,
        hierarchy,
        map_seconds,
        cluster_seconds: t.elapsed().as_secs_f64(),
    })
}

/// Bins corrected by the overlap graph ([`graph_corrected`]): the cut, each bin's overlap
/// agreement, and each read's support ([`crate::graph::support`]).
pub type Corrected = (Cut, Vec<f64>, Vec<crate::graph::Support>);

/// The k-mer vectors' own bins, to compare with the latent's ([`Settings::compares`]): mapped,
/// cut at the chosen size, refined as the settings ask, and corrected by `correct` (the same
/// graph correction the latent's bins had).
pub fn kmer_bins(
    features: &Matrix,
    s: &Settings,
    index: &ReadIndex,
    labels: Option<&Labels>,
    correct: impl Fn(&Cut) -> Result<Corrected>,
    progress: &Progress,
) -> Result<(Mapping, Corrected)> {
    let m = map_and_cluster(&baseline_input(features, s), s, progress)?;
    let mut cut = Cut::chosen(&m.hierarchy, s, index, labels);
    if s.refine {
        cut = cut.refine(index, labels, s, progress)?;
    }
    let corrected = correct(&cut)?;
    Ok((m, corrected))
}

/// What [`run`] tells its driver as it goes.
pub enum RunEvent<'a> {
    /// The reads are in: how many, and the width of their vectors.
    Read {
        index: &'a ReadIndex,
        dims: usize,
    },
    Warning(&'a str),
    Train(&'a TrainEvent),
}

/// Everything a run produced, in memory.
pub struct RunResult {
    pub index: ReadIndex,
    pub labels: Option<Labels>,
    pub latent: Option<Matrix>,
    /// n × 2.
    pub map: Matrix,
    pub hierarchy: Hierarchy,
    /// The final bins (refined when the settings say so), summarised and scored.
    pub cut: Cut,
    pub train: TrainLog,
    /// Seconds per stage, in [`Stage::ORDER`].
    pub seconds: Vec<(Stage, f64)>,
    pub warnings: Vec<String>,
    /// What the overlap graph changed, and per bin the share of its overlaps inside it.
    pub graph: Option<(crate::graph::GraphReport, Vec<f64>)>,
    /// Per read: its overlaps, and those in its bin (None without the graph).
    pub support: Option<Vec<crate::graph::Support>>,
    /// The latent's and the k-mer vectors' bins compared, and which were kept (None when the
    /// run did not compare: [`Settings::compares`]).
    pub compared: Option<MapChoice>,
}

/// Every stage from the reads to the final bins, in order; `on_event` hears what the user
/// should see as it happens (warnings first of all, not hours later).
pub fn run(
    reads_path: &Path,
    labels_path: Option<&Path>,
    s: &Settings,
    progress: &Progress,
    on_event: &mut dyn FnMut(RunEvent),
) -> Result<RunResult> {
    s.validate()?;
    let mut seconds = Vec::new();
    let t = Instant::now();
    let input = read(reads_path, labels_path, s, progress)?;
    seconds.push((Stage::Read, t.elapsed().as_secs_f64()));
    let Input {
        loaded,
        labels,
        warnings,
    } = input;
    let index = loaded.index;
    let n = index.len();
    let features = Arc::new(loaded.features);
    on_event(RunEvent::Read {
        index: &index,
        dims: features.cols,
    });
    for w in &warnings {
        on_event(RunEvent::Warning(w));
    }

    // The overlaps depend on the reads alone: they are found on the second core while the VAE
    // trains on the first (its matrix products run on one thread), and are ready by the time the
    // bins are (dev reads: 0.7 s of a 7 s run saved).
    let done = std::thread::scope(|scope| -> Result<_> {
        let overlaps = s.graph.then(|| {
            let (index, side) = (&index, progress.sibling());
            scope.spawn(move || {
                let t = Instant::now();
                crate::graph::overlaps(index, &side).map(|o| (o, t.elapsed().as_secs_f64()))
            })
        });
        let trained = match s.map_input {
            MapInput::Kmers => Ok((None, TrainLog::default())),
            MapInput::Latent => {
                let t = Instant::now();
                let mut on_train = |ev: &TrainEvent| on_event(RunEvent::Train(ev));
                train(features.clone(), s, progress, &mut on_train).map(|(l, log)| {
                    seconds.push((Stage::Train, t.elapsed().as_secs_f64()));
                    (Some(l), log)
                })
            }
        };
        let (latent, train_log) = match trained {
            Ok(t) => t,
            Err(e) => {
                // Not waiting minutes (at a million reads) for overlaps no one will use.
                progress.cancel();
                return Err(e);
            }
        };
        let m = map_and_cluster(&map_input(latent.as_ref(), &features, s), s, progress)?;
        seconds.push((Stage::Map, m.map_seconds));
        let t = Instant::now();
        let mut cut = Cut::chosen(&m.hierarchy, s, &index, labels.as_ref());
        seconds.push((
            Stage::Cluster,
            m.cluster_seconds + t.elapsed().as_secs_f64(),
        ));
        if s.refine {
            let t = Instant::now();
            cut = cut.refine(&index, labels.as_ref(), s, progress)?;
            seconds.push((Stage::Refine, t.elapsed().as_secs_f64()));
        }
        let (mut m, mut graph, mut support, mut compared) = (m, None, None, None);
        let mut warnings = warnings;
        if let Some(h) = overlaps {
            let t = Instant::now();
            let (o, found_in) = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
            let adj = o.adjacency(n);
            let correct = |cut: &Cut| {
                graph_corrected(
                    cut,
                    &o,
                    &adj,
                    &index,
                    labels.as_ref(),
                    s.sequence_vote,
                    progress,
                )
            };
            let mut corrected = correct(&cut)?;
            // The search's own seconds (spent beside training), plus the correction.
            seconds.push((Stage::Graph, found_in + t.elapsed().as_secs_f64()));
            if s.compares(n) {
                let t = Instant::now();
                let (k, other) =
                    kmer_bins(&features, s, &index, labels.as_ref(), correct, progress)?;
                let choice = MapChoice::of(
                    crate::graph::doubted(&corrected.0.clustering.labels, &corrected.2),
                    crate::graph::doubted(&other.0.clustering.labels, &other.2),
                );
                if choice.kept == MapInput::Kmers {
                    (m, corrected) = (k, other);
                }
                seconds.push((Stage::Compare, t.elapsed().as_secs_f64()));
                compared = Some(choice);
            }
            let (c, agreement, sup) = corrected;
            cut = c;
            support = Some(sup);
            graph = cut.graph.clone().map(|r| (r, agreement));
        }
        if cut.clustering.n_clusters == 0 {
            let mcs = cut.min_cluster_size;
            let w = format!(
                "no bins: HDBSCAN found no group of at least {mcs} reads among the {n}; try a smaller --min-cluster-size"
            );
            on_event(RunEvent::Warning(&w));
            warnings.push(w);
        }
        Ok((
            latent, m, cut, train_log, warnings, graph, support, compared,
        ))
    });
    let (latent, m, cut, train, warnings, graph, support, compared) = done?;
    Ok(RunResult {
        index,
        labels,
        latent,
        map: m.map,
        hierarchy: m.hierarchy,
        cut,
        train,
        seconds,
        warnings,
        graph,
        support,
        compared,
    })
}

/// Stage 6: `cut` corrected by the overlap graph `o` ([`crate::graph::correct`]), then (when
/// `sequence`) the reads it leaves in doubt placed by their bins' sequence models
/// ([`crate::markov`], two passes over the reads); its bins summarised with their overlap
/// agreement (also returned, per bin), and each read's support under them.
pub fn graph_corrected(
    cut: &Cut,
    o: &crate::graph::Overlaps,
    adj: &crate::graph::Adjacency,
    index: &ReadIndex,
    labels: Option<&Labels>,
    sequence: bool,
    progress: &Progress,
) -> Result<Corrected> {
    // A shallow seed or a deep element that did not grow into a bin: the stage again, as if it
    // had not been made: without shallow seeds, and asking each failed element (only those: a
    // phage made at half the size must not lose its bin for a plasmid's failure) its full size,
    // then, failing again, not making it. At most three passes, each a pass of the votes.
    let mut ask = Elements::default();
    let mut seeding = true;
    let (mut voted, mut report, mut failed) =
        graph_labels(cut, o, adj, index, sequence, progress, seeding, &ask)?;
    for _ in 0..2 {
        if failed.seeds == 0 && failed.elements.is_empty() {
            break;
        }
        seeding &= failed.seeds == 0;
        for &e in &failed.elements {
            if ask.full.contains(&e) {
                ask.none.push(e);
            } else {
                ask.full.push(e);
            }
        }
        (voted, report, failed) =
            graph_labels(cut, o, adj, index, sequence, progress, seeding, &ask)?;
    }
    let (renumbered, k) = crate::graph::renumber(&voted, cut.min_cluster_size);
    report.dropped = (0..voted.len())
        .filter(|&i| voted[i] >= 0 && renumbered[i] < 0)
        .count();
    let voted = renumbered;
    let agreement = crate::graph::agreement(&voted, k, o);
    let genomes = crate::graph::genome_sizes(&voted, o, &index.lengths);
    let clustering = Clustering {
        labels: voted,
        n_clusters: k,
        strength: cut.clustering.strength.clone(),
    };
    let c = Cut::of(
        clustering,
        cut.min_cluster_size,
        index,
        labels,
        cut.refined.clone(),
    )
    .with_agreement(&agreement)
    .with_genomes(&genomes)
    .with_graph(Some(report))
    .with_steady(cut.steady);
    let support = crate::graph::support(&c.clustering.labels, adj);
    Ok((c, agreement, support))
}

/// Deep elements ([`crate::graph::deep_by_overlaps`], named by their first read) asked their
/// full size, and not to be made, in a pass of [`graph_labels`].
#[derive(Default)]
struct Elements {
    full: Vec<usize>,
    none: Vec<usize>,
}

/// [`graph_corrected`]'s labels before renumbering, its report, and the shallow seeds (when
/// `seeding`) and deep elements that did not grow into a bin ([`Failed`]).
#[allow(clippy::too_many_arguments)]
fn graph_labels(
    cut: &Cut,
    o: &crate::graph::Overlaps,
    adj: &crate::graph::Adjacency,
    index: &ReadIndex,
    sequence: bool,
    progress: &Progress,
    seeding: bool,
    ask: &Elements,
) -> Result<(Vec<i32>, crate::graph::GraphReport, Failed)> {
    // Half the min cluster size of deep reads seeds an element: only its deepest reads are deep
    // and the vote brings its ends along. At 2 % of 30 000 reads lambda's deep reads were 439 of
    // its 605, under a chosen size of 504, and it had no bin (mix I, seed 42, the latent beside
    // the k-mer vectors: 0.910; by half, 0.956). One that then stays under the size runs the
    // stage again asking it the full size.
    let mcs = cut.min_cluster_size;
    let least = |first: usize| {
        if ask.none.contains(&first) {
            usize::MAX
        } else if ask.full.contains(&first) {
            mcs
        } else {
            mcs / 2
        }
    };
    let (deep, made) = crate::graph::deep_by_overlaps(&cut.clustering.labels, o, adj, &least);
    // Bins from here on are seeded by depth: genomes, which the loose-bin rule leaves alone.
    let seeded = crate::cluster::bin_count(&deep);
    let (seeds, seeded_from, shallow_doubt) = if seeding {
        crate::graph::shallow_seeds(&deep, o, adj, &index.lengths)
    } else {
        (deep.clone(), Vec::new(), vec![false; deep.len()])
    };
    let shallow = seeded_from.len();
    let (voted, mut report) = crate::graph::correct(&seeds, o, adj);
    report.deep_made = made;
    let (voted, joined) = crate::graph::join_deep(&voted, o, &index.kmer_depth);
    report.joined = joined;
    // The reads the overlaps leave in doubt, put to their bins' sequence models (when asked).
    // The reads of a bin a shallow genome was seeded from that lie nearer its depth are put to
    // the sequence models too.
    let by_sequence =
        |labels: Vec<i32>, also: Option<&[bool]>| -> Result<(Vec<i32>, crate::markov::Voted)> {
            if !sequence {
                return Ok((labels, Default::default()));
            }
            // Weak overlaps (homologous genes of two genomes) do not settle a read's bin.
            let support = crate::graph::firm_support(&labels, adj);
            let pointed = crate::graph::pointed(&labels, adj);
            crate::markov::vote(index, &labels, &support, also, Some(&pointed), progress)
        };
    if sequence {
        report.weakly_held = crate::graph::weakly_held(&voted, adj);
    }
    let (voted, said) = by_sequence(voted, Some(&shallow_doubt))?;
    report.doubted = said.doubted;
    report.sequence_moved = said.moved;
    report.sequence_pointed = said.pointed;
    report.sequence_rescued = said.rescued;
    // Bins that are loci of several genomes, not a genome, go back to the votes.
    let (cleared, loose) = crate::graph::loose_bins(&voted, o, cut.min_cluster_size, seeded);
    report.loose = loose;
    // Reads a rule unbinned (`cleared`: the labels as they were when it unbinned none) go back
    // to the votes: the overlaps', then the sequence models'.
    let vote_again = |cleared: Vec<i32>, unbinned: usize| -> Result<Vec<i32>> {
        if unbinned == 0 {
            return Ok(cleared);
        }
        Ok(by_sequence(crate::graph::correct(&cleared, o, adj).0, None)?.0)
    };
    let voted = vote_again(cleared, loose)?;
    let (voted, deeper) = crate::graph::deeper_stretches(&voted, o, adj, &index.lengths);
    report.deeper = deeper;
    // Last, once the votes have settled which bins are loci of several genomes.
    let (voted, fragments) = crate::graph::join_fragments(&voted, o, &index.lengths);
    report.fragments = fragments;
    // Loci several genomes share, each read to where its own overlaps and sequence say.
    let (cleared, shared) = crate::graph::shared_loci(&voted, o, &index.lengths);
    report.shared_loci = shared;
    let voted = vote_again(cleared, shared)?;
    // A genome's repeat in another's bin, once every vote has settled where its flanks are.
    let (voted, repeats) = crate::graph::repeat_groups(&voted, o, adj);
    report.repeats = repeats;
    report.shallow_made = shallow;
    let failed = Failed {
        seeds: crate::graph::failed_seeds(&voted, seeded, shallow, cut.min_cluster_size),
        elements: crate::graph::failed_elements(
            &deep,
            &voted,
            seeded - made,
            made,
            cut.min_cluster_size,
        ),
    };
    Ok((voted, report, failed))
}

/// Bins the graph stage made that the votes left under the min cluster size: how many shallow
/// seeds, and which deep elements (by their first read).
struct Failed {
    seeds: usize,
    elements: Vec<usize>,
}

/// A saved session's bins (with its hand edits and names) over its reads, as a finished run:
/// nothing is trained, mapped or clustered again, so `binscape run --session` writes exactly
/// the curated bins. `reads_path` overrides where the session says its reads are; the reads
/// must be the ones the session was made on.
pub fn from_session(
    session: &crate::session::Session,
    reads_path: Option<&Path>,
    labels_path: Option<&Path>,
    progress: &Progress,
) -> Result<RunResult> {
    let t = Instant::now();
    let reads = reads_path.unwrap_or(&session.reads);
    let labels = labels_path.or(session.labels.as_deref());
    let input = read(reads, labels, &session.settings, progress)?;
    let seconds = vec![(Stage::Read, t.elapsed().as_secs_f64())];
    session.check_reads(&input.loaded.index)?;
    let index = input.loaded.index;
    let cut = session.cut(&index, input.labels.as_ref());
    let c = &session.curves;
    let losses = c
        .total
        .iter()
        .zip(&c.rl)
        .zip(&c.kld)
        .map(|((t, r), k)| output::LossRow {
            step: t[0] as u64,
            epoch: 0,
            rl: r[1] as f32,
            kld: k[1] as f32,
            total: t[1] as f32,
        })
        .collect();
    Ok(RunResult {
        map: Matrix::new(index.len(), 2, session.map.clone()),
        index,
        labels: input.labels,
        latent: session.latent.clone(),
        hierarchy: Default::default(),
        cut,
        train: TrainLog {
            losses,
            epochs_run: 0,
        },
        seconds,
        warnings: input.warnings,
        graph: None,
        support: None,
        compared: None,
    })
}

impl RunResult {
    pub fn report(&self, s: &Settings) -> Report {
        let n = self.index.len();
        let binned = self.cut.binned_reads();
        Report {
            reads: n,
            bases: self.index.total_bases(),
            read_n50: self.index.n50(None),
            skipped_reads: self.index.skipped.len(),
            bins: self.cut.clustering.n_clusters,
            binned_reads: binned,
            binned_fraction: binned as f64 / n as f64,
            min_cluster_size: self.cut.min_cluster_size,
            min_cluster_size_chosen: self.cut.steady,
            min_samples: s.min_samples_for(n),
            epochs_run: self.train.epochs_run,
            seconds: self
                .seconds
                .iter()
                .map(|(k, v)| {
                    (
                        k.key().to_string(),
                        serde_json::json!((v * 1000.0).round() / 1000.0),
                    )
                })
                .collect(),
            scores: self.cut.scores.clone(),
            refined: self.cut.refined.clone().unwrap_or_default(),
            graph: self.graph.as_ref().map(|(g, _)| g.clone()),
            map_compared: self.compared,
            read_support: self
                .support
                .as_ref()
                .map(|x| crate::graph::SupportSummary::of(x, &self.cut.clustering.labels)),
            per_bin: self
                .cut
                .bins
                .iter()
                .map(|b| output::BinRow::of(b, &self.cut))
                .collect(),
            warnings: self.warnings.clone(),
        }
    }

    /// Stage 6: writes the whole run into `out` (bins/, assignments.tsv, loss.tsv,
    /// settings.json, report.json and, with `save_latent`, latent.tsv) through a staging folder
    /// that replaces `out` in one step. Returns the report written.
    pub fn export(
        &mut self,
        folder: RunFolder,
        s: &Settings,
        save_latent: bool,
        progress: &Progress,
    ) -> Result<Report> {
        let dir = folder.path().to_path_buf();
        let t = Instant::now();
        output::write_bins(&dir, &self.index, &self.cut, progress)?;
        self.seconds
            .push((Stage::Export, t.elapsed().as_secs_f64()));
        output::write_assignments(
            &dir.join("assignments.tsv"),
            &self.index,
            &self.cut,
            &self.map,
            self.support.as_deref(),
        )?;
        output::write_bin_table(&dir.join("bins.tsv"), &self.report(s).per_bin)?;
        output::write_losses(&dir.join("loss.tsv"), &self.train.losses)?;
        if let (true, Some(l)) = (save_latent, &self.latent) {
            output::write_matrix(&dir.join("latent.tsv"), &self.index, l)?;
        }
        output::write_json(&dir.join("settings.json"), s)?;
        let report = self.report(s);
        output::write_json(&dir.join("report.json"), &report)?;
        if progress.cancelled() {
            return Err(Error::Cancelled);
        }
        folder.commit()?;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::COVERAGE_BINS;

    #[test]
    fn one_failed_element_does_not_take_the_bin_of_another() {
        // Two genomes (reads 0-99 and 100-199, each read overlapping the next two), a phage
        // (40 deep reads overlapping each other, 20 shallower end reads overlapping five of them
        // each) and a plasmid (30 deep reads), both spread over the genomes' bins. At a min
        // cluster size of 50 both are made at half that; the votes bring the phage's ends
        // along (60 reads), the plasmid stays at 30 and fails. Asking every element its full
        // size again would leave the phage (40 deep reads) unmade too.
        let n = 290u32;
        let mut edges = Vec::new();
        for r in [0..100u32, 100..200] {
            for x in r.clone() {
                edges.extend((x + 1..(x + 3).min(r.end)).map(|y| (x, y, 10)));
            }
        }
        for r in [200..240u32, 260..290] {
            for x in r.clone() {
                edges.extend((x + 1..r.end).map(|y| (x, y, 10)));
            }
        }
        for e in 240..260u32 {
            edges.extend((0..5).map(|k| (200 + (e * 7 + k * 3) % 40, e, 10)));
        }
        let o = crate::graph::Overlaps {
            edges,
            density: Vec::new(),
            sampled: 1.0,
            reads_indexed: 1.0,
        };
        let adj = o.adjacency(n as usize);
        let labels: Vec<i32> = (0..n as i32)
            .map(|i| match i {
                0..100 => 0,
                100..200 => 1,
                _ => i % 2,
            })
            .collect();
        let index = ReadIndex::uniform(n as usize);
        let clustering = Clustering {
            labels,
            n_clusters: 2,
            strength: vec![1.0; n as usize],
        };
        let cut = Cut::of(clustering, 50, &index, None, None);
        let (c, _, _) =
            graph_corrected(&cut, &o, &adj, &index, None, false, &Progress::default()).unwrap();
        let l = &c.clustering.labels;
        let phage = l[200];
        assert!(phage >= 0 && phage != l[0] && phage != l[100], "{l:?}");
        assert!((200..260).all(|i| l[i] == phage), "{l:?}");
        // The plasmid, not made, stays where composition put it.
        assert!((260..290).all(|i| l[i] == l[(i % 2) * 100]), "{l:?}");
        assert_eq!(c.clustering.n_clusters, 3);
    }

    #[test]
    fn the_map_input_gives_latent_and_kmer_vectors_their_shares_of_the_variance() {
        let (n, cols) = (200, 6 + COVERAGE_BINS);
        let features = Matrix::new(
            n,
            cols,
            (0..n * cols).map(|i| ((i * 37) % 101) as f32).collect(),
        );
        let latent = Matrix::new(n, 3, (0..n * 3).map(|i| ((i * 13) % 29) as f32).collect());
        let variance = |m: &Matrix, cols: std::ops::Range<usize>| -> f64 {
            cols.map(|c| {
                let v: Vec<f64> = (0..m.rows).map(|r| m.row(r)[c] as f64).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64
            })
            .sum()
        };
        for (share, coverage_share) in [(0.25, 0.0), (0.75, 0.3)] {
            let s = Settings {
                kmer_share: share,
                coverage_share,
                ..Settings::default()
            };
            let m = map_input(Some(&latent), &features, &s);
            assert_eq!((m.rows, m.cols), (n, 3 + cols));
            let (a, b) = (variance(&m, 0..3), variance(&m, 3..3 + cols));
            assert!((b / (a + b) - share).abs() < 1e-3, "{share}: {a} {b}");
            // Each block is its input, scaled by one factor: the k-mer block is the baseline's.
            let base = baseline_input(&features, &s);
            let f = m.row(0)[3..]
                .iter()
                .zip(base.row(0))
                .find(|p| p.1.abs() > 1e-3);
            let (x, y) = f.expect("a nonzero column");
            let factor = x / y;
            for r in 0..n {
                for (x, y) in m.row(r)[3..].iter().zip(base.row(r)) {
                    assert!((x - y * factor).abs() < 1e-4);
                }
            }
        }
        let alone = Settings {
            kmer_share: 0.0,
            ..Settings::default()
        };
        assert_eq!(map_input(Some(&latent), &features, &alone), latent);
        assert_eq!(
            map_input(None, &features, &alone),
            baseline_input(&features, &alone)
        );
        let all = Settings {
            kmer_share: 1.0,
            ..Settings::default()
        };
        assert!(all.validate().is_err());
    }

    #[test]
    fn baseline_input_weighs_columns_by_the_root_of_their_weight() {
        let n = 50;
        let cols = 4 + COVERAGE_BINS;
        let data: Vec<f32> = (0..n * cols).map(|i| ((i * 37) % 101) as f32).collect();
        let m = Matrix::new(n, cols, data);
        let plain = m.scaled_to_unit(SCALE_CLIP);
        let s = Settings {
            coverage_share: 0.5,
            ..Settings::default()
        };
        let w = s.column_weights(cols);
        let b = baseline_input(&m, &s);
        for r in 0..n {
            for ((got, x), w) in b.row(r).iter().zip(plain.row(r)).zip(&w) {
                assert!((got - x * w.sqrt()).abs() < 1e-6);
            }
        }
    }
}
