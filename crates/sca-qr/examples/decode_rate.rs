//! Decode rate and time per image of rxing alone, rqrr alone and the sca-qr pipeline on the
//! shared set of real QR photos, plus the pipeline's time on synthetic camera frames.
//!
//! ```text
//! cargo run --release -p sca-qr --example decode_rate -- [DIR]
//! ```
//!
//! `DIR` defaults to `$SIGILLO_QR_PHOTOS`, else `shared/qr-photos` beside the repository. Each
//! image is decoded `REPEAT` times per method and its median time kept; the table shows the
//! median over images. Image-file decoding (PNG → luma) is not included in the times.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/common/photos.rs"]
mod photos;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use image::{GrayImage, Luma, imageops};
use sca_qr::{Decoder, decode_luma, decode_luma_traced, decode_with, load_luma};

/// Runs per image and method; the median is kept.
const REPEAT: usize = 3;

/// The payload shape used for the synthetic frames.
const PAYLOAD: &str = "SIGILLO/1\nop=bonifico\nbeneficiario=Società Cooperativa Edilizia\n\
    iban=IT60X0542811101000000123456\nimporto=1250.00 EUR\nnonce=9f1c2e7a\n\
    sig=MEUCIQDx3k2v7Q0yX9Wm1o6q2Zb8Rr4tJ5a9nL0pK1cV2dE3fgIgB7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8=\n";

#[derive(Default)]
struct Row {
    ok: usize,
    ok_ascii: usize,
    ms: Vec<f64>,
}

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(photos::default_dir, PathBuf::from);
    let set = photos::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let total = set.len();
    let total_ascii = set.iter().filter(|p| p.is_ascii()).count();
    println!(
        "photo set: {} ({total} photos, {total_ascii} with ASCII text)",
        dir.display()
    );

    let methods = ["rxing alone", "rqrr alone", "pipeline"];
    let mut rows: Vec<Row> = methods.iter().map(|_| Row::default()).collect();
    let mut by_stage: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut panics = 0;

    for photo in &set {
        let luma = load_luma(&photo.bytes).unwrap_or_else(|e| panic!("{}: {e}", photo.name));
        for (i, row) in rows.iter_mut().enumerate() {
            let mut times = Vec::with_capacity(REPEAT);
            let mut text = None;
            for _ in 0..REPEAT {
                let start = Instant::now();
                text = match i {
                    0 => decode_with(Decoder::Rxing, &luma),
                    1 => decode_with(Decoder::Rqrr, &luma),
                    _ => decode_luma(&luma).map(|d| d.text),
                };
                times.push(start.elapsed().as_secs_f64() * 1000.0);
            }
            row.ms.push(photos::median_ms(&mut times));
            if text.as_deref() == Some(photo.expected.as_str()) {
                row.ok += 1;
                row.ok_ascii += usize::from(photo.is_ascii());
            }
        }
        let trace = decode_luma_traced(&luma);
        panics += trace.panics();
        match &trace.decoded {
            Some(d) if d.text == photo.expected => {
                *by_stage.entry(format!("{:?} on {:?}", d.decoder, d.pass)).or_default() += 1;
            }
            Some(d) => failures.push(format!(
                "{}: WRONG TEXT {:?} (expected {:?})",
                photo.name,
                shorten(&d.text),
                shorten(&photo.expected)
            )),
            None => failures.push(format!("{}: not found", photo.name)),
        }
    }

    println!();
    println!(
        "| {:<12} | {:>9} | {:>6} | {:>11} | {:>7} | {:>9} | {:>7} | {:>8} |",
        "method", "decoded", "rate", "ASCII-only", "rate", "median ms", "p90 ms", "max ms"
    );
    println!(
        "|{:-<14}|{:->11}|{:->8}|{:->13}|{:->9}|{:->11}|{:->9}|{:->10}|",
        "", "", "", "", "", "", "", ""
    );
    for (name, row) in methods.iter().zip(rows.iter_mut()) {
        let mut ms = row.ms.clone();
        let median = photos::median_ms(&mut ms);
        let p90 = ms[(ms.len() * 9 / 10).min(ms.len() - 1)];
        let max = ms.last().copied().unwrap_or(0.0);
        println!(
            "| {:<12} | {:>9} | {:>5.1}% | {:>11} | {:>6.1}% | {:>9.2} | {:>7.2} | {:>8.2} |",
            name,
            format!("{}/{total}", row.ok),
            pct(row.ok, total),
            format!("{}/{total_ascii}", row.ok_ascii),
            pct(row.ok_ascii, total_ascii),
            median,
            p90,
            max
        );
    }
    println!();
    println!("pipeline, correct reads by stage: {by_stage:?}");
    println!("decoder panics caught during the traced runs: {panics}");
    println!("pipeline failures ({}):", failures.len());
    for f in &failures {
        println!("  {f}");
    }

    println!();
    synthetic_frames();
}

