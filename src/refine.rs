//! Bin refinement: every bin is looked at again on its own.
//!
//! The whole-sample map spends its resolution on what separates all the genomes, so two close
//! relatives can sit in one bin as a shoulder of density rather than two groups (E. coli and
//! K. pneumoniae on the dev set: merged in every VAE and layout seed tried). Inside one bin, the
//! leading principal axes of its reads' 5-mer composition are exactly what differs within it,
//! and a fresh map of those axes shows the relatives apart. A bin is split only when HDBSCAN,
//! free to keep it whole (`allow_single_cluster`), finds two or more groups, each at least a
//! twentieth of the bin; single-genome bins stay whole (dev set: no false split in any run).
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
/// A sub-bin must hold at least 1/SHARE of its bin (and the run's min cluster size).
const SHARE: usize = 20;

/// A bin that refinement split, for the report.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct Split {
    /// Size of the bin before refinement.
    pub reads: usize,
    /// Sizes of the bins it became, largest first.
    pub into: Vec<usize>,
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
/// `index.path`. Bins are renumbered by size, largest first; noise stays noise.
pub fn refine(
    index: &ReadIndex,
    c: &Clustering,
    s: &Settings,
    progress: &Progress,
) -> Result<(Clustering, Vec<Split>)> {
    let n = index.len();
    let dim = crate::features::KmerTable::new(REFINE_K).dims();
    let mut bins: Vec<Bin> = (0..c.n_clusters)
        .map(|_| Bin {
            rows: Vec::new(),
            mean: Vec::new(),
            sd: Vec::new(),
            pca: None,
            buf: Vec::new(),
        })
        .collect();
    for (row, &l) in c.labels.iter().enumerate() {
        if l >= 0 {
            bins[l as usize].rows.push(row as u32);
        }
    }
    let examined: Vec<usize> = (0..bins.len())
        .filter(|&b| {
            let size = bins[b].rows.len();
            size >= 2 * sub_min_size(size, s, n)
        })
        .collect();
    if examined.is_empty() {
        return Ok((c.clone(), Vec::new()));
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
    for &b in &examined {
        let bin = &mut bins[b];
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
    }

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
    for (b, bin) in bins.iter().enumerate() {
        if !examined.contains(&b) {
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
        });
        for p in parts {
            groups.push(p.iter().map(|&i| rows[i as usize]).collect());
        }
    }

    // Renumber by size, largest first (ties: the group holding the earlier read first).
    groups.sort_by(|a, b| b.len().cmp(&a.len()).then(a.first().cmp(&b.first())));
    let mut labels = vec![NOISE; n];
    for (g, rows) in groups.iter().enumerate() {
        rows.iter().for_each(|&r| labels[r as usize] = g as i32);
    }
    Ok((
        Clustering {
            labels,
            n_clusters: groups.len(),
            strength: c.strength.clone(),
        },
        splits,
    ))
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
    let cut = h.cut_with(mcs, true);
    if cut.n_clusters < 2 {
        return Ok(vec![(0..size as u32).collect()]);
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
