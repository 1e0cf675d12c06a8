//! A cut of the hierarchy into bins, with what the bins table and the scores need: per-bin
//! summaries (size, bases, length, GC, N50 and, with ground truth, the majority label and its
//! share) and the scores. The CLI's report and the explorer's table both read a [`Cut`].
use crate::cluster::{Clustering, Hierarchy, Steady};
use crate::error::Result;
use crate::metrics::{Scores, score};
use crate::progress::Progress;
use crate::reads::{Labels, ReadIndex, n50};
use crate::refine::Split;
use crate::settings::Settings;

mod edits;
pub use edits::{Edit, check_names};

#[derive(Clone, Debug, PartialEq)]
pub struct BinSummary {
    /// Cluster id, or [`crate::cluster::NOISE`] for the unbinned reads.
    pub label: i32,
    pub reads: usize,
    pub bases: u64,
    pub mean_length: f64,
    /// Length-weighted GC fraction (0..1) of the bin's bases.
    pub gc: f64,
    pub n50: u32,
    /// Standard deviation of the reads' GC fractions: one genome's reads spread by sampling
    /// noise alone (wider for shorter reads); a mixed bin spreads wider.
    pub gc_sd: f64,
    /// Mean HDBSCAN membership strength of the reads (0–1): how deep inside their group of the
    /// map they sat (0 for reads that joined later, by refinement's nearest group or the graph).
    pub membership: f64,
    /// Median of the reads' 15-mer depth ([`ReadIndex::kmer_depth`], saturating at 255): a
    /// relative abundance estimate, comparable between bins of one run. None without the
    /// coverage features.
    pub coverage: Option<f64>,
    /// Share of the overlaps of the bin's reads that stay inside the bin (the overlap graph's
    /// confidence, needs no truth). None where the graph was not computed.
    pub agreement: Option<f64>,
    /// The bin's genome (coverage and size) as its reads' overlaps tell it
    /// ([`crate::graph::genome_sizes`]). None where the graph was not computed.
    pub genome: Option<crate::graph::Genome>,
    /// Most common true label and the fraction of the bin's labelled reads that carry it.
    pub majority: Option<(String, f64)>,
}

/// One summary per cluster `0..n_clusters`, then one for the unbinned reads when there are any.
pub fn summarize(
    index: &ReadIndex,
    labels: &[i32],
    n_clusters: usize,
    strength: &[f32],
    truth: Option<&Labels>,
) -> Vec<BinSummary> {
    let groups = n_clusters + 1;
    let group = |l: i32| if l < 0 { n_clusters } else { l as usize };
    let mut lengths: Vec<Vec<u32>> = vec![Vec::new(); groups];
    let mut gc_bases = vec![0f64; groups];
    // Per group: Σ gc, Σ gc², Σ strength, and the reads' coverage estimates.
    let mut gc_moments = vec![(0f64, 0f64, 0f64); groups];
    let mut coverage: Vec<Vec<f32>> = vec![Vec::new(); groups];
    let n_names = truth.map_or(0, |t| t.names.len());
    let mut counts = vec![vec![0usize; n_names]; groups];
    for (i, &l) in labels.iter().enumerate() {
        let g = group(l);
        lengths[g].push(index.lengths[i]);
        gc_bases[g] += index.gc[i] as f64 * index.lengths[i] as f64;
        let gc = index.gc[i] as f64;
        let m = &mut gc_moments[g];
        m.0 += gc;
        m.1 += gc * gc;
        m.2 += strength.get(i).copied().unwrap_or(0.0) as f64;
        if let Some(&c) = index.kmer_depth.get(i) {
            coverage[g].push(c as f32);
        }
        if let Some(Some(c)) = truth.map(|t| t.codes[i]) {
            counts[g][c as usize] += 1;
        }
    }
    let mut out = Vec::with_capacity(groups);
    for g in 0..groups {
        let reads = lengths[g].len();
        if g == n_clusters && reads == 0 {
            break;
        }
        let bases: u64 = lengths[g].iter().map(|&x| x as u64).sum();
        let labelled: usize = counts[g].iter().sum();
        let majority = truth.and_then(|t| {
            let (best, &count) = counts[g].iter().enumerate().max_by_key(|&(_, c)| *c)?;
            (labelled > 0).then(|| (t.names[best].clone(), count as f64 / labelled as f64))
        });
        out.push(BinSummary {
            label: if g == n_clusters { -1 } else { g as i32 },
            reads,
            bases,
            mean_length: if reads > 0 {
                bases as f64 / reads as f64
            } else {
                0.0
            },
            gc: if bases > 0 {
                gc_bases[g] / bases as f64
            } else {
                0.0
            },
            n50: n50(&mut lengths[g]),
            gc_sd: {
                let (s1, s2, _) = gc_moments[g];
                let r = reads.max(1) as f64;
                (s2 / r - (s1 / r).powi(2)).max(0.0).sqrt()
            },
            membership: gc_moments[g].2 / reads.max(1) as f64,
            coverage: median(&mut coverage[g]),
            agreement: None,
            genome: None,
            majority,
        });
    }
    out
}

