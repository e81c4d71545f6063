//! Decode rates and costs of the QR pipeline and of the scanning loop (issue 4's QR benchmarks).
//!
//! ```text
//! cargo run --release -p sca-scan --example scan_bench -- [--quick]
//! ```
//!
//! Prints, as Markdown tables:
//! 1. decode rate and median ms per image on the real photos (`$SIGILLO_QR_PHOTOS`, else
//!    `shared/qr-photos` beside the repository; a missing set is an error) for rxing alone, rqrr
//!    alone and the sca-qr pipeline, all photos and ASCII-only;
//! 2. the same on the synthetic set of `sca_scan::standard_set`, per category;
//! 3. median ms per 1280×720 frame (and the full pipeline's p99), with and without a code, for the full pipeline, the fast
//!    pass, and the live strategy of the scanning loop (mean over a run of frames, as the loop
//!    spends it);
//! 4. latency from a code's first frame to its result through the scanning loop, with the
//!    synthetic source playing at 30 fps (median and p99).
//!
//! Times are wall-clock on whatever else the machine is doing: compare rows of one run.
//! `--quick` runs fewer repetitions and a shorter latency run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

#[path = "../../sca-qr/tests/common/photos.rs"]
mod photos;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image::GrayImage;
use sca_qr::{Decoder, decode_luma, decode_with, load_luma};
use sca_scan::{
    CATEGORIES, Frame, FrameSource, Pacing, SAMPLE_PAYLOAD, ScanConfig, ScanError, ScanEvent, ScanPass, Scanner, Scene,
    Shot, Strategy, SyntheticSource, code_modules, compose, fast_decode, standard_set,
};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeat = if quick { 1 } else { 3 };
    println!("# sca-scan benchmark{}", if quick { " (--quick)" } else { "" });
    println!();
    real_photos(repeat);
    synthetic_set(repeat);
    frames_720p(quick);
    loop_latency(quick);
}

// ---- 1. real photos ------------------------------------------------------------------------

const METHODS: [&str; 3] = ["rxing alone", "rqrr alone", "pipeline"];

fn run_method(i: usize, img: &GrayImage) -> Option<String> {
    match i {
        0 => decode_with(Decoder::Rxing, img),
        1 => decode_with(Decoder::Rqrr, img),
        _ => decode_luma(img).map(|d| d.text),
    }
}

/// Median ms of `repeat` runs and the last result.
fn timed(repeat: usize, mut f: impl FnMut() -> Option<String>) -> (f64, Option<String>) {
    let mut times = Vec::with_capacity(repeat);
    let mut out = None;
    for _ in 0..repeat {
        let t = Instant::now();
        out = f();
        times.push(ms(t.elapsed()));
    }
    (median(&mut times), out)
}

fn real_photos(repeat: usize) {
    let dir = photos::default_dir();
    let set = photos::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let total = set.len();
    let total_ascii = set.iter().filter(|p| p.is_ascii()).count();
    println!("## Real photos");
    println!();
    println!(
        "{} ({total} photos, {total_ascii} with ASCII text); median of {repeat} run(s) per photo, \
         image-file decoding excluded.",
        dir.display()
    );
    println!();
    let lumas: Vec<GrayImage> = set
        .iter()
        .map(|p| load_luma(&p.bytes).unwrap_or_else(|e| panic!("{}: {e}", p.name)))
        .collect();
    println!("| method | decoded | rate | ASCII-only | rate | median ms | p90 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (i, name) in METHODS.iter().enumerate() {
        let (mut ok, mut ok_ascii, mut times) = (0, 0, Vec::new());
        for (photo, luma) in set.iter().zip(&lumas) {
            let (t, text) = timed(repeat, || run_method(i, luma));
            times.push(t);
            if text.as_deref() == Some(photo.expected.as_str()) {
                ok += 1;
                ok_ascii += usize::from(photo.is_ascii());
            }
        }
        let med = median(&mut times);
        println!(
            "| {name} | {ok}/{total} | {:.1}% | {ok_ascii}/{total_ascii} | {:.1}% | {med:.2} | {:.2} | {:.2} |",
            pct(ok, total),
            pct(ok_ascii, total_ascii),
            quantile(&times, 0.9),
            times.last().copied().unwrap_or(0.0)
        );
    }
    println!();
}

// ---- 2. synthetic set ----------------------------------------------------------------------

