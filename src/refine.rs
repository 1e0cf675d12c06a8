//! Bin refinement: every bin is looked at again on its own.
//!
//! The whole-sample map spends its resolution on what separates all the genomes, so two close
//! relatives can sit in one bin as a shoulder of density rather than two groups (E. coli and
//! K. pneumoniae on the dev set: merged in every VAE and layout seed tried). Inside one bin, the
//! leading principal axes of its reads' 5-mer composition are exactly what differs within it,
//! and a fresh map of those axes shows the relatives apart. A bin is split only when HDBSCAN,
//! free to keep it whole (`allow_single_cluster`), finds two or more groups, each at least a
//! twentieth of the bin; single-genome bins stay whole (dev set: no false split in any run).
//! Then reads many times deeper in 15-mers than the rest of their bin leave it ([`by_depth`]).
use crate::cluster::{Clustering, NOISE, build_hierarchy};
use crate::embed::{Pca, UmapParams, umap_sampled};
use crate::error::{Error, Result};
use crate::kdtree::KdTree;
use crate::progress::Progress;
use crate::reads::{ReadIndex, composition_pass};
use crate::settings::Settings;
use rayon::prelude::*;
use serde::Serialize;

/// k of the composition a bin is re-examined on. Measured on the dev set's merged E. coli +
/// Klebsiella bin (4 VAE seeds × 3 layout seeds): 5-mer axes split it in 12 of 12 runs, 4-mer
/// axes in 2 of 12, with no false split of a single-genome bin either way.
pub const REFINE_K: usize = 5;
/// Principal axes a bin is mapped from.
const AXES: usize = 10;
/// Most reads per bin the axes are fitted on (evenly spread over the bin's longer half).
const MAX_FIT: usize = 20_000;
/// Most reads of a bin laid out on its own map; the others are placed beside their nearest
/// laid-out reads on the bin's axes ([`umap_sampled`]). The relatives this split are tens of
/// thousands of reads apart at any scale; a 95 000-read bin alone took 20 s to lay out.
const MAP_ROWS: usize = 30_000;
/// Rounds of splitting: the first examines every bin, the second only the parts of the bins the
/// first split. A third round (the default until session 14) changed 4 of 30 runs (ten mixes,
/// seeds 42 / 1 / 2) by at most 0.0008 ARI, its splits undone by the overlap graph, and
/// cost dev 0.8 s of 2.8 s in refinement, mix R 2.2 s of 15; a fourth split nothing.
const ROUNDS: usize = 2;
/// A sub-bin must hold at least 1/SHARE of its bin (and the run's min cluster size).
const SHARE: usize = 20;

/// A bin that refinement split, for the report.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Split {
    /// Size of the bin before refinement.
    pub reads: usize,
    /// Sizes of the bins it became, largest first.
    pub into: Vec<usize>,
    /// Split by the reads' 15-mer depth ([`by_depth`]), not by composition.
    #[serde(default)]
    pub by_depth: bool,
    /// Reads that left the bin unbinned: a deep bin's reads at its host's depth ([`by_depth`]).
    #[serde(default)]
    pub unbinned: usize,
}

/// Fewest reads a sub-bin may hold, whatever the min cluster size: a density estimate and a map
/// of fewer reads mean nothing, and every examined bin costs a 512-dimension PCA (≈ 0.3 s), so
/// 590 bins of 2–10 reads (`--min-cluster-size 2` on 2 000 reads) took 170 s to split none.
const MIN_SUB: usize = 25;

/// Smallest sub-bin of a bin of `size` reads.
fn sub_min_size(size: usize, s: &Settings, n: usize) -> usize {
    (size / SHARE).max(s.min_cluster_size_for(n)).max(MIN_SUB)
}

/// Per-bin working state.
struct Bin {
    rows: Vec<u32>,
    /// Column means and standard deviations of the fit reads (z-scoring).
    mean: Vec<f32>,
    sd: Vec<f32>,
    pca: Option<Pca>,
    /// Fit reads' vectors (pass 1), then every read's coordinates on the axes (pass 2).
    buf: Vec<f32>,
}

