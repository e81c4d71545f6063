//! Cost of reading the screen (capture + decode of every QR code), under a private Xvfb.
//!
//! ```text
//! cargo run --release -p sca-scan --example screen_bench -- [--quick]
//! ```
//!
//! For each scenario an `Xvfb` of the screen's size is started, a desktop background fills it,
//! and a browser window showing a bank page (text-like clutter, title and address bars, buttons)
//! with the QR code of a real-length SCA1 payload ([`SAMPLE_PAYLOAD`], 267 bytes) is put on it.
//! Then the screen is read again and again with [`read_screen_traced`]; the capture (X11
//! `GetImage` in strips + conversion to luma) and the decode ([`sca_qr::decode_all_luma`]) are
//! timed separately. Prints a Markdown table: median and p99 of each, in milliseconds.
//!
//! Times are wall-clock on whatever else the machine is doing (the X server runs on the same
//! cores): compare rows of one run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::time::Duration;

use image::GrayImage;
use sca_scan::{PageCode, SAMPLE_PAYLOAD, TestDisplay, browser_page, read_screen_traced};

struct Scenario {
    name: &'static str,
    screen: (u32, u32),
    window: (u32, u32),
    at: (i16, i16),
    module_px: u32,
    with_code: bool,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "1920×1080, 1280×900 window, 4 px modules",
        screen: (1920, 1080),
        window: (1280, 900),
        at: (320, 90),
        module_px: 4,
        with_code: true,
    },
    Scenario {
        name: "1920×1080, same window, no code",
        screen: (1920, 1080),
        window: (1280, 900),
        at: (320, 90),
        module_px: 4,
        with_code: false,
    },
    Scenario {
        name: "3840×2160 at 200 %, 2560×1800 window, 8 px modules",
        screen: (3840, 2160),
        window: (2560, 1800),
        at: (640, 180),
        module_px: 8,
        with_code: true,
    },
    Scenario {
        name: "3840×2160 at 100 %, 1280×900 window, 4 px modules",
        screen: (3840, 2160),
        window: (1280, 900),
        at: (1200, 500),
        module_px: 4,
        with_code: true,
    },
];

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let runs = if quick { 10 } else { 60 };
    println!(
        "# screen reading benchmark ({runs} reads per row{})",
        if quick { ", --quick" } else { "" }
    );
    println!();
    println!("| scenario | found | capture median / p99 ms | decode median / p99 ms | total median / p99 ms |");
    println!("|---|---|---|---|---|");
    for s in &SCENARIOS {
        let Some(mut x) = TestDisplay::start(s.screen.0, s.screen.1).expect("Xvfb") else {
            eprintln!("the Xvfb binary is missing (apt-get install xvfb)");
            std::process::exit(1);
        };
        x.show(&wallpaper(s.screen.0, s.screen.1), 0, 0).unwrap();
        // The page is laid out at 100 % and scaled like a HiDPI browser renders it (text and
        // code grow together).
        let scale = s.module_px / 4;
        let base = (s.window.0 / scale, s.window.1 / scale);
        let codes = [PageCode {
            text: SAMPLE_PAYLOAD,
            x: base.0 - 420,
            y: 260,
            module_px: 4,
        }];
        let page = browser_page(base.0, base.1, if s.with_code { &codes } else { &[] }, 7).unwrap();
        let page = image::imageops::resize(&page, s.window.0, s.window.1, image::imageops::FilterType::Nearest);
        x.show(&page, s.at.0, s.at.1).unwrap();

        let mut capture = Vec::new();
        let mut decode = Vec::new();
        let mut total = Vec::new();
        let mut found = 0;
        // One read to warm up (first connection, page faults).
        let _ = read_screen_traced(&x.env()).unwrap();
        for _ in 0..runs {
            let read = read_screen_traced(&x.env()).unwrap();
            if read.texts == [SAMPLE_PAYLOAD] {
                found += 1;
            }
            capture.push(read.capture);
            decode.push(read.decode);
            total.push(read.capture + read.decode);
        }
        println!(
            "| {} | {found}/{runs} | {} | {} | {} |",
            s.name,
            stats(&mut capture),
            stats(&mut decode),
            stats(&mut total)
        );
    }
}

/// A desktop background: a soft diagonal gradient with a few icon-sized squares down the left.
fn wallpaper(width: u32, height: u32) -> GrayImage {
    GrayImage::from_fn(width, height, |x, y| {
        let icon = x > 20 && x < 84 && (y % 110) > 30 && (y % 110) < 94;
        image::Luma([if icon {
            200
        } else {
            (60 + (x + y) * 80 / (width + height)) as u8
        }])
    })
}

fn stats(samples: &mut [Duration]) -> String {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(samples[samples.len() / 2]);
    let p99 = ms(samples[((samples.len() as f64 * 0.99).ceil() as usize).clamp(1, samples.len()) - 1]);
    format!("{median:.1} / {p99:.1}")
}
