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
use crate::cluster::{NOISE, bin_count, bin_sizes};
use crate::error::Result;
use crate::progress::Progress;
use crate::reads::{ReadIndex, rows_pass};
use crate::refine::{SAME_DEPTH, deep_over, median_depth};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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
    /// Per edge, its shared minimizers per 10 kb of overlap: how alike the two reads are where
    /// they overlap ([`Adjacency::firm`]). Empty when not known (a graph made by hand): every
    /// overlap is then firm.
    pub density: Vec<u16>,
    /// Fraction of each indexed read's minimizers indexed (1 up to about 60 Mbp of reads).
    pub sampled: f64,
    /// Fraction of the reads indexed (1 up to about 350 Mbp of reads).
    pub reads_indexed: f64,
}

impl Overlaps {
    /// Per read: its neighbours and weights, as one array with each read's slice (a million
    /// reads' tens of millions of links without a vector per read).
    pub fn adjacency(&self, n: usize) -> Adjacency {
        let mut starts = vec![0usize; n + 1];
        for &(a, b, _) in &self.edges {
            starts[a as usize + 1] += 1;
            starts[b as usize + 1] += 1;
        }
        for i in 1..=n {
            starts[i] += starts[i - 1];
        }
        let mut fill = starts.clone();
        let mut links = vec![(0u32, 0u32); starts[n]];
        let floor = self.firm_floor();
        let mut weak = vec![
            0u64;
            if floor.is_some() {
                starts[n].div_ceil(64)
            } else {
                0
            }
        ];
        for (e, &(a, b, w)) in self.edges.iter().enumerate() {
            let is_weak = floor.is_some_and(|f| self.density[e] < f);
            for (x, y) in [(a, b), (b, a)] {
                let k = fill[x as usize];
                links[k] = (y, w);
                if is_weak {
                    weak[k / 64] |= 1 << (k % 64);
                }
                fill[x as usize] += 1;
            }
        }
        // A read of a deep element by its overlaps ([`DEEP_DEGREE_RATIO`] times the median
        // read's, and [`DEEP_DEGREE_MIN`]): relative, since at 200 000 reads a genome's reads
        // overlap a dozen others and more.
        let mut degrees: Vec<usize> = (0..n).map(|i| starts[i + 1] - starts[i]).collect();
        let median = upper_median(&mut degrees);
        let deep = DEEP_DEGREE_MIN.max((DEEP_DEGREE_RATIO * median as f64).ceil() as usize);
        Adjacency {
            starts,
            links,
            weak,
            deep,
        }
    }

    /// The least density of a firm overlap ([`FIRM`] times the median's), if the densities are
    /// known. The median by a histogram of the u16 densities: no copy of tens of millions.
    fn firm_floor(&self) -> Option<u16> {
        self.density_floor(FIRM)
    }

    /// `share` of the median overlap's density, if the densities are known.
    fn density_floor(&self, share: f64) -> Option<u16> {
        if self.density.len() != self.edges.len() || self.edges.is_empty() {
            return None;
        }
        let mut histogram = vec![0usize; 1 << 16];
        for &d in &self.density {
            histogram[d as usize] += 1;
        }
        let (mut seen, mid) = (0, self.density.len() / 2);
        let median = histogram
            .iter()
            .position(|&c| {
                seen += c;
                seen > mid
            })
            .unwrap_or(0);
        Some((share * median as f64).ceil() as u16)
    }
}

/// An overlap is firm when its shared minimizers per kb are at least this share of the median
/// overlap's; weaker ones are homologous genes of two genomes (or low-identity reads), which do
/// not hold a read in a bin against its sequence ([`firm_support`]). On dev the overlaps between
/// two species hold a median 9.5 shared minimizers per kb, those within one 35.5; 13 of its
/// K. pneumoniae reads sat in E. coli's bin held only by such overlaps while K. pneumoniae's
/// chain beat E. coli's by over 5 nats per kb (2 E. coli reads there did). Probe over six
/// simulated mixes at six seeds, 0.3 / 0.4 / 0.5: mean ARI 0.8860 -> 0.8868 / 0.8868 / 0.8870
/// (dev +0.005 at every seed, F +0.0007, B1 -0.0006, B3 -0.0006 to -0.0010 at 0.4 / 0.5); 30 000
/// reads (E, P6, three seeds) +0.001 / +0.0002 (README, session 26).
pub const FIRM: f64 = 0.4;

/// Each read's overlaps: (other read, weight).
pub struct Adjacency {
    starts: Vec<usize>,
    links: Vec<(u32, u32)>,
    /// One bit per link, set when its overlap is weak ([`FIRM`]); empty when the densities are
    /// not known (every overlap firm). A bit, not the density: 2 bytes a link at tens of
    /// millions of links is a hundred MB.
    weak: Vec<u64>,
    /// The least overlaps of a read deep by its overlaps ([`DEEP_DEGREE_RATIO`] times the median
    /// read's, and [`DEEP_DEGREE_MIN`]): the phages' ([`deep_by_overlaps`]), held in their bin by
    /// every overlap, firm or not ([`firm_support_of`]).
    deep: usize,
}

impl Adjacency {
    pub fn of(&self, read: usize) -> &[(u32, u32)] {
        &self.links[self.starts[read]..self.starts[read + 1]]
    }

