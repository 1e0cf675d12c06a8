//! k-mer coverage histograms in the spirit of LRBinner: canonical 15-mers of the sample are
//! counted, then each read is described by how its own 15-mers are spread over those counts.
//! Reads of an abundant genome share many k-mers with other reads; reads of a rare one few, so
//! this separates genomes of similar composition but different abundance.
//!
//! Only a fixed hash-chosen 1/2^[`SAMPLE_BITS`] of all 15-mers is counted and looked up: a
//! k-mer is either always counted or never, so its count is its full count, and a 5 kb read
//! still shows ~150 of its 15-mers. Counting every 15-mer made billions of random updates into
//! a table of up to 1 GiB: 14 MB/s on 2 cores for 200 000 reads (1 GB of FASTA).
//!
//! Counts live in a hashed table of saturating u8 counters (no k-mer is stored), and the rare
//! collisions only inflate a count slightly, alike for every read. Each batch of reads is
//! counted by bucket of the table (a counting sort of the batch's keys by their top bits), one
//! bucket per task: no atomics, and every update of a task lands in 1/256 of the table. The
//! table's size is a function of the reads' bases alone ([`KmerCounts::settle`]), so the same
//! reads give the same counts however they are stored, and saturating additions of one give
//! the same counts in any order.
use rayon::prelude::*;

/// k-mer length for coverage (LRBinner's choice): long enough that most 15-mers are unique
/// in a bacterial genome.
pub const COVERAGE_K: usize = 15;
/// Histogram bins: count 1 (mostly k-mers with an error), then counts 2, 3, … in steps of the
/// sample's depth unit ([`KmerCounts::settle`]), the last bin open-ended.
pub const COVERAGE_BINS: usize = 16;
/// Solid k-mers' typical count per step of the histogram: samples up to ~16 deep keep steps of
/// one count (dev, the simulated mixes, 200 000 reads); deeper ones get wider steps. With steps
/// of one, every genome of a million-read sample (counts ~30) fell in the last bin and phage
/// lambda (3 000×) no longer stood apart from E. coli (ARI 0.883 against 0.930 on 200 000 reads
/// of the same mix). Half-octave bins for every sample lost the fine steps that shallow samples
/// need (ARI dev 0.903 → 0.848, mix B 0.904 → 0.745).
const COUNTS_PER_STEP: usize = 8;
/// 1/2^SAMPLE_BITS of the distinct 15-mers are counted. ARI with defaults, seeds 42 and 1
/// (dev; simulated mixes B, ONT 88 %, and C, CLR 92 %): every 15-mer 0.897 / 0.898 / 0.931
/// (seed 42 only); 1/16 0.855 / 0.906 / 0.936; 1/32 0.895 / 0.904 / 0.941; 1/64 0.850 / 0.912 /
/// 0.937 (seed 42). Without coverage: 0.843 / 0.906 / 0.925.
pub const SAMPLE_BITS: u32 = 5;
/// Quantile of a read's 15-mer counts taken as its depth ([`KmerCounts::histogram_of`]).
const DEPTH_QUANTILE: f64 = 0.9;
/// Buckets a batch is counted by (a power of two; the table holds at least this many slots).
const BUCKETS: usize = 256;

pub struct KmerCounts {
    table: Vec<u8>,
    /// log2 of the table's slots.
    bits: u32,
    /// Counts per histogram step (1 up to ~16-deep samples), from the settled table.
    step: usize,
}

/// splitmix64's finaliser: the 2-bit code of a k-mer spread over all 64 bits, so that the
/// sampling bits and the slot bits are independent of each other and of the sequence.
#[inline]
fn mix(code: u64) -> u64 {
    let mut z = code.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One multiply picks the sample: the top bits of a Fibonacci hash depend on every bit of the
/// code.
#[inline]
fn sampled(code: u64) -> bool {
    code.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - SAMPLE_BITS) == 0
}

impl KmerCounts {
    /// A table for the sampled 15-mers of about `bases` bases: four slots per sampled k-mer
    /// keeps the chance that an unrelated k-mer shares a slot near 15% (4 Mi to 1 Gi slots,
    /// 1 byte each).
    pub fn new(bases: u64) -> Self {
        let bits = Self::bits_for(bases);
        KmerCounts {
            table: vec![0; 1 << bits],
            bits,
            step: 1,
        }
    }

