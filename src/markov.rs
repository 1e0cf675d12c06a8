//! Reads the overlap graph cannot settle, settled by their bins' sequence statistics.
//!
//! After the overlap vote, a read with no overlaps (about a third of a shallow ONT sample) or
//! with half or fewer of them in its bin was placed by its 4-mer profile alone, the weakest
//! evidence binscape has. Each bin's reads are a few megabases of its genome, enough to fit a
//! Markov chain of order 6 (a 7-mer table per bin, both strands); a doubted read then goes to
//! the bin whose chain gives its sequence the highest likelihood, when that beats its present
//! bin by a clear margin per kilobase. A chain reads every base of the read in its context of
//! six, where the map saw only the read's 136 canonical 4-mer frequencies.
//!
//! Measured in a Python probe (seed 42) before writing this, at a margin of 2 nats/kb: ARI
//! dev 0.896 → 0.896, F (5 k ONT, ~1×) 0.845 → 0.890, J 0.898 → 0.921, G 0.911 → 0.923,
//! H 0.905 → 0.909, E (30 k CLR) 0.912 → 0.928, I 0.893 → 0.920. Those mixes' made-up
//! relatives are drawn from order-5 chains, which an order-6 chain reads best; on mixes of real
//! genomes only the gain is smaller (see [`MARGIN_PER_KB`]). Order 4 moved too many reads the
//! wrong way (dev 0.820 when every read may move); orders 5 to 7 were close.
use crate::error::Result;
use crate::graph::Support;
use crate::progress::Progress;
use crate::reads::{ReadIndex, rows_pass};

/// Bases of context: each base is predicted from the six before it.
pub const ORDER: usize = 6;
const WORD: usize = ORDER + 1;
const WORDS: usize = 1 << (2 * WORD);
/// A doubted read moves only when its best bin's chain beats its own bin's by this many nats
/// per kilobase (a read of 5 kb: 25 nats). On mixes of real genomes only (no made-up relatives)
/// a margin of 2 moved about as many no-overlap reads the wrong way as the right way (5 000 ONT
/// reads of 7 species, seed 42: 22 wrong, 11 right); 5 kept the gains there (ARI +0.002 to
/// +0.010 over three seeds, 30 000 CLR reads +0.005) and most of them on the made-up relatives
/// (mix F 0.845 → 0.879 against 0.890 at 2); 10 and 20 gained less.
pub const MARGIN_PER_KB: f64 = 5.0;
/// The margin for the reads `also` marks in [`vote`]: their depth already says they are nearer
/// another genome than their bin's, so the likelier chain decides. A rare E. coli inside
/// K. pneumoniae's bin (mix I seed 2 / mix U seeds 42, 2): ARI 0.928 / 0.937 / 0.936 at 5 nats
/// per kb, 0.937 / 0.944 / 0.944 at 2, 0.942 / 0.949 / 0.949 at 0.
const SUSPECT_MARGIN_PER_KB: f64 = 0.0;
/// The margin for a doubted read whose overlaps out of its bin point to one bin
/// ([`crate::graph::pointed`]): it goes there when that bin's chain explains its sequence better
/// than its own bin's does, by any margin. Neither signal is sure alone (the overlaps of a read
/// with half or fewer in its bin may be a repeat's, and a chain's margin under 5 nats per kb
/// moves as many reads wrong as right); together they are. Six simulated mixes of 5 000-8 300
/// reads, seeds 42, 1, 2 and 3, 4, 5: mean ARI 0.8841 -> 0.8860, no mix worse by more than
/// 0.0003 (F +0.006, B3 +0.003; README, session 25); at 30 000 reads within ±0.0005.
pub const POINTED_MARGIN_PER_KB: f64 = 0.0;
/// Bases of each bin's reads that fit its chain, at most: 16 384 parameters need far fewer, and
/// the pass then counts words of a few hundred Mbp, not of every read of a million.
const FIT_BASES: u64 = 64_000_000;

/// What the vote changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Voted {
    /// Reads whose overlaps did not settle their bin (unbinned, no overlaps, or half or fewer
    /// in their bin): the ones put to the vote.
    pub doubted: usize,
    /// Binned reads moved to another bin.
    pub moved: usize,
    /// Unbinned reads given a bin.
    pub rescued: usize,
    /// Of the moved, those moved to the bin their overlaps pointed to ([`POINTED_MARGIN_PER_KB`]).
    pub pointed: usize,
}

