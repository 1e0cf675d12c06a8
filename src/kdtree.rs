//! A kd-tree over row-major f32 points of any dimension, for exact k-nearest neighbours (the UMAP
//! graph, HDBSCAN core distances) and for HDBSCAN's Borůvka MST.
//!
//! Written here rather than taken from `kiddo` because Borůvka needs per-node facts (the
//! component a whole node belongs to, the smallest core distance in it) that a general kd-tree
//! crate does not expose, and because the latent dimension is a runtime setting while kiddo
//! fixes it at compile time.
use rayon::prelude::*;

const LEAF: usize = 16;
pub(crate) const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// Range of `perm` covered by the node.
    pub start: u32,
    pub end: u32,
    /// Children (NONE for a leaf).
    pub left: u32,
    pub right: u32,
}

pub struct KdTree<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) dim: usize,
    /// Point indices, reordered so that every node covers a contiguous range.
    pub(crate) perm: Vec<u32>,
    pub(crate) nodes: Vec<Node>,
    /// Per node: lower corner then upper corner of its bounding box (2 × dim values).
    pub(crate) bbox: Vec<f32>,
    /// The points again in `perm` order, so that a leaf's points lie side by side in memory:
    /// read through `perm` they were scattered over the whole matrix, a cache miss per point.
    sorted: Vec<f32>,
}

impl<'a> KdTree<'a> {
    pub fn new(data: &'a [f32], dim: usize) -> Self {
        assert!(dim > 0 && data.len().is_multiple_of(dim));
        let n = data.len() / dim;
        let mut t = KdTree {
            data,
            dim,
            perm: (0..n as u32).collect(),
            nodes: Vec::new(),
            bbox: Vec::new(),
            sorted: Vec::new(),
        };
        if n > 0 {
            t.build(0, n);
        }
        t.sorted = t.perm.iter().flat_map(|&p| t.point(p)).copied().collect();
        t
    }

    pub fn len(&self) -> usize {
        self.perm.len()
    }
    pub fn is_empty(&self) -> bool {
        self.perm.is_empty()
    }

    #[inline]
    pub(crate) fn point(&self, i: u32) -> &[f32] {
        let i = i as usize * self.dim;
        &self.data[i..i + self.dim]
    }

    fn build(&mut self, start: usize, end: usize) -> u32 {
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            start: start as u32,
            end: end as u32,
            left: NONE,
            right: NONE,
        });
        let d = self.dim;
        let mut lo = vec![f32::INFINITY; d];
        let mut hi = vec![f32::NEG_INFINITY; d];
        for &p in &self.perm[start..end] {
            for (j, &v) in self.point(p).iter().enumerate() {
                lo[j] = lo[j].min(v);
                hi[j] = hi[j].max(v);
            }
        }
        self.bbox.extend_from_slice(&lo);
        self.bbox.extend_from_slice(&hi);
        if end - start > LEAF {
            let axis = (0..d)
                .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
                .unwrap_or(0);
            if hi[axis] > lo[axis] {
                let mid = (start + end) / 2;
                let (data, dim) = (self.data, self.dim);
                self.perm[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
                    data[a as usize * dim + axis].total_cmp(&data[b as usize * dim + axis])
                });
                let left = self.build(start, mid);
                let right = self.build(mid, end);
                self.nodes[id as usize].left = left;
                self.nodes[id as usize].right = right;
            }
        }
        id
    }

    /// Squared distance from `q` to the node's bounding box (0 inside it).
    #[inline]
    pub(crate) fn box_dist2(&self, node: u32, q: &[f32]) -> f32 {
        let b = &self.bbox[node as usize * 2 * self.dim..(node as usize + 1) * 2 * self.dim];
        let (lo, hi) = b.split_at(self.dim);
        // Without branches: which side of the box q lies on is a coin toss per axis, and the
        // mispredicted branches were most of a 12-D search's time. The same sums as before.
        let mut s = 0f32;
        for ((&v, &l), &h) in q.iter().zip(lo).zip(hi) {
            let e = larger(larger(l - v, v - h), 0.0);
            s += e * e;
        }
        s
    }

    /// A leaf's points: (index, coordinates), side by side in memory.
    pub(crate) fn leaf(&self, nd: Node) -> impl Iterator<Item = (u32, &[f32])> {
        let (start, end) = (nd.start as usize, nd.end as usize);
        let points = self.sorted[start * self.dim..end * self.dim].chunks_exact(self.dim);
        self.perm[start..end].iter().copied().zip(points)
    }

    /// The leaf that `q` falls in, or nearest to it (down the nearer child at every node).
    pub fn leaf_of(&self, q: &[f32]) -> u32 {
        let mut node = 0u32;
        if self.is_empty() {
            return node;
        }
        loop {
            let nd = self.nodes[node as usize];
            if nd.left == NONE {
                return node;
            }
            node = if self.box_dist2(nd.left, q) <= self.box_dist2(nd.right, q) {
                nd.left
            } else {
                nd.right
            };
        }
    }

    /// The `k` nearest points to `q` (the point itself included when it is in the tree), as
    /// (squared distance, index), nearest first; ties go to the smaller index.
    pub fn knn(&self, q: &[f32], k: usize) -> Vec<(f32, u32)> {
        let mut best: Vec<(f32, u32)> = Vec::with_capacity(k + 1);
        if k > 0 && !self.is_empty() {
            self.knn_rec(0, q, k, &mut best);
        }
        best
    }

    fn knn_rec(&self, node: u32, q: &[f32], k: usize, best: &mut Vec<(f32, u32)>) {
        let nd = self.nodes[node as usize];
        if nd.left == NONE {
            for (p, x) in self.leaf(nd) {
                let d = dist2(x, q);
                if best.len() < k || (d, p) < best[k - 1] {
                    let pos = best.partition_point(|&e| e < (d, p));
                    best.insert(pos, (d, p));
                    best.truncate(k);
                }
            }
            return;
        }
        let (dl, dr) = (self.box_dist2(nd.left, q), self.box_dist2(nd.right, q));
        let order = if dl <= dr {
            [(nd.left, dl), (nd.right, dr)]
        } else {
            [(nd.right, dr), (nd.left, dl)]
        };
        for (child, dc) in order {
            if best.len() < k || dc <= best[k - 1].0 {
                self.knn_rec(child, q, k, best);
            }
        }
    }

    /// k nearest neighbours of every point in the tree, in parallel: row i holds point i's list.
    pub fn knn_all(&self, k: usize) -> Vec<Vec<(f32, u32)>> {
        self.for_each_point(|i| self.knn(self.point(i), k))
    }

    /// The point indices in the tree's order: neighbours in space are near in this list.
    pub fn order(&self) -> &[u32] {
        &self.perm
    }

    /// `f(i)` for every point i, in parallel, returned in index order. The points are visited in
    /// the tree's order: consecutive queries then walk the same nodes and leaves, which stay in
    /// cache.
    pub fn for_each_point<T: Send + Default + Clone>(
        &self,
        f: impl Fn(u32) -> T + Sync + Send,
    ) -> Vec<T> {
        scatter(&self.perm, self.perm.par_iter().map(|&i| f(i)).collect())
    }
}