fn synthetic_set(repeat: usize) {
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let cases = standard_set();
    println!("## Synthetic set");
    println!();
    println!(
        "{} frames of `sca_scan::standard_set` (code of {} modules a side with its quiet zone, \
         {} bytes of text); exact text match; median ms per frame over the category.",
        cases.len(),
        modules.width(),
        SAMPLE_PAYLOAD.len()
    );
    println!();
    let frames: Vec<GrayImage> = cases.iter().map(|c| compose(&modules, &c.scene).unwrap()).collect();
    println!("| category | frames | rxing alone | rqrr alone | pipeline | rxing ms | rqrr ms | pipeline ms |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut totals = [0usize; 3];
    let mut all_times: [Vec<f64>; 3] = Default::default();
    let mut misses = Vec::new();
    for cat in CATEGORIES {
        let idx: Vec<usize> = (0..cases.len()).filter(|&i| cases[i].category == cat).collect();
        let mut ok = [0usize; 3];
        let mut times: [Vec<f64>; 3] = Default::default();
        for &k in &idx {
            for m in 0..3 {
                let (t, text) = timed(repeat, || run_method(m, &frames[k]));
                times[m].push(t);
                all_times[m].push(t);
                if text.as_deref() == Some(SAMPLE_PAYLOAD) {
                    ok[m] += 1;
                    totals[m] += 1;
                } else if m == 2 {
                    misses.push(format!("{cat}: {}", cases[k].label));
                }
            }
        }
        let n = idx.len();
        println!(
            "| {cat} | {n} | {}/{n} | {}/{n} | {}/{n} | {:.2} | {:.2} | {:.2} |",
            ok[0],
            ok[1],
            ok[2],
            median(&mut times[0]),
            median(&mut times[1]),
            median(&mut times[2])
        );
    }
    let n = cases.len();
    println!(
        "| **all** | {n} | {}/{n} ({:.0}%) | {}/{n} ({:.0}%) | {}/{n} ({:.0}%) | {:.2} | {:.2} | {:.2} |",
        totals[0],
        pct(totals[0], n),
        totals[1],
        pct(totals[1], n),
        totals[2],
        pct(totals[2], n),
        median(&mut all_times[0]),
        median(&mut all_times[1]),
        median(&mut all_times[2])
    );
    println!();
    if misses.is_empty() {
        println!("Pipeline misses: none.");
    } else {
        println!("Pipeline misses: {}.", misses.join("; "));
    }
    println!();
}

// ---- 3. 1280x720 frames --------------------------------------------------------------------

fn frames_720p(quick: bool) {
    let runs = if quick { 5 } else { 21 };
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let with_code: Vec<GrayImage> = (0..8)
        .map(|s| compose(&modules, &Scene::cluttered_720p(700 + s)).unwrap())
        .collect();
    let empty: Vec<GrayImage> = (0..8)
        .map(|s| compose(&modules, &Scene::cluttered_720p_empty(800 + s)).unwrap())
        .collect();
    println!("## 1280×720 frames");
    println!();
    println!(
        "8 cluttered frames with the code (4 px modules, grey blacks and whites, ±16 noise) and 8 \
         without; per-frame medians over {runs} passes of the 8 frames."
    );
    println!();
    println!(
        "| frames | full pipeline ms | full pipeline p99 ms | rxing on the frame ms | fast pass (rxing on a half-size copy) ms | read by full | read by fast |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (label, frames) in [("with a code", &with_code), ("no code", &empty)] {
        let (mut full, mut fast, mut rxing) = (Vec::new(), Vec::new(), Vec::new());
        let (mut full_ok, mut fast_ok) = (0, 0);
        for _ in 0..runs {
            for f in frames {
                let t = Instant::now();
                let _ = decode_with(Decoder::Rxing, f);
                rxing.push(ms(t.elapsed()));
                let t = Instant::now();
                let r = decode_luma(f);
                full.push(ms(t.elapsed()));
                full_ok += usize::from(r.is_some_and(|d| d.text == SAMPLE_PAYLOAD));
                let t = Instant::now();
                let r = fast_decode(f);
                fast.push(ms(t.elapsed()));
                fast_ok += usize::from(r.is_some_and(|d| d.text == SAMPLE_PAYLOAD));
            }
        }
        let n = runs * frames.len();
        println!(
            "| {label} | {:.2} | {:.2} | {:.2} | {:.2} | {full_ok}/{n} | {fast_ok}/{n} |",
            median(&mut full.clone()),
            quantile(&full, 0.99),
            median(&mut rxing),
            median(&mut fast)
        );
    }
    println!();

    // The loop's own cost per frame, by strategy, on on-demand sources (every frame decoded).
    println!(
        "Decode time per 1280×720 frame spent by the scanning loop, by strategy (on-demand source: every \
         frame decoded, none dropped). \"moving\": every frame a different view; \"still\": one view, \
         fresh sensor noise on every frame."
    );
    println!();
    println!("| strategy | scene | frames | mean ms/frame | full runs | fast runs | frames with the code read |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let n_frames = if quick { 48 } else { 120 };
    let still = |scene: Scene| -> Vec<Shot> {
        (0..8)
            .map(|k| {
                let image = compose(
                    &modules,
                    &Scene {
                        noise_seed: k,
                        ..scene.clone()
                    },
                )
                .unwrap();
                Shot {
                    image,
                    text: None,
                    frames: 1,
                }
            })
            .collect()
    };
    let moving = |frames: &[GrayImage]| -> Vec<Shot> {
        frames
            .iter()
            .map(|img| Shot {
                image: img.clone(),
                text: None,
                frames: 1,
            })
            .collect()
    };
    let scenes: Vec<(&str, Vec<Shot>)> = vec![
        ("no code, moving", moving(&empty)),
        ("no code, still", still(Scene::cluttered_720p_empty(800))),
        ("code, moving", moving(&with_code)),
        ("code, still", still(Scene::cluttered_720p(700))),
        (
            "3 px code, still",
            still(Scene {
                module_px: 3.0,
                ..Scene::cluttered_720p(700)
            }),
        ),
    ];
    let mut strategies = vec![("full pipeline".to_owned(), Strategy::Full)];
    for n in [3, 4, 6, 8] {
        strategies.push((
            format!("live, full every {n} frames + still"),
            Strategy::Live {
                full_every: n,
                full_when_still: true,
            },
        ));
    }
    strategies.push((
        "live, full every 4 frames, no still rule".to_owned(),
        Strategy::Live {
            full_every: 4,
            full_when_still: false,
        },
    ));
    for (sname, strategy) in &strategies {
        let default = if *strategy == Strategy::LIVE_DEFAULT {
            " (default)"
        } else {
            ""
        };
        for (scene, shots) in &scenes {
            let cycles = n_frames / shots.len();
            let shots: Vec<Shot> = (0..cycles).flat_map(|_| shots.iter().cloned()).collect();
            let source = SyntheticSource::new(shots).unwrap();
            let config = ScanConfig {
                strategy: *strategy,
                repeat_after: Duration::ZERO,
                ..ScanConfig::default()
            };
            let (scanner, events) = Scanner::start(source, config).unwrap();
            let finish = wait_finish(&events);
            drop(scanner);
            let s = finish.stats;
            println!(
                "| {sname}{default} | {scene} | {} | {:.2} | {} | {} | {} |",
                s.frames_decoded,
                ms(s.decode_busy) / s.frames_decoded.max(1) as f64,
                s.full_passes,
                s.fast_passes,
                s.codes_read
            );
        }
    }
    println!();
}

fn wait_finish(events: &std::sync::mpsc::Receiver<ScanEvent>) -> sca_scan::Finish {
    loop {
        match events.recv_timeout(Duration::from_secs(300)) {
            Ok(ScanEvent::Finished(f)) => return f,
            Ok(_) => {}
            Err(e) => panic!("scanner did not finish: {e}"),
        }
    }
}

// ---- 4. latency through the loop -----------------------------------------------------------

/// Wraps a source and records when each frame was captured.
struct Recording<S> {
    inner: S,
    captured: Arc<Mutex<Vec<Instant>>>,
}

impl<S: FrameSource> FrameSource for Recording<S> {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        let frame = self.inner.next_frame()?;
        if let Some(f) = &frame {
            let mut log = self.captured.lock().unwrap();
            assert_eq!(log.len() as u64, f.seq);
            log.push(f.captured_at);
        }
        Ok(frame)
    }

    fn pacing(&self) -> Pacing {
        self.inner.pacing()
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// A scene for a seed.
type SceneFn = fn(u64) -> Scene;

fn loop_latency(quick: bool) {
    let cycles: u32 = if quick { 10 } else { 40 };
    let empty_frames = 9u32;
    let fps = 30.0;
    println!("## Webcam frame to code, through the scanning loop");
    println!();
    println!(
        "Synthetic source at {fps} fps, 1280×720: {cycles} cycles of {empty_frames} moving frames \
         without a code, then 9 frames showing a new code (a different operation id each cycle): 3 \
         frames sliding in, then held still (fresh noise on each frame). \"appear → result\" runs \
         from the capture of the first frame showing the code to the result's arrival on the caller's \
         side; \"frame → result\" from the capture of the frame it was read in."
    );
    println!();
    println!(
        "| code | strategy | codes read | appear → result median ms | p99 ms | frame → result median ms | p99 ms | frames dropped | read by fast/full |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let blank = code_modules("x").unwrap();
    let empties: Vec<GrayImage> = (0..3)
        .map(|s| compose(&blank, &Scene::cluttered_720p_empty(900 + s)).unwrap())
        .collect();
    let scenes: [(&str, SceneFn); 3] = [
        ("clear, 4 px modules", Scene::cluttered_720p),
        ("small, 3 px modules", |seed| Scene {
            module_px: 3.0,
            ..Scene::cluttered_720p(seed)
        }),
        ("low contrast (95/150)", |seed| Scene {
            dark: 95,
            light: 150,
            ..Scene::cluttered_720p(seed)
        }),
    ];
    for (scene_name, make_scene) in scenes {
        let mut shots = Vec::new();
        let mut texts = Vec::new();
        let mut first_seq = Vec::new();
        let mut seq = 0u64;
        for i in 0..cycles {
            for k in 0..empty_frames {
                shots.push(Shot {
                    image: empties[((k + i) % 3) as usize].clone(),
                    text: None,
                    frames: 1,
                });
            }
            seq += u64::from(empty_frames);
            let text = SAMPLE_PAYLOAD.replacen("48213307", &format!("{:08}", 10_000_000 + i), 1);
            let code = code_modules(&text).unwrap();
            let base = make_scene(1000 + u64::from(i));
            let frame = |dx: f64, noise_seed: u64| {
                let scene = Scene {
                    center: (base.center.0 + dx, base.center.1),
                    noise_seed,
                    ..base.clone()
                };
                compose(&code, &scene).unwrap()
            };
            // Sliding in: three frames, 2 % of the width apart.
            for k in 0..3u32 {
                shots.push(Shot {
                    image: frame(0.02 * f64::from(3 - k), u64::from(k)),
                    text: Some(text.clone()),
                    frames: 1,
                });
            }
            // Held still: three noise variants, each shown twice (six frames).
            for k in 0..3u64 {
                shots.push(Shot {
                    image: frame(0.0, 10 + k),
                    text: Some(text.clone()),
                    frames: 2,
                });
            }
            first_seq.push(seq);
            seq += 9;
            texts.push(text);
        }
        for (sname, strategy) in [
            ("live (default)", Strategy::LIVE_DEFAULT),
            ("full pipeline", Strategy::Full),
        ] {
            let source = SyntheticSource::new(shots.clone()).unwrap().at_fps(fps).unwrap();
            let captured = Arc::new(Mutex::new(Vec::new()));
            let rec = Recording {
                inner: source,
                captured: Arc::clone(&captured),
            };
            let config = ScanConfig {
                strategy,
                ..ScanConfig::default()
            };
            let (scanner, events) = Scanner::start(rec, config).unwrap();
            let (mut appear, mut frame_lat) = (Vec::new(), Vec::new());
            let (mut fast, mut full) = (0, 0);
            let finish = loop {
                match events.recv_timeout(Duration::from_secs(120)) {
                    Ok(ScanEvent::Code(r)) => {
                        let arrived = Instant::now();
                        let Some(i) = texts.iter().position(|t| *t == r.text) else {
                            panic!("unexpected text read");
                        };
                        let first = captured.lock().unwrap()[first_seq[i] as usize];
                        appear.push(ms(arrived.duration_since(first)));
                        frame_lat.push(ms(arrived.duration_since(r.captured_at)));
                        match r.scan_pass {
                            ScanPass::Fast => fast += 1,
                            ScanPass::Full => full += 1,
                        }
                    }
                    Ok(ScanEvent::Finished(f)) => break f,
                    Ok(ScanEvent::SourceError(e)) => panic!("{e}"),
                    Err(e) => panic!("{e}"),
                }
            };
            drop(scanner);
            println!(
                "| {scene_name} | {sname} | {}/{cycles} | {:.1} | {:.1} | {:.1} | {:.1} | {}/{} | {fast}/{full} |",
                appear.len(),
                median(&mut appear.clone()),
                quantile(&appear, 0.99),
                median(&mut frame_lat.clone()),
                quantile(&frame_lat, 0.99),
                finish.stats.frames_dropped,
                finish.stats.frames_captured
            );
        }
    }
    println!();
}

// ---- helpers -------------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(v: &mut [f64]) -> f64 {
    photos::median_ms(v)
}

/// The q-quantile (nearest rank) of the values; sorts a copy.
fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((q * s.len() as f64).ceil() as usize).clamp(1, s.len());
    s[rank - 1]
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { 100.0 * n as f64 / d as f64 }
}
