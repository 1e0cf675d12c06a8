//! The read-overlap graph, and bins corrected by it.
//!
//! Composition has a ceiling: a read's k-mer profile is a noisy sample of its genome's, and
//! close relatives' profiles overlap. Two reads that overlap come from one genome whatever their
//! profiles say (OBLR, Wickramarachchi & Lin 2022). So: find overlapping reads by shared
//! minimizers on a consistent diagonal, and let each read's overlaps vote on its bin.
//!
//! Written here rather than through the `minimap2` crate: binning needs only "do these reads
//! overlap, and how strongly", not alignments, and a minimizer index over a hash-sampled
//! fraction of the minimizers bounds memory at any number of reads without a C build.
use crate::cluster::NOISE;
use crate::error::Result;
use crate::progress::Progress;
use crate::reads::{ReadIndex, for_each_sequence};
use rayon::prelude::*;
use serde::Serialize;

/// Minimizer k-mer length and window: 15 and 5 as minimap2's long-read overlap presets use;
/// at 90 % identity two overlapping reads share about 7 minimizers per kb.
const K: usize = 15;
const W: usize = 5;
/// Most minimizers indexed over the whole sample: beyond it, a hash-chosen fraction is kept
/// (the same fraction for every read, so shared minimizers stay shared). 20 M entries ≈ 320 MB.
const MAX_ENTRIES: u64 = 20_000_000;
/// A minimizer in more reads than this is a repeat (or a very abundant genome): left out.
const MAX_OCC: usize = 60;
/// Reads of one minimizer paired with each other, at most (evenly spread over its reads): an
/// abundant genome's reads still find overlaps, without a quadratic number of pairs.
const MAX_PAIRED: usize = 10;
/// Diagonal band width (bp): indels shift the offset between two reads as the overlap goes on.
const BAND: i64 = 600;

/// Edges kept: at least this many shared minimizers in one band (and its neighbour).
pub const MIN_SHARED: u32 = 4;

/// Overlaps between reads: `(a, b, weight)` with a < b, weight the shared minimizers.
#[derive(Clone, Debug, Default)]
pub struct Overlaps {
    pub edges: Vec<(u32, u32, u32)>,
    /// Fraction of minimizers indexed (1 up to about 120 Mbp of reads).
    pub sampled: f64,
}

impl Overlaps {
    /// Per read: its neighbours and weights.
    pub fn adjacency(&self, n: usize) -> Vec<Vec<(u32, u32)>> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b, w) in &self.edges {
            adj[a as usize].push((b, w));
            adj[b as usize].push((a, w));
        }
        adj
    }
}