/// Refines `c` (a cut of the whole-sample map) bin by bin, re-reading the reads from
/// `index.path`. Bins are renumbered by size, largest first; noise stays noise. After the
/// composition splits, each bin's much deeper reads are split off ([`by_depth`]).
pub fn refine(
    index: &ReadIndex,
    c: &Clustering,
    s: &Settings,
    progress: &Progress,
) -> Result<(Clustering, Vec<Split>)> {
    let mut eligible = vec![true; c.n_clusters];
    let first = c;
    let mut c = c.clone();
    let mut splits = Vec::new();
    // A split's parts are looked at again, each on its own axes: a genome and a close relative
    // can ride together in one part of a bin that held a third genome, and show apart only once
    // that third one is gone (mix F: K. pneumoniae with its relative after E. coli left).
    for _ in 0..ROUNDS {
        let (next, more, fresh) = by_composition(index, &c, s, progress, &eligible)?;
        c = next;
        if more.is_empty() {
            break;
        }
        splits.extend(more);
        // A deep element's parts differ by locus, not by genome (a phage's reads group by where
        // on it they lie): they are not split again; the graph joins such pieces later.
        let deep = deep_bins(&c, &index.kmer_depth);
        eligible = fresh.iter().zip(&deep).map(|(f, d)| *f && !d).collect();
    }
    // At most 1 % of the reads: at a million reads the chosen min cluster size could be 2.4 % of
    // them (23 784; up to 2 % since session 18), more than a phage at 3 % leaves in its host's
    // bin (lambda: 24 481 reads there, some under the depth floor), and it kept no bin of its
    // own.
    let min = s
        .min_cluster_size_for(index.len())
        .min(index.len() / 100)
        .max(MIN_SUB);
    let (c, more) = by_depth(&c, &index.kmer_depth, min);
    splits.extend(more);
    Ok((
        deep_pieces_joined(&c, &first.labels, &index.kmer_depth),
        splits,
    ))
}

/// Share of a bin that groups found without the whole-bin option must cover to split it.
const WHOLE_SHARE: f64 = 0.95;

/// Most depth ratio between two deep pieces of one first-cut bin that are joined again.
const PIECES_SAME_DEPTH: f32 = 2.0;

/// `c` with its deep bins ([`deep_bins`]) that came out of one bin of the first cut (`first`:
/// each read's bin there; a bin's origin is where most of its reads were) and lie at about one
/// depth (within [`PIECES_SAME_DEPTH`], chained by depth) joined into one. A phage or plasmid
/// many times deeper than its host shares k-mers along its length, so its reads' 5-mer
/// profiles group by where on it they lie and the splits cut it by locus, not by genome (a
/// 20 kb random phage at 11x in the refine test: in two to four pieces in 11 of 12 seeds); a
/// linear element's ends are shallower than its middle, so the pieces' medians can differ by
/// more than [`SAME_DEPTH`].
fn deep_pieces_joined(c: &Clustering, first: &[i32], depth: &[u8]) -> Clustering {
    if depth.len() != c.labels.len() {
        return c.clone();
    }
    let mut groups = rows_by_bin(c);
    let deep = deep_medians(&groups, depth);
    let origin = |rows: &[u32]| {
        let mut votes: std::collections::BTreeMap<i32, usize> = Default::default();
        rows.iter()
            .for_each(|&r| *votes.entry(first[r as usize]).or_default() += 1);
        votes
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map_or(NOISE, |v| v.0)
    };
    let mut pieces: Vec<(i32, f32, usize)> = (0..groups.len())
        .filter_map(|g| deep[g].map(|median| (origin(&groups[g]), median, g)))
        .collect();
    pieces.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)).then(a.2.cmp(&b.2)));
    // Each piece joins the one before it (same origin, next shallower) when within the ratio.
    let mut joined = false;
    let mut into: Vec<usize> = (0..groups.len()).collect();
    for w in pieces.windows(2) {
        if w[0].0 == w[1].0 && w[0].0 != NOISE && w[1].1 <= PIECES_SAME_DEPTH * w[0].1 {
            into[w[1].2] = into[w[0].2];
            joined = true;
        }
    }
    if !joined {
        return c.clone();
    }
    for g in 0..groups.len() {
        if into[g] != g {
            let moved = std::mem::take(&mut groups[g]);
            groups[into[g]].extend(moved);
        }
    }
    groups.retain(|g| !g.is_empty());
    for g in &mut groups {
        g.sort_unstable();
    }
    numbered(groups, c)
}

