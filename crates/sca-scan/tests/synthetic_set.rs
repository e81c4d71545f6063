//! The synthetic set of issues 4 and 16 (`sca_scan::standard_set`): sizes, rotation, blur, low
//! contrast, perspective and cluttered 1280×720 frames, and codes on a cylinder or on crumpled
//! paper in 1280×720 frames, each decoded by the sca-qr pipeline with an exact text match.
//!
//! Measured on this machine (rxing 0.9.3, rqrr 0.11.0), pipeline reads per category:
//!   size 7/8 (misses 1.5 px modules), rotation 12/12, blur 5/6 (misses sigma 2 px),
//!   low contrast 7/7, perspective 5/7 (misses tilt 0.5, twice), cluttered 1280×720 6/6,
//!   curved 7/8 (reads a cylinder of up to 100°, misses 120°),
//!   crumpled 6/8 (reads displacements of up to 0.5 module at 3.3 px modules, 0.6 at 5 px;
//!   misses 0.6 and 0.8 at 3.3 px), the last two since the regions pass of sca-qr (2026-12-03;
//!   before it: curved 5/8, crumpled 4/8).
//! The floor asserted per category is that count minus a margin of 1 frame (for decoder
//! updates); the cases that must always read (the easy end of each category) are asserted one by
//! one.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use sca_scan::{
    CATEGORIES, SAMPLE_PAYLOAD, SMALL_MODULE_PX, Scene, code_modules, compose, fast_decode, render_scene, standard_set,
};

/// Measured pipeline reads per category, in the order of `CATEGORIES`.
const MEASURED: [(&str, usize); 8] = [
    ("size", 7),
    ("rotation", 12),
    ("blur", 5),
    ("low contrast", 7),
    ("perspective", 5),
    ("cluttered 1280x720", 6),
    ("curved 1280x720", 7),
    ("crumpled 1280x720", 6),
];
const MARGIN: usize = 1;

#[test]
fn every_category_decodes_through_the_pipeline() {
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let cases = standard_set();
    let mut read: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for case in &cases {
        let frame = compose(&modules, &case.scene).unwrap();
        assert_eq!(frame.dimensions(), (case.scene.width, case.scene.height));
        let decoded = sca_qr::decode_luma(&frame);
        let entry = read.entry(case.category).or_default();
        entry.1 += 1;
        match decoded {
            Some(d) => {
                // Never a wrong text: either the exact payload or nothing.
                assert_eq!(d.text, SAMPLE_PAYLOAD, "{}: {}", case.category, case.label);
                entry.0 += 1;
            }
            None => misses.push(format!("{}: {}", case.category, case.label)),
        }
    }
    println!("reads per category: {read:?}");
    println!("misses: {misses:?}");
    assert_eq!(
        read.keys().copied().collect::<Vec<_>>().len(),
        CATEGORIES.len(),
        "every category is in the set"
    );
    for (category, measured) in MEASURED {
        let (ok, total) = read[category];
        assert!(
            ok + MARGIN >= measured,
            "{category}: {ok}/{total} read, floor {}",
            measured - MARGIN
        );
    }
}