#[inline]
fn hash(x: u64) -> u64 {
    // A 64-bit mix (splitmix64's finaliser): minimizers by hash, not by lexicographic order,
    // so poly-A and other low-complexity k-mers are not always chosen.
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// (hash, position, strand) of the canonical (k, w)-minimizers of `seq` whose hash falls in the
/// kept fraction (`keep_below` of the hash space).
fn minimizers(seq: &[u8], keep_below: u64) -> Vec<(u64, u32, bool)> {
    // Ring of the last W k-mers' (hash, pos, strand).
    let mut ring: Vec<(u64, u32, bool)> = vec![(u64::MAX, 0, false); W];
    let mut out: Vec<(u64, u32, bool)> = Vec::new();
    let mut last: Option<(u64, u32)> = None;
    crate::features::for_each_canonical_kmer(seq, K, |pos, run, code, strand| {
        let pos = pos as u32;
        ring[pos as usize % W] = (hash(code), pos, strand);
        // A full window of k-mers since the last break.
        if run < K + W - 1 {
            return;
        }
        let m = *ring.iter().min_by_key(|e| (e.0, e.1)).expect("W > 0");
        if last != Some((m.0, m.1)) {
            last = Some((m.0, m.1));
            if m.0 < keep_below {
                out.push(m);
            }
        }
    });
    out
}

/// Fraction of the minimizers of `bases` bases that fit in the index ([`MAX_ENTRIES`]).
pub fn sampling_for(bases: u64) -> f64 {
    // About 2 / (W + 1) of the k-mers are minimizers.
    let expected = bases * 2 / (W as u64 + 1);
    (MAX_ENTRIES as f64 / expected.max(1) as f64).min(1.0)
}

/// Below this fraction of minimizers indexed, too few are shared to find overlaps: a million
/// reads (5 Gbp, 1.2 % indexed) gave 15 000 edges, against 2.4 M at 200 000 reads (5.8 %), and
/// moved 22 reads in 107 s. Up to ~2.4 Gbp of reads the graph runs; beyond, it is skipped.
pub const MIN_SAMPLING: f64 = 0.025;

/// Finds the overlaps between the reads of `index` (one more pass over the reads file).
pub fn overlaps(index: &ReadIndex, progress: &Progress) -> Result<Overlaps> {
    let sampled = sampling_for(index.total_bases());
    let keep_below = if sampled >= 1.0 {
        u64::MAX
    } else {
        (sampled * u64::MAX as f64) as u64
    };
    // (hash, read, pos, strand) for every kept minimizer.
    // (hash, read, position | strand << 31): 16 bytes an entry.
    let mut entries: Vec<(u64, u32, u32)> = Vec::new();
    for_each_sequence(
        index,
        "overlaps: minimizers",
        progress,
        |seq| minimizers(seq, keep_below),
        |row, ms| {
            entries.extend(
                ms.into_iter()
                    .map(|(h, p, s)| (h, row as u32, p | (s as u32) << 31)),
            );
        },
    )?;
    progress.start("overlaps: matching reads", 1);
    entries.par_sort_unstable_by_key(|e| (e.0, e.1, e.2));
    // Candidate hits: every pair of reads sharing a minimizer, with the strand, the offset and
    // its band.
    let buckets: Vec<&[(u64, u32, u32)]> = entries.chunk_by(|x, y| x.0 == y.0).collect();
    let mut hits: Vec<Hit> = buckets
        .par_iter()
        .filter(|b| b.len() >= 2 && b.len() <= MAX_OCC)
        .flat_map_iter(|b| {
            let step = b.len().div_ceil(MAX_PAIRED);
            let b: Vec<&(u64, u32, u32)> = b.iter().step_by(step).collect();
            let mut v = Vec::new();
            for (i, x) in b.iter().enumerate() {
                for y in &b[i + 1..] {
                    if x.1 == y.1 {
                        continue;
                    }
                    let same = (x.2 >> 31) == (y.2 >> 31);
                    let (px, py) = ((x.2 & POS) as i64, (y.2 & POS) as i64);
                    let off = if same { px - py } else { px + py };
                    v.push(Hit {
                        a: x.1,
                        b: y.1,
                        pa: px as u32 | (same as u32) << 31,
                        off: off as i32,
                    });
                }
            }
            v
        })
        .collect();
    drop(entries);
    if progress.cancelled() {
        return Err(crate::Error::Cancelled);
    }
    hits.par_sort_unstable_by_key(|h| (h.a, h.b, h.same(), h.band(), h.pa));
    let runs: Vec<&[Hit]> = hits.chunk_by(|x, y| x.a == y.a && x.b == y.b).collect();
    let edges: Vec<(u32, u32, u32)> = runs
        .par_iter()
        .filter_map(|run| edge(run, &index.lengths, sampled))
        .collect();
    progress.set(1);
    Ok(Overlaps { edges, sampled })
}

/// One shared minimizer of reads `a` < `b`: the strands agree or not, the offset between the
/// two positions (its band), and the position on `a`.
#[derive(Clone, Copy, Debug)]
struct Hit {
    a: u32,
    b: u32,
    /// Position on `a`, and whether the strands agree in the top bit (16 bytes a hit: a
    /// 200 000-read sample makes tens of millions).
    pa: u32,
    off: i32,
}

/// Positions below the strand bit.
const POS: u32 = (1 << 31) - 1;

impl Hit {
    fn same(&self) -> bool {
        self.pa >> 31 == 1
    }
    fn pos(&self) -> u32 {
        self.pa & POS
    }
    fn band(&self) -> i32 {
        (self.off as i64).div_euclid(BAND) as i32
    }
}

/// The overlap `run` (every hit of one pair of reads) supports, if any: the band with the most
/// hits (with the next band) must hold `MIN_SHARED`, and its hits must reach both ends of the
/// overlap that their offset implies. A repeat shared by two genomes (or a mobile element)
/// gives hits on only a part of that overlap, the flanks differing: the reads do not overlap
/// end to end, and are not taken to be of one genome.
fn edge(run: &[Hit], lengths: &[u32], sampled: f64) -> Option<(u32, u32, u32)> {
    let bands: Vec<&[Hit]> = run
        .chunk_by(|x, y| x.same() == y.same() && x.band() == y.band())
        .collect();
    let mut best: Option<(usize, Vec<&Hit>)> = None;
    for (i, b) in bands.iter().enumerate() {
        let mut hits: Vec<&Hit> = b.iter().collect();
        if let Some(next) = bands.get(i + 1)
            && next[0].same() == b[0].same()
            && next[0].band() == b[0].band() + 1
        {
            hits.extend(next.iter());
        }
        if best.as_ref().is_none_or(|(c, _)| hits.len() > *c) {
            best = Some((hits.len(), hits));
        }
    }
    let (count, hits) = best?;
    if (count as u32) < MIN_SHARED {
        return None;
    }
    let h0 = hits[0];
    let (la, lb) = (lengths[h0.a as usize] as i64, lengths[h0.b as usize] as i64);
    // Offset of b's start on a (b reverse-complemented when the strands differ).
    let mut offs: Vec<i64> = hits.iter().map(|h| h.off as i64).collect();
    offs.sort_unstable();
    let off = offs[offs.len() / 2];
    let d = if h0.same() { off } else { off - lb + K as i64 };
    let (start, end) = (d.max(0), la.min(d + lb));
    let overlap = end - start;
    if overlap < MIN_OVERLAP {
        return None;
    }
    let (lo, hi) = hits.iter().fold((u32::MAX, 0u32), |(lo, hi), h| {
        (lo.min(h.pos()), hi.max(h.pos()))
    });
    // Shared minimizers come every few hundred bases (fewer when sampled): that much of each
    // end may show none, and a tenth of the overlap for indels.
    let slack = 0.1 * overlap as f64 + OVERHANG / sampled.max(0.05);
    let left = (lo as i64 - start) as f64;
    let right = (end - (hi as i64 + K as i64)) as f64;
    (left <= slack && right <= slack).then_some((h0.a, h0.b, count as u32))
}

/// Shortest overlap taken (bp): repeats and mobile elements shorter than this that two genomes
/// share cannot join them (measured probes on simulated mixes: 96 % of reads overlap another by
/// at least 1 kb, issue 10).
const MIN_OVERLAP: i64 = 1000;
/// Bases at each end of an overlap that may hold no shared minimizer (all minimizers kept).
const OVERHANG: f64 = 300.0;

/// What the graph changed, for the report.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct GraphReport {
    pub edges: usize,
    /// Fraction of minimizers indexed (1: all).
    pub minimizers_sampled: f64,
    /// Reads with at least one overlap.
    pub reads_with_overlaps: usize,
    /// Binned reads moved to another bin by their overlaps' vote.
    pub moved: usize,
    /// Unbinned reads given a bin by their overlaps.
    pub rescued: usize,
}

