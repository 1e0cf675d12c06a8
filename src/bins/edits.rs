//! Bins edited by hand: merge bins, make a new bin of chosen reads (a lasso), move reads to a
//! bin, rename a bin. An edit changes the cut's labels and names only; the summaries and scores
//! are then made again from them, so the table, the exports and the scores follow.
use super::Cut;
use crate::cluster::{Clustering, NOISE};
use crate::reads::{Labels, ReadIndex};
use serde::{Deserialize, Serialize};

/// One hand edit. Bins are cut labels (0-based; [`NOISE`] for the unbinned reads).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// The bins become one, under the first one's number and name.
    Merge {
        bins: Vec<i32>,
    },
    /// The reads leave their bins for a new bin.
    NewBin {
        rows: Vec<u32>,
    },
    /// The reads join bin `to` ([`NOISE`]: unbinned).
    Move {
        rows: Vec<u32>,
        to: i32,
    },
    Rename {
        bin: i32,
        name: String,
    },
}

impl Edit {
    /// What the edit did, for the status line and the undo menu.
    pub fn describe(&self, cut: &Cut) -> String {
        match self {
            Edit::Merge { bins } => format!(
                "merged {}",
                bins.iter()
                    .map(|&b| cut.name(b))
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            Edit::NewBin { rows } => format!("made a new bin of {} reads", rows.len()),
            Edit::Move { rows, to } => format!("moved {} reads to {}", rows.len(), cut.name(*to)),
            Edit::Rename { bin, name } => format!("renamed {} to {name}", cut.name(*bin)),
        }
    }
}

/// Whether `name` can be a bin's own name: it names the bin's FASTA file, a row of
/// `assignments.tsv` and the bin in a session, so no tab, newline or slash, not hidden, not
/// `unbinned`, and not `bin_N`, the names numbered bins take (a bin named `bin_5` would share
/// its file with the fifth bin once there is one). Letter case does not tell names apart, as it
/// does not on some file systems.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.trim() != name || name.contains(['\t', '\n', '\r', '/', '\\']) {
        return Err("a bin name needs a character and no tab, newline or slash".into());
    }
    if name.starts_with('.') {
        return Err("a bin name cannot start with a dot (its file would be hidden)".into());
    }
    let lower = name.to_ascii_lowercase();
    if lower == "unbinned" {
        return Err("unbinned is the name of the reads in no bin".into());
    }
    if lower
        .strip_prefix("bin_")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("{name} is a numbered bin's name: choose another"));
    }
    Ok(())
}

