//! Progress of the running stage and its cancellation flag: the one thing every stage shares
//! with its driver (the CLI's bars, the GUI's jobs). Imports nothing of the crate.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Shared progress of the running stage and its cancellation flag; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    inner: Arc<ProgressInner>,
    /// Shared with every [`Progress::sibling`]: one Cancel stops work running side by side.
    cancel: Arc<AtomicBool>,
}

#[derive(Debug, Default)]
struct ProgressInner {
    stage: Mutex<String>,
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// A progress of its own (stage, counts) that shares this one's cancellation: for work that
    /// runs beside the stage the user watches (the read overlaps while the VAE trains).
    pub fn sibling(&self) -> Progress {
        Progress {
            inner: Arc::default(),
            cancel: self.cancel.clone(),
        }
    }
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
        self.cancel.store(true, Ordering::Relaxed);
    }
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sibling_keeps_its_own_counts_and_shares_the_cancel() {
        let p = Progress::default();
        p.start("training", 10);
        let side = p.sibling();
        side.start("overlaps", 4);
        side.set(3);
        assert_eq!(p.get(), ("training".to_string(), 0, 10));
        assert_eq!(side.get(), ("overlaps".to_string(), 3, 4));
        assert!(!side.cancelled());
        p.cancel();
        assert!(side.cancelled());
        // And the other way round.
        let q = Progress::default();
        q.sibling().cancel();
        assert!(q.cancelled());
    }
}
