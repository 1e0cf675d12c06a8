//! Progress of the running stage and its cancellation flag: the one thing every stage shares
//! with its driver (the CLI's bars, the GUI's jobs). Imports nothing of the crate.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared progress of the running stage and its cancellation flag; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<ProgressInner>,
}

#[derive(Debug, Default)]
struct ProgressInner {
    stage: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl Progress {
    pub fn start(&self, stage: &str, total: u64) {
        if let Ok(mut s) = self.inner.stage.lock() {
            *s = stage.to_string();
        }
        self.inner.done.store(0, Ordering::Relaxed);
        self.inner.total.store(total, Ordering::Relaxed);
    }
    pub fn set(&self, done: u64) {
        self.inner.done.store(done, Ordering::Relaxed);
    }
    /// Renames the running stage, keeping its count (e.g. the epoch and loss while training).
    pub fn set_stage(&self, stage: &str) {
        if let Ok(mut s) = self.inner.stage.lock() {
            *s = stage.to_string();
        }
    }
    /// Changes the total of the running stage (a stage that learns its size as it goes).
    pub fn set_total(&self, total: u64) {
        self.inner.total.store(total, Ordering::Relaxed);
    }
    /// (stage, done, total).
    pub fn get(&self) -> (String, u64, u64) {
        let s = self
            .inner
            .stage
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        (
            s,
            self.inner.done.load(Ordering::Relaxed),
            self.inner.total.load(Ordering::Relaxed),
        )
    }
    pub fn fraction(&self) -> f32 {
        let (_, d, t) = self.get();
        if t == 0 {
            0.0
        } else {
            (d as f32 / t as f32).min(1.0)
        }
    }
    pub fn cancel(&self) {
        self.inner.cancel.store(true, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.inner.cancel.load(Ordering::Relaxed)
    }
}
