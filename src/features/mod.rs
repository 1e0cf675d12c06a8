//! k-mer composition vectors with seq2vec's definition: a k-mer and its reverse complement share
//! one slot, slots are ordered by the smaller of the two 2-bit codes (A=0, C=1, G=2, T=3), any
//! non-ACGT base restarts the window, and counts are divided by max(1, total k-mers).
mod coverage;

pub use coverage::{COVERAGE_BINS, COVERAGE_K, KmerCounts};

/// Smallest and largest supported k (k = 7 already gives 8 192 dimensions).
pub const MIN_K: usize = 3;
pub const MAX_K: usize = 7;

const fn base_code(b: u8) -> u8 {
    match b {
        b'A' | b'a' => 0,
        b'C' | b'c' => 1,
        b'G' | b'g' => 2,
        b'T' | b't' => 3,
        _ => 4,
    }
}

/// 2-bit code of every byte (A=0, C=1, G=2, T=3; anything else 4), for every k-mer scan.
pub(crate) const CODE: [u8; 256] = {
    let mut t = [4u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = base_code(i as u8);
        i += 1;
    }
    t
};

/// Calls `f(pos, run, code, reverse)` for every k-mer of ACGT bases in `seq` (k ≤ 32): its start,
/// how many ACGT bases the current unbroken run holds, its canonical 2-bit code, and whether that
/// code is the reverse complement's. Any other base breaks the run. The coverage counts and
/// the overlap minimizers both scan reads this way.
#[inline]
pub(crate) fn for_each_canonical_kmer(
    seq: &[u8],
    k: usize,
    mut f: impl FnMut(usize, usize, u64, bool),
) {
    let mask = if k == 32 {
        u64::MAX
    } else {
        (1u64 << (2 * k)) - 1
    };
    let (mut fw, mut rc, mut run) = (0u64, 0u64, 0usize);
    for (i, &b) in seq.iter().enumerate() {
        let c = CODE[b as usize];
        if c > 3 {
            run = 0;
            continue;
        }
        fw = ((fw << 2) | c as u64) & mask;
        rc = (rc >> 2) | (((3 - c) as u64) << (2 * (k - 1)));
        run += 1;
        if run >= k {
            let (code, reverse) = if fw <= rc { (fw, false) } else { (rc, true) };
            f(i + 1 - k, run, code, reverse);
        }
    }
}

/// Fraction clipped at each end of every feature column before scaling to [0, 1].
pub const SCALE_CLIP: f32 = 0.005;

/// Maps every k-mer code to its canonical slot.
#[derive(Clone, Debug)]
pub struct KmerTable {
    k: usize,
    slot: Vec<u32>,
    dims: usize,
}

impl KmerTable {
    pub fn new(k: usize) -> Self {
        assert!(
            (MIN_K..=MAX_K).contains(&k),
            "k must be in {MIN_K}..={MAX_K}"
        );
        let n = 1usize << (2 * k);
        let rc = |x: usize| {
            let (mut v, mut y) = (x, 0usize);
            for _ in 0..k {
                y = (y << 2) | (3 - (v & 3));
                v >>= 2;
            }
            y
        };
        // Canonical codes in ascending order get consecutive slots; a non-canonical code's
        // partner is smaller, so its slot is already known.
        let mut slot: Vec<u32> = Vec::with_capacity(n);
        let mut next = 0u32;
        for x in 0..n {
            let c = x.min(rc(x));
            if c == x {
                slot.push(next);
                next += 1;
            } else {
                slot.push(slot[c]);
            }
        }
        KmerTable {
            k,
            slot,
            dims: next as usize,
        }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of canonical slots: 32 for k=3, 136 for k=4, 512 for k=5.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// [`KmerTable::dims`] without building the table: 4^k / 2 canonical k-mers, plus half the
    /// 4^(k/2) palindromes for even k.
    pub fn dims_of(k: usize) -> usize {
        let all = 1usize << (2 * k);
        if k.is_multiple_of(2) {
            (all + (1usize << k)) / 2
        } else {
            all / 2
        }
    }

    /// Writes the normalised composition of `seq` into `out` (len = dims) and returns the number
    /// of valid k-mers counted (0 means the read has no k-mer made only of ACGT).
    pub fn composition(&self, seq: &[u8], out: &mut [f32]) -> u64 {
        debug_assert_eq!(out.len(), self.dims);
        let mut counts = vec![0u32; self.dims];
        let mask = (1usize << (2 * self.k)) - 1;
        let (mut code, mut run, mut total) = (0usize, 0usize, 0u64);
        for &b in seq {
            let c = CODE[b as usize];
            if c > 3 {
                run = 0;
                code = 0;
                continue;
            }
            code = ((code << 2) | c as usize) & mask;
            run += 1;
            if run >= self.k {
                counts[self.slot[code] as usize] += 1;
                total += 1;
            }
        }
        let norm = 1.0 / (total.max(1) as f32);
        for (o, c) in out.iter_mut().zip(counts) {
            *o = c as f32 * norm;
        }
        total
    }
}

/// 1 for C/G, and 1 for any of A/C/G/T: GC is summed without a branch per base (a `match`
/// on random bases mispredicted half the time and took 2/3 of the composition pass).
const IS_GC: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(CODE[i], 1 | 2) as u8;
        i += 1;
    }
    t
};

