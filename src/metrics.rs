//! Scores against ground truth, as binning papers report them.
use serde::Serialize;
use std::collections::HashMap;

/// Adjusted Rand index between two labelings of the same items (any integer labels; noise is
/// just one more label).
pub fn adjusted_rand_index(a: &[i32], b: &[i32]) -> f64 {
    assert_eq!(a.len(), b.len());
    let n = a.len() as f64;
    if a.len() < 2 {
        return 1.0;
    }
    let mut table: HashMap<(i32, i32), u64> = HashMap::new();
    let mut ra: HashMap<i32, u64> = HashMap::new();
    let mut rb: HashMap<i32, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_default() += 1;
        *ra.entry(x).or_default() += 1;
        *rb.entry(y).or_default() += 1;
    }
    let c2 = |x: u64| (x as f64) * (x as f64 - 1.0) / 2.0;
    let index: f64 = table.values().map(|&v| c2(v)).sum();
    let sa: f64 = ra.values().map(|&v| c2(v)).sum();
    let sb: f64 = rb.values().map(|&v| c2(v)).sum();
    let expected = sa * sb / c2(n as u64);
    let max = (sa + sb) / 2.0;
    if (max - expected).abs() < 1e-12 {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Scores {
    /// Reads with a ground-truth label (the ones scored).
    pub scored_reads: usize,
    /// ARI over all scored reads, unbinned reads counted as one more bin.
    pub ari: f64,
    /// Σ over bins of the largest true-label count / binned reads.
    pub precision: f64,
    /// Σ over labels of the largest bin count / all reads.
    pub recall: f64,
    pub f1: f64,
}

/// Scores `bins` (per read, negative = unbinned) against `truth` (per read, None = unlabelled).
pub fn score(bins: &[i32], truth: &[Option<u32>]) -> Scores {
    let pairs: Vec<(i32, u32)> = bins
        .iter()
        .zip(truth)
        .filter_map(|(&b, t)| t.map(|t| (b.max(-1), t)))
        .collect();
    let n = pairs.len();
    let (bv, tv): (Vec<i32>, Vec<i32>) = pairs.iter().map(|&(b, t)| (b, t as i32)).unzip();
    let ari = adjusted_rand_index(&bv, &tv);
    let mut by_bin: HashMap<i32, HashMap<u32, u64>> = HashMap::new();
    let mut by_label: HashMap<u32, HashMap<i32, u64>> = HashMap::new();
    let mut binned = 0u64;
    for &(b, t) in &pairs {
        if b >= 0 {
            binned += 1;
            *by_bin.entry(b).or_default().entry(t).or_default() += 1;
            *by_label.entry(t).or_default().entry(b).or_default() += 1;
        }
    }
    let prec_num: u64 = by_bin
        .values()
        .map(|m| m.values().copied().max().unwrap_or(0))
        .sum();
    let rec_num: u64 = by_label
        .values()
        .map(|m| m.values().copied().max().unwrap_or(0))
        .sum();
    let precision = if binned > 0 {
        prec_num as f64 / binned as f64
    } else {
        0.0
    };
    let recall = if n > 0 {
        rec_num as f64 / n as f64
    } else {
        0.0
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    Scores {
        scored_reads: n,
        ari,
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_known_values() {
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]) - 1.0).abs() < 1e-12);
        // sklearn: adjusted_rand_score([0,0,1,1],[0,0,1,2]) = 0.5714285714285715
        assert!(
            (adjusted_rand_index(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.5714285714285715).abs() < 1e-12
        );
        // By hand: index 2, expected 6·3/15 = 1.2, max (6+3)/2 = 4.5 -> 0.8/3.3.
        assert!(
            (adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 1, 0, 1, 2, 2]) - 0.8 / 3.3).abs()
                < 1e-12
        );
    }

    #[test]
    fn precision_recall_by_hand() {
        // Bin 0: 3×A 1×B; bin 1: 2×B; unbinned: 1×A 1×C.
        let bins = [0, 0, 0, 0, 1, 1, -1, -1];
        let truth = [
            Some(0),
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(1),
            Some(0),
            Some(2),
        ];
        let s = score(&bins, &truth);
        assert!((s.precision - 5.0 / 6.0).abs() < 1e-12);
        // A: best bin 3; B: best bin 2; C: no binned reads -> 0. (3 + 2) / 8.
        assert!((s.recall - 5.0 / 8.0).abs() < 1e-12);
        assert_eq!(s.scored_reads, 8);
    }

    #[test]
    fn unlabelled_reads_are_not_scored() {
        let s = score(&[0, 0, 1], &[Some(0), Some(0), None]);
        assert_eq!(s.scored_reads, 2);
        assert!((s.precision - 1.0).abs() < 1e-12);
    }
}
