//! Principal components of a small-dimensional matrix by power iteration on its covariance.
use rayon::prelude::*;

/// Principal axes of a data set: its column means and unit-length components, largest first.
#[derive(Clone, Debug)]
pub struct Pca {
    mean: Vec<f64>,
    comps: Vec<Vec<f64>>,
}

impl Pca {
    /// Fits the first `out` components of `data` (n × dim, row-major). Deterministic: the
    /// iteration starts from fixed vectors and each sign is fixed by its largest loading.
    pub fn fit(data: &[f32], dim: usize, out: usize) -> Pca {
        let n = data.len() / dim;
        let mut mean = vec![0f64; dim];
        for row in data.chunks(dim) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v as f64;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        // Upper triangle, summed over row blocks in parallel: O(n·dim²) is the cost that matters
        // at 512 columns. Fixed blocks keep the sum order, so the result is deterministic.
        let cov_of = |rows: &[f32]| {
            let mut c = vec![0f64; dim * dim];
            let mut a = vec![0f64; dim];
            for row in rows.chunks(dim) {
                a.iter_mut()
                    .zip(row)
                    .zip(&mean)
                    .for_each(|((a, &x), m)| *a = x as f64 - m);
                for i in 0..dim {
                    let ai = a[i];
                    let ci = &mut c[i * dim..(i + 1) * dim];
                    for j in i..dim {
                        ci[j] += ai * a[j];
                    }
                }
            }
            c
        };
        let blocks: Vec<Vec<f64>> = data.par_chunks(dim * 512).map(cov_of).collect();
        let mut cov = vec![0f64; dim * dim];
        for b in &blocks {
            cov.iter_mut().zip(b).for_each(|(c, x)| *c += x);
        }
        for i in 0..dim {
            for j in 0..i {
                cov[i * dim + j] = cov[j * dim + i];
            }
        }
        let mut comps: Vec<Vec<f64>> = Vec::new();
        for c in 0..out.min(dim) {
            let mut v: Vec<f64> = (0..dim)
                .map(|i| 1.0 + ((i * 7 + c * 13) % 11) as f64 / 11.0)
                .collect();
            for _ in 0..300 {
                let mut w: Vec<f64> = cov.par_chunks(dim).map(|r| dot(r, &v)).collect();
                for p in &comps {
                    let along = dot(&w, p);
                    w.iter_mut().zip(p).for_each(|(a, b)| *a -= along * b);
                }
                let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
                if norm < 1e-300 {
                    break;
                }
                w.iter_mut().for_each(|x| *x /= norm);
                let moved: f64 = w.iter().zip(&v).map(|(a, b)| (a - b).abs()).sum();
                v = w;
                if moved < 1e-12 {
                    break;
                }
            }
            let big = v
                .iter()
                .copied()
                .fold(0f64, |m, x| if x.abs() > m.abs() { x } else { m });
            if big < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            comps.push(v);
        }
        while comps.len() < out {
            comps.push(vec![0.0; dim]);
        }
        Pca { mean, comps }
    }

    /// Number of components.
    pub fn len(&self) -> usize {
        self.comps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.comps.is_empty()
    }

    /// Writes the coordinates of one row on the components into `out` (`len()` values).
    pub fn project_row(&self, row: &[f32], out: &mut [f32]) {
        for (o, p) in out.iter_mut().zip(&self.comps) {
            *o = row
                .iter()
                .zip(&self.mean)
                .zip(p)
                .map(|((&x, m), w)| (x as f64 - m) * w)
                .sum::<f64>() as f32;
        }
    }

    /// Coordinates of every row of `data` (n × `len()`, row-major).
    pub fn project(&self, data: &[f32]) -> Vec<f32> {
        let dim = self.mean.len();
        let mut y = vec![0f32; data.len() / dim.max(1) * self.len()];
        for (row, o) in data.chunks(dim).zip(y.chunks_mut(self.len().max(1))) {
            self.project_row(row, o);
        }
        y
    }
}

/// Projects `data` (n × dim) onto its first `out` principal components (n × out, row-major).
pub fn pca(data: &[f32], dim: usize, out: usize) -> Vec<f32> {
    Pca::fit(data, dim, out).project(data)
}

/// Eight running sums, so the compiler may use SIMD lanes (one sum is a serial chain of adds,
/// which it must keep in order): the power iteration's products run ~4× faster.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f64>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows spread along known orthogonal axes with variances 9, 4, 1 and 0.25 (in a rotated
    /// 12-dimensional space): the fit finds those axes, in that order, as unit vectors.
    #[test]
    fn finds_known_axes_in_order() {
        let dim = 12;
        let mut axes: Vec<Vec<f64>> = Vec::new();
        for k in 0..4 {
            let mut v: Vec<f64> = (0..dim)
                .map(|i| ((i * (k + 3) + k) % 7) as f64 - 3.0 + 0.1 * k as f64)
                .collect();
            for p in &axes {
                let along = dot(&v, p);
                v.iter_mut().zip(p).for_each(|(a, b)| *a -= along * b);
            }
            let norm = dot(&v, &v).sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            axes.push(v);
        }
        let sd = [3.0, 2.0, 1.0, 0.5];
        let mut state = 7u64;
        let mut unit = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        };
        let mut data = Vec::new();
        for _ in 0..4000 {
            let mut row = vec![5.0f64; dim];
            for (a, s) in axes.iter().zip(sd) {
                // Uniform on ±√3·sd: variance sd².
                let t = unit() * s * 3f64.sqrt();
                row.iter_mut().zip(a).for_each(|(r, x)| *r += t * x);
            }
            data.extend(row.iter().map(|&x| x as f32));
        }
        let pca = Pca::fit(&data, dim, 4);
        for (k, a) in axes.iter().enumerate() {
            let c = &pca.comps[k];
            assert!(
                (dot(c, c) - 1.0).abs() < 1e-9,
                "component {k} not unit length"
            );
            assert!(dot(c, a).abs() > 0.995, "component {k} off its axis");
        }
        // Coordinates on the first axis carry its variance.
        let y = pca.project(&data);
        let var = y.chunks(4).map(|r| (r[0] as f64).powi(2)).sum::<f64>() / 4000.0;
        assert!((var - 9.0).abs() < 0.6, "variance {var}");
    }
}