/// A read's bin is put to its overlaps' vote: it moves (or, unbinned, joins) when at least
/// `MIN_VOTERS` overlapping reads vote and one bin holds `MAJORITY` of the vote weight. Three
/// rounds, each reading only the previous round's bins, so the order of reads does not matter.
const MIN_VOTERS: usize = 2;
const MAJORITY: f64 = 0.7;
const ROUNDS: usize = 3;

/// Corrects `labels` (cluster per read, [`NOISE`] unbinned) by the overlaps' vote.
pub fn correct(labels: &[i32], overlaps: &Overlaps) -> (Vec<i32>, GraphReport) {
    let n = labels.len();
    let adj = overlaps.adjacency(n);
    let mut cur = labels.to_vec();
    for _ in 0..ROUNDS {
        let next: Vec<i32> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut votes: Vec<(i32, f64)> = Vec::new();
                let mut voters = 0;
                let mut total = 0.0;
                for &(j, w) in &adj[i] {
                    let l = cur[j as usize];
                    if l < 0 {
                        continue;
                    }
                    voters += 1;
                    total += w as f64;
                    match votes.iter_mut().find(|v| v.0 == l) {
                        Some(v) => v.1 += w as f64,
                        None => votes.push((l, w as f64)),
                    }
                }
                if voters < MIN_VOTERS {
                    return cur[i];
                }
                let (best, w) = votes
                    .into_iter()
                    .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                    .expect("voters > 0");
                if w >= MAJORITY * total { best } else { cur[i] }
            })
            .collect();
        if next == cur {
            break;
        }
        cur = next;
    }
    let moved = (0..n)
        .filter(|&i| labels[i] >= 0 && cur[i] != labels[i])
        .count();
    let rescued = (0..n).filter(|&i| labels[i] < 0 && cur[i] >= 0).count();
    let report = GraphReport {
        edges: overlaps.edges.len(),
        minimizers_sampled: overlaps.sampled,
        reads_with_overlaps: adj.iter().filter(|a| !a.is_empty()).count(),
        moved,
        rescued,
    };
    (cur, report)
}

