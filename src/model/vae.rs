//! The seed method's VAE in candle. Weights and noise come from a seeded host RNG because
//! candle's CPU device cannot be seeded (`Device::Cpu.set_seed()` errors in candle 0.11).
use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Linear, Module};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::LogVar;

/// One fully connected layer whose parameters are trainable `Var`s.
struct Dense {
    w: Var,
    b: Var,
}

impl Dense {
    /// PyTorch's default init: U(−1/√in, 1/√in) for weight and bias.
    fn new(
        inp: usize,
        out: usize,
        rng: &mut ChaCha8Rng,
        dev: &Device,
    ) -> candle_core::Result<Self> {
        let bound = 1.0 / (inp as f32).sqrt();
        let mut draw = |n: usize| {
            (0..n)
                .map(|_| rng.random_range(-bound..bound))
                .collect::<Vec<f32>>()
        };
        let w = Var::from_tensor(&Tensor::from_vec(draw(out * inp), (out, inp), dev)?)?;
        let b = Var::from_tensor(&Tensor::from_vec(draw(out), out, dev)?)?;
        Ok(Dense { w, b })
    }
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        Linear::new(self.w.as_tensor().clone(), Some(self.b.as_tensor().clone())).forward(x)
    }
}

/// softplus(x) = relu(x) + ln(1 + e^−|x|): stable, with the right gradient (candle has no op).
fn softplus(x: &Tensor) -> candle_core::Result<Tensor> {
    x.relu()? + ((x.abs()?.neg()?.exp()? + 1.0)?.log()?)
}

pub struct Vae {
    enc: Vec<Dense>,
    mu: Dense,
    logvar: Dense,
    dec: Vec<Dense>,
    logvar_kind: LogVar,
    /// The decoder ends in a sigmoid (inputs in [0, 1]) or is linear (standardised inputs).
    sigmoid: bool,
    pub latent: usize,
    pub dims: usize,
}

pub struct Losses {
    pub rl: Tensor,
    pub kld: Tensor,
}

impl Vae {
    /// Encoder d → hidden[0] → hidden[1] …, latent L; the decoder mirrors it.
    pub fn new(
        dims: usize,
        hidden: &[usize],
        latent: usize,
        logvar_kind: LogVar,
        sigmoid: bool,
        rng: &mut ChaCha8Rng,
        dev: &Device,
    ) -> candle_core::Result<Self> {
        let mut enc = Vec::new();
        let mut prev = dims;
        for &h in hidden {
            enc.push(Dense::new(prev, h, rng, dev)?);
            prev = h;
        }
        let mu = Dense::new(prev, latent, rng, dev)?;
        let logvar = Dense::new(prev, latent, rng, dev)?;
        let mut dec = Vec::new();
        let mut prev = latent;
        for &h in hidden.iter().rev() {
            dec.push(Dense::new(prev, h, rng, dev)?);
            prev = h;
        }
        dec.push(Dense::new(prev, dims, rng, dev)?);
        Ok(Vae {
            enc,
            mu,
            logvar,
            dec,
            logvar_kind,
            sigmoid,
            latent,
            dims,
        })
    }

    pub fn vars(&self) -> Vec<Var> {
        let mut v = Vec::new();
        for d in self
            .enc
            .iter()
            .chain([&self.mu, &self.logvar])
            .chain(self.dec.iter())
        {
            v.push(d.w.clone());
            v.push(d.b.clone());
        }
        v
    }

    /// (mu, logvar) of a batch.
    pub fn encode(&self, x: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let mut h = x.clone();
        for l in &self.enc {
            h = l.forward(&h)?.relu()?;
        }
        let lv = self.logvar.forward(&h)?;
        let lv = match self.logvar_kind {
            LogVar::Softplus => softplus(&lv)?,
            LogVar::Linear => lv,
        };
        Ok((self.mu.forward(&h)?, lv))
    }

    fn decode(&self, z: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = z.clone();
        let last = self.dec.len() - 1;
        for (i, l) in self.dec.iter().enumerate() {
            h = l.forward(&h)?;
            h = match (i == last, self.sigmoid) {
                (true, true) => candle_nn::ops::sigmoid(&h)?,
                (true, false) => h,
                (false, _) => h.relu()?,
            };
        }
        Ok(h)
    }

    /// Per-sample summed MSE (each column times its weight, if given) and KLD, averaged over the
    /// batch; `eps` is the N(0,1) noise.
    pub fn losses(
        &self,
        x: &Tensor,
        eps: &Tensor,
        weights: Option<&Tensor>,
    ) -> candle_core::Result<Losses> {
        let (mu, logvar) = self.encode(x)?;
        let z = (&mu + (eps * (&logvar * 0.5)?.exp()?)?)?;
        let rec = self.decode(&z)?;
        let b = x.dim(0)? as f64;
        let sq = (rec - x)?.sqr()?;
        let sq = match weights {
            Some(w) => sq.broadcast_mul(w)?,
            None => sq,
        };
        let rl = (sq.sum_all()? / b)?;
        let kld_terms = ((logvar.exp()? + mu.sqr()?)? - &logvar)? - 1.0;
        let kld = (kld_terms?.sum(D::Minus1)?.sum_all()? * (0.5 / b))?;
        Ok(Losses { rl, kld })
    }

    /// The latent used downstream: the encoder's mean, in chunks.
    pub fn embed(&self, data: &[f32], rows: usize, dev: &Device) -> candle_core::Result<Vec<f32>> {
        let mut out = Vec::with_capacity(rows * self.latent);
        let chunk = 8192;
        for start in (0..rows).step_by(chunk) {
            let end = (start + chunk).min(rows);
            let x = Tensor::from_slice(
                &data[start * self.dims..end * self.dims],
                (end - start, self.dims),
                dev,
            )?;
            let (mu, _) = self.encode(&x)?;
            out.extend(mu.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }
}