    /// Whether each of `read`'s links ([`Adjacency::of`]) is a firm overlap ([`FIRM`]).
    pub fn firm(&self, read: usize) -> impl Iterator<Item = bool> + '_ {
        let (from, to) = (self.starts[read], self.starts[read + 1]);
        (from..to).map(|k| self.weak.get(k / 64).is_none_or(|w| w >> (k % 64) & 1 == 0))
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
/// kept fraction (`keep_below` of the hash space), by position.
///
/// A k-mer is a minimizer when it is the least (hash, then position) of some window of W
/// consecutive k-mers of one unbroken run of bases: when the k-mers beside it that it beats
/// span W − 1 on its left and right together. Only k-mers whose hash is kept need that test
/// (a few percent at depth), so the k-mers are hashed in one pass and only those looked at
/// again: 3× faster than a window minimum at every position, which made the overlap pass
/// the slowest stage at a million reads.
fn minimizers(seq: &[u8], keep_below: u64) -> Vec<(u64, u32, bool)> {
    thread_local! {
        static KMERS: std::cell::RefCell<Vec<(u64, u32, bool)>> = const {
            std::cell::RefCell::new(Vec::new())
        };
    }
    KMERS.with_borrow_mut(|ks| {
        ks.clear();
        crate::features::for_each_canonical_kmer(seq, K, |pos, _, code, strand| {
            ks.push((hash(code), pos as u32, strand));
        });
        let mut out = Vec::new();
        for (i, &(h, p, s)) in ks.iter().enumerate() {
            if h >= keep_below {
                continue;
            }
            let beats = |j: usize, d: u32| {
                let (hj, pj, _) = ks[j];
                // Adjacent positions: the same run (a break skips at least K positions).
                pj.abs_diff(p) == d && (hj, pj) > (h, p)
            };
            let left = (1..W)
                .take_while(|&d| i >= d && beats(i - d, d as u32))
                .count();
            let right = (1..W)
                .take_while(|&d| i + d < ks.len() && beats(i + d, d as u32))
                .count();
            if left + right >= W - 1 {
                out.push((h, p, s));
            }
        }
        out
    })
}

/// Fraction of the minimizers of `bases` bases that fit in the index ([`MAX_ENTRIES`]).
pub fn sampling_for(bases: u64) -> f64 {
    // About 2 / (W + 1) of the k-mers are minimizers.
    let expected = bases * 2 / (W as u64 + 1);
    (MAX_ENTRIES as f64 / expected.max(1) as f64).min(1.0)
}

/// Fewest minimizers indexed (as a fraction of each read's): with fewer, two overlapping reads
/// share too few to be found (a million reads, 5 Gbp, all indexed at 5.8 % gave 15 000 edges,
/// against 2.4 M for 200 000 reads at 17 %). Deeper samples index a fraction of the reads at
/// this rate instead, and every other read looks its overlaps up among them: a read of a 150×
/// genome still overlaps a dozen indexed reads. On the first 200 000 reads of the benchmark
/// mix, all reads at 17 % of their minimizers gave ARI 0.917; 29 % of the reads at 54 %, 0.918;
/// 12 % of the reads at 94 %, 0.913 (and each look-up costs a cache miss: 17 % keeps them to
/// ~280 for a 5 kb read).
const MIN_FRACTION: f64 = 0.17;

/// Share of the hash space below which a minimizer's hash falls for `fraction` of the
/// minimizers to be kept. Minimizers are window minima, so their hashes lean low: a k-mer of
/// hash x (uniform in [0, 1]) is a minimizer with probability (1 − x)^(W−1) · (1 + (W−1)x),
/// whose integral from 0 to t, over its integral to 1 (2 / (W + 1)), is the fraction kept.
fn hash_share(fraction: f64) -> f64 {
    let w = W as f64;
    let kept = |t: f64| {
        let q = 1.0 - t;
        let c = (w - 1.0) / (w + 1.0);
        ((1.0 - c) - (q.powf(w) - c * q.powf(w + 1.0))) * (w + 1.0) / 2.0
    };
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if kept(mid) < fraction {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// How much of the sample the overlap index holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    /// Fraction of each read's minimizers (the same hash-chosen ones in every read).
    pub minimizers: f64,
    /// Fraction of the reads (the others are looked up against them).
    pub reads: f64,
}

impl Plan {
    /// The plan for a sample of `bases` bases: within [`MAX_ENTRIES`].
    pub fn for_bases(bases: u64) -> Self {
        let s = sampling_for(bases);
        if s >= MIN_FRACTION {
            Plan {
                minimizers: s,
                reads: 1.0,
            }
        } else {
            Plan {
                minimizers: MIN_FRACTION,
                reads: s / MIN_FRACTION,
            }
        }
    }
}

/// Whether read `row` is indexed when `share` of the reads are: a hash of the row, so spread
/// evenly over the file whatever its order of genomes.
fn indexed(row: usize, share: f64) -> bool {
    share >= 1.0 || ((hash(row as u64 ^ 0x5EED_F1D5) >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// (hash, read, position | strand << 31) of every indexed minimizer: 16 bytes an entry.
type Entry = (u64, u32, u32);

/// The indexed minimizers sorted by hash, with a directory on the hash's top bits so that a
/// look-up reads a handful of entries.
struct MinimizerIndex {
    entries: Vec<Entry>,
    starts: Vec<u32>,
    shift: u32,
}

impl MinimizerIndex {
    /// `entries` sorted by hash, every hash below `keep_below`.
    fn new(entries: Vec<Entry>, keep_below: u64) -> Self {
        // About four entries per directory slot, over the part of the hash space kept.
        let bits = (usize::BITS - (entries.len() / 4).max(1).leading_zeros()).clamp(1, 30);
        let shift = (64 - keep_below.leading_zeros()).saturating_sub(bits);
        let mut starts = vec![0u32; (1 << bits) + 1];
        for e in &entries {
            starts[(e.0 >> shift) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        MinimizerIndex {
            entries,
            starts,
            shift,
        }
    }

    /// The directory slot's entries, where minimizer `h`'s would be.
    fn slot(&self, h: u64) -> (usize, usize) {
        let slot = (h >> self.shift) as usize;
        (self.starts[slot] as usize, self.starts[slot + 1] as usize)
    }

    /// The indexed reads holding minimizer `h`, among the slot's entries.
    fn find(&self, h: u64, (from, to): (usize, usize)) -> &[Entry] {
        let r = &self.entries[from..to];
        let a = r.partition_point(|e| e.0 < h);
        let b = a + r[a..].partition_point(|e| e.0 == h);
        &r[a..b]
    }

    /// The indexed reads holding each of `hashes`. Each look-up is a cache miss or two into
    /// an index of hundreds of MB: all the slots are read first, then each slot's first entry
    /// is touched, as loads that do not wait on each other (so the memory system serves many
    /// at once), and only then searched.
    fn get_all(&self, hashes: impl Iterator<Item = u64>) -> Vec<&[Entry]> {
        let hs: Vec<u64> = hashes.collect();
        let slots: Vec<(usize, usize)> = hs.iter().map(|&h| self.slot(h)).collect();
        let touched = slots
            .iter()
            .filter(|s| s.0 < s.1)
            .fold(0u64, |a, s| a ^ self.entries[s.0].0);
        std::hint::black_box(touched);
        hs.iter()
            .zip(slots)
            .map(|(&h, s)| self.find(h, s))
            .collect()
    }
}

/// Finds the overlaps between the reads of `index` (one or two more passes over the reads
/// file): between indexed reads by sorting their shared minimizers, and from every other read
/// to the indexed ones by look-up.
pub fn overlaps(index: &ReadIndex, progress: &Progress) -> Result<Overlaps> {
    overlaps_with(index, progress, Plan::for_bases(index.total_bases()))
}

/// [`overlaps`] with the index holding what `plan` says.
pub fn overlaps_with(index: &ReadIndex, progress: &Progress, plan: Plan) -> Result<Overlaps> {
    let (sampled, share) = (plan.minimizers, plan.reads);
    // The share of hash space kept sets the slack at an overlap's ends in `edge`.
    let hashes = if sampled >= 1.0 {
        1.0
    } else {
        hash_share(sampled)
    };
    let keep_below = if hashes >= 1.0 {
        u64::MAX
    } else {
        (hashes * u64::MAX as f64) as u64
    };
    let is_indexed: Vec<bool> = (0..index.len()).map(|r| indexed(r, share)).collect();
    let mut entries: Vec<Entry> = Vec::new();
    rows_pass(
        index,
        (share < 1.0).then_some(&is_indexed[..]),
        "overlaps: minimizers",
        progress,
        |_, seq| minimizers(seq, keep_below),
        |row, ms| {
            entries.extend(
                ms.into_iter()
                    .map(|(h, p, s)| (h, row as u32, p | (s as u32) << 31)),
            );
        },
    )?;
    progress.start("overlaps: matching reads", 1);
    entries.par_sort_unstable_by_key(|e| (e.0, e.1, e.2));
    let (mut edges, mut density) = indexed_edges(&entries, &index.lengths, hashes);
    if progress.cancelled() {
        return Err(crate::Error::Cancelled);
    }
    progress.set(1);
    if share < 1.0 {
        let others: Vec<bool> = is_indexed.iter().map(|x| !x).collect();
        let idx = MinimizerIndex::new(entries, keep_below);
        rows_pass(
            index,
            Some(&others),
            "overlaps: other reads",
            progress,
            |row, seq| {
                let ms = minimizers(seq, keep_below);
                query(row as u32, &ms, &idx, &index.lengths, hashes)
            },
            |_, (e, d)| {
                edges.extend(e);
                density.extend(d);
            },
        )?;
    }
    Ok(Overlaps {
        edges,
        density,
        sampled,
        reads_indexed: share,
    })
}

/// Overlaps among the indexed reads: every pair of reads sharing a minimizer (sorted
/// `entries`), with the strand, the offset and its band, then the pairs' overlaps.
fn indexed_edges(entries: &[Entry], lengths: &[u32], hashes: f64) -> Edges {
    let buckets: Vec<&[Entry]> = entries.chunk_by(|x, y| x.0 == y.0).collect();
    let mut hits: Vec<Hit> = buckets
        .par_iter()
        .filter(|b| b.len() >= 2 && b.len() <= MAX_OCC)
        .flat_map_iter(|b| {
            let step = b.len().div_ceil(MAX_PAIRED);
            let b: Vec<&Entry> = b.iter().step_by(step).collect();
            let mut v = Vec::new();
            for (i, x) in b.iter().enumerate() {
                for y in &b[i + 1..] {
                    if x.1 != y.1 {
                        v.push(Hit::new((x.1, x.2), (y.1, y.2)));
                    }
                }
            }
            v
        })
        .collect();
    hits.par_sort_unstable_by_key(Hit::key);
    let runs: Vec<&[Hit]> = hits.chunk_by(|x, y| x.a == y.a && x.b == y.b).collect();
    runs.par_iter()
        .filter_map(|run| edge(run, lengths, hashes))
        .unzip()
}

/// Edges and their densities ([`Overlaps`]).
type Edges = (Vec<(u32, u32, u32)>, Vec<u16>);

/// Overlaps of read `q` (not indexed; minimizers `ms`) with the indexed reads.
fn query(
    q: u32,
    ms: &[(u64, u32, bool)],
    idx: &MinimizerIndex,
    lengths: &[u32],
    hashes: f64,
) -> Edges {
    let mut hits = Vec::new();
    let found = idx.get_all(ms.iter().map(|m| m.0));
    for (&(_, p, s), b) in ms.iter().zip(found) {
        // As among the indexed reads: q makes one more read holding the minimizer.
        if b.is_empty() || b.len() + 1 > MAX_OCC {
            continue;
        }
        let mine = (q, p | (s as u32) << 31);
        for e in b.iter().step_by((b.len() + 1).div_ceil(MAX_PAIRED)) {
            let theirs = (e.1, e.2);
            hits.push(if q < e.1 {
                Hit::new(mine, theirs)
            } else {
                Hit::new(theirs, mine)
            });
        }
    }
    hits.sort_unstable_by_key(Hit::key);
    hits.chunk_by(|x, y| x.a == y.a && x.b == y.b)
        .filter_map(|run| edge(run, lengths, hashes))
        .unzip()
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
    /// The hit of one minimizer on reads `x` < `y`, each given as (read, position | strand <<
    /// 31).
    fn new(x: (u32, u32), y: (u32, u32)) -> Self {
        let same = (x.1 >> 31) == (y.1 >> 31);
        let (px, py) = ((x.1 & POS) as i64, (y.1 & POS) as i64);
        let off = if same { px - py } else { px + py };
        Hit {
            a: x.0,
            b: y.0,
            pa: px as u32 | (same as u32) << 31,
            off: off as i32,
        }
    }
    /// Sort order: by pair, then by strand and band as [`edge`] reads them.
    fn key(&self) -> (u32, u32, bool, i32, u32) {
        (self.a, self.b, self.same(), self.band(), self.pa)
    }
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
fn edge(run: &[Hit], lengths: &[u32], hashes: f64) -> Option<((u32, u32, u32), u16)> {
    // Most pairs share one or two minimizers by chance or by a short overlap: rejected before
    // any work (a look-up read meets ~230 other reads, ~10 of them overlaps).
    if run.len() < MIN_SHARED as usize {
        return None;
    }
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
    if overlap < MIN_OVERLAP && !contained(overlap, la.min(lb)) {
        return None;
    }
    let (lo, hi) = hits.iter().fold((u32::MAX, 0u32), |(lo, hi), h| {
        (lo.min(h.pos()), hi.max(h.pos()))
    });
    // Shared minimizers come every few hundred bases (fewer when sampled): that much of each
    // end may show none, and a tenth of the overlap for indels. A short read inside another may
    // miss a quarter of its length at most at either end, or a read half of one genome and
    // half of another (a chimera, or one that ends in a repeat) would pass on its one half.
    let mut end_gap = OVERHANG / hashes.max(0.05);
    if overlap < MIN_OVERLAP {
        end_gap = end_gap.min(overlap as f64 / 4.0);
    }
    let slack = 0.1 * overlap as f64 + end_gap;
    let left = (lo as i64 - start) as f64;
    let right = (end - (hi as i64 + K as i64)) as f64;
    let density = (count as f64 * 10_000.0 / overlap.max(1) as f64).min(u16::MAX as f64) as u16;
    (left <= slack && right <= slack).then_some(((h0.a, h0.b, count as u32), density))
}

/// Shortest overlap taken (bp): repeats and mobile elements shorter than this that two genomes
/// share cannot join them (measured probes on simulated mixes: 96 % of reads overlap another by
/// at least 1 kb, issue 10).
const MIN_OVERLAP: i64 = 1000;
/// Shortest read taken as lying inside another ([`contained`]).
const MIN_CONTAINED: i64 = 150;
/// Share of a short read that must lie inside the other read ([`contained`]).
const CONTAINED_SHARE: f64 = 0.9;

/// A read shorter than [`MIN_OVERLAP`] can overlap no read by that much, and would have no
/// voice from the overlaps at all (13.6 % of a 5 000-read ONT-like mix by Badread): it is
/// taken to overlap a read it lies inside, nine tenths of it at least. A read that lies inside
/// a repeat overlaps reads of every genome that holds the repeat, so its vote is split and it
/// stays where composition put it. Eight simulated mixes over six seeds: mean ARI 0.8924 ->
/// 0.8948 (B1 +0.008, E +0.004; P7, whose short reads are few, -0.001; session 24).
fn contained(overlap: i64, shorter: i64) -> bool {
    shorter < MIN_OVERLAP
        && overlap >= MIN_CONTAINED
        && overlap as f64 >= CONTAINED_SHARE * shorter as f64
}

/// Whether the edge between reads `a` and `b` is of a short read inside a longer one
/// ([`contained`]) rather than an end-to-end overlap of [`MIN_OVERLAP`] or more.
fn is_containment(a: u32, b: u32, lengths: &[u32]) -> bool {
    (lengths[a as usize].min(lengths[b as usize]) as i64) < MIN_OVERLAP
}
/// Bases at each end of an overlap that may hold no shared minimizer (all minimizers kept).
const OVERHANG: f64 = 300.0;

/// What the graph changed, for the report.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct GraphReport {
    pub edges: usize,
    /// Fraction of minimizers indexed (1: all).
    pub minimizers_sampled: f64,
    /// Fraction of the reads indexed (the others are looked up against them).
    pub reads_indexed: f64,
    /// Reads with at least one overlap.
    pub reads_with_overlaps: usize,
    /// Binned reads moved to another bin by their overlaps' vote.
    pub moved: usize,
    /// Unbinned reads given a bin by their overlaps.
    pub rescued: usize,
    /// Deep bins joined to another of the same depth that their reads overlap ([`join_deep`]).
    #[serde(default)]
    pub joined: usize,
    /// Bins made of reads deep by their overlaps that composition had spread over other bins
    /// ([`deep_by_overlaps`]).
    #[serde(default)]
    pub deep_made: usize,
    /// Reads left unbinned because the vote took their bin under the min cluster size
    /// ([`renumber`]).
    #[serde(default)]
    pub dropped: usize,
    /// Reads the overlaps left in doubt (unbinned, no overlaps, or half or fewer in their bin),
    /// put to their bins' sequence models ([`crate::markov`]).
    #[serde(default)]
    pub doubted: usize,
    /// Of those, binned reads moved to another bin, and unbinned reads given one.
    #[serde(default)]
    pub sequence_moved: usize,
    /// Of the moved, those that went to the bin their overlaps pointed to
    /// ([`crate::markov::POINTED_MARGIN_PER_KB`]).
    #[serde(default)]
    pub sequence_pointed: usize,
    #[serde(default)]
    pub sequence_rescued: usize,
    /// Small bins whose overlaps mostly leave them, unbinned and voted on again
    /// ([`loose_bins`]).
    #[serde(default)]
    pub loose: usize,
    /// Bins too small to be a genome at their depth, joined to the genome they overlap
    /// ([`join_fragments`]).
    #[serde(default)]
    pub fragments: usize,
    /// Bins too small to be a genome whose reads overlap two genomes alike (loci the genomes
    /// share, not many times deeper than both), unbinned and voted on again ([`shared_loci`]).
    #[serde(default)]
    pub shared_loci: usize,
    /// Reads of stretches many times deeper than their bin moved to the genome at their depth
    /// that they overlap ([`deeper_stretches`]).
    #[serde(default)]
    pub deeper: usize,
    /// Bins seeded by reads many times shallower than their bin that overlap each other
    /// ([`shallow_seeds`]).
    #[serde(default)]
    pub shallow_made: usize,
    /// Binned reads held in their bin only by weak overlaps ([`weakly_held`]), put to the
    /// sequence vote with the doubted (counted among them).
    #[serde(default)]
    pub weakly_held: usize,
    /// Reads of a genome's multi-copy repeats (ribosomal operons) in another genome's bin,
    /// moved to the bin of the reads that span their ends ([`repeat_groups`]).
    #[serde(default)]
    pub repeats: usize,
}

/// A read's bin is put to its overlaps' vote: it moves (or, unbinned, joins) when at least
/// `MIN_VOTERS` overlapping reads vote and one bin holds `MAJORITY` of the vote weight. Three
/// rounds, each reading only the previous round's bins, so the order of reads does not matter.
const MIN_VOTERS: usize = 2;
const MAJORITY: f64 = 0.7;
const ROUNDS: usize = 3;

/// Connected components of the overlap graph: a component id per read.
pub fn components(n: usize, edges: &[(u32, u32, u32)]) -> Vec<u32> {
    components_by(n, edges.iter().map(|&(a, b, _)| (a, b)))
}

/// [`components`] over the pairs `pairs` yields: a filter over the edges without a copy of
/// them (at a million reads, over 100 MB). Each read's root is its component's first read.
fn components_by(n: usize, pairs: impl Iterator<Item = (u32, u32)>) -> Vec<u32> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(parent: &mut [u32], mut x: u32) -> u32 {
        while parent[x as usize] != x {
            parent[x as usize] = parent[parent[x as usize] as usize];
            x = parent[x as usize];
        }
        x
    }
    for (a, b) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    (0..n as u32).map(|x| root(&mut parent, x)).collect()
}

/// The upper median of `v` (0 when empty), reordering it.
fn upper_median(v: &mut [usize]) -> usize {
    let mid = v.len() / 2;
    if v.is_empty() {
        0
    } else {
        *v.select_nth_unstable(mid).1
    }
}

/// Corrects `labels` (cluster per read, [`NOISE`] unbinned) by the overlaps' vote
/// (`adj`: the overlaps' adjacency, kept by the explorer rather than built again per cut).
pub fn correct(labels: &[i32], overlaps: &Overlaps, adj: &Adjacency) -> (Vec<i32>, GraphReport) {
    let n = labels.len();
    let mut cur = labels.to_vec();
    for _ in 0..ROUNDS {
        let next: Vec<i32> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut votes: Vec<(i32, f64)> = Vec::new();
                let mut voters = 0;
                let mut total = 0.0;
                for &(j, w) in adj.of(i) {
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
        reads_indexed: overlaps.reads_indexed,
        reads_with_overlaps: (0..n).filter(|&i| !adj.of(i).is_empty()).count(),
        moved,
        rescued,
        ..GraphReport::default()
    };
    (cur, report)
}

/// The graph as the explorer keeps it beside the map: each read's overlaps (drawn from the
/// hovered read) and its component (a colour mode).
pub struct ReadGraph {
    pub overlaps: Overlaps,
    pub adjacency: Adjacency,
    /// Per read: its component's rank by size (0: the largest).
    pub component: Vec<u32>,
    /// Reads per component, by rank.
    pub component_sizes: Vec<usize>,
}

impl ReadGraph {
    pub fn new(overlaps: Overlaps, n: usize) -> Self {
        let root = components(n, &overlaps.edges);
        let mut size = vec![0usize; n];
        for &r in &root {
            size[r as usize] += 1;
        }
        let mut roots: Vec<u32> = (0..n as u32).filter(|&r| size[r as usize] > 0).collect();
        roots.sort_by(|&a, &b| size[b as usize].cmp(&size[a as usize]).then(a.cmp(&b)));
        let mut rank = vec![0u32; n];
        for (i, &r) in roots.iter().enumerate() {
            rank[r as usize] = i as u32;
        }
        ReadGraph {
            adjacency: overlaps.adjacency(n),
            component: root.iter().map(|&r| rank[r as usize]).collect(),
            component_sizes: roots.iter().map(|&r| size[r as usize]).collect(),
            overlaps,
        }
    }
}

/// Why a read is where it is, as far as overlaps tell: how many reads it overlaps, and how many
/// of those are in its own bin (none for an unbinned read); [`firm_support`] counts its firm
/// overlaps only. A read with no overlaps is binned by its composition alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Support {
    pub overlaps: u32,
    pub in_bin: u32,
}

/// How far a binned read's overlaps agree with its bin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Every overlap is with a read of its bin.
    All,
    /// More than half are.
    Most,
    /// Half or fewer are: the reads to doubt.
    HalfOrFewer,
    /// No overlaps (placed by composition alone), or unbinned.
    NoOverlaps,
}

impl Support {
    /// The read's class (`binned`: it has a bin).
    pub fn agreement(self, binned: bool) -> Agreement {
        if !binned || self.overlaps == 0 {
            Agreement::NoOverlaps
        } else if self.in_bin == self.overlaps {
            Agreement::All
        } else if 2 * self.in_bin > self.overlaps {
            Agreement::Most
        } else {
            Agreement::HalfOrFewer
        }
    }
}

/// The binned reads counted by [`Agreement`], for `report.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct SupportSummary {
    pub all_in_bin: usize,
    pub most_in_bin: usize,
    pub half_or_fewer_in_bin: usize,
    pub no_overlaps: usize,
}

impl SupportSummary {
    pub fn of(support: &[Support], labels: &[i32]) -> Self {
        let mut s = SupportSummary::default();
        for (x, _) in support.iter().zip(labels).filter(|(_, l)| **l >= 0) {
            *match x.agreement(true) {
                Agreement::All => &mut s.all_in_bin,
                Agreement::Most => &mut s.most_in_bin,
                Agreement::HalfOrFewer => &mut s.half_or_fewer_in_bin,
                Agreement::NoOverlaps => &mut s.no_overlaps,
            } += 1;
        }
        s
    }
}

/// Reads the overlaps put in doubt under `labels`: those that overlap other reads yet lie
/// unbinned or with half or fewer of their overlaps in their bin. A measure of a binning that
/// needs no truth, which [`crate::pipeline::run`] compares the latent's and the k-mer vectors'
/// bins by: on six simulated mixes of 5 000 to 8 300 reads at six seeds, keeping the bins with
/// fewer reads in doubt kept those of the higher ARI in 24 of 36 runs (all 6 on the mix where
/// the two differ most, F; README, session 25).
pub fn doubted(labels: &[i32], support: &[Support]) -> usize {
    labels
        .iter()
        .zip(support)
        .filter(|(l, s)| s.overlaps > 0 && (**l < 0 || s.agreement(true) == Agreement::HalfOrFewer))
        .count()
}

/// Per read, the bin that most of its overlaps outside its own bin go to, by weight (overlaps
/// with unbinned reads not counted; ties to the lower bin), or [`NOISE`] when it has none: where
/// a read's overlaps point when they doubt its bin ([`crate::markov::vote`]).
pub fn pointed(labels: &[i32], adj: &Adjacency) -> Vec<i32> {
    (0..labels.len())
        .into_par_iter()
        .map(|i| {
            let mut votes: Vec<(i32, u64)> = Vec::new();
            for &(j, w) in adj.of(i) {
                let l = labels[j as usize];
                if l < 0 || l == labels[i] {
                    continue;
                }
                match votes.iter_mut().find(|v| v.0 == l) {
                    Some(v) => v.1 += w as u64,
                    None => votes.push((l, w as u64)),
                }
            }
            votes
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map_or(NOISE, |v| v.0)
        })
        .collect()
}

/// Each read's [`Support`] under `labels`. Sequential on purpose: the explorer calls it on the
/// UI thread, where a rayon call would wait behind whatever job holds the pool (a refinement's
/// per-bin layouts run for minutes at a million reads); one pass over the links is tens of ms.
pub fn support(labels: &[i32], adj: &Adjacency) -> Vec<Support> {
    (0..labels.len())
        .map(|i| support_of(labels, adj, i))
        .collect()
}

/// One read's [`support`].
pub fn support_of(labels: &[i32], adj: &Adjacency, i: usize) -> Support {
    let links = adj.of(i);
    let in_bin = if labels[i] < 0 {
        0
    } else {
        links
            .iter()
            .filter(|&&(j, _)| labels[j as usize] == labels[i])
            .count()
    };
    Support {
        overlaps: links.len() as u32,
        in_bin: in_bin as u32,
    }
}

/// Each read's [`Support`] from its firm overlaps alone ([`FIRM`]): the doubt that the sequence
/// vote settles ([`crate::markov::vote`]). A read whose overlaps into its bin are all weak is
/// held there by homology, not by being of one genome with its neighbours.
pub fn firm_support(labels: &[i32], adj: &Adjacency) -> Vec<Support> {
    (0..labels.len())
        .map(|i| firm_support_of(labels, adj, i))
        .collect()
}

/// One read's [`firm_support`] (the explorer's hovered read). A read deep by its overlaps in its
/// bin (as many as [`DEEP_DEGREE_RATIO`] times the median read's overlaps, and at least
/// [`DEEP_DEGREE_MIN`]) counts all its overlaps: a deep element's reads (a phage) share each
/// minimizer with so many reads that only a spread of them are paired ([`MAX_PAIRED`]), and
/// their overlaps read weak (lambda's on dev: a median 22.7 shared minimizers per kb, the
/// genomes' 50-58); lambda reads of dev and F left their bin. At least 12 alone, not relative,
/// held 290 more reads of 200 000 (E's recipe), where a genome's reads overlap a dozen others,
/// and lost the rule's gain there (ARI 0.8907 -> 0.8901).
pub fn firm_support_of(labels: &[i32], adj: &Adjacency, i: usize) -> Support {
    let (mut overlaps, mut in_bin, mut all_in_bin) = (0, 0, 0);
    for (&(j, _), firm) in adj.of(i).iter().zip(adj.firm(i)) {
        let inside = (labels[i] >= 0 && labels[j as usize] == labels[i]) as u32;
        all_in_bin += inside as usize;
        if firm {
            overlaps += 1;
            in_bin += inside;
        }
    }
    if all_in_bin >= adj.deep {
        return Support {
            overlaps: adj.of(i).len() as u32,
            in_bin: all_in_bin as u32,
        };
    }
    Support { overlaps, in_bin }
}

/// Binned reads that most of their overlaps hold in their bin but most of their firm ones do not
/// ([`firm_support`]): held only by weak overlaps, for `report.json`.
pub fn weakly_held(labels: &[i32], adj: &Adjacency) -> usize {
    (0..labels.len())
        .filter(|&i| labels[i] >= 0 && held_weakly(labels, adj, i))
        .count()
}

/// Whether read `i`'s overlaps hold it in its bin ([`crate::markov::doubted`]) while its firm
/// ones alone do not.
pub fn held_weakly(labels: &[i32], adj: &Adjacency, i: usize) -> bool {
    !crate::markov::doubted(labels[i], support_of(labels, adj, i))
        && crate::markov::doubted(labels[i], firm_support_of(labels, adj, i))
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

/// A bin whose reads' overlaps leave it this often (by weight) is not one genome's: reads of
/// one genome overlap each other, whatever their composition.
pub const LOOSE_AGREEMENT: f64 = 0.86;
/// ... when it is small (under this share of the binned reads, in per cent): a genome's own bin,
/// contaminated by a close relative's reads, also shares overlaps with it (mix I: E. coli's bin,
/// 5 % of the reads, agreement 0.78, purity 0.83) and must stay.
pub const LOOSE_MAX_PERCENT: usize = 3;

/// Bins that are not genomes but loci of several, unbinned: small bins whose overlap agreement
/// is under [`LOOSE_AGREEMENT`]. Refinement can cut such a bin out of a genome's (mix T: the
/// low-GC loci of E. coli and K. pneumoniae, 380 reads at 0.83, half of each), and neither vote
/// undoes it, since most of its reads overlap only each other. Unbinned, the votes place them
/// again from their neighbours and their sequence. Bins under `min_size` are left alone: they
/// are dropped (their reads unbinned) anyway, and voting their reads again placed reads of
/// genomes too rare for a bin into others (mix J, seed 42: ARI −0.005). Returns the labels
/// and how many bins went. Bins from `seeded` on ([`shallow_seeds`]) are genomes by their
/// depth, whose reads still overlap those of their genome left in the deep bin: they stay.
pub fn loose_bins(
    labels: &[i32],
    overlaps: &Overlaps,
    min_size: usize,
    seeded: usize,
) -> (Vec<i32>, usize) {
    let size = bin_sizes(labels);
    let k = size.len();
    let agree = agreement(labels, k, overlaps);
    let binned: usize = size.iter().sum();
    let loose: Vec<bool> = (0..k)
        .map(|b| {
            b < seeded
                && size[b] >= min_size.max(1)
                && agree[b] < LOOSE_AGREEMENT
                && size[b] * 100 < LOOSE_MAX_PERCENT * binned
        })
        .collect();
    let out = labels
        .iter()
        .map(|&l| {
            if l >= 0 && loose[l as usize] {
                NOISE
            } else {
                l
            }
        })
        .collect();
    (out, loose.iter().filter(|&&x| x).count())
}

/// Least share of a deep bin's overlap weight that must go to another deep bin for the two to be
/// joined. Phage lambda's pieces (dev reads and mix B: each the other's first partner at 2.5–6 %)
/// against nothing measurable between unrelated bins (under 0.1 %); a genome's bins that are not
/// deep are never joined this way (E. coli and K. pneumoniae share 3–9 % at the same depth).
const JOIN_SHARE: f64 = 0.01;

/// Deep bins (median 15-mer depth four times the binned reads', [`deep_over`]) of the same depth
/// (within [`SAME_DEPTH`]) whose reads overlap become one: a phage or plasmid whose pieces differ
/// in composition (lambda's halves) is one element, contiguous across the cut. Returns the new
/// labels and how many bins were joined to another.
pub fn join_deep(labels: &[i32], overlaps: &Overlaps, depth: &[u8]) -> (Vec<i32>, usize) {
    let k = bin_count(labels);
    if depth.len() != labels.len() || k < 2 {
        return (labels.to_vec(), 0);
    }
    let mut per_bin: Vec<Vec<u8>> = vec![Vec::new(); k];
    for (&l, &d) in labels.iter().zip(depth) {
        if l >= 0 {
            per_bin[l as usize].push(d);
        }
    }
    let usual = median_depth(per_bin.iter().flatten().copied()).max(1.0);
    let medians: Vec<f32> = per_bin
        .iter()
        .map(|d| median_depth(d.iter().copied()))
        .collect();
    let deep: Vec<bool> = medians.iter().map(|&m| deep_over(m, usual)).collect();
    if deep.iter().filter(|&&d| d).count() < 2 {
        return (labels.to_vec(), 0);
    }
    let mut total = vec![0f64; k];
    let mut between: std::collections::BTreeMap<(usize, usize), f64> = Default::default();
    for &(a, b, w) in &overlaps.edges {
        let (la, lb) = (labels[a as usize], labels[b as usize]);
        for l in [la, lb] {
            if l >= 0 {
                total[l as usize] += w as f64;
            }
        }
        if la >= 0 && lb >= 0 && la != lb && deep[la as usize] && deep[lb as usize] {
            let key = (la.min(lb) as usize, la.max(lb) as usize);
            *between.entry(key).or_default() += w as f64;
        }
    }
    let pairs: Vec<(u32, u32, u32)> = between
        .iter()
        .filter(|&(&(a, b), &w)| {
            let (ma, mb) = (medians[a], medians[b]);
            let share = (w / total[a].max(1.0)).max(w / total[b].max(1.0));
            ma.max(mb) <= SAME_DEPTH * ma.min(mb) && share >= JOIN_SHARE
        })
        .map(|(&(a, b), _)| (a as u32, b as u32, 0))
        .collect();
    // Each joined set is labelled by its first bin.
    let root = components(k, &pairs);
    let joined = (0..k).filter(|&b| root[b] as usize != b).count();
    if joined == 0 {
        return (labels.to_vec(), 0);
    }
    let out = labels
        .iter()
        .map(|&l| if l < 0 { l } else { root[l as usize] as i32 })
        .collect();
    (out, joined)
}

/// Least genome a bin may stand for (bp). A bin's reads and overlaps tell its genome's size
/// ([`genome_sizes`]): across the ten mixes, three PBSIM CLR mixes and the dev reads at three
/// seeds each, every genome's bin estimated 1.5 Mb or more (H. pylori, 1.6–1.7 Mb, estimated
/// 1.58–1.66), while the pieces that composition cut from a genome (a 170 kb stretch of
/// H. pylori's, 113–423 reads, in 3 of 9 PBSIM runs) estimated 0.16–0.17 Mb. A phage is as
/// small, but many times deeper than any genome it overlaps.
const LEAST_GENOME: f64 = 500_000.0;
/// A piece joins the bin that holds at least this share of its reads' overlaps: the cut
/// H. pylori stretches, scattered over it, 10 %; one unbroken 200 kb stretch at 10× only its two
/// ends' 1 %; unrelated bins under 0.1 % ([`JOIN_SHARE`]). (A genome's bin shares 3–9 % with
/// its relative's, but is genome-sized.)
const PIECE_LINK: f64 = 0.005;
/// ... and whose coverage is within this factor of its own.
const PIECE_DEPTH: f64 = 2.0;
/// ... and that holds this many times the overlaps of the next bin.
const PIECE_LEAD: f64 = 2.0;

/// A bin's genome as its reads and overlaps tell it ([`genome_sizes`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Genome {
    pub reads: usize,
    pub mean_length: f64,
    /// Coverage (×).
    pub coverage: f64,
    /// Size (bp); infinite when its reads overlap none of each other.
    pub size: f64,
}

impl Genome {
    /// The coverage at which this bin's reads would hold `overlaps` overlaps among them.
    fn coverage_for(&self, overlaps: f64) -> f64 {
        overlaps / (self.reads.max(1) as f64 * overlap_span(self.mean_length))
    }
}

/// Share of a read of `mean` bp whose start leaves room for a [`MIN_OVERLAP`] overlap.
fn overlap_span(mean: f64) -> f64 {
    (mean - MIN_OVERLAP as f64).max(1.0) / mean.max(1.0)
}

/// Per bin: its genome's coverage and size estimated from its reads' lengths and the
/// overlaps among them. Two reads of one genome overlap by at least [`MIN_OVERLAP`] when their
/// starts are within (their lengths − 2 × [`MIN_OVERLAP`]) of each other, so at coverage c a
/// bin of N reads of mean length L holds about c · N · (L − T) / L overlaps (T = MIN_OVERLAP),
/// and its genome is N · L / c. Overlaps missed (sampled minimizers, low identity) make the
/// estimate larger, never smaller.
pub fn genome_sizes(labels: &[i32], overlaps: &Overlaps, lengths: &[u32]) -> Vec<Genome> {
    let k = bin_count(labels);
    let mut reads = vec![0usize; k];
    let mut bases = vec![0f64; k];
    let mut within = vec![0f64; k];
    for (&l, &len) in labels.iter().zip(lengths) {
        if l >= 0 {
            reads[l as usize] += 1;
            bases[l as usize] += len as f64;
        }
    }
    // The estimate counts end-to-end overlaps only: a short read inside another adds an edge
    // that the coverage formula does not expect.
    for &(a, b, _) in &overlaps.edges {
        let (la, lb) = (labels[a as usize], labels[b as usize]);
        if la >= 0 && la == lb && !is_containment(a, b, lengths) {
            within[la as usize] += 1.0;
        }
    }
    (0..k)
        .map(|b| {
            let mut g = Genome {
                reads: reads[b],
                mean_length: bases[b] / reads[b].max(1) as f64,
                ..Genome::default()
            };
            g.coverage = g.coverage_for(within[b]);
            g.size = if g.coverage > 0.0 {
                bases[b] / g.coverage
            } else {
                f64::INFINITY
            };
            g
        })
        .collect()
}

/// Bins too small to be a genome ([`LEAST_GENOME`]) at about the coverage of the bin their
/// reads overlap most ([`PIECE_LINK`], [`PIECE_DEPTH`]) join that bin: a stretch of a genome
/// whose composition set it apart (an island, a ribosomal operon's neighbourhood). A phage or
/// plasmid many times deeper than its host stays its own. Returns the labels and the number of
/// bins joined.
pub fn join_fragments(labels: &[i32], overlaps: &Overlaps, lengths: &[u32]) -> (Vec<i32>, usize) {
    let pieces = pieces(labels, overlaps, lengths);
    let mut into: Vec<i32> = (0..pieces.sizes.len() as i32).collect();
    let mut joined = 0;
    for p in &pieces.linked {
        let [Some((t, shared)), next] = p.to else {
            continue;
        };
        // A locus two genomes share (a ribosomal operon) links to both: not a piece of either
        // ([`shared_loci`]).
        if next.is_some_and(|(_, w)| w * PIECE_LEAD > shared) {
            continue;
        }
        // The piece's coverage counts its overlaps out of it too: a stretch cut from a genome
        // loses the overlaps across its ends.
        let own = pieces.sizes[p.bin].coverage_for(p.ends / 2.0);
        let host = pieces.sizes[t].coverage;
        let same = own > 0.0 && host > 0.0 && own.max(host) <= PIECE_DEPTH * own.min(host);
        if shared >= PIECE_LINK * p.ends && same {
            into[p.bin] = t as i32;
            joined += 1;
        }
    }
    if joined == 0 {
        return (labels.to_vec(), 0);
    }
    let out = labels
        .iter()
        .map(|&l| if l < 0 { l } else { into[l as usize] })
        .collect();
    (out, joined)
}

/// A locus several genomes share lies at most this many times deeper than the deeper of them:
/// a genome holds up to about 15 ribosomal operons (E. coli 7). Deeper is a phage or a plasmid
/// of many copies (or the reads of a short contig: S. aureus RN4220's 179, 240× deeper).
const LOCUS_COPIES: f64 = 16.0;

/// Least share of a piece's overlap ends that its two genome-sized bins hold together for it to
/// be a locus they share: the ribosomal-operon bins of the Badread mixes 3.0-6.2 %; a phage well
/// under 1 % (lambda on mix S at three seeds: 0.63 % to one genome and 0.24 % to another, 7×
/// deeper than the first, so depth alone would not keep it).
const SHARED_LINK: f64 = 0.02;

/// Bins too small to be a genome ([`LEAST_GENOME`]) whose reads overlap two genome-sized bins
/// alike (the second holds at least 1/[`PIECE_LEAD`] of the first's overlaps, together at least
/// [`SHARED_LINK`] of the piece's) are unbinned, for each read to go where its own overlaps and
/// sequence say: the ribosomal operons of several genomes, whose reads overlap each other across
/// the genomes and share a composition of their own, so that composition put them together
/// (Badread mix B3 of real genomes: V. cholerae with S. aureus, E. coli with K. pneumoniae; bins
/// of 31 to 58 reads, purity 0.41-0.71, in 3 of its 6 runs). A phage overlaps no genome that
/// much ([`SHARED_LINK`]). Returns the labels and the number of bins unbinned.
pub fn shared_loci(labels: &[i32], overlaps: &Overlaps, lengths: &[u32]) -> (Vec<i32>, usize) {
    let pieces = pieces(labels, overlaps, lengths);
    let mut shared = vec![false; pieces.sizes.len()];
    for p in &pieces.linked {
        if let [Some((a, first)), Some((b, second))] = p.to {
            let hosts = pieces.sizes[a].coverage.max(pieces.sizes[b].coverage);
            shared[p.bin] = second * PIECE_LEAD > first
                && first + second >= SHARED_LINK * p.ends
                && pieces.sizes[p.bin].coverage <= LOCUS_COPIES * hosts;
        }
    }
    let count = shared.iter().filter(|&&s| s).count();
    if count == 0 {
        return (labels.to_vec(), 0);
    }
    let out = labels
        .iter()
        .map(|&l| {
            if l >= 0 && shared[l as usize] {
                NOISE
            } else {
                l
            }
        })
        .collect();
    (out, count)
}

/// The bins too small to be a genome and the genome-sized bins their reads overlap.
struct Pieces {
    sizes: Vec<Genome>,
    linked: Vec<Piece>,
}

struct Piece {
    bin: usize,
    /// Its reads' overlap ends, in it and out of it.
    ends: f64,
    /// The two genome-sized bins its reads overlap most, with their overlaps.
    to: [Option<(usize, f64)>; 2],
}

fn pieces(labels: &[i32], overlaps: &Overlaps, lengths: &[u32]) -> Pieces {
    let sizes = genome_sizes(labels, overlaps, lengths);
    let k = sizes.len();
    let piece: Vec<bool> = sizes
        .iter()
        .map(|g| g.reads > 0 && g.size < LEAST_GENOME)
        .collect();
    if !piece.iter().any(|&p| p) {
        return Pieces {
            sizes,
            linked: Vec::new(),
        };
    }
    // Each piece's overlaps: to each other bin, and in all (its own reads' ends).
    let mut links: std::collections::BTreeMap<(usize, usize), f64> = Default::default();
    let mut ends = vec![0f64; k];
    for &(a, b, _) in &overlaps.edges {
        if is_containment(a, b, lengths) {
            continue;
        }
        let (la, lb) = (labels[a as usize], labels[b as usize]);
        for (x, y) in [(la, lb), (lb, la)] {
            if x >= 0 && piece[x as usize] {
                ends[x as usize] += 1.0;
                if y >= 0 && y != x {
                    *links.entry((x as usize, y as usize)).or_default() += 1.0;
                }
            }
        }
    }
    let linked = (0..k)
        .filter(|&b| piece[b])
        .map(|b| {
            let mut to: Vec<(usize, f64)> = links
                .range((b, 0)..(b + 1, 0))
                .filter(|&(&(_, t), _)| !piece[t])
                .map(|(&(_, t), &w)| (t, w))
                .collect();
            to.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            Piece {
                bin: b,
                ends: ends[b],
                to: [to.first().copied(), to.get(1).copied()],
            }
        })
        .collect();
    Pieces { sizes, linked }
}

/// A read lies in a stretch deeper than its bin when the reads it overlaps in its bin, with it,
/// hold this many times the overlaps per read of the bin's lower-quartile read (not its median:
/// a bin half one genome, half a deeper one's stretches has its median between the two; PBSIM
/// mix P4, E. coli 3 % and K. pneumoniae 20 %: 0.899 by the median, 0.938 by the quartile).
const DEEPER: f64 = 3.0;
/// Median overlaps per read below which a bin's depth counts as this (a bin of reads that
/// mostly overlap nothing: dev's E. coli at 0.3×).
const DEPTH_FLOOR: f64 = 0.5;
/// Fewest reads in a deeper stretch that moves, and fewest overlaps it has with its new bin.
const STRETCH_READS: usize = 10;
const STRETCH_LINKS: usize = 10;

/// Per read and per bin, how deep the overlaps say the reads lie ([`depths`]).
struct Depths {
    /// Share of each read that can start an overlap ([`overlap_span`]).
    span: Vec<f64>,
    /// Each read's overlaps.
    degree: Vec<f64>,
    /// Each bin's median read's overlaps per spanned share, at least [`DEPTH_FLOOR`].
    median: Vec<f64>,
    /// Each bin's lower-quartile read's, likewise.
    lower: Vec<f64>,
    /// Each binned read's overlaps per spanned share with those of the reads it overlaps in its
    /// bin: one read's count is too noisy to go by.
    local: Vec<f64>,
}

fn depths(labels: &[i32], adj: &Adjacency, lengths: &[u32]) -> Depths {
    let n = labels.len();
    let k = bin_count(labels);
    let span: Vec<f64> = lengths.iter().map(|&l| overlap_span(l as f64)).collect();
    let degree: Vec<f64> = (0..n).map(|i| adj.of(i).len() as f64).collect();
    let mut per_bin: Vec<Vec<f64>> = vec![Vec::new(); k];
    for i in (0..n).filter(|&i| labels[i] >= 0) {
        per_bin[labels[i] as usize].push(degree[i] / span[i]);
    }
    let median = per_bin
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0).max(DEPTH_FLOOR)
        })
        .collect();
    let lower = per_bin
        .iter()
        .map(|v| v.get(v.len() / 4).copied().unwrap_or(0.0).max(DEPTH_FLOOR))
        .collect();
    let local = (0..n)
        .map(|i| {
            let (mut d, mut s) = (degree[i], span[i]);
            for &(j, _) in adj.of(i) {
                if labels[i] >= 0 && labels[j as usize] == labels[i] {
                    d += degree[j as usize];
                    s += span[j as usize];
                }
            }
            d / s
        })
        .collect();
    Depths {
        span,
        degree,
        median,
        lower,
        local,
    }
}

/// The marked reads grouped by the overlaps among them within one bin: each read's group
/// (its root) and each group's reads.
fn groups_in_bins(
    labels: &[i32],
    overlaps: &Overlaps,
    marked: &[bool],
) -> (Vec<u32>, std::collections::BTreeMap<u32, Vec<usize>>) {
    let among = overlaps
        .edges
        .iter()
        .filter(|&&(a, b, _)| {
            marked[a as usize] && marked[b as usize] && labels[a as usize] == labels[b as usize]
        })
        .map(|&(a, b, _)| (a, b));
    let root = components_by(labels.len(), among);
    let mut groups: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for i in (0..labels.len()).filter(|&i| marked[i]) {
        groups.entry(root[i]).or_default().push(i);
    }
    (root, groups)
}

/// A read lies shallower than its bin when it and the reads it overlaps there hold at most
/// 1/SHALLOWER of the overlaps per read of the bin's median read.
const SHALLOWER: f64 = 3.0;
/// Fewest shallow reads overlapping each other that count, and fewest such reads, in all, that
/// make a bin.
const SEED_COMPONENT: usize = 3;
const SEED_READS: usize = 50;

/// A genome that composition left inside a bin of a genome many times deeper gets a bin of its
/// own, seeded by its reads that overlap each other: for the votes that follow to grow. Mix I
/// at seed 2 (E. coli at 5 %, inside K. pneumoniae's bin at 30 %): the bin's reads that overlap
/// others at a third of its median depth or less, in overlap components of three or more,
/// are 254 reads, 251 of them E. coli; in a single genome's bin a few reads are (3–9, from
/// a phage-free H. pylori to K. pneumoniae; dev: none). A read with no overlaps says nothing,
/// and one of a deep genome that overlaps little is lifted by the depth of the reads it does
/// overlap. Returns the labels, the bin each made bin came from (made bin `k + j` from
/// `from[j]`, `k` the bins before), and the reads of the bins they came from that lie at half
/// their bin's median depth or less: nearer the shallow genome's depth than the deep one's,
/// for the sequence models to judge ([`crate::markov::vote`]). A made bin must grow to a bin
/// ([`failed_seeds`]).
pub fn shallow_seeds(
    labels: &[i32],
    overlaps: &Overlaps,
    adj: &Adjacency,
    lengths: &[u32],
) -> (Vec<i32>, Vec<i32>, Vec<bool>) {
    let n = labels.len();
    let k = bin_count(labels);
    let Depths {
        degree,
        median,
        local,
        ..
    } = depths(labels, adj, lengths);
    let shallow: Vec<bool> = (0..n)
        .map(|i| {
            labels[i] >= 0 && degree[i] > 0.0 && SHALLOWER * local[i] <= median[labels[i] as usize]
        })
        .collect();
    let (root, groups) = groups_in_bins(labels, overlaps, &shallow);
    let seed = |i: usize| shallow[i] && groups[&root[i]].len() >= SEED_COMPONENT;
    let bin_size = bin_sizes(labels);
    let mut seeds = vec![0usize; k];
    for i in (0..n).filter(|&i| seed(i)) {
        seeds[labels[i] as usize] += 1;
    }
    let mut new_label = vec![-1i32; k];
    let mut from = Vec::new();
    for b in 0..k {
        if seeds[b] >= SEED_READS.max(bin_size[b] / 100) {
            new_label[b] = (k + from.len()) as i32;
            from.push(b as i32);
        }
    }
    let split = |i: usize| labels[i] >= 0 && new_label[labels[i] as usize] >= 0;
    let out = (0..n)
        .map(|i| {
            if split(i) && seed(i) {
                new_label[labels[i] as usize]
            } else {
                labels[i]
            }
        })
        .collect();
    let doubt = (0..n)
        .map(|i| split(i) && !seed(i) && 2.0 * local[i] <= median[labels[i] as usize])
        .collect();
    (out, from, doubt)
}

/// How many of the bins [`shallow_seeds`] made (labels `first..first + made`) the votes left
/// under `min_size`. Such a seed was no genome of its own, and its reads and the reads put to
/// the sequence models with it should be where they were: the graph stage runs again without
/// seeds (PBSIM mix P4 seed 2: 51 E. coli reads seeded from a bin half E. coli, half
/// K. pneumoniae, left 54 reads unbinned, ARI −0.002).
pub fn failed_seeds(labels: &[i32], first: usize, made: usize, min_size: usize) -> usize {
    let size = bin_sizes(labels);
    (first..first + made)
        .filter(|&b| size.get(b).copied().unwrap_or(0) < min_size.max(1))
        .count()
}

/// The elements [`deep_by_overlaps`] made (labels `first..first + made` in `deep`) that
/// ended, after the votes, with most of their reads unbinned or in a bin under `min_size`, each
/// named by its first read. Their reads had been taken out of their composition bins: the graph
/// stage runs again asking those elements (and only those) for their full size, so they stay
/// binned where they were.
pub fn failed_elements(
    deep: &[i32],
    labels: &[i32],
    first: usize,
    made: usize,
    min_size: usize,
) -> Vec<usize> {
    let size = bin_sizes(labels);
    (first..first + made)
        .filter_map(|e| {
            // One pass: the element's first read (its name) and its reads' bins.
            let (mut at, mut count) = (None, std::collections::BTreeMap::<i32, usize>::new());
            for (i, (&d, &l)) in deep.iter().zip(labels).enumerate() {
                if d == e as i32 {
                    at.get_or_insert(i);
                    *count.entry(l).or_default() += 1;
                }
            }
            let top = count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map_or(NOISE, |(&l, _)| l);
            let failed = top < 0 || size.get(top as usize).copied().unwrap_or(0) < min_size.max(1);
            at.filter(|_| failed)
        })
        .collect()
}

/// Stretches of a genome that composition put in the bin of a genome at a fraction of its
/// coverage move to their own genome's bin. Composition alone cannot tell a low-GC island of
/// K. pneumoniae from E. coli (an order-6 Markov chain fitted on the true labels puts most of
/// them in E. coli too), and the vote cannot move it: its reads overlap each other, all in the
/// wrong bin. But at 3–20 % abundance genomes differ in coverage, and overlaps count it (mix I,
/// E. coli at 5 %, K. pneumoniae at 30 %: the E. coli bin's median read overlaps 2.3 reads per
/// spanned share, the K. pneumoniae stretches in it 13). A connected stretch of
/// [`STRETCH_READS`] or more reads at [`DEEPER`]× its bin's lower-quartile depth moves to the
/// bin it overlaps most when that bin holds twice all its other overlaps out of the stretch (to
/// the rest of its old bin and to other bins together), is genome-sized ([`LEAST_GENOME`]), its
/// median at least twice that of the old bin's reads outside such stretches (measured against
/// the quartile instead, K. pneumoniae stretches went to E. coli's bin 1.3× deeper: mix G
/// 0.922 → 0.909), and within twice the stretch's depth. A genome's multi-copy
/// repeat (a ribosomal operon, 7× deeper) is held by its flanks' overlaps in its own bin, or
/// links to several genomes' operons (PBSIM mix P3: E. coli's, 572 overlaps to S. suis's bin,
/// 403 elsewhere), or is far deeper than any genome; a phage bin is no genome. Returns the
/// labels and the number of reads moved.
pub fn deeper_stretches(
    labels: &[i32],
    overlaps: &Overlaps,
    adj: &Adjacency,
    lengths: &[u32],
) -> (Vec<i32>, usize) {
    let n = labels.len();
    let k = bin_count(labels);
    if k < 2 {
        return (labels.to_vec(), 0);
    }
    let Depths {
        span,
        degree,
        median,
        lower,
        local,
    } = depths(labels, adj, lengths);
    let deep: Vec<bool> = (0..n)
        .map(|i| labels[i] >= 0 && local[i] >= DEEPER * lower[labels[i] as usize])
        .collect();
    // Each bin's depth without its deep reads: a bin half one genome, half a deeper one's
    // stretches has its median between the two.
    let mut shallow_part: Vec<Vec<f64>> = vec![Vec::new(); k];
    for i in (0..n).filter(|&i| labels[i] >= 0 && !deep[i]) {
        shallow_part[labels[i] as usize].push(degree[i] / span[i]);
    }
    let rest_median: Vec<f64> = shallow_part
        .iter_mut()
        .map(|v| {
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0).max(DEPTH_FLOOR)
        })
        .collect();
    let (root, stretches) = groups_in_bins(labels, overlaps, &deep);
    if !stretches.values().any(|r| r.len() > 1) {
        return (labels.to_vec(), 0);
    }
    let genomes = genome_sizes(labels, overlaps, lengths);
    let mut out = labels.to_vec();
    let mut moved = 0;
    for (r, reads) in stretches.iter().filter(|(_, r)| r.len() >= STRETCH_READS) {
        let from = labels[reads[0]] as usize;
        let mut links = vec![0usize; k];
        let (mut d, mut s) = (0.0, 0.0);
        for &i in reads {
            d += degree[i];
            s += span[i];
            for &(j, _) in adj.of(i) {
                let j = j as usize;
                if labels[j] >= 0 && !(deep[j] && root[j] == *r) {
                    links[labels[j] as usize] += 1;
                }
            }
        }
        let rest = std::mem::take(&mut links[from]);
        let to = (0..k)
            .max_by(|&x, &y| links[x].cmp(&links[y]).then(y.cmp(&x)))
            .unwrap_or(from);
        let others = rest + links.iter().sum::<usize>() - links[to];
        let depth = d / s;
        let goes = links[to] >= STRETCH_LINKS
            && links[to] >= 2 * others
            && genomes[to].size >= LEAST_GENOME
            && median[to] >= 2.0 * rest_median[from]
            && depth <= 2.0 * median[to]
            && 2.0 * depth >= median[to];
        if goes {
            for &i in reads {
                out[i] = to as i32;
            }
            moved += reads.len();
        }
    }
    (out, moved)
}