/// `found[j]` put at position `order[j]`: results computed in some order of the indices back in
/// index order.
pub fn scatter<T: Default + Clone>(order: &[u32], found: Vec<T>) -> Vec<T> {
    let mut out = vec![T::default(); order.len()];
    for (&i, v) in order.iter().zip(found) {
        out[i as usize] = v;
    }
    out
}

/// The larger of two numbers, as one `maxss` (`f32::max` adds NaN handling; no NaN gets here).
#[inline(always)]
fn larger(a: f32, b: f32) -> f32 {
    if a > b { a } else { b }
}

#[inline]
pub fn dist2(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn knn_matches_brute_force() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for dim in [2usize, 5, 8] {
            let n = 700;
            let data: Vec<f32> = (0..n * dim).map(|_| rng.random::<f32>()).collect();
            let t = KdTree::new(&data, dim);
            let all = t.knn_all(7);
            for i in (0..n).step_by(37) {
                let q = &data[i * dim..(i + 1) * dim];
                let mut brute: Vec<(f32, u32)> = (0..n)
                    .map(|j| (dist2(q, &data[j * dim..(j + 1) * dim]), j as u32))
                    .collect();
                brute.sort_by(|a, b| a.partial_cmp(b).unwrap());
                brute.truncate(7);
                assert_eq!(all[i], brute, "dim {dim} point {i}");
                assert_eq!(all[i][0].1, i as u32);
            }
        }
    }

    #[test]
    fn a_point_of_the_tree_lies_in_the_leaf_found_for_it() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let (n, dim) = (900, 4);
        let data: Vec<f32> = (0..n * dim).map(|_| rng.random::<f32>()).collect();
        let t = KdTree::new(&data, dim);
        for i in 0..n {
            let nd = t.nodes[t.leaf_of(&data[i * dim..(i + 1) * dim]) as usize];
            assert_eq!(nd.left, NONE, "point {i}: not a leaf");
            assert!(
                t.perm[nd.start as usize..nd.end as usize].contains(&(i as u32)),
                "point {i} is not in its leaf"
            );
        }
    }

    #[test]
    fn duplicate_points_are_handled() {
        let data = vec![1.0f32; 2 * 100];
        let t = KdTree::new(&data, 2);
        let nn = t.knn(&[1.0, 1.0], 5);
        assert_eq!(
            nn.iter().map(|e| e.1).collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 4]
        );
    }
}
