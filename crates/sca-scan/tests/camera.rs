//! The real webcam backend (nokhwa, V4L2 on Linux) on this machine.
//!
//! The machines this project is built and tested on have no camera and cannot have one (no
//! `/dev/video*`, no v4l2loopback). There, listing cameras must succeed with an empty list ("no
//! camera" is a normal state) and opening index 0 must fail with the typed
//! `ScanError::NoSuchCamera`. On a machine that has cameras the same rules are checked against
//! the first index that is not in the list.

// Helpers outside `#[test]` functions unwrap too: a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sca_scan::{CameraRequest, CameraSource, ScanError, list_cameras};

/// Whether Linux shows any video device node.
fn video_nodes() -> usize {
    std::fs::read_dir("/dev")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with("video"))
                .count()
        })
        .unwrap_or(0)
}

#[cfg(feature = "camera")]
#[test]
fn no_camera_is_an_empty_list_and_a_typed_error() {
    let cameras = list_cameras().expect("listing cameras must not fail when there are none");
    println!("cameras: {cameras:?}");
    if cfg!(target_os = "linux") && video_nodes() == 0 {
        assert!(cameras.is_empty(), "no /dev/video* but cameras listed: {cameras:?}");
    }
    let absent = if cameras.is_empty() {
        0
    } else {
        cameras.iter().map(|c| c.index).max().unwrap_or(0) + 1
    };
    match CameraSource::open(absent, CameraRequest::default()) {
        Err(ScanError::NoSuchCamera { index, available }) => {
            assert_eq!(index, absent);
            assert_eq!(available, cameras.len());
        }
        Err(other) => panic!("expected NoSuchCamera, got {other:?}"),
        Ok(cam) => panic!("opened a camera that is not listed: {cam:?}"),
    }
    // The error tells the user something useful.
    let e = CameraSource::open(absent, CameraRequest::default()).unwrap_err();
    assert!(e.to_string().contains("no camera with index"), "{e}");
}

#[cfg(feature = "camera")]
#[test]
fn bad_requests_are_refused_before_touching_a_device() {
    for (req, field) in [
        (
            CameraRequest {
                width: 0,
                ..CameraRequest::default()
            },
            "request.width/height",
        ),
        (
            CameraRequest {
                fps: 0,
                ..CameraRequest::default()
            },
            "request.fps",
        ),
    ] {
        match CameraSource::open(0, req) {
            Err(ScanError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[cfg(not(feature = "camera"))]
#[test]
fn without_the_feature_cameras_are_not_built_in() {
    assert_eq!(list_cameras(), Err(ScanError::CameraNotBuilt));
    assert!(matches!(
        CameraSource::open(0, CameraRequest::default()),
        Err(ScanError::CameraNotBuilt)
    ));
    let _ = video_nodes();
}