/// Overlaps at least this share of the median overlap's density are strong: the copies of one
/// genome's repeat (its ribosomal operons, identical) and the reads that span a copy's ends,
/// not the same gene of two genomes 80 % alike ([`repeat_groups`]).
const STRONG: f64 = 0.8;
/// A repeat's reads overlap this many times more reads than their bin's median read (each
/// overlaps the reads of every copy); reads that reach this many times their own bin's median
/// are another repeat, not a repeat's flanks.
const REPEAT_DEPTH: f64 = 3.0;
/// Fewest reads in a repeat group.
const REPEAT_READS: usize = 3;
/// Fewest strong overlaps from a repeat group to the bin it moves to.
const REPEAT_LINKS: usize = 5;
/// Largest repeat group, as a share of its bin.
const REPEAT_SHARE: f64 = 0.2;
/// Fewest reads its strong overlaps out reach in the bin it moves to, as a share of its reads:
/// each copy's two ends are spanned by its genome's reads (dev 8 for 19 reads, 30 000-read
/// mixes 29-57 for 12-77). A group that reaches few is the copies of two genomes, each held by
/// its own flanks, a few of which composition put in the other bin (B1 seed 5: E. coli's and
/// K. pneumoniae's operons, 47 reads, 3 reached; others 0.17 and 0.20 of their reads).
const REPEAT_FLANKS: f64 = 0.25;