fn median(v: &mut [f32]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mid = v.len() / 2;
    Some(*v.select_nth_unstable_by(mid, f32::total_cmp).1 as f64)
}

/// One cut of the hierarchy with what the bins table and the scores need.
#[derive(Clone, Debug)]
pub struct Cut {
    pub min_cluster_size: usize,
    pub clustering: Clustering,
    pub bins: Vec<BinSummary>,
    pub scores: Option<Scores>,
    /// None: the plain cut of the map; Some: refined (with the bins that were split).
    pub refined: Option<Vec<Split>>,
    /// Names given by hand, per bin (None or missing: `bin_N`).
    pub names: Vec<Option<String>>,
    /// Some: corrected by the overlap graph, with what it changed.
    pub graph: Option<crate::graph::GraphReport>,
    /// Some: the min cluster size was chosen ([`Hierarchy::steadiest`]), not given.
    pub steady: Option<Steady>,
}

impl Cut {
    pub fn make(h: &Hierarchy, mcs: usize, index: &ReadIndex, labels: Option<&Labels>) -> Cut {
        Cut::of(h.cut(mcs), mcs, index, labels, None)
    }

    /// The cut at the settings' min cluster size: the one given, or (0, the default) the
    /// steadiest ([`Hierarchy::steadiest`], around the 1 % rule).
    pub fn chosen(h: &Hierarchy, s: &Settings, index: &ReadIndex, labels: Option<&Labels>) -> Cut {
        if s.min_cluster_size > 0 {
            return Cut::make(h, s.min_cluster_size, index, labels);
        }
        let steady = h.steadiest(s.min_cluster_size_for(index.len()));
        Cut::make(h, steady.size, index, labels).with_steady(Some(steady))
    }

    /// This cut marked with how its min cluster size was chosen (or not).
    pub fn with_steady(mut self, steady: Option<Steady>) -> Cut {
        self.steady = steady;
        self
    }

    /// Reads in a bin (not unbinned).
    pub fn binned_reads(&self) -> usize {
        self.clustering.labels.iter().filter(|&&l| l >= 0).count()
    }

    /// The cut `clustering` (made at min cluster size `mcs`), summarised and scored.
    pub fn of(
        clustering: Clustering,
        mcs: usize,
        index: &ReadIndex,
        labels: Option<&Labels>,
        refined: Option<Vec<Split>>,
    ) -> Cut {
        let bins = summarize(
            index,
            &clustering.labels,
            clustering.n_clusters,
            &clustering.strength,
            labels,
        );
        let scores = labels.map(|l| score(&clustering.labels, &l.codes));
        Cut {
            min_cluster_size: mcs,
            clustering,
            bins,
            scores,
            refined,
            names: Vec::new(),
            graph: None,
            steady: None,
        }
    }

    /// This cut with names given by hand (per bin; None: `bin_N`).
    pub fn named(mut self, names: Vec<Option<String>>) -> Cut {
        self.names = names;
        self
    }

    /// The bin's name: given by hand, or `bin_N` (`unbinned` for [`crate::cluster::NOISE`]).
    pub fn name(&self, label: i32) -> String {
        usize::try_from(label)
            .ok()
            .and_then(|b| self.names.get(b).cloned().flatten())
            .unwrap_or_else(|| crate::output::bin_name(label))
    }

    /// This cut with each bin's overlap agreement (per bin, in label order) in its summary.
    pub fn with_agreement(mut self, agreement: &[f64]) -> Cut {
        for b in &mut self.bins {
            if b.label >= 0 {
                b.agreement = agreement
                    .get(b.label as usize)
                    .copied()
                    .filter(|a| a.is_finite());
            }
        }
        self
    }

    /// This cut with each bin's genome estimate (per bin, in label order) in its summary.
    pub fn with_genomes(mut self, genomes: &[crate::graph::Genome]) -> Cut {
        for b in &mut self.bins {
            if b.label >= 0 {
                b.genome = genomes.get(b.label as usize).copied();
            }
        }
        self
    }

    /// The same bins scored against (new) labels: no re-cut, no re-refinement.
    pub fn rescored(&self, index: &ReadIndex, labels: Option<&Labels>) -> Cut {
        let c = self.clustering.clone();
        Cut::of(
            c,
            self.min_cluster_size,
            index,
            labels,
            self.refined.clone(),
        )
        .named(self.names.clone())
        .with_graph(self.graph.clone())
        .with_steady(self.steady)
    }

    /// This cut marked as corrected by the overlap graph (or not).
    pub fn with_graph(mut self, graph: Option<crate::graph::GraphReport>) -> Cut {
        self.graph = graph;
        self
    }