/// Reads at least this many times deeper than their bin's median read
/// ([`ReadIndex::kmer_depth`]) leave it together. Benchmark mix, 200 000 reads: lambda's reads
/// at 115–200, E. coli's at 11–17 (10th–90th percentiles), its repeats' top 1 % above 69.
const DEPTH_FACTOR: f32 = 4.0;

/// Most depth ratio between a deep group and a bin it joins (lambda's two halves: 181 and 176
/// at 200 000 reads; the bins of the benchmark's ten genomes lie 14–17 there).
pub(crate) const SAME_DEPTH: f32 = 1.25;

/// Least depth ratio that a saturated read (255) must still show over its bin's median.
const SATURATED_RATIO: f32 = 2.5;

/// Whether a depth `median` is [`DEPTH_FACTOR`] times `usual` — or, saturated (255, the u8
/// counts' ceiling), at least [`SATURATED_RATIO`] times it: at a million reads of the benchmark
/// mix the genomes lie at 53–78 and lambda's bins at 255, where four times 66 cannot show.
pub(crate) fn deep_over(median: f32, usual: f32) -> bool {
    median >= DEPTH_FACTOR * usual || (median >= 255.0 && 255.0 >= SATURATED_RATIO * usual)
}

/// Each bin's reads (rows in ascending order).
fn rows_by_bin(c: &Clustering) -> Vec<Vec<u32>> {
    let mut groups: Vec<Vec<u32>> = vec![Vec::new(); c.n_clusters];
    for (r, &l) in c.labels.iter().enumerate() {
        if l >= 0 {
            groups[l as usize].push(r as u32);
        }
    }
    groups
}

/// The median depth of all binned reads (`groups`), at least 1.
fn usual_depth(groups: &[Vec<u32>], depth: &[u8]) -> f32 {
    median_depth(groups.iter().flatten().map(|&r| depth[r as usize])).max(1.0)
}

/// Per bin of `c`: deep ([`deep_over`] the binned reads' median depth). None is without the
/// coverage features (`depth` empty).
fn deep_bins(c: &Clustering, depth: &[u8]) -> Vec<bool> {
    if depth.len() != c.labels.len() {
        return vec![false; c.n_clusters];
    }
    deep_medians(&rows_by_bin(c), depth)
        .iter()
        .map(Option::is_some)
        .collect()
}

/// Per group of reads: its median depth when it is deep ([`deep_over`] the median of all of
/// them).
fn deep_medians(groups: &[Vec<u32>], depth: &[u8]) -> Vec<Option<f32>> {
    let usual = usual_depth(groups, depth);
    groups
        .iter()
        .map(|g| {
            let median = median_depth(g.iter().map(|&r| depth[r as usize])).max(1.0);
            (!g.is_empty() && deep_over(median, usual)).then_some(median)
        })
        .collect()
}

/// Median of reads' 15-mer depths ([`ReadIndex::kmer_depth`]); 0 for none.
pub(crate) fn median_depth(depths: impl Iterator<Item = u8>) -> f32 {
    let mut d: Vec<u8> = depths.collect();
    let mid = d.len() / 2;
    if d.is_empty() {
        return 0.0;
    }
    *d.select_nth_unstable(mid).1 as f32
}