/// A genome's multi-copy repeat that composition put in another genome's bin goes to the bin
/// of its flanks. Ribosomal operons and their like are alike in composition across bacteria,
/// so on dev 19 reads wholly inside S. aureus's repeat of ten copies (41-51 % GC against its
/// 33 %) sat in E. coli's bin at every seed (ARI -0.011). They overlap each other strongly
/// ([`STRONG`]: the copies are identical) and E. coli's operons only weakly.
///
/// So: a group of a bin's reads joined by strong overlaps (none of them strong to the rest of
/// its bin, by how the groups are made), of [`REPEAT_READS`] reads to [`REPEAT_SHARE`] of its
/// bin, whose median read overlaps [`REPEAT_DEPTH`] times as many reads as the bin's median
/// read, with at least [`REPEAT_LINKS`] strong overlaps to one other bin and at least twice
/// those to all other bins together, moves there: its strong overlaps out are the reads
/// spanning its copies' ends into unique sequence, and they are many ([`REPEAT_FLANKS`]).
/// Unless the median of those reads overlaps [`REPEAT_DEPTH`] times as many reads as their
/// bin's median read: then the repeat is one two genomes share at one locus (E. coli's and
/// K. pneumoniae's operons, 97 % alike, mixes F and S), each genome's copies in the other's bin
/// as often as not, and moving would trade one genome's reads for the other's. Overlaps with
/// unbinned reads count for nothing. It runs last, and nothing votes after it. Returns the
/// labels and the reads moved.
pub fn repeat_groups(labels: &[i32], overlaps: &Overlaps, adj: &Adjacency) -> (Vec<i32>, usize) {
    let n = labels.len();
    let k = bin_count(labels);
    if k < 2 {
        return (labels.to_vec(), 0);
    }
    let floor = overlaps.density_floor(STRONG);
    let strong = |e: usize| floor.is_none_or(|f| overlaps.density[e] >= f);
    let root = components_by(
        n,
        overlaps
            .edges
            .iter()
            .enumerate()
            .filter(|&(e, &(a, b, _))| {
                labels[a as usize] >= 0 && labels[a as usize] == labels[b as usize] && strong(e)
            })
            .map(|(_, &(a, b, _))| (a, b)),
    );
    let degree = |i: usize| adj.of(i).len();
    let mut per_bin: Vec<Vec<usize>> = vec![Vec::new(); k];
    for i in (0..n).filter(|&i| labels[i] >= 0) {
        per_bin[labels[i] as usize].push(degree(i));
    }
    let sizes: Vec<usize> = per_bin.iter().map(Vec::len).collect();
    let median: Vec<f64> = per_bin
        .iter_mut()
        .map(|v| (upper_median(v) as f64).max(1.0))
        .collect();
    drop(per_bin);
    // Deep groups: (root, degree) sorted gives each group's run and its median read's overlaps.
    // `slot`: per group root, its deep group's index in `deep` (none: u32::MAX).
    let mut by_group: Vec<(u32, u32)> = (0..n)
        .filter(|&i| labels[i] >= 0)
        .map(|i| (root[i], degree(i) as u32))
        .collect();
    by_group.sort_unstable();
    let mut deep: Vec<(u32, usize)> = Vec::new();
    for run in by_group.chunk_by(|x, y| x.0 == y.0) {
        let bin = labels[run[0].0 as usize] as usize;
        if run.len() >= REPEAT_READS
            && run.len() as f64 <= REPEAT_SHARE * sizes[bin] as f64
            && run[run.len() / 2].1 as f64 >= REPEAT_DEPTH * median[bin]
        {
            deep.push((run[0].0, run.len()));
        }
    }
    drop(by_group);
    if deep.is_empty() {
        return (labels.to_vec(), 0);
    }
    let mut slot = vec![u32::MAX; n];
    for (g, &(r, _)) in deep.iter().enumerate() {
        slot[r as usize] = g as u32;
    }
    let group = |i: u32| slot[root[i as usize] as usize];
    // Each deep group's strong overlaps out of its bin, by the read they reach (its bin is
    // that read's label).
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); deep.len()];
    for (e, &(a, b, _)) in overlaps.edges.iter().enumerate() {
        let (la, lb) = (labels[a as usize], labels[b as usize]);
        if la < 0 || lb < 0 || la == lb || !strong(e) {
            continue;
        }
        for (x, y) in [(a, b), (b, a)] {
            if let Some(reached) = out.get_mut(group(x) as usize) {
                reached.push(y);
            }
        }
    }
    // Where each deep group goes, if it moves.
    let mut per = vec![0usize; k];
    let mut goes = vec![NOISE; deep.len()];
    for (g, reached) in out.iter_mut().enumerate() {
        per.fill(0);
        for &j in reached.iter() {
            per[labels[j as usize] as usize] += 1;
        }
        let to = (0..k)
            .max_by(|&x, &y| per[x].cmp(&per[y]).then(y.cmp(&x)))
            .unwrap_or(0);
        let others = reached.len() - per[to];
        if per[to] < REPEAT_LINKS || 2 * others > per[to] {
            continue;
        }
        reached.retain(|&j| labels[j as usize] == to as i32);
        reached.sort_unstable();
        reached.dedup();
        let mut d: Vec<usize> = reached.iter().map(|&j| degree(j as usize)).collect();
        if (reached.len() as f64) < REPEAT_FLANKS * deep[g].1 as f64
            || upper_median(&mut d) as f64 >= REPEAT_DEPTH * median[to]
        {
            continue;
        }
        goes[g] = to as i32;
    }
    let mut result = labels.to_vec();
    let mut moved = 0;
    for i in (0..n).filter(|&i| labels[i] >= 0) {
        let to = goes.get(group(i as u32) as usize).copied().unwrap_or(NOISE);
        if to >= 0 {
            result[i] = to;
            moved += 1;
        }
    }
    (result, moved)
}

