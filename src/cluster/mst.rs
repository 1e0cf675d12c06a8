//! Minimum spanning tree of the mutual-reachability graph, max(core(a), core(b), d(a, b)), by
//! Borůvka's algorithm over a kd-tree: each round every point finds its nearest point in another
//! component, pruning whole nodes that lie in its own component or cannot beat the best so far.
use crate::kdtree::{KdTree, NONE, dist2};

/// A weighted edge; `w` is the mutual-reachability distance (not squared).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub a: u32,
    pub b: u32,
    pub w: f32,
}

pub(crate) struct UnionFind {
    parent: Vec<u32>,
    rank: Vec<u8>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
            rank: vec![0; n],
        }
    }
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }
    /// Joins the sets of `a` and `b`; false when they were already one.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (ra, rb) = if self.rank[ra as usize] < self.rank[rb as usize] {
            (rb, ra)
        } else {
            (ra, rb)
        };
        self.parent[rb as usize] = ra;
        if self.rank[ra as usize] == self.rank[rb as usize] {
            self.rank[ra as usize] += 1;
        }
        true
    }
}

/// Squared core distance of every point: squared distance to its `min_samples`-th nearest
/// neighbour, the point itself counted (sklearn's convention).
pub fn core_distances2(tree: &KdTree, min_samples: usize) -> Vec<f32> {
    let k = min_samples.clamp(1, tree.len().max(1));
    tree.for_each_point(|i| {
        tree.knn(tree.point(i), k)
            .last()
            .map(|e| e.0)
            .unwrap_or(0.0)
    })
}

/// The MST (n − 1 edges), sorted by weight then endpoints.
pub fn mutual_reachability_mst(
    tree: &KdTree,
    core2: &[f32],
    cancel: &dyn Fn() -> bool,
) -> Option<Vec<Edge>> {
    let n = tree.len();
    let nn = tree.nodes.len();
    // Smallest core distance under each node; nodes are numbered parents-before-children.
    let mut node_core = vec![f32::INFINITY; nn];
    for id in (0..nn).rev() {
        let nd = tree.nodes[id];
        node_core[id] = if nd.left == NONE {
            tree.perm[nd.start as usize..nd.end as usize]
                .iter()
                .map(|&p| core2[p as usize])
                .fold(f32::INFINITY, f32::min)
        } else {
            node_core[nd.left as usize].min(node_core[nd.right as usize])
        };
    }
    let mut uf = UnionFind::new(n);
    let mut edges: Vec<Edge> = Vec::with_capacity(n.saturating_sub(1));
    // Each point's best outside candidate from the last round: still an upper bound if valid.
    let mut cached: Vec<(f32, u32)> = vec![(f32::INFINITY, NONE); n];
    while edges.len() + 1 < n {
        if cancel() {
            return None;
        }
        let comp: Vec<u32> = (0..n as u32).map(|i| uf.find(i)).collect();
        let mut node_comp = vec![NONE; nn];
        for id in (0..nn).rev() {
            let nd = tree.nodes[id];
            node_comp[id] = if nd.left == NONE {
                let pts = &tree.perm[nd.start as usize..nd.end as usize];
                let c = comp[pts[0] as usize];
                if pts.iter().all(|&p| comp[p as usize] == c) {
                    c
                } else {
                    NONE
                }
            } else if node_comp[nd.left as usize] == node_comp[nd.right as usize] {
                node_comp[nd.left as usize]
            } else {
                NONE
            };
        }
        let search = Search {
            tree,
            core2,
            comp: &comp,
            node_comp: &node_comp,
            node_core: &node_core,
        };
        let found: Vec<(f32, u32)> = tree.for_each_point(|a| {
            let c = cached[a as usize];
            let mut best = if c.1 != NONE && comp[c.1 as usize] != comp[a as usize] {
                c
            } else {
                (f32::INFINITY, NONE)
            };
            search.nearest(0, a, &mut best);
            best
        });
        // Lightest edge leaving each component, ties broken by endpoints so the result is fixed.
        let mut comp_best: Vec<(f32, u32, u32)> = vec![(f32::INFINITY, NONE, NONE); n];
        for (a, &(w, b)) in found.iter().enumerate() {
            if b == NONE {
                continue;
            }
            let cand = (w, a as u32, b);
            let slot = &mut comp_best[comp[a] as usize];
            if cand.0 < slot.0 || (cand.0 == slot.0 && (cand.1, cand.2) < (slot.1, slot.2)) {
                *slot = cand;
            }
        }
        cached = found;
        let mut round: Vec<(f32, u32, u32)> =
            comp_best.into_iter().filter(|e| e.1 != NONE).collect();
        round.sort_by(|x, y| x.0.total_cmp(&y.0).then((x.1, x.2).cmp(&(y.1, y.2))));
        let before = edges.len();
        for (w, a, b) in round {
            if uf.union(a, b) {
                edges.push(Edge {
                    a: a.min(b),
                    b: a.max(b),
                    w: w.sqrt(),
                });
            }
        }
        if edges.len() == before {
            break; // cannot happen on a complete graph; guards against an endless loop
        }
    }
    edges.sort_by(|x, y| x.w.total_cmp(&y.w).then((x.a, x.b).cmp(&(y.a, y.b))));
    Some(edges)
}

struct Search<'a> {
    tree: &'a KdTree<'a>,
    core2: &'a [f32],
    comp: &'a [u32],
    node_comp: &'a [u32],
    node_core: &'a [f32],
}

impl Search<'_> {
    fn nearest(&self, node: u32, a: u32, best: &mut (f32, u32)) {
        let ca = self.comp[a as usize];
        if self.node_comp[node as usize] == ca {
            return;
        }
        let q = self.tree.point(a);
        let ka = self.core2[a as usize];
        let bound = ka
            .max(self.node_core[node as usize])
            .max(self.tree.box_dist2(node, q));
        if bound >= best.0 {
            return;
        }
        let nd = self.tree.nodes[node as usize];
        if nd.left == NONE {
            for (b, x) in self.tree.leaf(nd) {
                if self.comp[b as usize] == ca {
                    continue;
                }
                let w = ka.max(self.core2[b as usize]).max(dist2(q, x));
                if w < best.0 || (w == best.0 && b < best.1) {
                    *best = (w, b);
                }
            }
            return;
        }
        let (l, r) = (nd.left, nd.right);
        let (dl, dr) = (self.tree.box_dist2(l, q), self.tree.box_dist2(r, q));
        if dl <= dr {
            self.nearest(l, a, best);
            self.nearest(r, a, best);
        } else {
            self.nearest(r, a, best);
            self.nearest(l, a, best);
        }
    }
}
