//! The explorer driven through egui_kittest (no display): the real app, real workers, widgets
//! found by their accessible names. File dialogs answer with fixed paths.
use binscape::Settings;
use binscape::gui::colours::{self, ColourBy};
use binscape::gui::jobs::{Dialogs, JobKind, Pick};
use binscape::gui::{Explorer, Startup};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct FixedDialogs(Mutex<HashMap<Pick, PathBuf>>);

impl FixedDialogs {
    fn answer(&self, p: Pick, path: PathBuf) {
        self.0.lock().unwrap().insert(p, path);
    }
}

impl Dialogs for FixedDialogs {
    fn pick(&self, purpose: Pick, _: &str) -> Option<PathBuf> {
        self.0.lock().unwrap().get(&purpose).cloned()
    }
}

fn harness(app: Explorer) -> Harness<'static, Explorer> {
    Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut Explorer| app.show(ui), app)
}

/// Steps frames until `done` holds (the workers run on their own threads meanwhile).
fn wait_for(h: &mut Harness<'_, Explorer>, what: &str, done: impl Fn(&Explorer) -> bool) {
    let start = Instant::now();
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "timed out waiting for {what}; errors: {:?}",
            h.state().errors
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn demo_startup(epochs: usize) -> Startup {
    let (reads, labels) = binscape::reads::demo_files().unwrap();
    Startup {
        reads: Some(reads),
        labels: Some(labels),
        settings: Settings {
            epochs: Some(epochs),
            batch_size: 256,
            seed: 7,
            ..Settings::default()
        },
        ..Startup::default()
    }
}

#[test]
fn load_train_tune_select_and_export_the_demo() {
    let dialogs = Arc::new(FixedDialogs::default());
    let app = Explorer::with_dialogs(demo_startup(2000), dialogs.clone());
    let mut h = harness(app);
    wait_for(&mut h, "the demo reads and labels", |a| {
        a.data.is_some() && a.labels.is_some()
    });
    assert_eq!(h.state().data.as_ref().unwrap().index.len(), 1200);
    h.check_accessibility();

    // Train: loss points stream in per batch while the window keeps drawing.
    h.get_by_label("Train").click();
    wait_for(&mut h, "loss points", |a| a.loss.total.len() >= 10);
    assert!(h.state().training.is_some());
    assert!(h.state().loss.total.iter().all(|p| p[1].is_finite()));

    // The KLD weight slider reaches the running trainer, which reports when it applied it.
    h.get_by_role_and_label(Role::Slider, "KLD weight")
        .set_value_accesskit(0.02);
    wait_for(&mut h, "the trainer to apply the new KLD weight", |a| {
        a.loss
            .weight_changes
            .iter()
            .any(|&(_, _, w)| (w - 0.02).abs() < 1e-9)
    });
    let applied_at = h.state().loss.weight_changes[0].0;
    wait_for(&mut h, "batches after the change", |a| {
        a.loss
            .total
            .last()
            .is_some_and(|p| p[0] as u64 > applied_at)
    });

    // Stop early: the latent as it is gets mapped and clustered. (Not a map drawn while it
    // trained: on a loaded machine one is on screen by now.)
    h.get_by_label("Stop training").click();
    wait_for(&mut h, "the map", |a| {
        a.training.is_none() && a.map.as_ref().is_some_and(|m| m.is_final())
    });
    {
        let a = h.state();
        let m = a.map.as_ref().unwrap();
        assert_eq!(m.xy.len(), 2 * 1200);
        assert!(m.xy.iter().all(|v| v.is_finite()));
        assert_eq!(a.colours.len(), 1200);
        assert!(
            m.cut.clustering.n_clusters >= 2,
            "{} bins",
            m.cut.clustering.n_clusters
        );
        assert!(m.cut.scores.is_some());
        // The min cluster size chose itself, and the panel says from what.
        let st = m.cut.steady.expect("an automatic min cluster size");
        assert_eq!(m.cut.min_cluster_size, st.size);
        assert_eq!(a.settings.min_cluster_size, 0);
    }
    let st = h.state().map.as_ref().unwrap().cut.steady.unwrap();
    h.get_by_label(&format!(
        "auto: {} bins from {} to {}",
        st.bins, st.from, st.to
    ));
    h.check_accessibility();

    // Min cluster size re-cuts the kept tree (no retraining): each cut is the cut of that tree
    // at the slider's value, and no bin is smaller than it. (How many bins each gives depends
    // on when Stop landed, so the counts themselves are not compared.)
    for mcs in [300usize, 5, 15] {
        h.get_by_role_and_label(Role::Slider, "Min cluster size")
            .set_value_accesskit(mcs as f64);
        wait_for(&mut h, "the refined re-cut", |a| {
            let cut = &a.map.as_ref().unwrap().cut;
            cut.min_cluster_size == mcs && cut.refined.is_some()
        });
        let a = h.state();
        let m = a.map.as_ref().unwrap();
        let c = &m.cut.clustering;
        let plain = m.hierarchy.cut(mcs);
        let index = &a.data.as_ref().unwrap().index;
        let progress = binscape::Progress::default();
        let (want, splits) =
            binscape::refine::refine(index, &plain, &a.settings, &progress).unwrap();
        let want = binscape::bins::Cut::of(want, mcs, index, None, Some(splits));
        let graph = a.data.as_ref().unwrap().graph.as_ref().unwrap();
        let (want, _, _) = binscape::pipeline::graph_corrected(
            &want,
            &graph.overlaps,
            &graph.adjacency,
            index,
            None,
            a.settings.sequence_vote,
            &progress,
        )
        .unwrap();
        assert_eq!(
            c.labels, want.clustering.labels,
            "the GUI's bins are the CLI's refined cut, corrected by the overlaps"
        );
        let mut sizes = vec![0usize; c.n_clusters];
        for &l in c.labels.iter().filter(|&&l| l >= 0) {
            sizes[l as usize] += 1;
        }
        assert!(sizes.iter().all(|&s| s >= mcs), "bins {sizes:?} at {mcs}");
        assert!(m.cut.steady.is_none());
    }
    // Auto chooses again: the same size as at first (the tree has not changed).
    h.get_by_label("Auto").click();
    wait_for(&mut h, "the automatic re-cut", |a| {
        let cut = &a.map.as_ref().unwrap().cut;
        cut.steady.is_some() && cut.refined.is_some()
    });
    assert_eq!(
        h.state().map.as_ref().unwrap().cut.min_cluster_size,
        st.size
    );

    // Colour by truth, then back by bin.
    let by_bin = h.state().colours.clone();
    h.get_by_role_and_label(Role::RadioButton, "Truth").click();
    h.step();
    assert_eq!(h.state().colour_by, ColourBy::Truth);
    assert_ne!(h.state().colours, by_bin);
    h.get_by_role_and_label(Role::RadioButton, "Bin").click();
    h.step();
    assert_eq!(h.state().colours, by_bin);

    // Select bin 1 in the table and export it.
    h.get_by_label("bin_1").click();
    h.step();
    let want: Vec<String> = {
        let a = h.state();
        let m = a.map.as_ref().unwrap();
        let ids = &a.data.as_ref().unwrap().index.ids;
        let w: Vec<String> = (0..ids.len())
            .filter(|&i| m.cut.clustering.labels[i] == 0)
            .map(|i| ids[i].clone())
            .collect();
        assert_eq!(a.selection.reads, w.len());
        w
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bin_1.fasta");
    dialogs.answer(Pick::SaveFasta, out.clone());
    h.get_by_label("Export selection…").click();
    wait_for(&mut h, "the export", |a| a.status.starts_with("Wrote"));
    let text = std::fs::read_to_string(&out).unwrap();
    let got: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|h| h.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    assert!(
        text.lines()
            .filter(|l| !l.starts_with('>'))
            .all(|l| !l.is_empty())
    );
    // Nothing but the finished file is left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    h.check_accessibility();
}

#[test]
fn a_bad_file_is_reported_in_the_window_and_the_app_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.fastq");
    std::fs::write(&bad, "@r1\nACGT\n+\nII\n").unwrap();
    let app = Explorer::with_dialogs(
        Startup {
            reads: Some(bad),
            ..Startup::default()
        },
        Arc::new(FixedDialogs::default()),
    );
    let mut h = harness(app);
    wait_for(&mut h, "the error", |a| !a.errors.is_empty());
    let e = h.state().errors[0].clone();
    assert!(e.contains("broken.fastq") && e.contains("quality"), "{e}");
    assert!(h.state().data.is_none());
    // The message is on screen, and the demo still opens afterwards.
    h.get_by_label("Dismiss").click();
    h.step();
    assert!(h.state().errors.is_empty());
    h.get_by_label("Demo reads").click();
    wait_for(&mut h, "the demo after an error", |a| a.data.is_some());
}

#[test]
fn an_unwritable_export_path_is_an_error_not_a_file() {
    let dialogs = Arc::new(FixedDialogs::default());
    let mut startup = demo_startup(3);
    startup.train = true;
    let app = Explorer::with_dialogs(startup, dialogs.clone());
    let mut h = harness(app);
    wait_for(&mut h, "the map", |a| {
        a.training.is_none() && a.map.as_ref().is_some_and(|m| m.is_final())
    });
    h.get_by_label("bin_1").click();
    h.step();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no such folder").join("x.fasta");
    dialogs.answer(Pick::SaveFasta, out.clone());
    h.get_by_label("Export selection…").click();
    wait_for(&mut h, "the export error", |a| !a.errors.is_empty());
    assert!(
        h.state().errors[0].contains("x.fasta"),
        "{:?}",
        h.state().errors
    );
    assert!(!out.exists());
}

#[test]
fn baseline_maps_the_kmer_vectors_without_training() {
    let app = Explorer::with_dialogs(demo_startup(5), Arc::new(FixedDialogs::default()));
    let mut h = harness(app);
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    h.get_by_label("Map k-mers (no VAE)").click();
    wait_for(&mut h, "the baseline map", |a| a.map.is_some());
    let a = h.state();
    assert!(a.latent.is_none(), "the baseline must not train");
    let m = a.map.as_ref().unwrap();
    assert_eq!(m.xy.len(), 2 * 1200);
    assert!(m.xy.iter().all(|v| v.is_finite()));
    assert!(m.cut.clustering.n_clusters >= 2);
}

#[test]
fn labels_opened_after_refining_score_the_refined_bins_without_redoing_them() {
    let (reads, labels) = binscape::reads::demo_files().unwrap();
    let startup = Startup {
        reads: Some(reads),
        ..demo_startup(5)
    };
    let startup = Startup {
        labels: None,
        ..startup
    };
    let mut h = harness(Explorer::with_dialogs(
        startup,
        Arc::new(FixedDialogs::default()),
    ));
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    h.get_by_label("Map k-mers (no VAE)").click();
    wait_for(&mut h, "the refined baseline bins", |a| {
        a.map.as_ref().is_some_and(|m| m.cut.refined.is_some())
    });
    let before = h.state().map.as_ref().unwrap().cut.clone();
    assert!(before.scores.is_none());
    h.state_mut().open_labels(labels);
    wait_for(&mut h, "the scores", |a| {
        a.map.as_ref().unwrap().cut.scores.is_some()
    });
    let a = h.state();
    let cut = &a.map.as_ref().unwrap().cut;
    assert_eq!(
        cut.clustering, before.clustering,
        "rescoring changed the bins"
    );
    assert_eq!(cut.refined, before.refined);
    assert!(
        !a.jobs.is_running(JobKind::Refine),
        "labels re-ran refinement"
    );
    let want = binscape::metrics::score(&cut.clustering.labels, &a.labels.as_ref().unwrap().codes);
    assert_eq!(cut.scores.as_ref().unwrap().ari, want.ari);
}

#[test]
fn the_overlap_graph_corrects_the_bins_and_shows_a_reads_overlaps() {
    let mut h = harness(Explorer::with_dialogs(
        demo_startup(5),
        Arc::new(FixedDialogs::default()),
    ));
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    // Before any cut there is no graph to colour by.
    assert!(
        h.query_by_role_and_label(Role::RadioButton, "Overlaps")
            .is_some_and(|n| n.accesskit_node().is_disabled())
    );
    h.get_by_label("Map k-mers (no VAE)").click();
    wait_for(&mut h, "the refined bins corrected by the overlaps", |a| {
        a.map
            .as_ref()
            .is_some_and(|m| m.cut.refined.is_some() && m.cut.graph.is_some())
    });
    for _ in 0..3 {
        h.step();
    }
    let (links, xy) = {
        let a = h.state();
        let g = a.data.as_ref().unwrap().graph.clone().unwrap();
        assert!(
            g.overlaps.edges.len() > 500,
            "{} overlaps",
            g.overlaps.edges.len()
        );
        assert!(a.status.contains("overlaps moved"), "{}", a.status);
        // Each bin's share of overlaps that stay inside it is in the table's data.
        let cut = &a.map.as_ref().unwrap().cut;
        assert!(
            cut.bins
                .iter()
                .any(|b| b.agreement.is_some_and(|x| x > 0.8))
        );
        // ... and the genome its reads and their overlaps imply (the demo's E. coli bin:
        // 4.9 Mb at 0.3x, estimated larger for the overlaps missed).
        assert!(
            cut.bins.iter().any(|b| b
                .genome
                .is_some_and(|g| g.coverage > 0.0 && (2e6..2e7).contains(&g.size))),
            "{:?}",
            cut.bins.iter().map(|b| b.genome).collect::<Vec<_>>()
        );
        (g, a.map.as_ref().unwrap().xy.clone())
    };

    // Hover the read with the most overlaps: the status line counts them.
    let (frame, view) = h.state().scatter.last_view().unwrap();
    let i = (0..xy.len() / 2)
        .max_by_key(|&i| links.adjacency.of(i).len())
        .unwrap();
    let pos = egui::pos2(
        frame.left() + ((xy[2 * i] as f64 - view[0]) / (view[1] - view[0])) as f32 * frame.width(),
        frame.bottom()
            - ((xy[2 * i + 1] as f64 - view[2]) / (view[3] - view[2])) as f32 * frame.height(),
    );
    h.hover_at(pos);
    h.step();
    h.step();
    let hovered = h
        .state()
        .hovered
        .unwrap_or_else(|| panic!("no read under the pointer at {pos:?} in {frame:?}"));
    let n = links.adjacency.of(hovered).len();
    assert!(n > 0, "the hovered read has no overlaps");
    let text = h
        .get_by_label_contains("in its bin")
        .accesskit_node()
        .value()
        .unwrap_or_default();
    assert!(text.contains(&format!("  {n} overlaps")), "{text}");
    // And why it is in its bin: the read with the most overlaps is placed by them.
    assert!(text.contains("its overlaps place it"), "{text}");

    // Colour by overlap component: the largest components in colour, unlike the bins'.
    let by_bin = h.state().colours.clone();
    h.get_by_role_and_label(Role::RadioButton, "Overlaps")
        .click();
    h.step();
    assert_eq!(h.state().colour_by, ColourBy::Component);
    assert_ne!(h.state().colours, by_bin);

    // Colour by agreement: each read by the share of its overlaps in its bin; after the vote,
    // most reads with overlaps agree with their bin.
    h.get_by_role_and_label(Role::RadioButton, "Agreement")
        .click();
    h.step();
    {
        let a = h.state();
        assert_eq!(a.colour_by, ColourBy::Agreement);
        let labels = &a.map.as_ref().unwrap().cut.clustering.labels;
        let [all, most, few, none] = colours::AGREEMENT.map(|(_, c)| c);
        let count = |c| a.colours.iter().filter(|&&x| x == c).count();
        for (i, &c) in a.colours.iter().enumerate() {
            let (o, inside) = (
                links.adjacency.of(i).len(),
                links
                    .adjacency
                    .of(i)
                    .iter()
                    .filter(|&&(j, _)| labels[j as usize] == labels[i])
                    .count(),
            );
            let want = if labels[i] < 0 || o == 0 {
                none
            } else if inside == o {
                all
            } else if 2 * inside > o {
                most
            } else {
                few
            };
            assert_eq!(c, want, "read {i}: {inside} of {o} overlaps in its bin");
        }
        let counts = [count(all), count(most), count(few), count(none)];
        assert!(counts[0] > 4 * (counts[1] + counts[2]), "{counts:?}");
    }
    // The legend's red class selects exactly the reads drawn red: the ones to doubt.
    let red: Vec<bool> = h
        .state()
        .colours
        .iter()
        .map(|&c| c == colours::AGREEMENT[2].1)
        .collect();
    assert!(red.iter().any(|&r| r));
    h.step();
    h.get_by_label(colours::AGREEMENT[2].0).click();
    h.step();
    assert_eq!(h.state().selection.rows, red);
    h.get_by_label("Clear selection").click();
    h.step();
    assert_eq!(h.state().selection.reads, 0);
    h.get_by_role_and_label(Role::RadioButton, "Bin").click();
    h.step();

    // The sequence vote placed some of the reads the overlaps left in doubt; turned off, the
    // bins are cut and corrected again without it, and the status line no longer mentions it.
    let with_vote = {
        let a = h.state();
        let m = a.map.as_ref().unwrap();
        let g = m.cut.graph.as_ref().unwrap();
        assert!(
            g.doubted > 0 && g.sequence_moved + g.sequence_rescued > 0,
            "{g:?}"
        );
        assert!(a.status.contains("sequence models moved"), "{}", a.status);
        m.cut.clustering.labels.clone()
    };
    h.get_by_label("Sequence vote").click();
    wait_for(
        &mut h,
        "the bins corrected without the sequence vote",
        |a| {
            !a.settings.sequence_vote
                && a.map.as_ref().is_some_and(|m| {
                    m.cut.refined.is_some() && m.cut.graph.as_ref().is_some_and(|g| g.doubted == 0)
                })
        },
    );
    let a = h.state();
    let labels = &a.map.as_ref().unwrap().cut.clustering.labels;
    let changed = (0..labels.len())
        .filter(|&i| labels[i] != with_vote[i])
        .count();
    assert!(changed > 0, "the vote changed no read");
    assert!(!a.status.contains("sequence models"), "{}", a.status);
}

#[test]
fn the_map_appears_while_the_vae_is_still_training() {
    // Far more epochs than the test waits for: the map must come from training in progress.
    let startup = Startup {
        train: true,
        ..demo_startup(5000)
    };
    let app = Explorer::with_dialogs(startup, Arc::new(FixedDialogs::default()));
    let mut h = harness(app);
    wait_for(&mut h, "a map during training", |a| {
        a.map.as_ref().is_some_and(|m| m.preview.is_some())
    });
    let a = h.state();
    assert!(a.training.is_some(), "training ended before its map showed");
    let m = a.map.as_ref().unwrap();
    assert_eq!(m.xy.len(), 2 * 1200);
    assert!(m.xy.iter().all(|v| v.is_finite()));
    assert_eq!(a.colours.len(), 1200, "the map's reads are not coloured");
    assert!(
        h.query_by_label("Train the VAE (left) to draw the map of its latent.")
            .is_none(),
        "the map area still shows the placeholder"
    );
    // The bins sliders wait for the full map; stopping gives it.
    h.get_by_label("Stop training").click();
    wait_for(&mut h, "the full map", |a| {
        a.training.is_none() && a.map.as_ref().is_some_and(|m| m.preview.is_none())
    });
    assert!(h.state().map.as_ref().unwrap().cut.clustering.n_clusters >= 2);
}

#[test]
fn forty_bins_keep_the_legend_small_and_every_point_in_view() {
    let app = Explorer::with_dialogs(demo_startup(5), Arc::new(FixedDialogs::default()));
    let mut h = harness(app);
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    h.get_by_label("Map k-mers (no VAE)").click();
    wait_for(&mut h, "the refined baseline bins", |a| {
        a.map.as_ref().is_some_and(|m| m.cut.refined.is_some())
    });
    for _ in 0..5 {
        h.step();
    }
    // After a new map the view holds every read.
    let (_, view) = h.state().scatter.last_view().expect("the map was drawn");
    let xy = &h.state().map.as_ref().unwrap().xy;
    for p in xy.chunks(2) {
        let (x, y) = (p[0] as f64, p[1] as f64);
        assert!(
            x >= view[0] && x <= view[1] && y >= view[2] && y <= view[3],
            "read at ({x}, {y}) outside the view {view:?}"
        );
    }
    let (before, _) = h.state().scatter.last_view().unwrap();

    // Forty bins of 30 reads.
    {
        let a = h.state_mut();
        let index = a.data.as_ref().unwrap().index.clone();
        let m = a.map.as_mut().unwrap();
        let n = m.xy.len() / 2;
        let c = binscape::cluster::Clustering {
            labels: (0..n).map(|i| (i % 40) as i32).collect(),
            n_clusters: 40,
            strength: vec![1.0; n],
        };
        m.cut = binscape::bins::Cut::of(c, 5, &index, None, None);
        a.refresh_colours();
    }
    for _ in 0..5 {
        h.step();
    }
    let first = h.get_by_label("bin_1 (30)").rect();
    let (after, _) = h.state().scatter.last_view().unwrap();
    // The legend scrolls within about three rows: the map keeps its room.
    assert!(
        after.top() - first.top() < 110.0,
        "the legend pushed the map down to {} (legend at {})",
        after.top(),
        first.top()
    );
    // A legend row that does not wrap widened the whole panel (to 4 500 px at 40 bins).
    assert!(
        after.width() <= before.width() + 1.0,
        "map width {} → {}",
        before.width(),
        after.width()
    );
    assert!(
        after.height() > 0.8 * before.height(),
        "map height {} → {}",
        before.height(),
        after.height()
    );
    // Every bin is in the legend (reachable by scrolling) and in the bins table.
    assert!(h.query_all_by_label("bin_40 (30)").count() >= 1);
}

/// Draws a closed path on the map with the mouse (screen points), one frame per point.
fn drag_path(h: &mut Harness<'_, Explorer>, path: &[egui::Pos2]) {
    let press = |pos, pressed| egui::Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.input_mut()
        .events
        .push(egui::Event::PointerMoved(path[0]));
    h.step();
    h.input_mut().events.push(press(path[0], true));
    h.step();
    for &p in &path[1..] {
        h.input_mut().events.push(egui::Event::PointerMoved(p));
        h.step();
    }
    h.input_mut()
        .events
        .push(press(*path.last().unwrap(), false));
    h.step();
    h.step();
}

fn key(h: &mut Harness<'_, Explorer>, key: egui::Key, modifiers: egui::Modifiers) {
    for pressed in [true, false] {
        h.input_mut().events.push(egui::Event::Key {
            key,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers,
        });
    }
    h.step();
    h.step();
}

#[test]
fn merge_and_lasso_split_undo_redo_and_export_the_edited_bin() {
    let dialogs = Arc::new(FixedDialogs::default());
    let app = Explorer::with_dialogs(demo_startup(5), dialogs.clone());
    let mut h = harness(app);
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    h.get_by_label("Map k-mers (no VAE)").click();
    wait_for(&mut h, "the refined baseline bins", |a| {
        a.map.as_ref().is_some_and(|m| m.cut.refined.is_some())
    });
    for _ in 0..3 {
        h.step();
    }
    let labels_of =
        |h: &Harness<'_, Explorer>| h.state().map.as_ref().unwrap().cut.clustering.clone();
    let original = labels_of(&h);
    let k = original.n_clusters;
    assert!(k >= 3, "{k} bins");
    let size =
        |c: &binscape::cluster::Clustering, b: i32| c.labels.iter().filter(|&&l| l == b).count();

    // Merge bins 2 and 3 (selected in the table, the second with Shift).
    h.get_by_label("bin_2").click();
    h.step();
    h.state_mut().select_bin(2, true);
    h.step();
    h.get_by_label("Merge").click();
    h.step();
    let merged = labels_of(&h);
    assert_eq!(merged.n_clusters, k - 1);
    assert_eq!(size(&merged, 1), size(&original, 1) + size(&original, 2));

    // Split bin 1 with a lasso around the left half of its reads (key L picks the lasso).
    key(&mut h, egui::Key::Escape, egui::Modifiers::NONE);
    key(&mut h, egui::Key::L, egui::Modifiers::NONE);
    assert_eq!(h.state().scatter.tool, binscape::gui::scatter::Tool::Lasso);
    for _ in 0..3 {
        h.step();
    }
    let (frame, view) = h.state().scatter.last_view().unwrap();
    let xy = h.state().map.as_ref().unwrap().xy.clone();
    let bin0: Vec<usize> = (0..merged.labels.len())
        .filter(|&i| merged.labels[i] == 0)
        .collect();
    let mut xs: Vec<f32> = bin0.iter().map(|&i| xy[2 * i]).collect();
    xs.sort_by(f32::total_cmp);
    let mid = xs[xs.len() / 2] as f64;
    let (y0, y1) = bin0.iter().fold((f64::MAX, f64::MIN), |(a, b), &i| {
        (a.min(xy[2 * i + 1] as f64), b.max(xy[2 * i + 1] as f64))
    });
    let x0 = xs[0] as f64 - 0.5;
    let screen = |x: f64, y: f64| {
        egui::pos2(
            frame.left() + ((x - view[0]) / (view[1] - view[0])) as f32 * frame.width(),
            frame.bottom() - ((y - view[2]) / (view[3] - view[2])) as f32 * frame.height(),
        )
    };
    let ring = [
        screen(x0, y0 - 0.5),
        screen(mid, y0 - 0.5),
        screen(mid, y1 + 0.5),
        screen(x0, y1 + 0.5),
        screen(x0, y0 - 0.4),
    ];
    drag_path(&mut h, &ring);
    let inside: Vec<usize> = (0..xy.len() / 2)
        .filter(|&i| {
            let (x, y) = (xy[2 * i] as f64, xy[2 * i + 1] as f64);
            x > x0 && x < mid && y > y0 - 0.5 && y < y1 + 0.5
        })
        .collect();
    let selected = h.state().selection.reads;
    assert!(
        selected > 0 && selected.abs_diff(inside.len()) <= inside.len() / 20 + 2,
        "the lasso selected {selected} reads, {} lie inside it",
        inside.len()
    );
    h.get_by_label("New bin").click();
    h.step();
    let split = labels_of(&h);
    assert!(
        split.n_clusters >= merged.n_clusters,
        "{} bins",
        split.n_clusters
    );
    let new_bin = split.labels[inside[0]];
    assert_eq!(size(&split, new_bin), selected);

    // Undo both (Ctrl+Z twice), redo one (Ctrl+Shift+Z): the merge is back, the split is not.
    key(&mut h, egui::Key::Z, egui::Modifiers::COMMAND);
    assert_eq!(labels_of(&h), merged);
    key(&mut h, egui::Key::Z, egui::Modifiers::COMMAND);
    assert_eq!(labels_of(&h), original);
    key(
        &mut h,
        egui::Key::Z,
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
    );
    assert_eq!(labels_of(&h), merged);

    // Rename the merged bin and export it: the FASTA holds exactly its reads.
    key(&mut h, egui::Key::Escape, egui::Modifiers::NONE);
    h.get_by_label("bin_2").click();
    h.step();
    h.state_mut()
        .act(binscape::gui::Action::Edit(binscape::bins::Edit::Rename {
            bin: 1,
            name: "Staph".into(),
        }));
    h.step();
    assert_eq!(h.state().map.as_ref().unwrap().cut.name(1), "Staph");
    assert_eq!(labels_of(&h), merged);
    let want: Vec<String> = {
        let a = h.state();
        let ids = &a.data.as_ref().unwrap().index.ids;
        (0..ids.len())
            .filter(|&i| merged.labels[i] == 1)
            .map(|i| ids[i].clone())
            .collect()
    };
    assert_eq!(h.state().selection.reads, want.len());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("staph.fasta");
    dialogs.answer(Pick::SaveFasta, out.clone());
    h.get_by_label("Export selection…").click();
    wait_for(&mut h, "the export", |a| a.status.starts_with("Wrote"));
    let got: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix('>'))
        .map(|h| h.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(got, want);
    // The table shows the name, and the bin's details its reads.
    assert!(h.query_by_label("Staph").is_some());
    let det = h
        .state()
        .bin_details
        .clone()
        .expect("details of the one bin selected");
    assert_eq!(det.label, 1);
    assert_eq!(
        det.lengths.iter().map(|c| c.1 as usize).sum::<usize>(),
        want.len()
    );
    assert_eq!(
        det.gc.iter().map(|&c| c as usize).sum::<usize>(),
        want.len()
    );
    assert!(h.query_by_label_contains("Bin details: Staph").is_some());
    // Every new control (edit buttons, move target, rename field, details) has a name.
    h.check_accessibility();
}

#[test]
fn a_saved_session_reopens_with_the_same_map_bins_and_selection_without_training() {
    let dialogs = Arc::new(FixedDialogs::default());
    let mut h = harness(Explorer::with_dialogs(demo_startup(30), dialogs.clone()));
    wait_for(&mut h, "the demo reads and labels", |a| {
        a.data.is_some() && a.labels.is_some()
    });
    h.get_by_label("Train").click();
    // Refined, then corrected by the overlaps (a later step: on a loaded machine the session
    // could otherwise be saved between the two).
    wait_for(&mut h, "the refined bins of the trained map", |a| {
        a.training.is_none()
            && a.map
                .as_ref()
                .is_some_and(|m| m.is_final() && m.cut.refined.is_some() && m.cut.graph.is_some())
    });
    // A hand edit and a selection, both to come back.
    h.state_mut()
        .act(binscape::gui::Action::Edit(binscape::bins::Edit::Rename {
            bin: 0,
            name: "first".into(),
        }));
    h.get_by_label("bin_2").click();
    h.step();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("day1.binscape");
    dialogs.answer(Pick::SaveSession, path.clone());
    h.get_by_label("Save session…").click();
    wait_for(&mut h, "the session file", |a| {
        a.status.starts_with("Saved")
    });
    let (xy, clustering, names, selected, latent, losses, graph) = {
        let a = h.state();
        let m = a.map.as_ref().unwrap();
        (
            m.xy.clone(),
            m.cut.clustering.clone(),
            m.cut.names.clone(),
            a.selection.rows.clone(),
            a.latent.as_ref().unwrap().data.clone(),
            a.loss.total.len(),
            m.cut.graph.clone(),
        )
    };
    assert!(selected.iter().any(|&s| s));
    assert!(
        graph.is_some(),
        "the bins were not corrected by the overlaps"
    );

    // A new app on the session: no training, the same map, bins, names and selection.
    let startup = Startup {
        session: Some(path.clone()),
        ..Startup::default()
    };
    let mut h2 = harness(Explorer::with_dialogs(startup, dialogs.clone()));
    // The labels score the bins once both are back (which comes last varies with the load).
    wait_for(
        &mut h2,
        "the session's map, its hierarchy and scores",
        |a| {
            a.map
                .as_ref()
                .is_some_and(|m| !m.hierarchy_pending && m.cut.scores.is_some())
                && a.labels.is_some()
        },
    );
    let a = h2.state();
    assert!(a.training.is_none());
    let m = a.map.as_ref().unwrap();
    assert_eq!(m.xy, xy);
    assert_eq!(m.cut.clustering, clustering);
    // Marked as corrected by the overlaps: the hand-edited bins are not corrected again.
    assert_eq!(m.cut.graph, graph);
    assert_eq!(m.cut.names, names);
    assert_eq!(m.cut.name(0), "first");
    assert_eq!(a.selection.rows, selected);
    assert_eq!(a.latent.as_ref().unwrap().data, latent);
    assert_eq!(a.loss.total.len(), losses);
    assert!(m.cut.scores.is_some(), "the session's labels were reopened");
    // The min cluster size slider works again once the hierarchy is rebuilt.
    assert!(m.can_recut() && m.hierarchy.n == xy.len() / 2);

    // Headless: `binscape run --session` writes exactly those bins, under their names.
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_binscape"))
        .args(["run", "--session"])
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("assignments.tsv")).unwrap();
    let ids = &a.data.as_ref().unwrap().index.ids;
    let by_id: HashMap<&str, &str> = text
        .lines()
        .skip(1)
        .map(|l| {
            let mut f = l.split('\t');
            (f.next().unwrap(), f.next().unwrap())
        })
        .collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(by_id[id.as_str()], m.cut.name(clustering.labels[i]));
    }
    assert!(out.join("bins").join("first.fasta").exists());
}

#[test]
fn after_training_the_latent_is_compared_with_the_kmer_vectors_and_the_less_doubted_bins_shown() {
    let mut h = harness(Explorer::with_dialogs(
        demo_startup(5),
        Arc::new(FixedDialogs::default()),
    ));
    wait_for(&mut h, "the demo reads", |a| a.data.is_some());
    h.get_by_label("Train").click();
    wait_for(&mut h, "the comparison of the two maps' bins", |a| {
        a.compared.is_some() && !a.is_busy()
    });
    let a = h.state();
    let c = a.compared.unwrap();
    assert!(a.status.contains(&c.describe()), "{}", a.status);
    // The map shown is the one kept, and its bins are the ones the overlaps doubt less.
    assert_eq!(a.settings.map_input, c.kept);
    let cut = &a.map.as_ref().unwrap().cut;
    assert!(cut.refined.is_some() && cut.graph.is_some());
    let g = a.data.as_ref().unwrap().graph.clone().unwrap();
    let labels = &cut.clustering.labels;
    let doubted = binscape::graph::doubted(labels, &binscape::graph::support(labels, &g.adjacency));
    assert_eq!(doubted, c.latent_doubted.min(c.kmers_doubted), "{c:?}");
    h.get_by_label(&c.describe());
}
