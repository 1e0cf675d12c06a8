//! binscape: metagenomic read binning by k-mer composition, a VAE latent, a UMAP map and HDBSCAN.
//! The stages here are pure and GUI-free; the CLI (`binscape run`) and the explorer drive them.
pub mod cluster;
pub mod embed;
pub mod error;
pub mod features;
pub mod kdtree;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod reads;

pub use error::{Error, Result};
pub use pipeline::{Progress, Settings};