/// Each bin's reads at least [`DEPTH_FACTOR`] times deeper than its median read, when they are
/// at least `min` (and so are the rest) and a twentieth of the bin, become a bin of their own.
/// (Reads of a genome's own repeats, rRNA operons and insertion elements, are as deep, but
/// fewer: 1.5 % of E. coli's reads at 200 000 reads.) The target is a phage or plasmid at many
/// times its host's copy number whose composition put it beside the host. Phage lambda in the
/// benchmark mix (3 % of the reads, ~20× E. coli's depth) has two halves of different GC that
/// sit as two islands beside E. coli and K. pneumoniae; each half is under a twentieth of the
/// bin it joined, too small for a composition split, and at a million reads it had no bin.
/// The other way round, a deep bin (its median [`DEPTH_FACTOR`] times the binned reads',
/// [`deep_over`]) lets its reads at a quarter of its depth or less, but at least half the usual,
/// go unbinned for the overlap graph to place: the host's reads of the phage's composition
/// (lambda's bins at a million reads of the benchmark mix, seed 12: 27 % and 11 % E. coli reads
/// at E. coli's depth; the dev reads' lambda bins: 3–9 %).
/// Without the coverage features (`depth` empty) nothing is split.
fn by_depth(c: &Clustering, depth: &[u8], min: usize) -> (Clustering, Vec<Split>) {
    if depth.len() != c.labels.len() {
        return (c.clone(), Vec::new());
    }
    let mut groups = rows_by_bin(c);
    let median_of = |rows: &[u32]| median_depth(rows.iter().map(|&r| depth[r as usize]));
    if groups.iter().all(|g| g.is_empty()) {
        return (c.clone(), Vec::new());
    }
    let usual = usual_depth(&groups, depth);
    let mut splits = Vec::new();
    let mut deep = Vec::new();
    for g in groups.iter_mut().filter(|g| !g.is_empty()) {
        let median = median_of(g).max(1.0);
        if deep_over(median, usual) {
            // Only reads at about the usual depth: a read whose 15-mers are mostly errors (under
            // ~86 % identity fewer than a tenth of them are right) looks shallow wherever it is.
            let (shed, kept): (Vec<u32>, Vec<u32>) = g.iter().partition(|&&r| {
                let d = depth[r as usize] as f32;
                deep_over(median, d) && 2.0 * d >= usual
            });
            if !shed.is_empty() {
                splits.push(Split {
                    reads: g.len(),
                    into: vec![kept.len()],
                    by_depth: true,
                    unbinned: shed.len(),
                });
                *g = kept;
            }
            continue;
        }
        // Counts saturate at 255 (u8), so a bin over 255 / 4 deep cannot show a read four times
        // deeper: its saturated reads count as deep while they are still at least 2.5 times its
        // median (a million reads of the benchmark mix: K. pneumoniae's bin at 64, lambda at 255).
        if g.len() < 2 * min || median * SATURATED_RATIO > 255.0 {
            continue;
        }
        let floor = (DEPTH_FACTOR * median).min(255.0);
        let (high, low): (Vec<u32>, Vec<u32>) =
            g.iter().partition(|&&r| depth[r as usize] as f32 >= floor);
        if high.len() >= min.max(g.len() / SHARE) && low.len() >= min {
            let mut into = vec![low.len(), high.len()];
            into.sort_unstable_by(|a, b| b.cmp(a));
            splits.push(Split {
                reads: g.len(),
                into,
                by_depth: true,
                unbinned: 0,
            });
            *g = low;
            deep.push(high);
        }
    }
    // Every split either shed reads or made a deep group.
    if splits.is_empty() {
        return (c.clone(), splits);
    }
    // A deep group joins a bin of the same depth: the other half of a phage whose halves differ
    // in GC (lambda's two halves, cut out of E. coli's and K. pneumoniae's bins at a million
    // reads, or one of them a bin already at 200 000).
    let mut medians: Vec<f32> = groups.iter().map(|g| median_of(g)).collect();
    for high in deep {
        let m = median_of(&high);
        let same = medians
            .iter()
            .enumerate()
            .filter(|(_, x)| x.max(m) <= SAME_DEPTH * x.min(m))
            .min_by(|a, b| (a.1 - m).abs().total_cmp(&(b.1 - m).abs()))
            .map(|(i, _)| i);
        match same {
            Some(i) => groups[i].extend(high),
            None => {
                groups.push(high);
                medians.push(m);
            }
        }
    }
    for g in &mut groups {
        g.sort_unstable();
    }
    (numbered(groups, c), splits)
}

/// `groups` (rows in ascending order) as a clustering of `c`'s reads, numbered by size, largest
/// first (ties: the group holding the earlier read first); reads in no group are noise.
fn numbered(mut groups: Vec<Vec<u32>>, c: &Clustering) -> Clustering {
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a.first().cmp(&b.first())));
    let mut labels = vec![NOISE; c.labels.len()];
    for (g, rows) in groups.iter().enumerate() {
        rows.iter().for_each(|&r| labels[r as usize] = g as i32);
    }
    Clustering {
        labels,
        n_clusters: groups.len(),
        strength: c.strength.clone(),
    }
}