/// A read is deep by its overlaps when it overlaps at least [`DEEP_DEGREE_RATIO`] times as many
/// reads as the median read does, and at least [`DEEP_DEGREE_MIN`]. In a shallow sample the
/// 15-mer depth cannot show a phage: at 90 % identity one 15-mer in five is error-free, so on a
/// 5 000-read mix lambda (17× coverage) reads 5 against the genomes' 2, below
/// [`crate::refine`]'s 4×. Its reads' overlaps can: lambda's median read overlaps 23 others,
/// every genome's 0 or 1 (dev: 34 against at most 3; a 20 000-read CLR mix: 65 against at
/// most 14).
const DEEP_DEGREE_RATIO: f64 = 4.0;
const DEEP_DEGREE_MIN: usize = 12;
/// A deep element that already has a bin: this share of its deep reads in one bin, making up at
/// least half of that bin.
const OWN_BIN: f64 = 0.8;
/// Most overlap weight from a deep element's reads to other reads, against the weight among
/// them. A phage or plasmid is a replicon apart: its reads overlap each other and little else
/// (lambda: 0.007 on dev, 0.02 on a 5 000-read ONT mix, 0.08 on a 20 000-read CLR mix). A
/// genome's multi-copy repeat (rRNA operons, joined across genomes) or a deeper stretch of a
/// genome is embedded in it, its reads overlapping the flanks as much as each other (0.4–7 on
/// the same mixes).
const APART: f64 = 0.25;