    fn bits_for(bases: u64) -> u32 {
        ((bases >> SAMPLE_BITS).saturating_mul(4))
            .next_power_of_two()
            .clamp(1 << 22, 1 << 30)
            .trailing_zeros()
    }

    /// The table as if it had been sized for `bases` from the start. A slot is the top bits of
    /// the key, so halving the table adds slots 2i and 2i + 1; saturating at 255 either way,
    /// the folded counts equal those counted directly into the smaller table. `Err(bases)`
    /// when the table is smaller than `bases` call for (count again into a new one).
    pub fn settle(self, bases: u64) -> Result<KmerCounts, u64> {
        let want = Self::bits_for(bases);
        if want > self.bits {
            return Err(bases);
        }
        let mut table = self.table;
        for _ in want..self.bits {
            table = table
                .chunks_exact(2)
                .map(|p| p[0].saturating_add(p[1]))
                .collect();
        }
        let step = Self::step_of(&table);
        Ok(KmerCounts {
            table,
            bits: want,
            step,
        })
    }

    /// A table sized for `bases`, counted from keys already drawn ([`KmerCounts::keys`]), ready
    /// for histograms (its step set, as [`KmerCounts::settle`] sets it): for input that held
    /// more bases than its file size suggested.
    pub fn recount<'a>(bases: u64, keys: impl IntoIterator<Item = &'a [u32]>) -> KmerCounts {
        let mut c = KmerCounts::new(bases);
        for k in keys {
            c.add_keys(&[k]);
        }
        c.step = Self::step_of(&c.table);
        c
    }

    /// The histogram's step: the median count that the occurrences of k-mers seen at least
    /// twice have (what a read's error-free k-mers typically show), over [`COUNTS_PER_STEP`].
    fn step_of(table: &[u8]) -> usize {
        let mut occ = [0u64; 256];
        for &c in table {
            occ[c as usize] += c as u64;
        }
        let total: u64 = occ[2..].iter().sum();
        let mut seen = 0;
        for (c, &o) in occ.iter().enumerate().skip(2) {
            seen += o;
            if 2 * seen >= total {
                return (c / COUNTS_PER_STEP).max(1);
            }
        }
        1
    }

    /// The histogram bin of a count.
    #[inline]
    fn bin(&self, count: usize) -> usize {
        if count <= 1 {
            0
        } else {
            (1 + (count - 2) / self.step).min(COVERAGE_BINS - 1)
        }
    }

    #[inline]
    fn slot(&self, key: u32) -> usize {
        (key >> (32 - self.bits)) as usize
    }

    /// Every sampled key of `seq`: 32 bits of a second hash of the k-mer, whose top bits are
    /// its slot at any table size up to 2^32.
    pub fn keys(seq: &[u8]) -> Vec<u32> {
        thread_local! {
            // One buffer per worker: a fresh one per long read was an mmap and munmap each,
            // and the unmaps' TLB shootdowns stalled the other core.
            static CODES: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        CODES.with_borrow_mut(|codes| {
            codes.clear();
            codes.resize(seq.len() + 1, 0);
            // Every code is written and the cursor moves on only past sampled ones: a branch
            // on a 1-in-16 random event mispredicted often enough to take a third of the pass.
            let mut n = 0;
            super::for_each_canonical_kmer(seq, COVERAGE_K, |_, _, code, _| {
                codes[n] = code;
                n += sampled(code) as usize;
            });
            codes[..n].iter().map(|&c| (mix(c) >> 32) as u32).collect()
        })
    }

    /// Counts a batch of keys (counters saturate at 255), bucket by bucket in parallel.
    pub fn add_keys(&mut self, keys: &[&[u32]]) {
        let shift = 32 - BUCKETS.trailing_zeros();
        let mut start = vec![0usize; BUCKETS + 1];
        for &k in keys.iter().flat_map(|k| k.iter()) {
            start[(k >> shift) as usize + 1] += 1;
        }
        for b in 0..BUCKETS {
            start[b + 1] += start[b];
        }
        let mut sorted = vec![0u32; start[BUCKETS]];
        let mut next = start.clone();
        for &k in keys.iter().flat_map(|k| k.iter()) {
            let b = (k >> shift) as usize;
            sorted[next[b]] = k;
            next[b] += 1;
        }
        let per = self.table.len() / BUCKETS;
        let bits = self.bits;
        self.table
            .par_chunks_mut(per)
            .enumerate()
            .for_each(|(b, part)| {
                for &k in &sorted[start[b]..start[b + 1]] {
                    let c = &mut part[(k >> (32 - bits)) as usize & (per - 1)];
                    *c = c.saturating_add(1);
                }
            });
    }

    /// Counts every sampled 15-mer of `seq` (the tests' shorthand).
    #[cfg(test)]
    fn add(&mut self, seq: &[u8]) {
        self.add_keys(&[&Self::keys(seq)]);
    }

    /// Writes the coverage histogram of a read's keys ([`KmerCounts::keys`]) into `out` (len
    /// [`COVERAGE_BINS`]): the fraction of its sampled 15-mers seen once, twice, … (in the
    /// classes of [`COVERAGE_BINS`]) in the whole sample, its own occurrence included. The keys
    /// are drawn beforehand: with the hashing in between, one table miss was outstanding at a
    /// time and the pass waited on memory 3/4 of the time.
    ///
    /// Returns the read's depth: the count that nine in ten of its sampled 15-mers do not exceed
    /// ([`DEPTH_QUANTILE`]), the depth of its error-free 15-mers. Error k-mers (count 1, or a
    /// few in a very deep genome) are most of a read's and pull any average down: on 200 000
    /// reads of the benchmark mix the mean count of the k-mers seen twice or more showed phage
    /// lambda (~640× deep) 2.3 times as deep as E. coli (~30×), the 90th percentile 11 times. A
    /// mean also let the dev reads' adapters (a few 15-mers in every read, counts in the
    /// hundreds) put a tenth of each genome's reads at six times its median.
    pub fn histogram_of(&self, keys: &[u32], out: &mut [f32]) -> u8 {
        let mut hist = [0u32; COVERAGE_BINS];
        let mut by_count = [0u32; 256];
        for &k in keys {
            let n = self.table[self.slot(k)];
            hist[self.bin(n as usize)] += 1;
            by_count[n as usize] += 1;
        }
        let norm = 1.0 / keys.len().max(1) as f32;
        for (o, h) in out.iter_mut().zip(hist) {
            *o = h as f32 * norm;
        }
        let wanted = DEPTH_QUANTILE * keys.len() as f64;
        let mut seen = 0u64;
        by_count
            .iter()
            .position(|&m| {
                seen += m as u64;
                seen > 0 && seen as f64 >= wanted
            })
            .map_or(0, |c| c as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_kmers_raise_coverage() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut random_seq = |n: usize| {
            (0..n)
                .map(|_| b"ACGT"[rng.random_range(0..4)])
                .collect::<Vec<u8>>()
        };
        let genome = random_seq(2000);
        let other = random_seq(500);
        let mut counts = KmerCounts::new(10_000);
        // Three overlapping reads of the same region and one unrelated read.
        for r in [
            &genome[0..800],
            &genome[100..900],
            &genome[200..1000],
            &other[..],
        ] {
            counts.add(r);
        }
        let mut h = vec![0f32; COVERAGE_BINS];
        let depth = counts.histogram_of(&KmerCounts::keys(&genome[200..800]), &mut h);
        assert_eq!(depth, 3);
        // Every 15-mer of 200..800 lies in all three reads.
        assert!(h[2] > 0.9, "{h:?}");
        assert_eq!(counts.histogram_of(&KmerCounts::keys(&other), &mut h), 1);
        assert!(h[0] > 0.9, "{h:?}");
        assert!((h.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn a_folded_table_equals_one_counted_at_its_size() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let reads: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                // Some reads repeated many times, so counters saturate.
                let n = if i % 10 == 0 { 60 } else { 2000 };
                (0..n).map(|_| b"ACGT"[rng.random_range(0..4)]).collect()
            })
            .collect();
        let count = |c: &mut KmerCounts| {
            for (i, r) in reads.iter().enumerate() {
                for _ in 0..if i % 10 == 0 { 300 } else { 1 } {
                    c.add(r);
                }
            }
        };
        let mut big = KmerCounts::new(1 << 30);
        count(&mut big);
        let mut small = KmerCounts::new(1 << 27);
        count(&mut small);
        assert!(big.table.len() > small.table.len());
        let folded = big.settle(1 << 27).unwrap();
        assert_eq!(folded.table.len(), small.table.len());
        assert!(folded.table == small.table);
        assert!(small.table.contains(&255));
        // Counting again from kept keys gives the same table, with the same histogram step.
        let keys: Vec<Vec<u32>> = reads
            .iter()
            .enumerate()
            .flat_map(|(i, r)| {
                std::iter::repeat_n(KmerCounts::keys(r), if i % 10 == 0 { 300 } else { 1 })
            })
            .collect();
        let again = KmerCounts::recount(1 << 27, keys.iter().map(|k| &k[..]));
        assert!(again.table == folded.table);
        assert!(folded.step > 1);
        assert_eq!(again.step, folded.step);
        // A table smaller than the bases call for is not stretched.
        assert_eq!(
            KmerCounts::new(1 << 27).settle(1 << 32).err(),
            Some(1 << 32)
        );
    }

    #[test]
    fn reverse_complement_counts_as_same_kmer() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
        let s: Vec<u8> = (0..3000).map(|_| b"ACGT"[rng.random_range(0..4)]).collect();
        let rc = crate::features::reverse_complement(&s);
        let mut counts = KmerCounts::new(100);
        counts.add(&s);
        counts.add(&rc);
        let mut h = vec![0f32; COVERAGE_BINS];
        counts.histogram_of(&KmerCounts::keys(&s), &mut h);
        assert_eq!(h[1], 1.0, "{h:?}");
    }

    #[test]
    fn a_fixed_share_of_the_kmers_is_counted_whatever_the_batching() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let reads: Vec<Vec<u8>> = (0..40)
            .map(|_| (0..5000).map(|_| b"ACGT"[rng.random_range(0..4)]).collect())
            .collect();
        let total: usize = reads.iter().map(|r| r.len() + 1 - COVERAGE_K).sum();
        let keys: Vec<Vec<u32>> = reads.iter().map(|r| KmerCounts::keys(r)).collect();
        let kept: usize = keys.iter().map(|k| k.len()).sum();
        let expected = total as f64 / (1u64 << SAMPLE_BITS) as f64;
        assert!(
            (kept as f64 - expected).abs() < 0.1 * expected,
            "{kept} of {total} kept"
        );
        // A read and its reverse complement give the same keys (canonical k-mers).
        let mut a = keys[0].clone();
        let mut b = KmerCounts::keys(&crate::features::reverse_complement(&reads[0]));
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b);
        // One batch, read by read, or in reverse order: the same table.
        let mut one = KmerCounts::new(1 << 20);
        one.add_keys(&keys.iter().map(|k| &k[..]).collect::<Vec<_>>());
        let mut each = KmerCounts::new(1 << 20);
        for r in reads.iter().rev() {
            each.add(r);
        }
        assert!(one.table == each.table);
        assert_eq!(one.table.iter().map(|&c| c as usize).sum::<usize>(), kept);
    }

    #[test]
    fn deep_samples_get_wider_histogram_steps_shallow_ones_single_counts() {
        // Occurrences mostly at count 5: steps of one; mostly at 40: steps of five.
        let mut t = vec![0u8; 1 << 22];
        t[..1000].fill(5);
        t[1000..1010].fill(200);
        let shallow = KmerCounts::new(1 << 20);
        let shallow = KmerCounts {
            step: KmerCounts::step_of(&t),
            ..shallow
        };
        assert_eq!(shallow.step, 1);
        assert_eq!(
            (
                shallow.bin(1),
                shallow.bin(2),
                shallow.bin(16),
                shallow.bin(17)
            ),
            (0, 1, 15, 15)
        );
        t[..1000].fill(40);
        let deep = KmerCounts {
            step: KmerCounts::step_of(&t),
            ..shallow
        };
        assert_eq!(deep.step, 5);
        assert_eq!(
            (
                deep.bin(1),
                deep.bin(2),
                deep.bin(6),
                deep.bin(7),
                deep.bin(40)
            ),
            (0, 1, 1, 2, 8)
        );
        assert_eq!(deep.bin(255), COVERAGE_BINS - 1);
    }
}
