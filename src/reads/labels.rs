//! Ground-truth labels: a TSV of `read_id<TAB>label` with a header line.
use super::ReadIndex;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// Labels matched to the rows of a [`ReadIndex`].
#[derive(Clone, Debug, Default)]
pub struct Labels {
    /// Label names, sorted, indexed by the codes below.
    pub names: Vec<String>,
    /// Per read: index into `names`, or `None` when the TSV has no line for it.
    pub codes: Vec<Option<u32>>,
    /// Reads of the index that the TSV does not name.
    pub missing: usize,
    /// TSV ids that are not reads of the index (first few kept for the warning).
    pub unknown: usize,
    pub unknown_examples: Vec<String>,
}

impl Labels {
    pub fn name(&self, row: usize) -> Option<&str> {
        self.codes[row].map(|c| self.names[c as usize].as_str())
    }
    /// Warnings to show the user (missing or unknown ids), empty when the TSV matches exactly.
    pub fn warnings(&self, path: &Path) -> Vec<String> {
        let mut w = Vec::new();
        if self.missing > 0 {
            w.push(format!(
                "{}: {} reads have no label; scores use only the {} labelled reads",
                path.display(),
                self.missing,
                self.codes.len() - self.missing
            ));
        }
        if self.unknown > 0 {
            w.push(format!(
                "{}: {} ids are not in the reads (e.g. {}); ignored",
                path.display(),
                self.unknown,
                self.unknown_examples.join(", ")
            ));
        }
        w
    }
}

pub fn load_labels(path: &Path, index: &ReadIndex) -> Result<Labels> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Input {
        path: path.into(),
        reason: format!("cannot read labels: {e}"),
    })?;
    let row_of: HashMap<&str, usize> = index
        .ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mut raw: Vec<Option<&str>> = vec![None; index.len()];
    // Line (1-based) that labelled each read, to name both lines of a conflict.
    let mut line_of: Vec<u64> = vec![0; index.len()];
    let mut empty = 0usize;
    let mut labels = Labels::default();
    let mut lines = text.lines().enumerate();
    if lines.next().is_none() {
        return Err(Error::Input {
            path: path.into(),
            reason: "labels file is empty".into(),
        });
    }
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let (Some(id), Some(label)) = (cols.next(), cols.next()) else {
            return Err(Error::Line {
                path: path.into(),
                line: i as u64 + 1,
                reason: "expected 'read_id<TAB>label'".into(),
            });
        };
        let (id, label) = (id.trim(), label.trim());
        if label.is_empty() {
            empty += 1;
            continue;
        }
        match row_of.get(id) {
            Some(&r) => {
                if let Some(prev) = raw[r]
                    && prev != label
                {
                    return Err(Error::Line {
                        path: path.into(),
                        line: i as u64 + 1,
                        reason: format!(
                            "read '{id}' is labelled '{label}' here and '{prev}' on line {}: one label per read",
                            line_of[r]
                        ),
                    });
                }
                raw[r] = Some(label);
                line_of[r] = i as u64 + 1;
            }
            None => {
                labels.unknown += 1;
                if labels.unknown_examples.len() < 3 {
                    labels.unknown_examples.push(id.to_string());
                }
            }
        }
    }
    let mut names: Vec<String> = raw.iter().flatten().map(|s| s.to_string()).collect();
    names.sort();
    names.dedup();
    let code: HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    labels.codes = raw.iter().map(|l| l.map(|s| code[s])).collect();
    labels.missing = labels.codes.iter().filter(|c| c.is_none()).count();
    if labels.missing == index.len() {
        return Err(Error::Input {
            path: path.into(),
            reason: if empty > 0 && labels.unknown == 0 {
                "every label is empty: expected 'read_id<TAB>label' with a label".into()
            } else {
                "no id in the labels matches a read id".into()
            },
        });
    }
    labels.names = names;
    Ok(labels)
}