fn synthetic_frames() {
    let qr = sca_qr::load_luma(&sca_qr::render_png(PAYLOAD, 4).expect("render")).expect("load");
    let with_qr = cluttered_frame(1280, 720, Some((&qr, 760, 180)), 1);
    let without = cluttered_frame(1280, 720, None, 1);
    let big_qr = imageops::resize(&qr, qr.width() * 4, qr.height() * 4, imageops::FilterType::Triangle);
    let large = cluttered_frame(4000, 3000, Some((&big_qr, 1800, 900)), 2);

    for (label, frame, runs, expect) in [
        ("1280x720 cluttered frame with a QR", &with_qr, 31, true),
        (
            "1280x720 cluttered frame, no QR (full fallback chain)",
            &without,
            11,
            false,
        ),
        ("4000x3000 photo-sized frame with a QR", &large, 5, true),
    ] {
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let start = Instant::now();
            last = decode_luma(frame);
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        let ok = last.as_ref().is_some_and(|d| d.text == PAYLOAD);
        assert_eq!(ok, expect, "{label}: unexpected result {last:?}");
        let stage = last.map_or_else(|| "none".to_owned(), |d| format!("{:?} on {:?}", d.decoder, d.pass));
        let trace = decode_luma_traced(frame);
        println!(
            "pipeline on {label}: median {:.2} ms over {runs} runs; read by {stage}; {} attempts",
            photos::median_ms(&mut times),
            trace.attempts.len()
        );
        for a in &trace.attempts {
            println!(
                "    {:?} on {:?}: {:?} in {:.2} ms",
                a.decoder,
                a.pass,
                a.outcome,
                a.elapsed.as_secs_f64() * 1000.0
            );
        }
    }
}

/// A grey frame with gradient lighting, random boxes and stripes (clutter), an optional code
/// pasted at (x, y), and ±16 levels of uniform noise everywhere, from a fixed seed.
fn cluttered_frame(w: u32, h: u32, qr: Option<(&GrayImage, u32, u32)>, seed: u64) -> GrayImage {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ seed);
    let mut frame = GrayImage::from_fn(w, h, |x, y| Luma([(90 + x * 60 / w + y * 40 / h) as u8]));
    for _ in 0..60 {
        let (bx, by) = (rng.below(w), rng.below(h));
        let (bw, bh) = (20 + rng.below(w / 6), 10 + rng.below(h / 6));
        let shade = rng.below(256) as u8;
        let striped = rng.below(2) == 0;
        for y in by..(by + bh).min(h) {
            for x in bx..(bx + bw).min(w) {
                if !striped || (x / 3) % 2 == 0 {
                    frame.put_pixel(x, y, Luma([shade]));
                }
            }
        }
    }
    if let Some((code, ox, oy)) = qr {
        for (x, y, p) in code.enumerate_pixels() {
            if ox + x < w && oy + y < h {
                // A screen photographed: black is not quite black, white not quite white.
                let v = 30 + u32::from(p.0[0]) * 190 / 255;
                frame.put_pixel(ox + x, oy + y, Luma([v as u8]));
            }
        }
    }
    for p in frame.pixels_mut() {
        let noise = rng.below(33) as i32 - 16;
        p.0[0] = (i32::from(p.0[0]) + noise).clamp(0, 255) as u8;
    }
    frame
}

struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n.max(1))) as u32
    }
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { 100.0 * n as f64 / d as f64 }
}

fn shorten(s: &str) -> String {
    let short: String = s.chars().take(48).collect();
    if short.len() < s.len() {
        format!("{short}…")
    } else {
        short
    }
}