/// One Markov chain per bin, as log-probabilities laid out word-major (`[word][bin]`), so one
/// word of a read reads one cache line for every bin.
pub struct Chains {
    bins: usize,
    logp: Vec<f32>,
}

/// The 7-mer codes of `seq` (2 bits a base, first base highest), skipping any window with a
/// base other than A, C, G, T.
pub fn words(seq: &[u8], out: &mut Vec<u16>) {
    out.clear();
    let mask = (WORDS - 1) as u32;
    let (mut code, mut valid) = (0u32, 0usize);
    for &b in seq {
        let x = match b {
            b'A' | b'a' => 0,
            b'C' | b'c' => 1,
            b'G' | b'g' => 2,
            b'T' | b't' => 3,
            _ => {
                valid = 0;
                continue;
            }
        };
        code = ((code << 2) | x) & mask;
        valid += 1;
        if valid >= WORD {
            out.push(code as u16);
        }
    }
}

fn reverse_complement(word: usize) -> usize {
    let mut rc = 0;
    let mut w = word;
    for _ in 0..WORD {
        rc = (rc << 2) | (3 - (w & 3));
        w >>= 2;
    }
    rc
}

impl Chains {
    /// Chains from per-bin 7-mer counts of one strand: the reverse strand's are added (a read
    /// is as likely from either), and a pseudocount of ½ keeps unseen words finite.
    pub fn fit(counts: &[Vec<u32>]) -> Chains {
        assert!(
            counts.iter().all(|c| c.len() == WORDS),
            "one count per 7-mer ({WORDS}) per bin"
        );
        let bins = counts.len();
        let mut logp = vec![0f32; WORDS * bins];
        for (b, c) in counts.iter().enumerate() {
            let both: Vec<f64> = (0..WORDS)
                .map(|w| c[w] as f64 + c[reverse_complement(w)] as f64 + 0.5)
                .collect();
            // A context is the word's first six bases: four consecutive codes.
            for ctx in both.chunks(4).enumerate() {
                let (i, next) = ctx;
                let total: f64 = next.iter().sum();
                for (j, &n) in next.iter().enumerate() {
                    logp[(i * 4 + j) * bins + b] = (n / total).ln() as f32;
                }
            }
        }
        Chains { bins, logp }
    }

    /// Log-likelihood of a read's words under each bin's chain.
    pub fn log_likelihoods(&self, words: &[u16]) -> Vec<f64> {
        let mut ll = vec![0f64; self.bins];
        for &w in words {
            let row = &self.logp[w as usize * self.bins..(w as usize + 1) * self.bins];
            for (a, &p) in ll.iter_mut().zip(row) {
                *a += p as f64;
            }
        }
        ll
    }
}

/// Whether the overlap graph leaves a read's bin in doubt: unbinned, no overlaps, or half or
/// fewer of its overlaps in its bin (of those `s` counts: the sequence vote counts the firm ones,
/// [`crate::graph::firm_support`]).
pub fn doubted(label: i32, s: Support) -> bool {
    label < 0 || s.overlaps == 0 || 2 * s.in_bin <= s.overlaps
}