/// The easy end of each category reads every time, and reads with the fast pass too where the
/// scanning loop relies on it (sharp codes with modules of 3 px or more in a 1280×720 frame).
#[test]
fn easy_cases_always_read() {
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let base = Scene {
        width: 640,
        height: 640,
        noise: 6,
        dark: 20,
        light: 235,
        background: 170,
        ..Scene::default()
    };
    let cases = [
        (
            "module 2 px",
            Scene {
                module_px: 2.0,
                width: 320,
                height: 320,
                ..base.clone()
            },
        ),
        (
            "module 8 px",
            Scene {
                module_px: 8.0,
                width: 800,
                height: 800,
                ..base.clone()
            },
        ),
        (
            "rotation 45°",
            Scene {
                rotation_deg: 45.0,
                ..base.clone()
            },
        ),
        (
            "rotation 180°",
            Scene {
                rotation_deg: 180.0,
                ..base.clone()
            },
        ),
        (
            "blur 1 px",
            Scene {
                blur_sigma: 1.0,
                ..base.clone()
            },
        ),
        (
            "contrast 90/160",
            Scene {
                dark: 90,
                light: 160,
                background: 130,
                ..base.clone()
            },
        ),
        (
            "tilt 0.2",
            Scene {
                tilt: 0.2,
                ..base.clone()
            },
        ),
        (
            "uneven light",
            Scene {
                shading: 0.5,
                ..base.clone()
            },
        ),
    ];
    for (label, scene) in &cases {
        let frame = compose(&modules, scene).unwrap();
        let d = sca_qr::decode_luma(&frame).unwrap_or_else(|| panic!("{label}: not read"));
        assert_eq!(d.text, SAMPLE_PAYLOAD, "{label}");
    }
    for (seed, module_px) in [(1, 3.0), (2, 4.0), (3, 5.0)] {
        let scene = Scene {
            module_px,
            ..Scene::cluttered_720p(seed)
        };
        let frame = compose(&modules, &scene).unwrap();
        let fast = fast_decode(&frame).unwrap_or_else(|| panic!("fast pass, {module_px} px: not read"));
        assert_eq!(fast.text, SAMPLE_PAYLOAD);
        assert_eq!(fast.pass, sca_qr::Pass::Downscaled, "a 1280x720 frame is halved");
    }
}

/// Frames without a code never produce a text, whatever the clutter.
#[test]
fn empty_frames_read_nothing() {
    for seed in 0..4 {
        let frame = render_scene("unused", &Scene::cluttered_720p_empty(seed)).unwrap();
        assert!(sca_qr::decode_luma(&frame).is_none(), "seed {seed}");
        assert!(fast_decode(&frame).is_none(), "seed {seed}");
    }
}

/// Non-ASCII and multi-line text survives the synthetic optics byte for byte.
#[test]
fn text_is_exact() {
    for text in [
        "x",
        "Società\nPerché €\r\n",
        "SCA1\n00000000\nLOGIN\n\n",
        "日本語のテキスト",
    ] {
        let frame = render_scene(
            text,
            &Scene {
                module_px: 5.0,
                ..Scene::default()
            },
        )
        .unwrap();
        assert_eq!(sca_qr::decode_luma(&frame).map(|d| d.text).as_deref(), Some(text));
    }
}

/// Small (about 240 px) codes on gently curved or crumpled paper in a 1280×720 frame read with the
/// exact text; the far end of both distortions is still out of the pipeline's reach (issue 16):
/// when one of those starts reading, the distortion stopped working or the pipeline improved, and
/// the table in docs/benchmarks.md and `MEASURED` need a new measurement.
#[test]
fn curved_and_crumpled_small_codes() {
    let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
    let small = |seed| Scene {
        module_px: SMALL_MODULE_PX,
        ..Scene::cluttered_720p(seed)
    };
    for (label, scene) in [
        (
            "cylinder 40°",
            Scene {
                curvature_deg: 40.0,
                ..small(11)
            },
        ),
        (
            "cylinder 70°",
            Scene {
                curvature_deg: 70.0,
                ..small(12)
            },
        ),
        (
            "cylinder 100°",
            Scene {
                curvature_deg: 100.0,
                ..small(17)
            },
        ),
        (
            "crumpled 0.5 module",
            Scene {
                crumple: 0.5,
                ..small(18)
            },
        ),
        (
            "crumpled 0.2 module",
            Scene {
                crumple: 0.2,
                ..small(13)
            },
        ),
        (
            "crumpled 0.3 module",
            Scene {
                crumple: 0.3,
                ..small(14)
            },
        ),
    ] {
        let frame = compose(&modules, &scene).unwrap();
        let d = sca_qr::decode_luma(&frame).unwrap_or_else(|| panic!("{label}: not read"));
        assert_eq!(d.text, SAMPLE_PAYLOAD, "{label}");
    }
    for (label, scene) in [
        (
            "cylinder 120°",
            Scene {
                curvature_deg: 120.0,
                ..small(15)
            },
        ),
        (
            "crumpled 0.8 module",
            Scene {
                crumple: 0.8,
                ..small(16)
            },
        ),
    ] {
        let frame = compose(&modules, &scene).unwrap();
        assert!(
            sca_qr::decode_luma(&frame).is_none(),
            "{label}: read now; re-measure the curved and crumpled categories"
        );
    }
}