    /// This cut with every bin re-examined on its own (see [`crate::refine`]): the refine job.
    pub fn refine(
        &self,
        index: &ReadIndex,
        labels: Option<&Labels>,
        s: &Settings,
        progress: &Progress,
    ) -> Result<Cut> {
        // Sub-bins are held to the min cluster size this cut was made at, chosen or given.
        let mut s = s.clone();
        s.min_cluster_size = self.min_cluster_size;
        let (c, splits) = crate::refine::refine(index, &self.clustering, &s, progress)?;
        Ok(Cut::of(c, self.min_cluster_size, index, labels, Some(splits)).with_steady(self.steady))
    }

    /// "7 bins at min cluster size 60", with what refinement did or that it is under way.
    pub fn describe(&self, refining: bool) -> String {
        let base = format!(
            "{} bins at min cluster size {}",
            self.clustering.n_clusters, self.min_cluster_size
        );
        let graph = match &self.graph {
            Some(g) => {
                let mut said = format!(
                    "; overlaps moved {} reads and placed {} unbinned",
                    g.moved, g.rescued
                );
                if g.deep_made > 0 {
                    said += &format!(
                        ", gave {} deep element(s) (a phage or plasmid) a bin",
                        g.deep_made
                    );
                }
                if g.joined > 0 {
                    said += &format!(", joined {} deep bins to others", g.joined);
                }
                if g.shallow_made > 0 {
                    said += &format!(
                        ", gave {} genome(s) many times shallower than the bin they were in a bin \
                         of their own",
                        g.shallow_made
                    );
                }
                if g.deeper > 0 {
                    said += &format!(
                        ", moved {} reads of stretches many times deeper than their bin to the \
                         genome at their coverage",
                        g.deeper
                    );
                }
                if g.fragments > 0 {
                    said += &format!(
                        ", joined {} bin(s) too small to be a genome at their coverage to the \
                         genome they overlap",
                        g.fragments
                    );
                }
                if g.shared_loci > 0 {
                    said += &format!(
                        ", unbinned {} small bin(s) of loci that several genomes share (each \
                         read then went where its own overlaps and sequence say)",
                        g.shared_loci
                    );
                }
                if g.repeats > 0 {
                    said += &format!(
                        ", moved {} reads of a genome's repeats (ribosomal operons) in another's \
                         bin to the bin of the reads spanning their ends",
                        g.repeats
                    );
                }
                if g.sequence_moved + g.sequence_rescued > 0 {
                    said += &format!(
                        "; of the {} reads they left in doubt ({} held only by weak overlaps), \
                         sequence models moved {} and placed {} unbinned",
                        g.doubted, g.weakly_held, g.sequence_moved, g.sequence_rescued
                    );
                }
                if g.loose > 0 {
                    said += &format!(
                        "; {} small bin(s) whose overlaps mostly leave them (loci of several \
                         genomes) were unbinned and their reads voted on again",
                        g.loose
                    );
                }
                if g.dropped > 0 {
                    said += &format!(
                        ", left {} reads unbinned whose bin fell under the min cluster size",
                        g.dropped
                    );
                }
                said
            }
            None => String::new(),
        };
        let base = format!("{base}{graph}");
        match (&self.refined, refining) {
            (Some(s), _) if s.is_empty() => format!("{base}; refinement split no bin"),
            (Some(s), _) => {
                let parts: Vec<String> = s
                    .iter()
                    .map(|x| {
                        let mut into: Vec<String> = x.into.iter().map(|n| n.to_string()).collect();
                        if x.unbinned > 0 {
                            into.push(format!("{} unbinned", x.unbinned));
                        }
                        let how = if x.by_depth { " by 15-mer depth" } else { "" };
                        format!("{} reads into {}{how}", x.reads, into.join(" + "))
                    })
                    .collect();
                format!("{base}; refinement split {}", parts.join(", "))
            }
            (None, true) => format!("{base}; refining bins…"),
            (None, false) => base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_lengths_gc_and_majority_per_bin() {
        let index = ReadIndex {
            ids: (0..5).map(|i| format!("r{i}")).collect(),
            lengths: vec![100, 300, 200, 50, 1000],
            gc: vec![0.5, 0.3, 0.6, 0.4, 0.5],
            ..Default::default()
        };
        let truth = Labels {
            names: vec!["a".into(), "b".into()],
            codes: vec![Some(0), Some(0), Some(1), None, Some(1)],
            ..Default::default()
        };
        let s = summarize(&index, &[0, 0, 1, 1, -1], 2, &[], Some(&truth));
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].reads, s[0].bases, s[0].n50), (2, 400, 300));
        assert!((s[0].gc - (50.0 + 90.0) / 400.0).abs() < 1e-6);
        assert_eq!(s[0].majority, Some(("a".into(), 1.0)));
        // Bin 1: one labelled read (b) and one unlabelled: purity over the labelled only.
        assert_eq!(s[1].majority, Some(("b".into(), 1.0)));
        assert!((s[1].mean_length - 125.0).abs() < 1e-9);
        assert_eq!((s[2].label, s[2].reads), (-1, 1));
        // No unbinned reads: no unbinned row.
        assert_eq!(summarize(&index, &[0, 0, 0, 1, 1], 2, &[], None).len(), 2);
    }
}