/// Each `eligible` bin split by its own 5-mer map (the module's doc), bins renumbered by size;
/// also which of the new bins are parts of a split.
fn by_composition(
    index: &ReadIndex,
    c: &Clustering,
    s: &Settings,
    progress: &Progress,
    eligible: &[bool],
) -> Result<(Clustering, Vec<Split>, Vec<bool>)> {
    let n = index.len();
    let dim = crate::features::KmerTable::new(REFINE_K).dims();
    let mut bins: Vec<Bin> = rows_by_bin(c)
        .into_iter()
        .map(|rows| Bin {
            rows,
            mean: Vec::new(),
            sd: Vec::new(),
            pca: None,
            buf: Vec::new(),
        })
        .collect();
    let examined: Vec<usize> = (0..bins.len())
        .filter(|&b| {
            let size = bins[b].rows.len();
            eligible.get(b).copied().unwrap_or(false) && size >= 2 * sub_min_size(size, s, n)
        })
        .collect();
    if examined.is_empty() {
        return Ok((c.clone(), Vec::new(), vec![false; c.n_clusters]));
    }

    // Pass 1: the fit reads. Short reads' k-mer profiles are the noisiest (sampling variance
    // goes as 1/length), so the axes are fitted on each bin's longer half.
    let mut bin_of = vec![u32::MAX; n];
    let mut fit = vec![false; n];
    for &b in &examined {
        let rows = &bins[b].rows;
        rows.iter().for_each(|&r| bin_of[r as usize] = b as u32);
        let mut lengths: Vec<u32> = rows.iter().map(|&r| index.lengths[r as usize]).collect();
        let mid = lengths.len() / 2;
        let median = *lengths.select_nth_unstable(mid).1;
        let long: Vec<u32> = rows
            .iter()
            .copied()
            .filter(|&r| index.lengths[r as usize] >= median)
            .collect();
        let step = long.len().div_ceil(MAX_FIT).max(1);
        long.iter()
            .step_by(step)
            .for_each(|&r| fit[r as usize] = true);
    }
    composition_pass(
        index,
        &fit,
        REFINE_K,
        "refining bins: 5-mer axes",
        progress,
        |row, v| bins[bin_of[row] as usize].buf.extend_from_slice(v),
    )?;
    // Bins are independent: their axes are fitted in parallel.
    let is_examined: Vec<bool> = (0..bins.len()).map(|b| examined.contains(&b)).collect();
    bins.par_iter_mut()
        .zip(&is_examined)
        .filter(|(_, e)| **e)
        .for_each(|(bin, _)| {
            let m = bin.buf.len() / dim;
            let mut mean = vec![0f64; dim];
            let mut sq = vec![0f64; dim];
            for row in bin.buf.chunks(dim) {
                for j in 0..dim {
                    mean[j] += row[j] as f64;
                    sq[j] += (row[j] as f64) * (row[j] as f64);
                }
            }
            let mf = m.max(1) as f64;
            bin.mean = mean.iter().map(|x| (x / mf) as f32).collect();
            bin.sd = mean
                .iter()
                .zip(&sq)
                .map(|(s1, s2)| ((s2 / mf - (s1 / mf).powi(2)).max(0.0)).sqrt() as f32)
                .collect();
            let mut z = std::mem::take(&mut bin.buf);
            for row in z.chunks_mut(dim) {
                standardize(row, &bin.mean, &bin.sd);
            }
            bin.pca = Some(Pca::fit(&z, dim, AXES));
        });

    // Pass 2: every read of an examined bin onto its bin's axes, in the bin's row order.
    let mut pos = vec![0u32; n];
    for &b in &examined {
        let bin = &mut bins[b];
        for (i, &r) in bin.rows.iter().enumerate() {
            pos[r as usize] = i as u32;
        }
        bin.buf = vec![0f32; bin.rows.len() * AXES];
    }
    let wanted: Vec<bool> = bin_of.iter().map(|&b| b != u32::MAX).collect();
    let mut z = vec![0f32; dim];
    composition_pass(
        index,
        &wanted,
        REFINE_K,
        "refining bins: 5-mer coordinates",
        progress,
        |row, v| {
            let bin = &mut bins[bin_of[row] as usize];
            z.copy_from_slice(v);
            standardize(&mut z, &bin.mean, &bin.sd);
            let p = pos[row] as usize;
            if let Some(pca) = &bin.pca {
                pca.project_row(&z, &mut bin.buf[p * AXES..(p + 1) * AXES]);
            }
        },
    )?;

    // Each examined bin: its own map (packed tight, min_dist 0: it is only clustered, never
    // shown) and HDBSCAN that may keep it whole. Bins are independent, so they run in parallel
    // (each layout's SGD is sequential) and the result does not depend on the order.
    progress.start("refining bins: maps", examined.len() as u64);
    let done = std::sync::atomic::AtomicU64::new(0);
    let parts: Vec<Result<Vec<Vec<u32>>>> = examined
        .par_iter()
        .map(|&b| {
            let bin = &bins[b];
            let parts = split_bin(&bin.buf, bin.rows.len(), s, n, progress);
            progress.set(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1);
            parts
        })
        .collect();
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut splits = Vec::new();
    let mut from_split = vec![false; n];
    for (b, bin) in bins.iter().enumerate() {
        if !is_examined[b] {
            groups.push(bin.rows.clone());
        }
    }
    for (&b, parts) in examined.iter().zip(parts) {
        let parts = parts?;
        let rows = &bins[b].rows;
        if parts.len() < 2 {
            groups.push(rows.clone());
            continue;
        }
        let mut sizes: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        splits.push(Split {
            reads: rows.len(),
            into: sizes,
            by_depth: false,
            unbinned: 0,
        });
        for p in parts {
            let part: Vec<u32> = p.iter().map(|&i| rows[i as usize]).collect();
            part.iter().for_each(|&r| from_split[r as usize] = true);
            groups.push(part);
        }
    }
    let out = numbered(groups, c);
    let mut fresh = vec![false; out.n_clusters];
    for (row, &l) in out.labels.iter().enumerate() {
        if l >= 0 && from_split[row] {
            fresh[l as usize] = true;
        }
    }
    Ok((out, splits, fresh))
}

