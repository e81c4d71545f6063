//! # sca-scan — where the authenticator's QR codes come from, and the loop that reads them
//!
//! This crate owns the *frame sources* of the Sigillo authenticator and its *scanning loop*:
//!
//! * [`FrameSource`] — an object-safe trait yielding luma frames ([`Frame`]: an
//!   [`image::GrayImage`] with a sequence number and a capture instant), implemented by
//!   * [`CameraSource`] — a webcam through `nokhwa` (cargo feature `camera`, on by default;
//!     [`list_cameras`] returns an empty list on a machine with no camera, which is normal);
//!   * [`ImageFiles`] — PNG/JPEG files from a folder or a list, in order, optionally looping,
//!     optionally at a frame rate; [`StillImage`] — one image (a file, the clipboard through
//!     [`clipboard_image`], or pixels);
//!   * `SyntheticSource` — frames composed from a text rendered by `sca-qr` (`Scene`: size,
//!     position, rotation, perspective, blur, contrast, light, clutter, noise), for tests and
//!     benchmarks, with the standard synthetic set in `standard_set` (cargo feature `testkit`,
//!     which only tests, benchmarks and examples turn on);
//! * [`capture_screen`] and [`read_screen`] — the screen itself (X11 through a pure-Rust client,
//!   cargo feature `screen`; Wayland through the xdg-desktop-portal Screenshot interface, cargo
//!   feature `screen-portal`) and every QR code on it, for a bank page open on the same computer;
//! * [`Scanner`] — the scanning loop: reads a source on its own thread, always decodes the
//!   newest frame on another (stale frames are dropped, nothing queues), reports each new code
//!   over a bounded channel ([`ScanEvent`]), de-duplicates, never blocks the caller, and keeps
//!   the cost of frames without a code low ([`Strategy::Live`]).
//!
//! It does not own the decoders (that is `sca-qr`), nor what a code's text means (the
//! authenticator parses and verifies it), nor any UI. It has no global state; it never writes
//! files or the clipboard; no function of it panics on any input (decoder panics are caught by
//! `sca-qr`).

#![warn(missing_docs)]

mod camera;
mod clipboard;
mod error;
mod files;
mod scanner;
mod screen;
mod source;
#[cfg(any(test, feature = "testkit"))]
mod synthetic;
#[cfg(all(any(test, feature = "testkit"), feature = "screen"))]
mod testdisplay;

pub use camera::{
    CameraInfo, CameraMode, CameraRequest, CameraSource, PixelFormat, choose_mode, frame_to_luma, list_cameras,
};
pub use clipboard::clipboard_image;
pub use error::ScanError;
pub use files::{IMAGE_EXTENSIONS, ImageFiles, StillImage};
pub use scanner::{
    EVENT_CAPACITY, FAST_HALF_ABOVE, Finish, FinishReason, ScanConfig, ScanEvent, ScanPass, ScanResult, ScanStats,
    Scanner, Strategy, fast_decode,
};
pub use screen::{
    ScreenBackend, ScreenEnv, ScreenRead, ScreenShot, capture_screen, capture_screen_in, codes_on, read_screen,
    read_screen_in, read_screen_traced,
};
pub use source::{Frame, FrameSource, MAX_FPS, Pacing, ScanClock, StepClock};
#[cfg(any(test, feature = "testkit"))]
pub use synthetic::{
    CATEGORIES, Case, MAX_FRAME_SIDE, SAMPLE_PAYLOAD, SMALL_MODULE_PX, Scene, Shot, SyntheticSource, code_modules,
    compose, render_scene, standard_set,
};
#[cfg(all(any(test, feature = "testkit"), feature = "screen"))]
pub use testdisplay::{PageCode, TestDisplay, browser_page};