/// Reads deep by their overlaps (many times the median read's overlaps, [`DEEP_DEGREE_RATIO`])
/// that overlap each other form an element, a phage or plasmid many times deeper than the
/// genomes; one of at least `min_reads` reads that composition spread over other bins (lambda's
/// halves, which differ in GC, each beside a host of its GC) becomes a bin of its own before the
/// vote, which then brings its less covered reads (its ends) along, when its reads overlap
/// little else ([`APART`]). An element that already has its bin, or a genome simply more
/// abundant than the rest that is its own bin, is left alone. `min_reads` says, for an element
/// named by its first read, the least reads it needs (the elements depend on the overlaps
/// alone, so a name holds from one call to the next).
/// Returns the labels and the number of bins made.
pub fn deep_by_overlaps(
    labels: &[i32],
    overlaps: &Overlaps,
    adj: &Adjacency,
    min_reads: &dyn Fn(usize) -> usize,
) -> (Vec<i32>, usize) {
    let n = labels.len();
    if n == 0 {
        return (labels.to_vec(), 0);
    }
    let deep: Vec<bool> = (0..n).map(|i| adj.of(i).len() >= adj.deep).collect();
    let among: Vec<(u32, u32, u32)> = overlaps
        .edges
        .iter()
        .copied()
        .filter(|&(a, b, _)| deep[a as usize] && deep[b as usize])
        .collect();
    if among.is_empty() {
        return (labels.to_vec(), 0);
    }
    let root = components(n, &among);
    let mut members: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for i in (0..n).filter(|&i| deep[i]) {
        members.entry(root[i]).or_default().push(i);
    }
    let bin_size = bin_sizes(labels);
    let k = bin_size.len() as i32;
    // Each element's reads are in ascending order: r[0] is its first read.
    members.retain(|_, r| r.len() >= min_reads(r[0]).max(2));
    // Weight among each element's reads, and from them to other reads.
    let mut weight: std::collections::BTreeMap<u32, (f64, f64)> = Default::default();
    let element =
        |i: u32| Some(root[i as usize]).filter(|r| deep[i as usize] && members.contains_key(r));
    for &(a, b, w) in &overlaps.edges {
        match (element(a), element(b)) {
            (Some(x), Some(y)) if x == y => weight.entry(x).or_default().0 += w as f64,
            (x, y) => {
                for e in [x, y].into_iter().flatten() {
                    weight.entry(e).or_default().1 += w as f64;
                }
            }
        }
    }
    let mut out = labels.to_vec();
    let mut made = 0;
    for (root, reads) in &members {
        let (inside, outside) = weight.get(root).copied().unwrap_or_default();
        if outside > APART * inside {
            continue;
        }
        let mut per_bin: std::collections::BTreeMap<i32, usize> = Default::default();
        for &i in reads {
            *per_bin.entry(labels[i]).or_default() += 1;
        }
        let (&top, &count) = per_bin
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .expect("a component has reads");
        let has_bin = top >= 0
            && count as f64 >= OWN_BIN * reads.len() as f64
            && 2 * count >= bin_size[top as usize];
        if has_bin {
            continue;
        }
        for &i in reads {
            out[i] = k + made as i32;
        }
        made += 1;
    }
    (out, made)
}

