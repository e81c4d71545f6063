//! The image-file sources on real files in a temporary folder.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use image::GrayImage;
use sca_scan::{FrameSource, ImageFiles, Pacing, ScanError, StillImage};

fn png(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, sca_qr::render_png(text, 2).unwrap()).unwrap();
    path
}

#[test]
fn folder_in_natural_order_images_only() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["10.png", "2.PNG", "1.jpg", "b.jpeg"] {
        let img = GrayImage::from_pixel(4, 4, image::Luma([name.len() as u8 * 20]));
        let format = if name.to_lowercase().ends_with("png") {
            image::ImageFormat::Png
        } else {
            image::ImageFormat::Jpeg
        };
        img.save_with_format(dir.path().join(name), format).unwrap();
    }
    std::fs::write(dir.path().join("notes.txt"), "not an image").unwrap();
    std::fs::create_dir(dir.path().join("sub.png")).unwrap();
    let mut src = ImageFiles::from_dir(dir.path()).unwrap();
    let names: Vec<String> = src
        .paths()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["1.jpg", "2.PNG", "10.png", "b.jpeg"]);
    assert_eq!(src.pacing(), Pacing::OnDemand);
    assert!(src.describe().contains("4 image(s)"), "{}", src.describe());
    let mut seqs = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        assert_eq!(f.image.dimensions(), (4, 4));
        seqs.push(f.seq);
    }
    assert_eq!(seqs, [0, 1, 2, 3]);
    assert!(src.next_frame().unwrap().is_none(), "stays ended");
}

/// On a step clock the same source stamps its frames exactly one interval apart and does not
/// sleep: tests play a camera's time without spending it.
#[test]
fn a_frame_rate_on_a_step_clock_does_not_sleep() {
    let dir = tempfile::tempdir().unwrap();
    png(dir.path(), "a.png", "a");
    let clock = sca_scan::StepClock::new_shared();
    let mut src = ImageFiles::from_dir(dir.path())
        .unwrap()
        .looping(true)
        .at_fps(50.0)
        .unwrap()
        .on_clock(clock.clone());
    assert_eq!(src.pacing(), Pacing::OnDemand);
    let start = clock.now();
    let frames: Vec<_> = (0..6).map(|_| src.next_frame().unwrap().unwrap()).collect();
    for (k, frame) in frames.iter().enumerate() {
        assert_eq!(frame.captured_at - start, Duration::from_millis(20) * k as u32);
    }
}

#[test]
fn looping_at_a_frame_rate() {
    let dir = tempfile::tempdir().unwrap();
    png(dir.path(), "a.png", "a");
    png(dir.path(), "b.png", "b");
    let mut src = ImageFiles::from_dir(dir.path())
        .unwrap()
        .looping(true)
        .at_fps(50.0)
        .unwrap();
    assert_eq!(src.pacing(), Pacing::Live);
    let t = Instant::now();
    let frames: Vec<_> = (0..6).map(|_| src.next_frame().unwrap().unwrap()).collect();
    // Six frames at 50 fps: at least five intervals of 20 ms.
    assert!(t.elapsed() >= Duration::from_millis(95), "{:?}", t.elapsed());
    assert_eq!(frames.iter().map(|f| f.seq).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(frames[0].image, frames[2].image);
    assert_ne!(frames[0].image, frames[1].image);
    for w in frames.windows(2) {
        assert!(w[1].captured_at >= w[0].captured_at);
    }
    assert!(matches!(
        ImageFiles::from_dir(dir.path()).unwrap().at_fps(0.0),
        Err(ScanError::InvalidConfig { field: "fps", .. })
    ));
}

#[test]
fn missing_and_empty_folders_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(ImageFiles::from_dir(dir.path()), Err(ScanError::NoImages(p)) if p == dir.path()));
    let missing = dir.path().join("nope");
    assert!(matches!(ImageFiles::from_dir(&missing), Err(ScanError::Io { path, .. }) if path == missing));
    assert!(matches!(
        ImageFiles::from_paths(vec![]),
        Err(ScanError::InvalidConfig { field: "paths", .. })
    ));
}

#[test]
fn still_image_once_or_repeating() {
    let dir = tempfile::tempdir().unwrap();
    let path = png(dir.path(), "code.png", "still");
    let mut once = StillImage::from_file(&path).unwrap();
    assert_eq!(once.pacing(), Pacing::OnDemand);
    let f = once.next_frame().unwrap().unwrap();
    assert_eq!(sca_qr::decode_luma(&f.image).unwrap().text, "still");
    assert!(once.next_frame().unwrap().is_none());

    let mut rep = StillImage::from_file(&path).unwrap().repeating(100.0).unwrap();
    assert_eq!(rep.pacing(), Pacing::Live);
    for seq in 0..3 {
        assert_eq!(rep.next_frame().unwrap().unwrap().seq, seq);
    }
    assert!(rep.describe().contains("code.png"));

    let bad = dir.path().join("bad.png");
    std::fs::write(&bad, b"GIF89a").unwrap();
    assert!(matches!(
        StillImage::from_file(&bad),
        Err(ScanError::Image {
            source: sca_qr::DecodeError::UnsupportedFormat,
            ..
        })
    ));
}