/// GC fraction (0..1) over the ACGT bases of `seq`; 0 when there are none.
pub fn gc_fraction(seq: &[u8]) -> f32 {
    let (mut gc, mut acgt) = (0u64, 0u64);
    for &b in seq {
        gc += IS_GC[b as usize] as u64;
        acgt += (CODE[b as usize] < 4) as u64;
    }
    if acgt == 0 {
        0.0
    } else {
        gc as f32 / acgt as f32
    }
}

/// Row-major `n × d` matrix of f32 features.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f32>,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Self {
        assert_eq!(rows * cols, data.len());
        Matrix { rows, cols, data }
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Columns of `self` followed by the columns of `other` (same rows).
    pub fn hstack(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.rows, other.rows);
        let cols = self.cols + other.cols;
        let mut data = Vec::with_capacity(self.rows * cols);
        for i in 0..self.rows {
            data.extend_from_slice(self.row(i));
            data.extend_from_slice(other.row(i));
        }
        Matrix {
            rows: self.rows,
            cols,
            data,
        }
    }

    /// Every column clamped as [`Matrix::scaled_to_unit`] does, then centred on its mean and
    /// divided by its standard deviation (VAMB's per-column normalisation): no column's values
    /// are squashed against a bound, for a decoder with no sigmoid. Constant columns become 0.
    pub fn standardised(&self, clip: f32) -> Matrix {
        let mut m = self.scaled_to_unit(clip);
        let (n, d) = (m.rows, m.cols);
        let mut mean = vec![0f64; d];
        let mut sq = vec![0f64; d];
        for row in m.data.chunks(d.max(1)) {
            for (j, &v) in row.iter().enumerate() {
                mean[j] += v as f64;
                sq[j] += (v as f64) * (v as f64);
            }
        }
        let nf = n.max(1) as f64;
        let sd: Vec<f64> = (0..d)
            .map(|j| {
                mean[j] /= nf;
                (sq[j] / nf - mean[j] * mean[j]).max(0.0).sqrt()
            })
            .collect();
        for row in m.data.chunks_mut(d.max(1)) {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if sd[j] > 1e-9 {
                    ((*v as f64 - mean[j]) / sd[j]) as f32
                } else {
                    0.0
                };
            }
        }
        m
    }

    /// Scales every column to [0, 1] between its `clip` and `1 − clip` quantiles (values beyond
    /// are clamped), as the VAE's sigmoid output needs; `clip = 0` is plain min-max. Clipping
    /// keeps a few extreme reads (short, error-rich) from squashing everyone else into a sliver
    /// of the range. Constant columns become 0.
    pub fn scaled_to_unit(&self, clip: f32) -> Matrix {
        let b = self.unit_bounds(clip);
        let mut data = self.data.clone();
        for row in data.chunks_mut(self.cols.max(1)) {
            b.scale(row);
        }
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data,
        }
    }

    /// The bounds [`Matrix::scaled_to_unit`] scales between, to scale rows one at a time
    /// without a second copy of the matrix (a million reads' vectors are 600 MB).
    pub fn unit_bounds(&self, clip: f32) -> UnitBounds {
        let (n, d) = (self.rows, self.cols);
        let mut lo = vec![0f32; d];
        let mut hi = vec![0f32; d];
        let mut col = Vec::with_capacity(n);
        for j in 0..d {
            col.clear();
            col.extend((0..n).map(|i| self.data[i * d + j]));
            col.sort_unstable_by(f32::total_cmp);
            let q = |f: f32| {
                col[((f * (n.max(1) - 1) as f32).round() as usize).min(n.saturating_sub(1))]
            };
            if n > 0 {
                (lo[j], hi[j]) = (q(clip), q(1.0 - clip));
            }
        }
        UnitBounds { lo, hi }
    }
}