/// Per bin: the share of its reads' overlaps (by weight) that stay inside it, a confidence that
/// needs no ground truth (NaN for a bin with no overlaps).
pub fn agreement(labels: &[i32], n_clusters: usize, overlaps: &Overlaps) -> Vec<f64> {
    let mut inside = vec![0f64; n_clusters];
    let mut all = vec![0f64; n_clusters];
    for &(a, b, w) in &overlaps.edges {
        for (x, y) in [(a, b), (b, a)] {
            let l = labels[x as usize];
            if l >= 0 {
                all[l as usize] += w as f64;
                if labels[y as usize] == l {
                    inside[l as usize] += w as f64;
                }
            }
        }
    }
    inside
        .iter()
        .zip(&all)
        .map(|(i, a)| if *a > 0.0 { i / a } else { f64::NAN })
        .collect()
}

/// Labels back to 0..n_clusters, largest first, dropping bins the vote emptied.
pub fn renumber(labels: &[i32]) -> (Vec<i32>, usize) {
    let max = labels.iter().copied().max().unwrap_or(-1);
    let mut size = vec![0usize; (max + 1).max(0) as usize];
    for &l in labels {
        if l >= 0 {
            size[l as usize] += 1;
        }
    }
    let mut order: Vec<usize> = (0..size.len()).filter(|&b| size[b] > 0).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(a.cmp(&b)));
    let mut new = vec![NOISE; size.len()];
    for (i, &b) in order.iter().enumerate() {
        new[b] = i as i32;
    }
    (
        labels
            .iter()
            .map(|&l| if l < 0 { NOISE } else { new[l as usize] })
            .collect(),
        order.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_joins_the_bin_its_overlaps_agree_on() {
        // Reads 0-3 overlap each other (bin 0); read 2 was put in bin 1, read 4 unbinned but
        // overlapping 0 and 1; read 5 overlaps 3 (bin 0) and 6 (bin 1) equally: no majority.
        let labels = vec![0, 0, 1, 0, NOISE, 0, 1];
        let o = Overlaps {
            edges: vec![
                (0, 1, 10),
                (0, 2, 10),
                (1, 2, 10),
                (2, 3, 10),
                (0, 4, 8),
                (1, 4, 8),
                (3, 5, 5),
                (5, 6, 5),
            ],
            sampled: 1.0,
        };
        let (l, r) = correct(&labels, &o);
        assert_eq!(l[2], 0, "the planted mis-assignment is not corrected");
        assert_eq!(l[4], 0, "the unbinned read is not rescued");
        assert_eq!(l[5], 0, "a tie must not move a read");
        assert_eq!(l[6], 1, "a read with one voter must not move");
        assert_eq!((r.moved, r.rescued), (1, 1));
        let a = agreement(&l, 2, &o);
        assert!(a[0] > 0.9, "{a:?}");
    }

    #[test]
    fn minimizers_of_a_read_and_its_reverse_complement_agree() {
        let seq: Vec<u8> = (0..3000u64)
            .map(|i| b"ACGT"[(hash(i) % 4) as usize])
            .collect();
        let rc = crate::features::reverse_complement(&seq);
        let mut a: Vec<u64> = minimizers(&seq, u64::MAX).iter().map(|m| m.0).collect();
        let mut b: Vec<u64> = minimizers(&rc, u64::MAX).iter().map(|m| m.0).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
        // About 2 / (W + 1) of the k-mers.
        let density = a.len() as f64 / 3000.0;
        assert!((0.2..0.5).contains(&density), "{density}");
    }
}