/// Whether a cut's names (hand-given, then numbered) can all be written: each valid
/// ([`check_name`]) and none the same as another's (letter case aside).
pub fn check_names(names: &[Option<String>], bins: usize) -> Result<(), String> {
    if names.len() > bins {
        return Err(format!("{} names for {bins} bins", names.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for b in 0..bins {
        let name = match names.get(b).cloned().flatten() {
            Some(n) => {
                check_name(&n)?;
                n
            }
            None => crate::output::bin_name(b as i32),
        };
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(format!("two bins are called {name}"));
        }
    }
    Ok(())
}

impl Cut {
    /// This cut with `edit` applied, or why it cannot be. Bins left empty are removed and the
    /// others keep their order (and so their colours, shifted past the removed ones).
    pub fn edited(
        &self,
        edit: &Edit,
        index: &ReadIndex,
        labels: Option<&Labels>,
    ) -> Result<Cut, String> {
        let c = &self.clustering;
        let n = c.labels.len();
        let mut l = c.labels.clone();
        let mut names = self.names.clone();
        names.resize(c.n_clusters, None);
        let mut k = c.n_clusters;
        let in_range = |rows: &[u32]| rows.iter().all(|&r| (r as usize) < n);
        match edit {
            Edit::Merge { bins } => {
                let mut bins: Vec<i32> = bins.iter().copied().filter(|&b| b >= 0).collect();
                bins.sort_unstable();
                bins.dedup();
                if bins.len() < 2 || bins.iter().any(|&b| b as usize >= k) {
                    return Err("select two or more bins to merge".into());
                }
                let into = bins[0];
                for x in l.iter_mut() {
                    if bins.binary_search(x).is_ok() {
                        *x = into;
                    }
                }
            }
            Edit::NewBin { rows } => {
                if rows.is_empty() || !in_range(rows) {
                    return Err("select reads (box or lasso) to make a new bin of".into());
                }
                for &r in rows {
                    l[r as usize] = k as i32;
                }
                k += 1;
                names.push(None);
            }
            Edit::Move { rows, to } => {
                if rows.is_empty() || !in_range(rows) {
                    return Err("select reads to move".into());
                }
                if *to >= k as i32 || *to < NOISE {
                    return Err(format!("there is no bin {}", to + 1));
                }
                for &r in rows {
                    l[r as usize] = *to;
                }
            }
            Edit::Rename { bin, name } => {
                let name = name.trim();
                if *bin < 0 || *bin as usize >= k {
                    return Err("pick one bin to rename".into());
                }
                // Its own number's name: the bin goes back to being numbered.
                if name == crate::output::bin_name(*bin) {
                    names[*bin as usize] = None;
                } else {
                    check_name(name)?;
                    if (0..k as i32).any(|b| b != *bin && self.name(b).eq_ignore_ascii_case(name)) {
                        return Err(format!("another bin is already called {name}"));
                    }
                    names[*bin as usize] = Some(name.to_string());
                }
            }
        }
        // Remove emptied bins, keeping the order of the rest.
        let mut size = vec![0usize; k];
        for &x in &l {
            if x >= 0 {
                size[x as usize] += 1;
            }
        }
        let mut new_of = vec![NOISE; k];
        let mut kept_names = Vec::new();
        for b in 0..k {
            if size[b] > 0 {
                new_of[b] = kept_names.len() as i32;
                kept_names.push(names[b].clone());
            }
        }
        for x in l.iter_mut() {
            if *x >= 0 {
                *x = new_of[*x as usize];
            }
        }
        let clustering = Clustering {
            labels: l,
            n_clusters: kept_names.len(),
            strength: c.strength.clone(),
        };
        Ok(Cut::of(
            clustering,
            self.min_cluster_size,
            index,
            labels,
            self.refined.clone(),
        )
        .named(kept_names)
        .with_graph(self.graph.clone())
        .with_steady(self.steady))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(n: usize) -> ReadIndex {
        ReadIndex::uniform(n)
    }

    fn cut(labels: Vec<i32>, k: usize) -> Cut {
        let n = labels.len();
        Cut::of(
            Clustering {
                labels,
                n_clusters: k,
                strength: vec![1.0; n],
            },
            5,
            &index(n),
            None,
            None,
        )
    }

    #[test]
    fn merge_new_bin_move_and_rename_keep_bins_dense_and_ordered() {
        let idx = index(8);
        let c = cut(vec![0, 0, 1, 1, 2, 2, 3, -1], 4);
        let c = c
            .edited(
                &Edit::Rename {
                    bin: 3,
                    name: "phage".into(),
                },
                &idx,
                None,
            )
            .unwrap();
        assert_eq!(c.name(3), "phage");
        // Merging 1 and 2 empties 2: bin 3 becomes 2 and keeps its name.
        let m = c
            .edited(&Edit::Merge { bins: vec![2, 1] }, &idx, None)
            .unwrap();
        assert_eq!(m.clustering.labels, vec![0, 0, 1, 1, 1, 1, 2, -1]);
        assert_eq!(m.clustering.n_clusters, 3);
        assert_eq!(m.name(2), "phage");
        assert_eq!(m.bins[1].reads, 4);
        let s = m
            .edited(&Edit::NewBin { rows: vec![0, 7] }, &idx, None)
            .unwrap();
        assert_eq!(s.clustering.labels, vec![3, 0, 1, 1, 1, 1, 2, 3]);
        assert_eq!(s.name(3), "bin_4");
        let mv = s
            .edited(
                &Edit::Move {
                    rows: vec![6],
                    to: -1,
                },
                &idx,
                None,
            )
            .unwrap();
        // The phage bin emptied: gone, and the new bin moves down to 3.
        assert_eq!(mv.clustering.labels, vec![2, 0, 1, 1, 1, 1, -1, 2]);
        assert_eq!(mv.clustering.n_clusters, 3);
        // What cannot be done says why.
        assert!(
            mv.edited(&Edit::Merge { bins: vec![0] }, &idx, None)
                .is_err()
        );
        assert!(
            mv.edited(&Edit::NewBin { rows: vec![] }, &idx, None)
                .is_err()
        );
        assert!(
            mv.edited(
                &Edit::Move {
                    rows: vec![0],
                    to: 9
                },
                &idx,
                None
            )
            .is_err()
        );
        let dup = Edit::Rename {
            bin: 1,
            name: "bin_1".into(),
        };
        assert!(mv.edited(&dup, &idx, None).is_err());
        let slash = Edit::Rename {
            bin: 1,
            name: "a/b".into(),
        };
        assert!(mv.edited(&slash, &idx, None).is_err());
        // Names that would share a file with another bin's, now or once bins are made: the
        // unbinned reads', a numbered bin's to come, another's in other letter case.
        for taken in ["unbinned", "Unbinned", "bin_9", "BIN_4", "Bin_1", ".hidden"] {
            let e = Edit::Rename {
                bin: 1,
                name: taken.into(),
            };
            assert!(mv.edited(&e, &idx, None).is_err(), "{taken} accepted");
        }
        // A bin's own number's name makes it numbered again.
        let named = mv
            .edited(
                &Edit::Rename {
                    bin: 1,
                    name: "x".into(),
                },
                &idx,
                None,
            )
            .unwrap();
        let back = named
            .edited(
                &Edit::Rename {
                    bin: 1,
                    name: "bin_2".into(),
                },
                &idx,
                None,
            )
            .unwrap();
        assert_eq!(back.names.get(1).cloned().flatten(), None);
        assert!(check_names(&[None, Some("bin_1".into())], 2).is_err());
        assert!(check_names(&[Some("a".into()), Some("A".into())], 2).is_err());
        assert!(check_names(&[None, Some("phage".into())], 2).is_ok());
        assert!(check_names(&[None, None, None], 2).is_err());
    }
}