fn standardize(row: &mut [f32], mean: &[f32], sd: &[f32]) {
    for ((x, m), s) in row.iter_mut().zip(mean).zip(sd) {
        *x = if *s > 0.0 { (*x - m) / s } else { 0.0 };
    }
}

/// Sub-bins of one bin from its reads' coordinates on its axes (`size` × AXES): one group (the
/// bin whole) or several, as positions into the bin, every read in one of them (reads HDBSCAN
/// calls noise join the group of their nearest grouped read on the bin's map).
fn split_bin(
    coords: &[f32],
    size: usize,
    s: &Settings,
    n: usize,
    progress: &Progress,
) -> Result<Vec<Vec<u32>>> {
    let params = UmapParams {
        n_neighbors: s.n_neighbors,
        min_dist: 0.0,
        n_epochs: s.umap_epochs,
        seed: s.seed,
        ..UmapParams::default()
    };
    let map = umap_sampled(coords, AXES, &params, MAP_ROWS, &mut |_, _| {
        !progress.cancelled()
    })
    .ok_or(Error::Cancelled)?;
    let mcs = sub_min_size(size, s, n);
    let min_samples = if s.min_samples > 0 {
        s.min_samples
    } else {
        mcs.min(15)
    };
    let h =
        build_hierarchy(&map, 2, min_samples, &|| progress.cancelled()).ok_or(Error::Cancelled)?;
    let mut cut = h.cut_with(mcs, true);
    if cut.n_clusters < 2 {
        // Kept whole, the root's stability can still outweigh two genomes' groups joined by a
        // bridge of reads (mix F: K. pneumoniae and its relative, 640 + 412 reads, at 2 seeds
        // in 9). Without the root the cut then covers nearly all the bin (96-98 %), where a
        // genome's own blob breaks into fragments among noise (48-85 % covered over 40 such
        // bins of dev, S, J, G, H, R; 92 % on the demo: E. coli with 5 % lambda reads).
        let parts = h.cut_with(mcs, false);
        let covered = parts.labels.iter().filter(|&&l| l >= 0).count();
        if parts.n_clusters < 2 || (covered as f64) < WHOLE_SHARE * size as f64 {
            return Ok(vec![(0..size as u32).collect()]);
        }
        cut = parts;
    }
    let grouped: Vec<u32> = (0..size as u32)
        .filter(|&i| cut.labels[i as usize] >= 0)
        .collect();
    let pts: Vec<f32> = grouped
        .iter()
        .flat_map(|&i| [map[2 * i as usize], map[2 * i as usize + 1]])
        .collect();
    let tree = KdTree::new(&pts, 2);
    let mut parts = vec![Vec::new(); cut.n_clusters];
    for i in 0..size {
        let l = cut.labels[i];
        let g = if l >= 0 {
            l
        } else {
            let nearest = tree.knn(&map[2 * i..2 * i + 2], 1);
            nearest
                .first()
                .map(|e| cut.labels[grouped[e.1 as usize] as usize])
                .unwrap_or(0)
        };
        parts[g as usize].push(i as u32);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    fn one_bin(n: usize) -> Clustering {
        Clustering {
            labels: vec![0; n],
            n_clusters: 1,
            strength: vec![1.0; n],
        }
    }

    #[test]
    fn deep_reads_leave_their_bin_when_enough_of_them() {
        // 400 reads at depth 10–13, 100 at 60: the deep ones become bin 1 (the smaller).
        let depth: Vec<u8> = (0..500)
            .map(|i| if i % 5 == 0 { 60 } else { 10 + (i % 4) as u8 })
            .collect();
        let (c, splits) = by_depth(&one_bin(500), &depth, 25);
        assert_eq!(c.n_clusters, 2);
        assert_eq!(
            splits,
            vec![Split {
                reads: 500,
                into: vec![400, 100],
                by_depth: true,
                unbinned: 0,
            }]
        );
        assert!((0..500).all(|i| c.labels[i] == if i % 5 == 0 { 1 } else { 0 }));
        // Fewer than the minimum, or under a twentieth of the bin: kept.
        assert_eq!(by_depth(&one_bin(500), &depth, 101).0.n_clusters, 1);
        let few: Vec<u8> = (0..2000).map(|i| if i < 90 { 60 } else { 12 }).collect();
        assert_eq!(by_depth(&one_bin(2000), &few, 25).0.n_clusters, 1);
        // Three times deeper is not enough; no depths (no coverage features): nothing to do.
        let three: Vec<u8> = (0..500).map(|i| if i % 5 == 0 { 36 } else { 12 }).collect();
        assert_eq!(by_depth(&one_bin(500), &three, 25).0.n_clusters, 1);
        assert_eq!(by_depth(&one_bin(500), &[], 25).0.n_clusters, 1);
    }

    #[test]
    fn deep_groups_of_one_depth_become_one_bin() {
        // Bins 0 and 1 (300 reads each at depth 12 and 20) each hold 60 reads at 100; bin 2
        // (200 reads) is at 90, within a quarter of them. All the deep reads end in bin 2's.
        let mut labels = Vec::new();
        let mut depth = Vec::new();
        for (b, base, n) in [(0, 12u8, 300), (1, 20, 300), (2, 90, 200)] {
            for i in 0..n {
                labels.push(b);
                depth.push(if b < 2 && i % 5 == 0 { 100 } else { base });
            }
        }
        let n = labels.len();
        let c = Clustering {
            labels,
            n_clusters: 3,
            strength: vec![1.0; n],
        };
        let (out, splits) = by_depth(&c, &depth, 25);
        assert_eq!(splits.len(), 2);
        assert_eq!(out.n_clusters, 3);
        let deep_bin = out.labels[600];
        assert!(
            (0..n)
                .filter(|&i| depth[i] >= 90)
                .all(|i| out.labels[i] == deep_bin)
        );
        assert_eq!(out.labels.iter().filter(|&&l| l == deep_bin).count(), 320);
        // Bins numbered by size: the deep bin (320) first.
        assert_eq!(deep_bin, 0);
    }

    #[test]
    fn a_deep_bin_lets_its_reads_at_the_usual_depth_go_unbinned() {
        // Bin 0: 1 000 reads at 10. Bin 1 (a phage at 60): 30 reads at 10, its host's depth,
        // go unbinned; 5 at 1 (15-mers mostly errors: no depth to tell) and 165 at 60 stay.
        let mut labels = vec![0; 1000];
        let mut depth = vec![10u8; 1000];
        for i in 0..200 {
            labels.push(1);
            depth.push(match i {
                0..30 => 10,
                30..35 => 1,
                _ => 60,
            });
        }
        let c = Clustering {
            labels,
            n_clusters: 2,
            strength: vec![1.0; 1200],
        };
        let (out, splits) = by_depth(&c, &depth, 25);
        assert_eq!(
            splits,
            vec![Split {
                reads: 200,
                into: vec![170],
                by_depth: true,
                unbinned: 30,
            }]
        );
        assert!((1000..1030).all(|i| out.labels[i] == NOISE));
        assert!((1030..1200).all(|i| out.labels[i] == 1));
        assert!((0..1000).all(|i| out.labels[i] == 0));
        // Half as deep again is not deep: nothing leaves.
        let shallow: Vec<u8> = depth
            .iter()
            .map(|&d| if d == 60 { 30 } else { d })
            .collect();
        assert!(by_depth(&c, &shallow, 25).1.is_empty());
        // Deeper samples saturate: the host at 66 (four times is past 255), the phage at 255.
        let saturated: Vec<u8> = depth
            .iter()
            .map(|&d| match d {
                10 => 66,
                60 => 255,
                d => d,
            })
            .collect();
        let (out, splits) = by_depth(&c, &saturated, 25);
        assert_eq!(splits[0].unbinned, 30);
        assert!((1000..1030).all(|i| out.labels[i] == NOISE));
    }

    #[test]
    fn saturated_reads_count_as_deep_only_over_a_shallow_enough_bin() {
        // Median 64: 255 is under four times it, but the reads are saturated and 4× ≥ 2.5×.
        let at = |median: u8| -> Vec<u8> {
            (0..500)
                .map(|i| if i % 5 == 0 { 255 } else { median })
                .collect()
        };
        assert_eq!(by_depth(&one_bin(500), &at(64), 25).0.n_clusters, 2);
        // Median 110: 255 may be only 2.3 times deeper.
        assert_eq!(by_depth(&one_bin(500), &at(110), 25).0.n_clusters, 1);
    }

    /// `sizes[g]` points per group around centres `gap` apart on the first axis, unit spread.
    fn groups(sizes: &[usize], gap: f32, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let g = Normal::new(0.0f32, 1.0).unwrap();
        let mut x = Vec::new();
        for (k, &n) in sizes.iter().enumerate() {
            for _ in 0..n {
                for a in 0..AXES {
                    let c = if a == 0 { k as f32 * gap } else { 0.0 };
                    x.push(c + g.sample(&mut rng));
                }
            }
        }
        x
    }

    /// Two groups (640 and 410 points, centres 3.5 sd apart on one of the ten axes) are split
    /// into the two (each part at least 90 % one group: at 3.5 sd the groups overlap a little),
    /// at every seed: at seed 3 the whole-bin cut kept them together, and only the
    /// cut without it, covering nearly every point, found them. One group of 1 050 stays whole.
    #[test]
    fn two_close_groups_are_split_and_one_group_kept_whole() {
        let s = Settings::default();
        let p = Progress::default();
        for seed in 1..=3 {
            let x = groups(&[640, 410], 3.5, seed);
            let parts = split_bin(&x, 1050, &s, 5000, &p).unwrap();
            assert_eq!(parts.len(), 2, "seed {seed}");
            for part in &parts {
                let first = part.iter().filter(|&&i| i < 640).count();
                let own = first.max(part.len() - first);
                assert!(
                    own * 100 >= part.len() * 90,
                    "seed {seed}: {first} of {}",
                    part.len()
                );
            }
            let whole = split_bin(&groups(&[1050], 0.0, seed), 1050, &s, 5000, &p).unwrap();
            assert_eq!(whole.len(), 1, "seed {seed}");
        }
    }
}
