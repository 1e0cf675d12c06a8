//! binscape: metagenomic read binning by k-mer composition, a VAE latent, a UMAP map and HDBSCAN.
//! The stages are pure and GUI-free; the CLI (`binscape run`) and the explorer (`gui`) are thin
//! drivers over them.
pub mod bins;
pub mod cluster;
pub mod embed;
pub mod error;
pub mod features;
pub mod graph;
pub mod gui;
pub mod kdtree;
pub mod markov;
pub mod metrics;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod preview;
pub mod progress;
pub mod reads;
pub mod refine;
pub mod session;
pub mod settings;
pub mod simulate;

pub use error::{Error, Result};
pub use progress::Progress;
pub use settings::Settings;
