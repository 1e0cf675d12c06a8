//! The explorer's state across workers: what happens when the user acts while jobs and the
//! trainer are still running (the app is polled directly where the timing matters).
use super::jobs::{Dialogs, JobKind, Pick};
use super::{Action, Explorer, Startup};
use crate::settings::{MapInput, Settings};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct NoDialogs;

impl Dialogs for NoDialogs {
    fn pick(&self, _: Pick, _: &str) -> Option<PathBuf> {
        None
    }
}

/// The demo reads, no labels; no refinement or overlap graph (faster, and not under test).
fn demo_app(epochs: usize) -> Explorer {
    let (reads, _) = crate::reads::demo_files().unwrap();
    let startup = Startup {
        reads: Some(reads),
        settings: Settings {
            epochs: Some(epochs),
            batch_size: 256,
            seed: 7,
            refine: false,
            graph: false,
            ..Settings::default()
        },
        ..Startup::default()
    };
    Explorer::with_dialogs(startup, Arc::new(NoDialogs))
}

/// Polls the workers until `done` holds.
fn poll_until(app: &mut Explorer, what: &str, done: impl Fn(&Explorer) -> bool) {
    let start = Instant::now();
    loop {
        app.poll();
        if done(app) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "timed out waiting for {what}; errors: {:?}",
            app.errors
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn idle(app: &Explorer) -> bool {
    app.jobs.running.is_empty()
}

/// The first `n` demo reads as a FASTA file of their own.
fn demo_subset(dir: &Path, n: usize) -> PathBuf {
    let (reads, _) = crate::reads::demo_files().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(reads).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let path = dir.join("subset.fasta");
    let mut f = std::fs::File::create(&path).unwrap();
    for rec in text.split_inclusive('>').skip(1).take(n) {
        // Each piece ends with the next record's '>'; the first is that '>' alone.
        write!(f, ">{}", rec.trim_end_matches('>')).unwrap();
    }
    path
}

/// Maps the demo's k-mer vectors and saves the session.
fn saved_session(dir: &Path) -> PathBuf {
    let mut app = demo_app(5);
    poll_until(&mut app, "the demo reads", |a| a.data.is_some());
    app.act(Action::Map(MapInput::Kmers));
    poll_until(&mut app, "the map", |a| a.map.is_some() && idle(a));
    let path = dir.join("s.binscape");
    app.save_session(path.clone());
    poll_until(&mut app, "the session file", |a| {
        a.status.starts_with("Saved")
    });
    path
}

/// An explorer started on a saved session (as `binscape FILE.binscape`).
fn reopened(session: &Path) -> Explorer {
    let startup = Startup {
        session: Some(session.to_path_buf()),
        ..Startup::default()
    };
    Explorer::with_dialogs(startup, Arc::new(NoDialogs))
}

#[test]
fn reads_opened_while_training_are_not_given_its_latent_or_maps() {
    let mut h = egui_kittest::Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut Explorer| app.show(ui), demo_app(5000));
    let start = Instant::now();
    let step_until = |h: &mut egui_kittest::Harness<'_, Explorer>,
                      what: &str,
                      done: &dyn Fn(&Explorer) -> bool| {
        while !done(h.state()) {
            assert!(
                start.elapsed() < Duration::from_secs(180),
                "timed out waiting for {what}"
            );
            h.step();
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    step_until(&mut h, "the demo reads", &|a| a.data.is_some());
    h.state_mut().act(Action::Train);
    step_until(&mut h, "training", &|a| a.loss.total.len() >= 5);
    let dir = tempfile::tempdir().unwrap();
    h.state_mut()
        .act(Action::OpenReads(demo_subset(dir.path(), 600)));
    assert!(h.state().training.is_none(), "the old training goes on");
    step_until(&mut h, "the other reads", &|a| {
        a.data.as_ref().is_some_and(|d| d.index.len() == 600)
    });
    // Long enough for the stopped trainer's latent to have come (it would have by now).
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    let a = h.state();
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(a.training.is_none() && a.latent.is_none() && a.map.is_none());
    assert!(!a.jobs.is_running(JobKind::Map) && !a.jobs.is_running(JobKind::Preview));
    // The new reads map as usual.
    h.state_mut().act(Action::Map(MapInput::Kmers));
    step_until(&mut h, "the map of the other reads", &|a| {
        a.map.as_ref().is_some_and(|m| m.xy.len() == 2 * 600)
    });
}

#[test]
fn a_job_that_panics_is_an_error_not_a_job_running_for_ever() {
    let mut app = Explorer::with_dialogs(Startup::default(), Arc::new(NoDialogs));
    app.jobs
        .spawn(JobKind::Map, "Mapping and clustering", 0, |_| {
            panic!("boom")
        });
    poll_until(&mut app, "the job to end", idle);
    assert_eq!(
        app.errors,
        ["Mapping and clustering failed: internal error (boom)"]
    );
}

#[test]
fn saving_a_reopened_session_leaves_its_hierarchy_rebuilding() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_session(dir.path());
    let mut app = reopened(&path);
    // Saved in the same frame as the map comes back: the rebuild has only just started.
    poll_until(&mut app, "the session's map", |a| a.map.is_some());
    assert!(app.map.as_ref().unwrap().hierarchy_pending);
    app.save_session(dir.path().join("again.binscape"));
    poll_until(&mut app, "the rebuild and the save", idle);
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    assert!(app.status.starts_with("Saved"), "{}", app.status);
    let m = app.map.as_ref().unwrap();
    assert!(m.can_recut() && m.hierarchy.n == 1200);
}

#[test]
fn a_reopened_sessions_bins_made_on_a_job_give_way_to_a_newer_map() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_session(dir.path());
    let mut app = reopened(&path);
    poll_until(&mut app, "the session's map", |a| {
        a.map.is_some() && idle(a)
    });
    let m = app.map.as_ref().unwrap();
    assert_eq!(m.xy.len(), 2 * 1200);
    assert!(
        m.grid.bounds[2] > m.grid.bounds[0],
        "the hover grid is built"
    );
    assert!(app.status.starts_with("Session restored"), "{}", app.status);
    // Bins summarised for a map that a newer one has since replaced are not shown.
    let late = || super::jobs::Restored {
        grid: Default::default(),
        xy: Vec::new(),
        points: Arc::new(crate::features::Matrix::new(0, 2, Vec::new())),
        cut: app.map.as_ref().unwrap().cut.clone(),
        selected: Vec::new(),
        labels: None,
        latent: None,
        curves: Default::default(),
    };
    let (first, second) = (late(), late());
    let generation = m.generation;
    app.map_generation += 1;
    app.restored(generation, first);
    assert_eq!(app.map.as_ref().unwrap().xy.len(), 2 * 1200);
    assert!(idle(&app), "no hierarchy rebuilt for bins not shown");
    // Nor over a training the user started meanwhile (its curves would mix with the session's).
    app.act(Action::Train);
    assert!(app.training.is_some());
    app.restored(app.map_generation, second);
    assert_eq!(app.map.as_ref().unwrap().xy.len(), 2 * 1200);
    app.act(Action::StopTraining);
}

#[test]
fn a_session_over_other_reads_says_so_and_shows_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_session(dir.path());
    let mut s = crate::session::Session::load(&path).unwrap();
    s.reads = demo_subset(dir.path(), 600);
    let mut app = Explorer::with_dialogs(Startup::default(), Arc::new(NoDialogs));
    app.open_session_reads(path, s);
    poll_until(&mut app, "the check of the reads", |a| {
        !a.errors.is_empty() && idle(a)
    });
    assert!(app.errors[0].contains("600 reads"), "{:?}", app.errors);
    assert!(app.map.is_none() && app.latent.is_none());
    assert_eq!(app.data.as_ref().unwrap().index.len(), 600);
}

