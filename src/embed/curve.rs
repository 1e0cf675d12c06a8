//! UMAP's low-dimensional kernel 1 / (1 + a·d^(2b)), with a and b fitted to the target curve
//! (1 below min_dist, exp(−(d − min_dist)/spread) above) by damped Gauss–Newton least squares.

pub fn fit_ab(spread: f32, min_dist: f32) -> (f32, f32) {
    let xs: Vec<f64> = (1..300)
        .map(|i| i as f64 * 3.0 * spread as f64 / 299.0)
        .collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|&x| {
            if x < min_dist as f64 {
                1.0
            } else {
                (-(x - min_dist as f64) / spread as f64).exp()
            }
        })
        .collect();
    let sse = |a: f64, b: f64| {
        xs.iter()
            .zip(&ys)
            .map(|(&x, &y)| (1.0 / (1.0 + a * x.powf(2.0 * b)) - y).powi(2))
            .sum::<f64>()
    };
    let (mut a, mut b, mut lambda) = (1.0f64, 1.0f64, 1e-3f64);
    let mut cur = sse(a, b);
    for _ in 0..200 {
        // Normal equations J^T J δ = −J^T r for the two parameters.
        let (mut jaa, mut jab, mut jbb, mut ga, mut gb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (&x, &y) in xs.iter().zip(&ys) {
            let p = x.powf(2.0 * b);
            let den = 1.0 + a * p;
            let f = 1.0 / den;
            let r = f - y;
            let da = -p / (den * den);
            let db = -a * p * 2.0 * x.ln() / (den * den);
            jaa += da * da;
            jab += da * db;
            jbb += db * db;
            ga += da * r;
            gb += db * r;
        }
        let (m11, m22) = (jaa * (1.0 + lambda), jbb * (1.0 + lambda));
        let det = m11 * m22 - jab * jab;
        if det.abs() < 1e-300 {
            break;
        }
        let sa = -(m22 * ga - jab * gb) / det;
        let sb = -(m11 * gb - jab * ga) / det;
        let (na, nb) = (a + sa, b + sb);
        let next = if na > 0.0 && nb > 0.0 {
            sse(na, nb)
        } else {
            f64::INFINITY
        };
        if next < cur {
            let done = (cur - next) < 1e-14;
            (a, b, cur) = (na, nb, next);
            lambda *= 0.3;
            if done {
                break;
            }
        } else {
            lambda *= 10.0;
            if lambda > 1e12 {
                break;
            }
        }
    }
    (a as f32, b as f32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_curve_matches_umap_learn() {
        // umap-learn's find_ab_params(1.0, 0.1) = (1.5769434603113077, 0.8950608779109733)
        let (a, b) = super::fit_ab(1.0, 0.1);
        assert!(
            (a - 1.577).abs() < 0.01 && (b - 0.895).abs() < 0.005,
            "a {a} b {b}"
        );
    }
}
