//! Principal components of a small-dimensional matrix by power iteration on its covariance.

/// Projects `data` (n × dim) onto its first `out` principal components (n × out, row-major).
/// Deterministic: the iteration starts from fixed vectors and signs are fixed by the largest
/// loading.
pub fn pca(data: &[f32], dim: usize, out: usize) -> Vec<f32> {
    let n = data.len() / dim;
    let mut mean = vec![0f64; dim];
    for row in data.chunks(dim) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let mut cov = vec![0f64; dim * dim];
    for row in data.chunks(dim) {
        for i in 0..dim {
            let a = row[i] as f64 - mean[i];
            for j in i..dim {
                cov[i * dim + j] += a * (row[j] as f64 - mean[j]);
            }
        }
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
            let mut w = vec![0f64; dim];
            for i in 0..dim {
                w[i] = (0..dim).map(|j| cov[i * dim + j] * v[j]).sum();
            }
            for p in &comps {
                let dot: f64 = w.iter().zip(p).map(|(a, b)| a * b).sum();
                w.iter_mut().zip(p).for_each(|(a, b)| *a -= dot * b);
            }
            let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm < 1e-300 {
                break;
            }
            w.iter_mut().for_each(|x| *x /= norm);
            v = w;
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
    let mut y = Vec::with_capacity(n * out);
    for row in data.chunks(dim) {
        for p in &comps {
            y.push(
                row.iter()
                    .zip(&mean)
                    .zip(p)
                    .map(|((&x, m), w)| (x as f64 - m) * w)
                    .sum::<f64>() as f32,
            );
        }
    }
    y
}