/// The doubted reads' bins (and those of the reads `also` marks) put to their bins' chains
/// (fitted on every binned read, up to [`FIT_BASES`] per bin in file order): two passes over
/// the reads file. `pointed`: per read, the bin its overlaps out of its bin point to
/// ([`crate::graph::pointed`]), which a doubted read joins on a lesser margin.
pub fn vote(
    index: &ReadIndex,
    labels: &[i32],
    support: &[Support],
    also: Option<&[bool]>,
    pointed: Option<&[i32]>,
    progress: &Progress,
) -> Result<(Vec<i32>, Voted)> {
    let bins = crate::cluster::bin_count(labels);
    let doubt: Vec<bool> = (0..labels.len())
        .map(|i| doubted(labels[i], support[i]) || also.is_some_and(|a| a[i]))
        .collect();
    let mut out = labels.to_vec();
    let mut said = Voted {
        doubted: doubt.iter().filter(|&&d| d).count(),
        ..Voted::default()
    };
    if bins < 2 || said.doubted == 0 {
        return Ok((out, said));
    }
    let mut taken = vec![0u64; bins];
    // Reads `also` marks are suspected of another genome: a bin's chain is fitted without them.
    let fit: Vec<bool> = (0..labels.len())
        .map(|i| {
            let b = labels[i];
            if b < 0 || taken[b as usize] >= FIT_BASES || also.is_some_and(|a| a[i]) {
                return false;
            }
            taken[b as usize] += index.lengths[i] as u64;
            true
        })
        .collect();
    let mut counts = vec![vec![0u32; WORDS]; bins];
    rows_pass(
        index,
        Some(&fit),
        "Fitting each bin's sequence model",
        progress,
        |_, seq| {
            let mut w = Vec::with_capacity(seq.len());
            words(seq, &mut w);
            w
        },
        |row, w| {
            let c = &mut counts[labels[row] as usize];
            for x in w {
                c[x as usize] += 1;
            }
        },
    )?;
    let chains = Chains::fit(&counts);
    // A label the earlier votes emptied (or whose reads hold no 7-mer) has nothing fitted: its
    // chain would be the pseudocounts' uniform one, and with one fitted bin left there is no
    // choice to make (every unbinned read's runner-up would score -inf).
    let empty: Vec<bool> = counts.iter().map(|c| c.iter().all(|&x| x == 0)).collect();
    if empty.iter().filter(|&&e| !e).count() < 2 {
        return Ok((out, said));
    }
    // Only the decision is kept per read that moves, not its likelihoods.
    let mut placed: Vec<(usize, (i32, bool))> = Vec::new();
    rows_pass(
        index,
        Some(&doubt),
        "Placing doubted reads by sequence",
        progress,
        |row, seq| {
            let mut w = Vec::with_capacity(seq.len());
            words(seq, &mut w);
            let mut ll = chains.log_likelihoods(&w);
            for (x, _) in ll.iter_mut().zip(&empty).filter(|(_, e)| **e) {
                *x = f64::NEG_INFINITY;
            }
            let m = if also.is_some_and(|a| a[row]) {
                SUSPECT_MARGIN_PER_KB
            } else {
                MARGIN_PER_KB
            };
            let to = pointed.map_or(-1, |p| p[row]);
            match place_pointed(labels[row], to, &ll, w.len()) {
                Some(b) => Some((b, true)),
                None => place(labels[row], &ll, w.len(), m).map(|b| (b, false)),
            }
        },
        |row, b| {
            if let Some(b) = b {
                placed.push((row, b));
            }
        },
    )?;
    for (i, (b, by_pointing)) in placed {
        if labels[i] < 0 {
            said.rescued += 1;
        } else {
            said.moved += 1;
            said.pointed += by_pointing as usize;
        }
        out[i] = b;
    }
    Ok((out, said))
}

/// The bin `to` that a binned read's overlaps point to, if its chain explains the read's `n`
/// words better than its own bin's by more than [`POINTED_MARGIN_PER_KB`].
fn place_pointed(label: i32, to: i32, ll: &[f64], n: usize) -> Option<i32> {
    if label < 0 || to < 0 || to == label || n == 0 {
        return None;
    }
    let per_kb = (ll[to as usize] - ll[label as usize]) * 1000.0 / n as f64;
    (per_kb.is_finite() && per_kb > POINTED_MARGIN_PER_KB).then_some(to)
}

