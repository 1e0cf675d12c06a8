//! The VAE and the thread that trains it. The trainer talks only over crossbeam channels: it
//! sends [`TrainEvent`]s (per batch, per epoch, done, failed) and takes [`TrainCommand`]s at any
//! time, applied from the next batch. The CLI and the GUI consume the same events.
mod vae;

pub use vae::Vae;

use crate::error::{Error, Result};
use crate::features::Matrix;
use candle_core::{Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};
use crossbeam_channel::{Receiver, Sender, TryRecvError, unbounded};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::thread::JoinHandle;

/// How the encoder's log-variance head is squashed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogVar {
    /// The seed method: softplus, so logvar >= 0 and the posterior noise has sd >= 1.
    #[default]
    Softplus,
    /// Unconstrained: the encoder may make the posterior narrower than the prior.
    Linear,
}

/// How the vectors are scaled for the VAE, and so what its decoder ends in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// The seed method: every column min-max scaled to [0, 1], a sigmoid decoder.
    #[default]
    Unit,
    /// Every column centred and divided by its standard deviation, a linear decoder (VAMB).
    Zscore,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub w_rl: f64,
    pub w_kld: f64,
    pub latent: usize,
    pub hidden: Vec<usize>,
    pub logvar: LogVar,
    #[serde(default)]
    pub scaling: Scaling,
    pub seed: u64,
    /// Per-column weights of the reconstruction loss; empty means all 1.
    #[serde(default)]
    pub column_weights: Vec<f32>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TrainEvent {
    Batch {
        epoch: usize,
        /// 1-based step over the whole run, of `steps_total`.
        step: u64,
        steps_total: u64,
        rl: f32,
        kld: f32,
        total: f32,
    },
    /// Means over the epoch's batches.
    Epoch {
        epoch: usize,
        rl: f32,
        kld: f32,
        total: f32,
    },
    /// The weights took effect from this step on.
    WeightsApplied {
        step: u64,
        w_rl: f64,
        w_kld: f64,
        learning_rate: f64,
    },
    /// Training ended (all epochs, or stopped early): the latent (encoder mean) of every read.
    /// The latent (encoder mean) of the rows a [`TrainCommand::Snapshot`] named, as of `step`.
    Snapshot {
        step: u64,
        rows: Arc<Vec<u32>>,
        latent: Matrix,
    },
    Done {
        latent: Matrix,
        epochs_run: usize,
        stopped: bool,
    },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum TrainCommand {
    /// Stop after the current batch and return the latent as it is.
    Stop,
    SetWeights {
        w_rl: f64,
        w_kld: f64,
    },
    SetLearningRate(f64),
    /// Send the current latent of these rows ([`TrainEvent::Snapshot`]): the explorer maps it
    /// while training goes on.
    Snapshot(Arc<Vec<u32>>),
}

pub struct Trainer {
    pub events: Receiver<TrainEvent>,
    pub commands: Sender<TrainCommand>,
    handle: Option<JoinHandle<()>>,
}

impl Trainer {
    /// Starts training `features` (raw composition vectors; scaled to [0, 1] per column here).
    pub fn spawn(features: Arc<Matrix>, cfg: TrainConfig) -> Trainer {
        let (ev_tx, ev_rx) = unbounded();
        let (cmd_tx, cmd_rx) = unbounded();
        let handle = std::thread::Builder::new()
            .name("binscape-trainer".into())
            .spawn(move || {
                if let Err(e) = train(&features, &cfg, &ev_tx, &cmd_rx) {
                    let msg = match e {
                        Error::Training(m) => m,
                        e => e.to_string(),
                    };
                    let _ = ev_tx.send(TrainEvent::Failed(msg));
                }
            })
            .expect("spawning the trainer thread");
        Trainer {
            events: ev_rx,
            commands: cmd_tx,
            handle: Some(handle),
        }
    }

    pub fn stop(&self) {
        let _ = self.commands.send(TrainCommand::Stop);
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        self.stop();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Runs candle's matrix products on one thread while rayon's pool keeps every core for the
/// other stages. For this small MLP one thread is ≈2× faster per step than two (measured here:
/// 9.7 vs 18 ms per 1024-row batch at d = 136); candle reads `RAYON_NUM_THREADS` on every
/// matmul, so the global pool is built first and the variable set afterwards. A value the user
/// set is left alone.
pub fn use_one_matmul_thread() {
    if std::env::var_os("RAYON_NUM_THREADS").is_some() {
        return;
    }
    let _ = rayon::ThreadPoolBuilder::new().build_global();
    // SAFETY: called once at start-up, before any thread of ours reads the environment.
    unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
}

/// The device training runs on: the first CUDA GPU when built with `--features cuda` and one is
/// present, else the CPU.
pub fn device() -> Device {
    #[cfg(feature = "cuda")]
    if let Ok(d) = Device::new_cuda(0) {
        return d;
    }
    Device::Cpu
}

/// Fewest rows in each half of a batch that is split between two threads.
const MIN_HALF_BATCH: usize = 64;

/// One thread's share of a training step.
struct Part {
    grads: candle_core::backprop::GradStore,
    /// Reconstruction, KLD and total loss, times the share of the batch's rows.
    losses: [f64; 3],
}

/// The gradients of `vars` and the losses (reconstruction, KLD, total) of one step on a batch
/// of `b` rows (`data`: the rows, b × d, and their N(0, 1) noise, b × latent) with loss weights
/// `w` (reconstruction, KLD). With `halves`, each half of the rows runs on its own thread and
/// the halves' gradients, weighted by their share of the rows, are summed.
#[allow(clippy::too_many_arguments)]
fn batch_step(
    model: &Vae,
    vars: &[candle_core::Var],
    data: (&[f32], &[f32]),
    b: usize,
    weights: Option<&Tensor>,
    w: (f64, f64),
    halves: bool,
    dev: &Device,
) -> Result<(candle_core::backprop::GradStore, [f32; 3])> {
    let (d, lat) = (model.dims, model.latent);
    let part = |rows: std::ops::Range<usize>| -> candle_core::Result<Part> {
        let m = rows.len();
        let xb = Tensor::from_slice(&data.0[rows.start * d..rows.end * d], (m, d), dev)?;
        let eps = Tensor::from_slice(&data.1[rows.start * lat..rows.end * lat], (m, lat), dev)?;
        let l = model.losses(&xb, &eps, weights)?;
        let total = ((&l.rl * w.0)? + (&l.kld * w.1)?)?;
        let share = m as f64 / b as f64;
        Ok(Part {
            grads: (&total * share)?.backward()?,
            losses: [l.rl, l.kld, total].map(|t| {
                t.to_scalar::<f32>()
                    .map(|v| v as f64 * share)
                    .unwrap_or(f64::NAN)
            }),
        })
    };
    let parts = if halves {
        let h = b / 2;
        let (first, second) = std::thread::scope(|sc| {
            let second = sc.spawn(|| part(h..b));
            (part(0..h), second.join())
        });
        let second = second.map_err(|_| Error::Training("a training thread panicked".into()))?;
        vec![first?, second?]
    } else {
        vec![part(0..b)?]
    };
    let mut grads = candle_core::backprop::GradStore::default();
    for v in vars {
        let mut sum: Option<Tensor> = None;
        for p in &parts {
            if let Some(g) = p.grads.get(v) {
                sum = Some(match sum {
                    Some(s) => (s + g)?,
                    None => g.clone(),
                });
            }
        }
        if let Some(g) = sum {
            grads.insert(v, g);
        }
    }
    let losses = [0, 1, 2].map(|i| parts.iter().map(|p| p.losses[i]).sum::<f64>() as f32);
    Ok((grads, losses))
}

fn train(
    features: &Matrix,
    cfg: &TrainConfig,
    events: &Sender<TrainEvent>,
    commands: &Receiver<TrainCommand>,
) -> Result<()> {
    if cfg.batch_size == 0 || cfg.latent == 0 {
        return Err(Error::Training(
            "batch size and latent size must be at least 1".into(),
        ));
    }
    let dev = device();
    let clip = crate::features::SCALE_CLIP;
    let x = match cfg.scaling {
        Scaling::Unit => features.scaled_to_unit(clip),
        Scaling::Zscore => features.standardised(clip),
    };
    let (n, d) = (x.rows, x.cols);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let sigmoid = cfg.scaling == Scaling::Unit;
    let model = Vae::new(
        d,
        &cfg.hidden,
        cfg.latent,
        cfg.logvar,
        sigmoid,
        &mut rng,
        &dev,
    )?;
    let params = ParamsAdamW {
        lr: cfg.learning_rate,
        weight_decay: 0.0,
        ..Default::default()
    };
    let weights = match cfg.column_weights.len() {
        0 => None,
        l if l == d => Some(Tensor::from_slice(&cfg.column_weights, (1, d), &dev)?),
        l => {
            return Err(Error::Training(format!(
                "{l} column weights for {d} feature columns"
            )));
        }
    };
    let vars = model.vars();
    let mut opt = AdamW::new(vars.clone(), params)?;
    let (mut w_rl, mut w_kld) = (cfg.w_rl, cfg.w_kld);
    let batches = n.div_ceil(cfg.batch_size);
    let steps_total = (batches * cfg.epochs) as u64;
    let mut order: Vec<usize> = (0..n).collect();
    let mut step = 0u64;
    let mut buf = Vec::with_capacity(cfg.batch_size * d);
    let mut epochs_run = 0;
    let mut stopped = false;
    'epochs: for epoch in 1..=cfg.epochs {
        order.shuffle(&mut rng);
        let (mut s_rl, mut s_kld, mut s_tot) = (0f64, 0f64, 0f64);
        for chunk in order.chunks(cfg.batch_size) {
            loop {
                match commands.try_recv() {
                    Ok(TrainCommand::Stop) => {
                        stopped = true;
                        break 'epochs;
                    }
                    Ok(TrainCommand::SetWeights { w_rl: a, w_kld: b }) => {
                        (w_rl, w_kld) = (a, b);
                        let _ = events.send(TrainEvent::WeightsApplied {
                            step: step + 1,
                            w_rl,
                            w_kld,
                            learning_rate: opt.learning_rate(),
                        });
                    }
                    Ok(TrainCommand::SetLearningRate(lr)) => {
                        opt.set_learning_rate(lr);
                        let _ = events.send(TrainEvent::WeightsApplied {
                            step: step + 1,
                            w_rl,
                            w_kld,
                            learning_rate: lr,
                        });
                    }
                    Ok(TrainCommand::Snapshot(rows)) => {
                        let mut data = Vec::with_capacity(rows.len() * d);
                        for &r in rows.iter() {
                            data.extend_from_slice(x.row(r as usize));
                        }
                        let z = model.embed(&data, rows.len(), &dev)?;
                        let _ = events.send(TrainEvent::Snapshot {
                            step,
                            latent: Matrix::new(rows.len(), cfg.latent, z),
                            rows,
                        });
                    }
                    Err(TryRecvError::Empty) => break,
                    // Nobody listens any more: stop rather than train for no one.
                    Err(TryRecvError::Disconnected) => {
                        stopped = true;
                        break 'epochs;
                    }
                }
            }
            buf.clear();
            for &i in chunk {
                buf.extend_from_slice(x.row(i));
            }
            let b = chunk.len();
            let noise: Vec<f32> = (0..b * cfg.latent)
                .map(|_| StandardNormal.sample(&mut rng))
                .collect();
            // On the CPU each half of the batch runs on its own thread (candle's products run
            // on one: see use_one_matmul_thread): the same step as the whole batch's, on both
            // cores.
            let halves = dev.is_cpu() && b >= 2 * MIN_HALF_BATCH;
            let (grads, [rl, kld, tot]) = batch_step(
                &model,
                &vars,
                (&buf, &noise),
                b,
                weights.as_ref(),
                (w_rl, w_kld),
                halves,
                &dev,
            )?;
            opt.step(&grads)?;
            step += 1;
            if !tot.is_finite() || !rl.is_finite() || !kld.is_finite() {
                return Err(Error::Training(format!(
                    "the loss became {tot} at epoch {epoch}, step {step} (RL {rl}, KLD {kld}); \
                     lower the learning rate ({}) or the loss weights",
                    opt.learning_rate()
                )));
            }
            (s_rl, s_kld, s_tot) = (s_rl + rl as f64, s_kld + kld as f64, s_tot + tot as f64);
            let _ = events.send(TrainEvent::Batch {
                epoch,
                step,
                steps_total,
                rl,
                kld,
                total: tot,
            });
        }
        epochs_run = epoch;
        let m = batches as f64;
        let _ = events.send(TrainEvent::Epoch {
            epoch,
            rl: (s_rl / m) as f32,
            kld: (s_kld / m) as f32,
            total: (s_tot / m) as f32,
        });
    }
    let latent = model.embed(&x.data, n, &dev)?;
    let _ = events.send(TrainEvent::Done {
        latent: Matrix::new(n, cfg.latent, latent),
        epochs_run,
        stopped,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Two threads on the halves of a batch (301 rows: halves of 150 and 151) give the whole
    /// batch's losses and gradients, up to float rounding.
    #[test]
    fn a_batch_in_two_halves_takes_the_whole_batch_step() {
        let dev = Device::Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (b, d, lat) = (301, 20, 4);
        let model = Vae::new(d, &[16, 8], lat, LogVar::Linear, true, &mut rng, &dev).unwrap();
        let vars = model.vars();
        let x: Vec<f32> = (0..b * d).map(|_| rng.random_range(0.0..1.0)).collect();
        let noise: Vec<f32> = (0..b * lat)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let step = |halves| {
            batch_step(
                &model,
                &vars,
                (&x, &noise),
                b,
                None,
                (1.0, 0.01),
                halves,
                &dev,
            )
            .unwrap()
        };
        let ((whole, lw), (split, ls)) = (step(false), step(true));
        for (a, c) in lw.iter().zip(&ls) {
            assert!((a - c).abs() <= 1e-5 * a.abs().max(1.0), "{lw:?} vs {ls:?}");
        }
        for v in &vars {
            let flat = |g: &candle_core::backprop::GradStore| -> Vec<f32> {
                g.get(v).unwrap().flatten_all().unwrap().to_vec1().unwrap()
            };
            let (a, c) = (flat(&whole), flat(&split));
            let scale = a.iter().fold(0f32, |m, x| m.max(x.abs()));
            assert!(scale > 0.0, "a parameter without gradient");
            for (p, q) in a.iter().zip(&c) {
                assert!((p - q).abs() <= 1e-4 * scale, "{p} vs {q}");
            }
        }
    }
}