/// Labels back to 0..n_clusters, largest first. Bins the vote left with fewer than `min_size`
/// reads (or none) are dropped, their reads unbinned: no bin is smaller than the min cluster
/// size, whatever moved.
pub fn renumber(labels: &[i32], min_size: usize) -> (Vec<i32>, usize) {
    let size = bin_sizes(labels);
    let mut order: Vec<usize> = (0..size.len())
        .filter(|&b| size[b] >= min_size.max(1))
        .collect();
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
    fn renumber_orders_bins_by_size_and_drops_those_under_the_min_size() {
        // Bin 0: 2 reads, bin 1: 4, bin 2: none, bin 3: 3; one read unbinned.
        let labels = [1, 0, 1, 3, NOISE, 1, 3, 0, 1, 3];
        let (out, k) = renumber(&labels, 3);
        assert_eq!(k, 2);
        assert_eq!(out, vec![0, NOISE, 0, 1, NOISE, 0, 1, NOISE, 0, 1]);
        // A min size of 0 or 1 keeps every bin that holds a read.
        assert_eq!(renumber(&labels, 0), renumber(&labels, 1));
        assert_eq!(renumber(&labels, 1).1, 3);
    }

    #[test]
    fn small_bins_whose_overlaps_leave_them_are_unbinned() {
        // Bins 0 and 1: 100 reads each, a chain of overlaps inside. Bin 2: four reads, two
        // overlapping each other and one read of bin 0 each, two overlapping each other and one
        // of bin 1 each (loci of two genomes): agreement 0.5. Bin 3: two reads overlapping each
        // other only (a small bin, but one genome's).
        let mut labels = vec![0; 100];
        labels.extend(vec![1; 100]);
        labels.extend([2, 2, 2, 2, 3, 3]);
        let mut edges: Vec<(u32, u32, u32)> = (0..99).map(|i| (i, i + 1, 10)).collect();
        edges.extend((100..199).map(|i| (i, i + 1, 10)));
        edges.extend([(200, 201, 10), (200, 0, 10), (201, 1, 10)]);
        edges.extend([(202, 203, 10), (202, 100, 10), (203, 101, 10)]);
        edges.push((204, 205, 10));
        let o = Overlaps {
            edges,
            ..Default::default()
        };
        // Under the min size (5): left for the renumbering to drop.
        assert_eq!(loose_bins(&labels, &o, 5, usize::MAX).1, 0);
        let (out, n) = loose_bins(&labels, &o, 2, usize::MAX);
        assert_eq!(n, 1);
        assert_eq!(&out[200..204], &[NOISE; 4]);
        assert_eq!(&out[..200], &labels[..200]);
        assert_eq!(&out[204..], &[3, 3]);
        // Without bin 0, bin 2 (agreement 2/3) holds 4 of 106 binned reads: too large a share
        // to be taken for loci, so it is kept.
        let few: Vec<i32> = labels[100..].to_vec();
        let shift =
            |e: &(u32, u32, u32)| (e.0 >= 100 && e.1 >= 100).then(|| (e.0 - 100, e.1 - 100, e.2));
        let o = Overlaps {
            edges: o.edges.iter().filter_map(shift).collect(),
            ..Default::default()
        };
        assert_eq!(loose_bins(&few, &o, 2, usize::MAX).1, 0);
    }

    #[test]
    fn only_firm_overlaps_support_a_read_and_unknown_densities_are_firm() {
        // Densities 100, 100, 100, 30, 10 per 10 kb: median 100, so the least firm is 40.
        let labels = vec![0, 0, 0, 1, 0, 0];
        let edges = vec![(0, 1, 9), (1, 2, 9), (2, 4, 9), (0, 5, 9), (3, 5, 9)];
        let o = Overlaps {
            edges: edges.clone(),
            density: vec![100, 100, 100, 30, 10],
            ..Default::default()
        };
        let adj = o.adjacency(labels.len());
        let firm: Vec<Vec<bool>> = (0..labels.len()).map(|i| adj.firm(i).collect()).collect();
        assert_eq!(firm[0], vec![true, false]);
        assert_eq!(firm[5], vec![false, false]);
        let pairs = |s: Vec<Support>| -> Vec<(u32, u32)> {
            s.iter().map(|s| (s.overlaps, s.in_bin)).collect()
        };
        assert_eq!(
            pairs(firm_support(&labels, &adj)),
            vec![(1, 1), (2, 2), (2, 2), (0, 0), (1, 1), (0, 0)]
        );
        // Read 5: both its overlaps weak, one of them in its bin; by all overlaps, half in its
        // bin, already in doubt. Read 0: two overlaps in its bin, one firm: still held.
        assert_eq!(weakly_held(&labels, &adj), 0);
        // Read 4's one overlap made weak: it is held only weakly now.
        let o = Overlaps {
            density: vec![100, 100, 10, 30, 10],
            ..o
        };
        assert_eq!(weakly_held(&labels, &o.adjacency(labels.len())), 1);
        // A read of a deep element (12 or more overlaps in its bin) is held by them, weak or not:
        // read 0 overlaps reads 1-12 weakly; reads 13-26 overlap in a chain, firmly.
        let n = DEEP_DEGREE_MIN + 15;
        let mut deep_edges: Vec<(u32, u32, u32)> =
            (1..=DEEP_DEGREE_MIN as u32).map(|j| (0, j, 9)).collect();
        let mut density = vec![10u16; deep_edges.len()];
        deep_edges.extend((DEEP_DEGREE_MIN as u32 + 1..n as u32 - 1).map(|j| (j, j + 1, 9)));
        density.resize(deep_edges.len(), 100);
        let o = Overlaps {
            edges: deep_edges,
            density,
            ..Default::default()
        };
        let deep_labels = vec![0; n];
        let adj = o.adjacency(n);
        assert!(adj.firm(0).all(|f| !f));
        assert!(!crate::markov::doubted(
            0,
            firm_support_of(&deep_labels, &adj, 0)
        ));
        // Reads 1-12, each held by its one weak overlap alone.
        assert_eq!(weakly_held(&deep_labels, &adj), DEEP_DEGREE_MIN);
        // Densities not known (a graph made by hand, or one whose edges were changed): all firm.
        for density in [Vec::new(), vec![100, 10]] {
            let o = Overlaps {
                edges: edges.clone(),
                density,
                ..Default::default()
            };
            let adj = o.adjacency(labels.len());
            assert!((0..labels.len()).all(|i| adj.firm(i).all(|f| f)));
            assert_eq!(firm_support(&labels, &adj), support(&labels, &adj));
        }
    }

    #[test]
    fn support_counts_a_reads_overlaps_and_those_in_its_bin() {
        // Read 0 overlaps 1 (same bin), 2 (other bin) and 3 (unbinned); read 3 is unbinned, so
        // none of its overlaps is in its bin; read 4 overlaps nothing.
        let labels = vec![0, 0, 1, NOISE, 0];
        let o = Overlaps {
            edges: vec![(0, 1, 9), (0, 2, 9), (0, 3, 9), (1, 3, 9)],
            ..Default::default()
        };
        let s = support(&labels, &o.adjacency(labels.len()));
        let pairs: Vec<(u32, u32)> = s.iter().map(|s| (s.overlaps, s.in_bin)).collect();
        assert_eq!(pairs, vec![(3, 1), (2, 1), (1, 0), (2, 0), (0, 0)]);
        // Read 0: 1 of 3 in its bin; read 1: 1 of 2; read 2: 0 of 1; read 4: no overlaps (the
        // unbinned read 3 is not counted).
        assert_eq!(
            SupportSummary::of(&s, &labels),
            SupportSummary {
                all_in_bin: 0,
                most_in_bin: 0,
                half_or_fewer_in_bin: 3,
                no_overlaps: 1,
            }
        );
        let two_of_three = Support {
            overlaps: 3,
            in_bin: 2,
        };
        assert_eq!(two_of_three.agreement(true), Agreement::Most);
        assert_eq!(two_of_three.agreement(false), Agreement::NoOverlaps);
        assert_eq!(
            Support {
                overlaps: 2,
                in_bin: 2
            }
            .agreement(true),
            Agreement::All
        );
        // In doubt: reads 0, 1 and 2 (half or fewer in their bin) and the unbinned read 3 that
        // overlaps two reads; not read 4, which overlaps nothing.
        assert_eq!(doubted(&labels, &s), 4);
        let settled = vec![0, 0, 0, 0, 0];
        assert_eq!(doubted(&settled, &support(&settled, &o.adjacency(5))), 0);
        let choice = |a, b| crate::output::MapChoice::of(a, b).kept;
        use crate::settings::MapInput;
        assert_eq!(choice(4, 3), MapInput::Kmers);
        // A tie keeps the latent's bins, the method's.
        assert_eq!(choice(4, 4), MapInput::Latent);
        assert_eq!(choice(3, 4), MapInput::Latent);
    }

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
            density: Vec::new(),
            sampled: 1.0,
            reads_indexed: 1.0,
        };
        let (l, r) = correct(&labels, &o, &o.adjacency(labels.len()));
        assert_eq!(l[2], 0, "the planted mis-assignment is not corrected");
        assert_eq!(l[4], 0, "the unbinned read is not rescued");
        assert_eq!(l[5], 0, "a tie must not move a read");
        assert_eq!(l[6], 1, "a read with one voter must not move");
        assert_eq!((r.moved, r.rescued), (1, 1));
        let a = agreement(&l, 2, &o);
        assert!(a[0] > 0.9, "{a:?}");
    }

    /// Reads of `len` bp starting every `step` bp around a circular genome of `size` bp, from
    /// row `first`: the edges between those overlapping by at least [`MIN_OVERLAP`].
    fn tiled(first: u32, size: u32, step: u32, len: u32, edges: &mut Vec<(u32, u32, u32)>) -> u32 {
        let n = size / step;
        let reach = (len - MIN_OVERLAP as u32) / step;
        for i in 0..n {
            for d in 1..=reach.min(n - 1) {
                let j = (i + d) % n;
                let (a, b) = (first + i.min(j), first + i.max(j));
                edges.push((a, b, 20));
            }
        }
        n
    }

    /// Labels of consecutive blocks of reads: (reads, label) each.
    fn blocks(sizes: &[(u32, i32)]) -> Vec<i32> {
        sizes
            .iter()
            .flat_map(|&(reads, label)| std::iter::repeat_n(label, reads as usize))
            .collect()
    }

    #[test]
    fn a_small_bin_of_a_locus_two_genomes_share_is_unbinned_and_a_deep_element_is_not() {
        // A: 2 Mb at 10x, B: 1.5 Mb at 10x, X: a 10 kb element of many copies (a read every
        // 10 bp). Composition made one bin of 30 of A's reads (a 15 kb operon and its flanks)
        // and 30 of B's, whose operon copies overlap each other across the genomes.
        let mut edges = Vec::new();
        let a = tiled(0, 2_000_000, 500, 5000, &mut edges);
        let b = tiled(a, 1_500_000, 500, 5000, &mut edges);
        let x = tiled(a + b, 10_000, 10, 5000, &mut edges);
        let n = (a + b + x) as usize;
        let (la, lb) = (2400..2430u32, a + 1000..a + 1030);
        for i in la.clone() {
            for j in lb.clone() {
                edges.push((i, j, 10));
            }
        }
        // X shares sequence with both genomes.
        for i in 0..200 {
            edges.push((100 + i, a + b + i, 10));
            edges.push((a + 100 + i, a + b + 300 + i, 10));
        }
        let lengths = vec![5000u32; n];
        let mut labels = blocks(&[(a, 0), (b, 1), (x, 2)]);
        for i in la.clone().chain(lb.clone()) {
            labels[i as usize] = 3;
        }
        let o = Overlaps {
            edges,
            ..Overlaps::default()
        };
        let g = genome_sizes(&labels, &o, &lengths);
        assert!(
            g[3].size < LEAST_GENOME && g[2].size < LEAST_GENOME,
            "{g:?}"
        );
        assert!(g[2].coverage > LOCUS_COPIES * g[0].coverage, "{g:?}");
        let (out, count) = shared_loci(&labels, &o, &lengths);
        assert_eq!(count, 1);
        for (i, (&was, &now)) in labels.iter().zip(&out).enumerate() {
            assert_eq!(now, if was == 3 { NOISE } else { was }, "read {i}");
        }
        // Overlapping one genome only, the bin is a piece of it ([`join_fragments`]), not a
        // shared locus.
        let one = Overlaps {
            edges: o
                .edges
                .iter()
                .copied()
                .filter(|&(p, q, _)| !(lb.contains(&p) || lb.contains(&q)))
                .collect(),
            ..Overlaps::default()
        };
        let mut only_a = labels.clone();
        for i in lb.clone() {
            only_a[i as usize] = 1;
        }
        assert_eq!(shared_loci(&only_a, &one, &lengths).1, 0);
    }

    #[test]
    fn a_stretch_cut_from_a_genome_rejoins_it_and_a_phage_a_relative_or_a_shared_locus_does_not() {
        let mut edges = Vec::new();
        // A: 2 Mb at 10x (reads every 500 bp); its rows 1000..1200, one unbroken 100 kb
        // stretch, are a bin of their own. B: a relative, 1.5 Mb at 10x. P: a 48 kb phage at
        // 100x. Shared sequence links B and P to A.
        let a = tiled(0, 2_000_000, 500, 5000, &mut edges);
        let b = tiled(a, 1_500_000, 500, 5000, &mut edges);
        let p = tiled(a + b, 48_000, 50, 5000, &mut edges);
        let n = (a + b + p) as usize;
        for i in 0..2000 {
            edges.push((1200 + i, a + i, 10));
        }
        // 1 000 links: 0.65 % of the phage's overlaps, enough to join it but for its depth.
        for i in 0..1000 {
            edges.push((3200 + i % 800, a + b + i % p, 10));
        }
        let lengths = vec![5000u32; n];
        let mut labels = blocks(&[(a, 0), (b, 2), (p, 3)]);
        for l in &mut labels[1000..1200] {
            *l = 1;
        }
        // A stretch of A that B's links reach as well (a locus the two share): rows 2400..2500,
        // 100 links to B against about 70 to A across its ends.
        for l in &mut labels[2400..2500] {
            *l = 4;
        }
        let o = Overlaps {
            edges,
            ..Overlaps::default()
        };
        let g = genome_sizes(&labels, &o, &lengths);
        assert!((g[0].coverage - 10.0).abs() < 0.5, "{:?}", g[0]);
        assert!((g[0].size - 1.9e6).abs() < 0.1e6, "{:?}", g[0]);
        assert!(
            g[1].size < LEAST_GENOME && g[3].size < LEAST_GENOME,
            "{g:?}"
        );
        assert!(g[2].size > 1.4e6, "{:?}", g[2]);
        let (out, joined) = join_fragments(&labels, &o, &lengths);
        assert_eq!(joined, 1);
        assert!(out[..2400].iter().all(|&l| l == 0));
        assert!(out[2400..2500].iter().all(|&l| l == 4));
        assert!(out[2500..a as usize].iter().all(|&l| l == 0));
        assert_eq!(&out[a as usize..], &labels[a as usize..]);
        // The stretch at a third of A's coverage is something else: it stays.
        let thin: Vec<(u32, u32, u32)> = o
            .edges
            .iter()
            .copied()
            .filter(|&(x, y, _)| {
                !(1000..1200).contains(&x) || !(1000..1200).contains(&y) || (x + y) % 3 == 0
            })
            .collect();
        let thin = Overlaps {
            edges: thin,
            ..Overlaps::default()
        };
        assert_eq!(join_fragments(&labels, &thin, &lengths).1, 0);
    }

    #[test]
    fn a_genomes_repeat_in_anothers_bin_goes_to_its_flanks_and_one_two_genomes_share_does_not() {
        // A, B and C: 1 Mb each, a 5 kb read every 1 kb. R: 30 reads wholly inside B's
        // identical operon copies (each overlaps the rest), which composition put in A's bin,
        // overlapping A's operon reads (rows 10..20) weakly. Flanks: 14 reads of B across the
        // copies' ends (rows a+100.., a+500..) overlap 14 of R's strongly. Shared: R's strong
        // overlaps go to S instead, 30 reads of the same locus in B's bin (the other genome's
        // copies, as deep). Few: they go to 3 reads of B only. Split: 8 to B's flanks, 6 to C's
        // reads. Shallow: R's reads overlap only the next one, as a genome's reads do.
        enum Out {
            Flanks,
            Shared,
            Few,
            Split,
            Shallow,
        }
        let build = |out: Out| {
            let mut edges = Vec::new();
            let a = tiled(0, 1_000_000, 1000, 5000, &mut edges);
            let b = tiled(a, 1_000_000, 1000, 5000, &mut edges);
            let (r, s) = (a + b, a + b + 30);
            let c = tiled(s + 30, 1_000_000, 1000, 5000, &mut edges);
            for i in 0..30 {
                for j in i + 1..30 {
                    if j == i + 1 || !matches!(out, Out::Shallow) {
                        edges.push((r + i, r + j, 20));
                    }
                    edges.push((s + i, s + j, 20));
                }
                edges.push((a + 700 + i % 4, s + i, 20));
            }
            for i in 0..14 {
                let flank = a + 100 + 400 * (i % 2) + i;
                let to = match out {
                    Out::Flanks | Out::Shallow => flank,
                    Out::Shared => s + i,
                    Out::Few => a + 100 + i % 3,
                    Out::Split if i < 8 => flank,
                    Out::Split => s + 30 + 10 * i,
                };
                edges.push((to.min(r + i), to.max(r + i), 20));
            }
            let mut density = vec![500u16; edges.len()];
            for i in 0..30 {
                edges.push((10 + i % 10, r + i, 5));
                density.push(100);
            }
            let labels: Vec<i32> = (0..s + 30 + c)
                .map(|i| match i {
                    _ if i < a || (r..s).contains(&i) => 0,
                    _ if i < s + 30 => 1,
                    _ => 2,
                })
                .collect();
            let o = Overlaps {
                edges,
                density,
                ..Overlaps::default()
            };
            (labels, o, r as usize)
        };
        let (labels, o, r) = build(Out::Flanks);
        let (out, moved) = repeat_groups(&labels, &o, &o.adjacency(labels.len()));
        assert_eq!(moved, 30);
        assert!(out[r..r + 30].iter().all(|&l| l == 1));
        assert_eq!(out[..r], labels[..r], "the genomes' own reads stay");
        assert_eq!(out[r + 30..], labels[r + 30..]);
        for (kind, why) in [
            (
                Out::Shared,
                "its flanks are as deep as it: a locus two genomes share",
            ),
            (
                Out::Few,
                "three reads out of it: the other genome's copies' flanks",
            ),
            (Out::Split, "as many strong overlaps to a third bin"),
            (
                Out::Shallow,
                "no deeper than its bin: a genome's stretch, not a repeat",
            ),
        ] {
            let (labels, o, _) = build(kind);
            let (out, moved) = repeat_groups(&labels, &o, &o.adjacency(labels.len()));
            assert_eq!((moved, out), (0, labels), "{why}");
        }
    }

    #[test]
    fn a_deeper_genomes_stretch_leaves_a_shallow_bin_and_a_phage_or_a_same_depth_one_does_not() {
        // A: 2 Mb at 10x. B: 1.5 Mb at 2x (a read every 2 500 bp). P: a 30 kb phage at 50x,
        // linked to A by shared sequence. Composition put P, a 50 kb stretch of A (rows
        // 1000..1100) and five more of A's reads (rows 2000..2005) in B's bin.
        let bins = |shallow_step: u32| {
            let mut edges = Vec::new();
            let a = tiled(0, 2_000_000, 500, 5000, &mut edges);
            let b = tiled(a, 1_500_000, shallow_step, 5000, &mut edges);
            let p = tiled(a + b, 30_000, 100, 5000, &mut edges);
            for i in 0..1000 {
                edges.push((3000 + i % 800, a + b + i % p, 10));
            }
            let n = (a + b + p) as usize;
            let labels: Vec<i32> = (0..n as u32)
                .map(|i| {
                    let stray = (1000..1100).contains(&i) || (2000..2005).contains(&i);
                    if i < a && !stray { 0 } else { 1 }
                })
                .collect();
            let o = Overlaps {
                edges,
                ..Overlaps::default()
            };
            (labels, o, a + b)
        };
        let (labels, o, phage) = bins(2500);
        let n = labels.len();
        let lengths = vec![5000u32; n];
        let (out, moved) = deeper_stretches(&labels, &o, &o.adjacency(n), &lengths);
        assert_eq!(moved, 100);
        assert!(out[..2000].iter().all(|&l| l == 0));
        assert!(out[2000..2005].iter().all(|&l| l == 1), "too few to go by");
        assert!(
            out[phage as usize..].iter().all(|&l| l == 1),
            "no genome's depth"
        );
        // B at A's depth: nothing in its bin is deeper than it.
        let (labels, o, _) = bins(500);
        let n = labels.len();
        let lengths = vec![5000u32; n];
        let (out, moved) = deeper_stretches(&labels, &o, &o.adjacency(n), &lengths);
        assert_eq!((moved, out), (0, labels));
    }

    #[test]
    fn a_shallow_genome_inside_a_deep_ones_bin_is_seeded_and_a_thinly_linked_read_is_not() {
        // Bin 0: A, 2 Mb at 10x, and B, 1.5 Mb at 2x (a read every 2 500 bp), which
        // composition put with it; then three reads of A in a chain hanging off A's row 100
        // (x - y - z - A), overlapping little. Bin 1: C, 1 Mb at 10x alone.
        let mut edges = Vec::new();
        let a = tiled(0, 2_000_000, 500, 5000, &mut edges);
        let b = tiled(a, 1_500_000, 2500, 5000, &mut edges);
        let c = tiled(a + b, 1_000_000, 500, 5000, &mut edges);
        let x = a + b + c;
        edges.extend([(x, x + 1, 10), (x + 1, x + 2, 10), (100, x + 2, 10)]);
        let n = (x + 3) as usize;
        let labels: Vec<i32> = (0..n as u32)
            .map(|i| if (a + b..x).contains(&i) { 1 } else { 0 })
            .collect();
        let o = Overlaps {
            edges,
            ..Overlaps::default()
        };
        let lengths = vec![5000u32; n];
        let (out, from, doubt) = shallow_seeds(&labels, &o, &o.adjacency(n), &lengths);
        assert_eq!(from, vec![0]);
        assert!(out[a as usize..(a + b) as usize].iter().all(|&l| l == 2));
        assert!(out[..a as usize].iter().all(|&l| l == 0));
        assert!(out[(a + b) as usize..x as usize].iter().all(|&l| l == 1));
        // x and y are shallow, but z's overlap with A lifts z: two reads seed nothing (all three
        // lie nearer the shallow depth than the deep, for the sequence models to judge).
        assert_eq!(&out[x as usize..], &[0, 0, 0]);
        assert_eq!(&doubt[x as usize..], &[true, true, true]);
        assert!(!doubt[..x as usize].iter().any(|&d| d));
        // B alone in its bin, at its own depth: nothing is shallower than it.
        let own: Vec<i32> = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                if (a..a + b).contains(&(i as u32)) {
                    2
                } else {
                    l
                }
            })
            .collect();
        let (again, none, _) = shallow_seeds(&own, &o, &o.adjacency(n), &lengths);
        assert_eq!((none.len(), again), (0, own));
        // The seed is a bin at a min cluster size of B's reads, not above.
        let first = bin_count(&labels);
        assert_eq!(failed_seeds(&out, first, from.len(), b as usize), 0);
        assert_eq!(failed_seeds(&out, first, from.len(), b as usize + 1), 1);
    }

    #[test]
    fn deep_bins_of_one_depth_that_overlap_are_joined_and_no_others() {
        // Bins 0 and 1: genomes at depth 10, 100 reads each, overlapping each other a little.
        // Bins 2 and 3: a phage's two halves at 60 and 66, overlapping across the cut. Bin 4: a
        // plasmid at 64 that overlaps nothing else. Bin 5: deep (200) and overlapping bin 2.
        let mut labels = Vec::new();
        let mut depth = Vec::new();
        for (b, d, n) in [
            (0, 10u8, 100),
            (1, 10, 100),
            (2, 60, 20),
            (3, 66, 20),
            (4, 64, 20),
        ] {
            labels.extend(std::iter::repeat_n(b, n));
            depth.extend(std::iter::repeat_n(d, n));
        }
        labels.extend([5; 20]);
        depth.extend([200; 20]);
        let mut edges = Vec::new();
        // Inside each bin: a chain of overlaps.
        let starts = [0u32, 100, 200, 220, 240, 260];
        let ends = [100u32, 200, 220, 240, 260, 280];
        for (s, e) in starts.iter().zip(&ends) {
            edges.extend((*s..e - 1).map(|i| (i, i + 1, 10)));
        }
        edges.push((50, 150, 10)); // the genomes: same depth, but not deep
        edges.push((219, 220, 10)); // the phage's halves
        edges.push((210, 270, 10)); // the deep bin 5 is three times deeper than bin 2
        let o = Overlaps {
            edges,
            density: Vec::new(),
            sampled: 1.0,
            reads_indexed: 1.0,
        };
        let (l, joined) = join_deep(&labels, &o, &depth);
        assert_eq!(joined, 1);
        assert!((200..240).all(|i| l[i] == l[200]));
        let distinct: std::collections::BTreeSet<i32> =
            [0, 100, 200, 240, 260].iter().map(|&i| l[i]).collect();
        assert_eq!(distinct.len(), 5, "{l:?}");
        // No depths (no coverage features): nothing joined.
        assert_eq!(join_deep(&labels, &o, &[]).1, 0);
        // A deeper sample: the genomes at 70, the phage's halves saturated at 255.
        let deeper: Vec<u8> = depth
            .iter()
            .map(|&d| match d {
                10 => 70,
                60 | 66 => 255,
                d => d,
            })
            .collect();
        let (l, joined) = join_deep(&labels, &o, &deeper);
        assert!(joined >= 1 && (200..240).all(|i| l[i] == l[200]));
        assert_ne!(l[0], l[100]);
    }

    #[test]
    fn reads_deep_by_their_overlaps_that_composition_spread_get_a_bin() {
        // Bins 0 and 1: two genomes of 100 reads each, a chain of overlaps (degree 2). Reads
        // 0-19 of bin 0 and 100-119 of bin 1 are a phage's halves: 40 reads that all overlap
        // each other (degree 39). Bin 2: a plasmid as deep, 30 reads already a bin of its own.
        let mut labels: Vec<i32> = [0; 100].into_iter().chain([1; 100]).collect();
        labels.extend([2; 30]);
        let phage: Vec<u32> = (0..20).chain(100..120).collect();
        let mut edges: Vec<(u32, u32, u32)> = (20..99).map(|i| (i, i + 1, 5)).collect();
        edges.extend((120..199).map(|i| (i, i + 1, 5)));
        for (x, &a) in phage.iter().enumerate() {
            edges.extend(phage[x + 1..].iter().map(|&b| (a, b, 8)));
        }
        for a in 200..230u32 {
            edges.extend((a + 1..230).map(|b| (a, b, 8)));
        }
        // A repeat (rRNA operons) in both genomes: reads 50-64 and 150-164 overlap each other,
        // and each overlaps four of its genome's reads beside it as strongly.
        let repeat: Vec<u32> = (50..65).chain(150..165).collect();
        for (x, &a) in repeat.iter().enumerate() {
            edges.extend(repeat[x + 1..].iter().map(|&b| (a, b, 8)));
            edges.extend((a - 20..a - 16).map(|f| (f, a, 10)));
        }
        let o = Overlaps {
            edges,
            density: Vec::new(),
            sampled: 1.0,
            reads_indexed: 1.0,
        };
        let adj = o.adjacency(labels.len());
        assert!(repeat.iter().all(|&r| adj.of(r as usize).len() >= 30));
        let (l, made) = deep_by_overlaps(&labels, &o, &adj, &|_| 25);
        assert_eq!(made, 1);
        assert!(phage.iter().all(|&i| l[i as usize] == 3), "{l:?}");
        assert!(
            (20..100).all(|i| l[i] == 0) && (120..200).all(|i| l[i] == 1),
            "{l:?}"
        );
        assert!(
            (200..230).all(|i| l[i] == 2),
            "the plasmid's own bin is left alone"
        );
        // An element under the size asked is no bin.
        assert_eq!(deep_by_overlaps(&labels, &o, &adj, &|_| 41).1, 0);
        assert_eq!(deep_by_overlaps(&labels, &o, &adj, &|_| 40).1, 1);
        // The size asked of the element named by its first read, and of no other.
        let first = *phage.iter().min().unwrap() as usize;
        let asked = |r: usize| if r == first { 41 } else { 25 };
        assert_eq!(deep_by_overlaps(&labels, &o, &adj, &asked).1, 0);
        let asked = |r: usize| if r == first + 1 { 41 } else { 25 };
        assert_eq!(deep_by_overlaps(&labels, &o, &adj, &asked).1, 1);
        // The element's bin under the min cluster size after the votes: it failed, and is
        // named by its first read.
        assert!(failed_elements(&l, &l, 3, 1, 40).is_empty());
        assert_eq!(failed_elements(&l, &l, 3, 1, 41), vec![first]);
        let mut gone = l.clone();
        phage.iter().for_each(|&i| gone[i as usize] = NOISE);
        assert_eq!(failed_elements(&l, &gone, 3, 1, 10), vec![first]);
        // Every read as deep as the phage (a deep sample): nothing is deep against the median.
        let mut dense = o.edges.clone();
        for a in 20..100u32 {
            dense.extend((a + 1..(a + 40).min(100)).map(|b| (a, b, 8)));
        }
        for a in 120..200u32 {
            dense.extend((a + 1..(a + 40).min(200)).map(|b| (a, b, 8)));
        }
        let o = Overlaps { edges: dense, ..o };
        let adj = o.adjacency(labels.len());
        assert_eq!(deep_by_overlaps(&labels, &o, &adj, &|_| 25).1, 0);
    }

    /// The plain definition: the least k-mer of every full window, each once.
    fn minimizers_by_windows(seq: &[u8], keep_below: u64) -> Vec<(u64, u32, bool)> {
        let mut ring: Vec<(u64, u32, bool)> = vec![(u64::MAX, 0, false); W];
        let mut out: Vec<(u64, u32, bool)> = Vec::new();
        let mut last: Option<(u64, u32)> = None;
        crate::features::for_each_canonical_kmer(seq, K, |pos, run, code, strand| {
            let pos = pos as u32;
            ring[pos as usize % W] = (hash(code), pos, strand);
            if run < K + W - 1 {
                return;
            }
            let m = *ring.iter().min_by_key(|e| (e.0, e.1)).unwrap();
            if last != Some((m.0, m.1)) {
                last = Some((m.0, m.1));
                if m.0 < keep_below {
                    out.push(m);
                }
            }
        });
        out
    }

    #[test]
    fn minimizers_are_the_least_kmer_of_each_window() {
        for seed in 0..20u64 {
            // Random bases with runs broken by Ns, and a low-complexity stretch (ties).
            let seq: Vec<u8> = (0..4000u64)
                .map(|i| match hash(i ^ seed << 32) % 200 {
                    0 => b'N',
                    _ if (1000..1100).contains(&i) => b'A',
                    x => b"ACGT"[(x % 4) as usize],
                })
                .collect();
            for keep in [u64::MAX, u64::MAX / 3, u64::MAX / 17] {
                assert_eq!(
                    minimizers(&seq, keep),
                    minimizers_by_windows(&seq, keep),
                    "seed {seed}"
                );
            }
        }
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
