//! k-mer coverage histograms in the spirit of LRBinner: every canonical 15-mer of the sample is
//! counted, then each read is described by how its own 15-mers are spread over those counts.
//! Reads of an abundant genome share many k-mers with other reads; reads of a rare one few, so
//! this separates genomes of similar composition but different abundance.
//!
//! Counts live in a hashed table of saturating u8 counters (no k-mer is stored), and the rare
//! collisions only inflate a count slightly, alike for every read. The table's size is a
//! function of the reads' bases alone ([`KmerCounts::settle`]), so the same reads give the same
//! counts however they are stored.
use std::sync::atomic::{AtomicU8, Ordering};

/// k-mer length for coverage (LRBinner's choice): long enough that most 15-mers are unique
/// in a bacterial genome.
pub const COVERAGE_K: usize = 15;
/// Histogram bins: counts 1, 2, …, BINS − 1 and "BINS or more".
pub const COVERAGE_BINS: usize = 16;

pub struct KmerCounts {
    table: Vec<AtomicU8>,
    shift: u32,
}

/// Calls `f` with the canonical 2-bit code of every 15-mer of ACGT bases in `seq`.
#[inline]
fn for_each_canonical(seq: &[u8], mut f: impl FnMut(u64)) {
    super::for_each_canonical_kmer(seq, COVERAGE_K, |_, _, code, _| f(code));
}

impl KmerCounts {
    /// A table for about `expected_kmers` k-mers: four slots each keeps the chance that an
    /// unrelated k-mer shares a slot near 15% (4 Mi to 1 Gi slots, 1 byte each).
    pub fn new(expected_kmers: u64) -> Self {
        let slots = Self::slots_for(expected_kmers);
        KmerCounts {
            table: (0..slots).map(|_| AtomicU8::new(0)).collect(),
            shift: 64 - slots.trailing_zeros(),
        }
    }

    fn slots_for(kmers: u64) -> u64 {
        (kmers.saturating_mul(4))
            .next_power_of_two()
            .clamp(1 << 22, 1 << 30)
    }

    /// The table as if it had been sized for `bases` from the start. A slot is the top bits of
    /// the hash, so halving the table adds slots 2i and 2i + 1; saturating at 255 either way,
    /// the folded counts equal those counted directly into the smaller table. `Err(bases)`
    /// when the table is smaller than `bases` call for (count again into a new one).
    pub fn settle(self, bases: u64) -> Result<KmerCounts, u64> {
        let want = Self::slots_for(bases) as usize;
        let mut table = self.table;
        if want > table.len() {
            return Err(bases);
        }
        while table.len() > want {
            let half: Vec<AtomicU8> = table
                .chunks_exact(2)
                .map(|p| {
                    let (a, b) = (p[0].load(Ordering::Relaxed), p[1].load(Ordering::Relaxed));
                    AtomicU8::new(a.saturating_add(b))
                })
                .collect();
            table = half;
        }
        Ok(KmerCounts {
            shift: 64 - (table.len() as u64).trailing_zeros(),
            table,
        })
    }

    #[inline]
    fn slot(&self, code: u64) -> usize {
        // Fibonacci hashing: the top bits of a multiply by 2^64/φ spread 2-bit codes evenly.
        (code.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Counts every 15-mer of `seq` (thread-safe; counters saturate at 255).
    pub fn add(&self, seq: &[u8]) {
        for_each_canonical(seq, |c| {
            let cell = &self.table[self.slot(c)];
            let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_add(1));
        });
    }

    /// Writes the read's coverage histogram into `out` (len [`COVERAGE_BINS`]): the fraction of
    /// its 15-mers seen once, twice, … in the whole sample (its own occurrence included).
    pub fn histogram(&self, seq: &[u8], out: &mut [f32]) {
        out.iter_mut().for_each(|v| *v = 0.0);
        let mut total = 0u32;
        for_each_canonical(seq, |c| {
            let n = self.table[self.slot(c)].load(Ordering::Relaxed) as usize;
            out[n.clamp(1, COVERAGE_BINS) - 1] += 1.0;
            total += 1;
        });
        let norm = 1.0 / total.max(1) as f32;
        out.iter_mut().for_each(|v| *v *= norm);
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
        let counts = KmerCounts::new(10_000);
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
        counts.histogram(&genome[200..800], &mut h);
        // Every 15-mer of 200..800 lies in all three reads.
        assert!(h[2] > 0.9, "{h:?}");
        counts.histogram(&other, &mut h);
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
        let count = |c: &KmerCounts| {
            for (i, r) in reads.iter().enumerate() {
                for _ in 0..if i % 10 == 0 { 300 } else { 1 } {
                    c.add(r);
                }
            }
        };
        let big = KmerCounts::new(1 << 24);
        count(&big);
        let small = KmerCounts::new(1 << 21);
        count(&small);
        let folded = big.settle(1 << 21).unwrap();
        assert_eq!(folded.table.len(), small.table.len());
        assert!(
            folded
                .table
                .iter()
                .zip(&small.table)
                .all(|(a, b)| { a.load(Ordering::Relaxed) == b.load(Ordering::Relaxed) })
        );
        assert!(small.table.iter().any(|c| c.load(Ordering::Relaxed) == 255));
        // A table smaller than the bases call for is not stretched.
        assert_eq!(
            KmerCounts::new(1 << 21).settle(1 << 26).err(),
            Some(1 << 26)
        );
    }

    #[test]
    fn reverse_complement_counts_as_same_kmer() {
        let s = b"ACGTTGCAAGGCTTAACCGGTATGCA";
        let rc = crate::features::reverse_complement(s);
        let counts = KmerCounts::new(100);
        counts.add(s);
        counts.add(&rc);
        let mut h = vec![0f32; COVERAGE_BINS];
        counts.histogram(s, &mut h);
        assert_eq!(h[1], 1.0, "{h:?}");
    }
}