#[test]
fn a_cancelled_hierarchy_rebuild_frees_the_sliders_which_rebuild_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_session(dir.path());
    let mut app = reopened(&path);
    poll_until(&mut app, "the session's map", |a| a.map.is_some());
    let id = app
        .jobs
        .running
        .iter()
        .find(|r| r.kind == JobKind::Hierarchy);
    app.act(Action::CancelJob(id.expect("the rebuild").id));
    poll_until(&mut app, "the cancelled rebuild", idle);
    assert!(app.status.contains("not rebuilt"), "{}", app.status);
    assert!(app.map.as_ref().unwrap().can_recut());
    // The min cluster size slider re-cuts: the tree is built first.
    app.settings.min_cluster_size = 20;
    app.act(Action::Recut);
    poll_until(&mut app, "the re-cut", idle);
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    let m = app.map.as_ref().unwrap();
    assert_eq!((m.hierarchy.n, m.cut.min_cluster_size), (1200, 20));
}

#[test]
fn exports_started_together_all_finish_even_to_one_path() {
    let mut app = demo_app(5);
    poll_until(&mut app, "the demo reads", |a| a.data.is_some());
    app.act(Action::Map(MapInput::Kmers));
    poll_until(&mut app, "the map", |a| a.map.is_some() && idle(a));
    app.act(Action::SelectRows {
        rows: (0..300).collect(),
        add: false,
    });
    let dir = tempfile::tempdir().unwrap();
    let (fasta, tsv) = (dir.path().join("sel.fasta"), dir.path().join("all.tsv"));
    app.export_selection(fasta.clone());
    app.export_assignments(tsv.clone());
    app.export_selection(fasta.clone());
    poll_until(&mut app, "the exports", idle);
    assert!(app.errors.is_empty(), "{:?}", app.errors);
    let text = std::fs::read_to_string(&fasta).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with('>')).count(), 300);
    assert_eq!(std::fs::read_to_string(&tsv).unwrap().lines().count(), 1201);
    // Nothing but the two finished files is left in the folder.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn a_cut_the_user_asks_for_is_not_replaced_by_a_comparison_after_training() {
    let mut app = demo_app(5);
    for a in [
        Action::Recut,
        Action::Recluster,
        Action::Refine,
        Action::Edit(crate::bins::Edit::Merge { bins: vec![0, 1] }),
    ] {
        app.compare_pending = true;
        app.act(a);
        assert!(!app.compare_pending);
    }
    // Nor do other actions cancel it: selecting or hovering leaves the bins as they are.
    app.compare_pending = true;
    app.act(Action::Hover(Some(3)));
    app.act(Action::ClearSelection);
    assert!(app.compare_pending);
}