/// Per column, the values [`Matrix::scaled_to_unit`] maps to 0 and 1.
pub struct UnitBounds {
    lo: Vec<f32>,
    hi: Vec<f32>,
}

impl UnitBounds {
    /// Scales one row in place (clamped to [0, 1]; a constant column becomes 0).
    pub fn scale(&self, row: &mut [f32]) {
        for ((v, lo), hi) in row.iter_mut().zip(&self.lo).zip(&self.hi) {
            let span = hi - lo;
            *v = if span > 1e-12 {
                ((*v - lo) / span).clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
    }
}

/// Reverse complement of an ACGT sequence (anything else becomes A).
pub fn reverse_complement(s: &[u8]) -> Vec<u8> {
    s.iter()
        .rev()
        .map(|&b| match b {
            b'A' => b'T',
            b'C' => b'G',
            b'G' => b'C',
            _ => b'A',
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn dims_match_seq2vec() {
        assert_eq!(KmerTable::new(3).dims(), 32);
        assert_eq!(KmerTable::new(4).dims(), 136);
        assert_eq!(KmerTable::new(5).dims(), 512);
        for k in MIN_K..=MAX_K {
            assert_eq!(KmerTable::dims_of(k), KmerTable::new(k).dims(), "k = {k}");
        }
    }

    #[test]
    fn hand_computed_k3_vector() {
        // "ACGTTNAAAC": windows ACG, CGT, GTT (N restarts), AAA, AAC.
        // Canonical: ACG (rc CGT) -> ACG; CGT -> ACG; GTT (rc AAC) -> AAC; AAA; AAC.
        // Slots: AAA=0 (code 0), AAC=1 (code 1), ACG is code 6 -> count canonical codes < 6:
        // 0 AAA,1 AAC,2 AAG,3 AAT,4 ACA,5 ACC are all canonical (their rc are larger) -> slot 6.
        let t = KmerTable::new(3);
        let mut v = vec![0f32; t.dims()];
        let total = t.composition(b"ACGTTNAAAC", &mut v);
        assert_eq!(total, 5);
        let mut expect = vec![0f32; 32];
        expect[0] = 1.0 / 5.0; // AAA
        expect[1] = 2.0 / 5.0; // AAC (+ GTT)
        expect[6] = 2.0 / 5.0; // ACG (+ CGT)
        assert_eq!(v, expect);
    }

    #[test]
    fn reverse_complement_gives_same_vector() {
        let t = KmerTable::new(4);
        let s = b"ACGGTTACGATCGATTTGACCAGT";
        let rc = reverse_complement(s);
        let (mut a, mut b) = (vec![0f32; 136], vec![0f32; 136]);
        t.composition(s, &mut a);
        t.composition(&rc, &mut b);
        assert_eq!(a, b);
        assert!((a.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn no_valid_kmer_gives_zero_vector() {
        let t = KmerTable::new(4);
        let mut v = vec![1f32; 136];
        assert_eq!(t.composition(b"NNNNACGNNNN", &mut v), 0);
        assert!(v.iter().all(|&x| x == 0.0));
    }

    #[test]
    fn gc_counts_only_acgt() {
        assert_eq!(gc_fraction(b"GGCCAATTNN"), 0.5);
        assert_eq!(gc_fraction(b"NNN"), 0.0);
    }

    #[test]
    fn min_max_scaling() {
        let m = Matrix::new(3, 2, vec![0.0, 5.0, 1.0, 5.0, 2.0, 5.0]);
        let s = m.scaled_to_unit(0.0);
        assert_eq!(s.data, vec![0.0, 0.0, 0.5, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn standardised_columns_have_mean_0_and_sd_1() {
        // Column 0 spread out, column 1 constant, column 2 with one extreme value (clipped).
        let rows = 200;
        let data: Vec<f32> = (0..rows)
            .flat_map(|i| {
                let extreme = if i == 7 { 1e6 } else { (i % 13) as f32 };
                [i as f32 * 0.5, 3.0, extreme]
            })
            .collect();
        let m = Matrix::new(rows, 3, data);
        let z = m.standardised(SCALE_CLIP);
        for j in [0, 2] {
            let col: Vec<f64> = (0..rows).map(|i| z.row(i)[j] as f64).collect();
            let mean = col.iter().sum::<f64>() / rows as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / rows as f64;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "{j}: {mean} {var}"
            );
        }
        assert!(
            (0..rows).all(|i| z.row(i)[1] == 0.0),
            "a constant column becomes 0"
        );
        // The extreme read is clamped first, so it does not squash the others.
        assert!(z.row(7)[2] < 3.0, "{}", z.row(7)[2]);
    }
}