/// The bin a read of `n` words with log-likelihoods `ll` goes to, if it changes: the most
/// likely one, when it beats the read's own bin (or, unbinned, the runner-up) by
/// `margin` nats per kb ([`MARGIN_PER_KB`]).
fn place(label: i32, ll: &[f64], n: usize, margin: f64) -> Option<i32> {
    if n == 0 {
        return None;
    }
    let best = (0..ll.len()).max_by(|&a, &b| ll[a].total_cmp(&ll[b]).then(b.cmp(&a)))?;
    let against = if label >= 0 {
        if best == label as usize {
            return None;
        }
        ll[label as usize]
    } else {
        (0..ll.len())
            .filter(|&b| b != best)
            .map(|b| ll[b])
            .fold(f64::NEG_INFINITY, f64::max)
    };
    // Nothing to weigh against (the only scored bin) or nothing scored: no move.
    if !against.is_finite() || !ll[best].is_finite() {
        return None;
    }
    let per_kb = (ll[best] - against) * 1000.0 / n as f64;
    (per_kb > margin).then_some(best as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_seven_base_codes_that_skip_windows_with_other_bases() {
        let mut w = Vec::new();
        words(b"ACGTACGT", &mut w);
        // ACGTACG = 0b00_01_10_11_00_01_10, then CGTACGT.
        assert_eq!(w, vec![0b00_01_10_11_00_01_10, 0b01_10_11_00_01_10_11]);
        // No window spans the N: one word before it, two after.
        words(b"acgtacgNacgtacgt", &mut w);
        assert_eq!(
            w,
            vec![
                0b00_01_10_11_00_01_10,
                0b00_01_10_11_00_01_10,
                0b01_10_11_00_01_10_11
            ]
        );
        words(b"ACGTAC", &mut w);
        assert!(w.is_empty());
    }

    #[test]
    fn reverse_complement_of_a_word() {
        // AAAAAAC -> GTTTTTT.
        assert_eq!(reverse_complement(0b01), 0b10_11_11_11_11_11_11);
        for w in [0, 5, 1234, WORDS - 1] {
            assert_eq!(reverse_complement(reverse_complement(w)), w);
        }
    }

    #[test]
    fn a_read_moves_only_by_a_clear_margin_per_kilobase() {
        // 2 000 words: 5 nats per kb is a margin of 10.
        assert_eq!(place(0, &[-100.0, -89.0], 2000, MARGIN_PER_KB), Some(1));
        // A suspected read goes to the likelier chain, a tie to neither.
        assert_eq!(
            place(0, &[-100.0, -99.0], 2000, SUSPECT_MARGIN_PER_KB),
            Some(1)
        );
        assert_eq!(place(0, &[-99.0, -99.0], 2000, SUSPECT_MARGIN_PER_KB), None);
        assert_eq!(place(0, &[-100.0, -91.0], 2000, MARGIN_PER_KB), None);
        assert_eq!(place(1, &[-100.0, -89.0], 2000, MARGIN_PER_KB), None);
        // Unbinned: against the runner-up.
        assert_eq!(
            place(-1, &[-100.0, -95.0, -84.0], 2000, MARGIN_PER_KB),
            Some(2)
        );
        assert_eq!(
            place(-1, &[-100.0, -91.0, -90.0], 2000, MARGIN_PER_KB),
            None
        );
        assert_eq!(place(-1, &[-1.0, -2.0], 0, MARGIN_PER_KB), None);
        // A bin with nothing fitted scores -inf: it is never the one weighed against.
        let inf = f64::NEG_INFINITY;
        assert_eq!(place(-1, &[-100.0, inf], 2000, MARGIN_PER_KB), None);
        assert_eq!(place(1, &[-100.0, inf], 2000, MARGIN_PER_KB), None);
        assert_eq!(place(0, &[inf, inf], 2000, MARGIN_PER_KB), None);
        assert_eq!(
            place(-1, &[-100.0, -89.0, inf], 2000, MARGIN_PER_KB),
            Some(1)
        );
    }

    #[test]
    fn a_read_goes_where_its_overlaps_point_when_its_chain_agrees_at_all() {
        // 2 000 words: bin 1's chain 1 nat better than bin 0's, far under the 10 of the margin.
        let ll = [-100.0, -99.0, -80.0];
        assert_eq!(place_pointed(0, 1, &ll, 2000), Some(1));
        // Not against the chain, however the overlaps point.
        assert_eq!(place_pointed(1, 0, &ll, 2000), None);
        assert_eq!(place_pointed(0, 0, &ll, 2000), None);
        // Pointed nowhere, or unbinned (the runner-up rule then decides), or no words.
        assert_eq!(place_pointed(0, -1, &ll, 2000), None);
        assert_eq!(place_pointed(-1, 1, &ll, 2000), None);
        assert_eq!(place_pointed(0, 1, &ll, 0), None);
        // A bin with nothing fitted: never joined, never left by this rule.
        let inf = f64::NEG_INFINITY;
        assert_eq!(place_pointed(0, 1, &[-100.0, inf], 2000), None);
        assert_eq!(place_pointed(1, 0, &[-100.0, inf], 2000), None);
    }

    #[test]
    fn reads_are_doubted_unless_most_of_their_overlaps_share_their_bin() {
        let s = |overlaps, in_bin| Support { overlaps, in_bin };
        assert!(doubted(-1, s(4, 0)));
        assert!(doubted(0, s(0, 0)));
        assert!(doubted(0, s(4, 2)));
        assert!(!doubted(0, s(4, 3)));
        assert!(!doubted(0, s(1, 1)));
    }
}
