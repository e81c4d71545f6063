//! The region-wise sampler (sca-qr's last pass) alone and the pipeline on the curved and
//! crumpled categories of the synthetic set, with times; `--errors` also prints, per stage of
//! the sampler, how many modules it sampled wrong (against the code's true modules), in total and
//! in the worst 13×13 block.
//!
//! ```text
//! cargo run --release -p sca-scan --example regions_diag -- [--errors] [category]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use sca_scan::{SAMPLE_PAYLOAD, code_modules, compose, standard_set};

fn main() {
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let errors = std::env::args().any(|a| a == "--errors");
    let only: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    // --levels=2:1.0:1,4:0.5:1 (nodes per cell, reach in modules, sweeps)
    let levels: Vec<(usize, f64, usize)> = std::env::args()
        .find_map(|a| a.strip_prefix("--levels=").map(str::to_owned))
        .unwrap_or_else(|| "2:1.0:1,4:0.5:1".to_owned())
        .split(',')
        .map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f[0].parse().unwrap(), f[1].parse().unwrap(), f[2].parse().unwrap())
        })
        .collect();
    let map = std::env::args().any(|a| a == "--map");
    let quiet = 4u32;
    let dim = modules.width() - 2 * quiet;
    let truth: Vec<bool> = (0..dim * dim)
        .map(|i| modules.get_pixel(quiet + i % dim, quiet + i / dim).0[0] < 128)
        .collect();
    if std::env::args().any(|a| a == "--empty") {
        for seed in 0..16 {
            let frame = compose(&modules, &sca_scan::Scene::cluttered_720p_empty(800 + seed)).unwrap();
            let t = Instant::now();
            let r = sca_qr::decode_regions_alone(&frame);
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let t = Instant::now();
            let p = sca_qr::decode_luma(&frame);
            let ms_p = t.elapsed().as_secs_f64() * 1e3;
            println!(
                "empty {seed}: regions {ms:6.1} ms ({r:?}), pipeline {ms_p:6.1} ms ({:?})",
                p.map(|d| d.text)
            );
        }
        return;
    }
    for case in standard_set() {
        if let Some(o) = &only {
            if !case.category.contains(o.as_str()) {
                continue;
            }
        } else if !case.category.starts_with("curved") && !case.category.starts_with("crumpled") {
            continue;
        }
        let frame = compose(&modules, &case.scene).unwrap();
        let t = Instant::now();
        let alone = sca_qr::decode_regions_alone(&frame);
        let ms_alone = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let trace = sca_qr::decode_luma_traced(&frame);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        println!(
            "{:<20} {:<45} regions {:<5} {:6.1} ms | pipeline {:<30} {:6.1} ms",
            case.category,
            case.label,
            alone.as_deref() == Some(SAMPLE_PAYLOAD),
            ms_alone,
            trace
                .decoded
                .map(|d| format!("{:?}/{:?}", d.pass, d.decoder))
                .unwrap_or_else(|| "-".into()),
            ms
        );
        if errors {
            for (v, stage, bits, found) in sca_qr::regions_debug(&frame, &levels) {
                if bits.len() != truth.len() {
                    println!("    v{v} {stage}: {} bits", bits.len());
                    continue;
                }
                let wrong: Vec<bool> = bits.iter().zip(&truth).map(|(a, b)| a != b).collect();
                let total = wrong.iter().filter(|w| **w).count();
                let d = dim as usize;
                let mut worst = (0, 0, 0);
                let mut grid = String::new();
                for by in 0..d.div_ceil(13) {
                    for bx in 0..d.div_ceil(13) {
                        let mut c = 0;
                        for y in by * 13..((by + 1) * 13).min(d) {
                            for x in bx * 13..((bx + 1) * 13).min(d) {
                                c += usize::from(wrong[y * d + x]);
                            }
                        }
                        if c > worst.0 {
                            worst = (c, bx, by);
                        }
                        grid.push_str(&format!("{c:3}"));
                    }
                    grid.push_str(" |");
                }
                let f: String = found.iter().map(|&f| if f { 'F' } else { '.' }).collect();
                println!(
                    "    v{v} {stage:<8} wrong {total:4} / {} ({:4.1} %), worst 13x13 block {} at ({}, {}); aps {f}",
                    d * d,
                    100.0 * total as f64 / (d * d) as f64,
                    worst.0,
                    worst.1,
                    worst.2
                );
                if map {
                    println!("      {grid}");
                }
            }
        }
    }
}
