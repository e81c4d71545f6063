//! The screen reader against a real X server: an `Xvfb` started by each test, windows showing
//! bank pages with QR codes on it, and the capture and decode of `sca_scan` reading them back.
//! A test is skipped (saying so) only when the `Xvfb` binary is missing (`make test` installs it).
#![cfg(feature = "screen")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sca_scan::{
    PageCode, SAMPLE_PAYLOAD, ScanError, ScreenBackend, ScreenEnv, TestDisplay, browser_page, capture_screen_in,
    read_screen_in, read_screen_traced,
};

fn display(width: u32, height: u32) -> Option<TestDisplay> {
    let display = TestDisplay::start(width, height).expect("start Xvfb");
    if display.is_none() {
        eprintln!("SKIPPED: the Xvfb binary is missing (apt-get install xvfb); the screen reader was not tested");
    }
    display
}

#[test]
fn a_window_with_a_code_is_read_back_exactly() {
    let Some(mut x) = display(1920, 1080) else { return };
    let page = browser_page(
        1280,
        900,
        &[PageCode {
            text: SAMPLE_PAYLOAD,
            x: 700,
            y: 300,
            module_px: 4,
        }],
        1,
    )
    .unwrap();
    x.show(&page, 300, 90).unwrap();

    let shot = capture_screen_in(&x.env()).unwrap();
    assert_eq!(shot.backend, ScreenBackend::X11);
    assert_eq!(shot.image.dimensions(), (1920, 1080));
    // The window's pixels are on the capture where the window is, in the same grey levels.
    assert_eq!(shot.image.get_pixel(300 + 5, 90 + 5).0[0], page.get_pixel(5, 5).0[0]);
    assert_eq!(shot.image.get_pixel(300 + 700, 90 + 300).0[0], 255);

    assert_eq!(read_screen_in(&x.env()).unwrap(), [SAMPLE_PAYLOAD]);
}

#[test]
fn two_codes_are_both_read_and_an_empty_screen_gives_none() {
    let Some(mut x) = display(1920, 1080) else { return };
    let page = browser_page(1280, 900, &[], 2).unwrap();
    x.show(&page, 0, 0).unwrap();
    assert_eq!(
        read_screen_in(&x.env()).unwrap(),
        Vec::<String>::new(),
        "a page without a code"
    );

    let second = SAMPLE_PAYLOAD.replace("1250.00EUR", "80.00EUR");
    let page = browser_page(
        1280,
        900,
        &[
            PageCode {
                text: SAMPLE_PAYLOAD,
                x: 100,
                y: 200,
                module_px: 4,
            },
            PageCode {
                text: &second,
                x: 750,
                y: 420,
                module_px: 3,
            },
        ],
        3,
    )
    .unwrap();
    x.show(&page, 500, 100).unwrap();
    let read = read_screen_traced(&x.env()).unwrap();
    assert_eq!(
        read.texts,
        [SAMPLE_PAYLOAD.to_owned(), second],
        "both, in reading order"
    );
    assert_eq!(read.size, (1920, 1080));

    x.clear().unwrap();
    assert_eq!(
        read_screen_in(&x.env()).unwrap(),
        Vec::<String>::new(),
        "the windows are gone"
    );
}

#[test]
fn a_4k_screen_is_read_in_strips_and_on_a_halved_copy() {
    let Some(mut x) = display(3840, 2160) else { return };
    let page = browser_page(
        2560,
        1800,
        &[PageCode {
            text: SAMPLE_PAYLOAD,
            x: 1500,
            y: 600,
            module_px: 8,
        }],
        4,
    )
    .unwrap();
    x.show(&page, 1000, 200).unwrap();
    let shot = capture_screen_in(&x.env()).unwrap();
    assert_eq!(shot.image.dimensions(), (3840, 2160));
    // The last strip's rows are there too: the window's bottom edge and the root below it.
    assert_eq!(
        shot.image.get_pixel(1000 + 3, 200 + 1799).0[0],
        page.get_pixel(3, 1799).0[0]
    );
    assert_eq!(read_screen_in(&x.env()).unwrap(), [SAMPLE_PAYLOAD]);
}

#[test]
fn no_screen_at_all_is_the_typed_error() {
    let err = read_screen_in(&ScreenEnv::default()).unwrap_err();
    assert!(matches!(err, ScanError::NoScreen { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("no screen to read: neither an X11 display nor a Wayland screenshot portal is available"),
        "{err}"
    );
}

/// A Wayland session whose portal cannot be reached (no portal on this test's session bus, or no
/// bus at all) falls back to the X11 display when there is one, and is the typed error naming
/// the portal when there is none.
#[test]
fn a_wayland_session_without_a_portal_falls_back_to_x11_or_says_why() {
    let wayland_only = ScreenEnv {
        x11_display: None,
        wayland_display: Some("wayland-sigillo-test".to_owned()),
    };
    match capture_screen_in(&wayland_only) {
        Err(ScanError::NoScreen { reason }) => assert!(reason.contains("portal"), "{reason}"),
        // A desktop session's own portal answered (a developer's machine, not `make test`).
        Ok(_) | Err(ScanError::ScreenCancelled) => {
            eprintln!("SKIPPED: this session has a working screenshot portal");
            return;
        }
        Err(other) => panic!("{other:?}"),
    }
    let Some(mut x) = display(1280, 1024) else { return };
    let page = browser_page(
        1000,
        800,
        &[PageCode {
            text: "SCA1 via XWayland",
            x: 400,
            y: 300,
            module_px: 4,
        }],
        5,
    )
    .unwrap();
    x.show(&page, 100, 100).unwrap();
    let both = ScreenEnv {
        x11_display: Some(x.name().to_owned()),
        ..wayland_only
    };
    let shot = capture_screen_in(&both).unwrap();
    assert_eq!(shot.backend, ScreenBackend::X11);
    assert_eq!(read_screen_in(&both).unwrap(), ["SCA1 via XWayland"]);
}
