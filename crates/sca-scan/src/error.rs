//! The one error type of the crate.
//!
//! "No camera" is not an error: [`crate::list_cameras`] returns an empty list. A frame that holds
//! no QR code is not an error either: the scanning loop simply reports nothing for it.

use std::path::PathBuf;

use thiserror::Error;

/// Why a frame source could not be opened or could not give a frame, or why a scan could not
/// start.
///
/// Every variant carries what is needed to tell the user what went wrong; none carries pixels or
/// decoded text. It is `Clone` so that the scanning loop can both count an error and send it to
/// the caller.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScanError {
    /// No camera with this index exists (the list of cameras does not hold it; on a machine with
    /// no camera at all every index gives this).
    #[error("no camera with index {index} ({available} camera(s) found)")]
    NoSuchCamera {
        /// The index asked for.
        index: u32,
        /// How many cameras were found.
        available: usize,
    },
    /// The camera exists but could not be opened, configured or started (busy, permission
    /// denied, no frame format that this crate can read, unplugged while opening, …).
    #[error("camera {index} is unavailable: {reason}")]
    CameraUnavailable {
        /// The index of the camera.
        index: u32,
        /// The backend's explanation.
        reason: String,
    },
    /// The camera backend could not enumerate devices (not the same as finding none).
    #[error("cannot list cameras: {0}")]
    CameraQuery(String),
    /// An open camera failed to deliver a frame, or delivered one that cannot be turned into
    /// a luma image (wrong size for its format, corrupt MJPEG, …).
    #[error("camera frame failed: {0}")]
    CameraFrame(String),
    /// The crate was built without the `camera` feature.
    #[error("camera support is not built in (cargo feature `camera`)")]
    CameraNotBuilt,
    /// A file or folder could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's explanation.
        reason: String,
    },
    /// A file was read but is not a usable PNG or JPEG image.
    #[error("cannot use image {path}: {source}")]
    Image {
        /// The file.
        path: PathBuf,
        /// What the image loader found wrong.
        source: sca_qr::DecodeError,
    },
    /// A folder holds no PNG or JPEG file.
    #[error("no PNG or JPEG image in {0}")]
    NoImages(PathBuf),
    /// The system clipboard cannot be reached (no display server, clipboard not supported,
    /// or it refused the request).
    #[error("clipboard unavailable: {0}")]
    ClipboardUnavailable(String),
    /// The clipboard holds no image (it may hold text, or nothing).
    #[error("the clipboard holds no image")]
    ClipboardEmpty,
    /// The clipboard image is unusable (larger than [`sca_qr::MAX_IMAGE_PIXELS`], or its
    /// buffer does not match its size).
    #[error("the clipboard image is unusable: {0}")]
    ClipboardImage(String),
    /// There is no screen to read: no X11 display and no Wayland screenshot portal (neither
    /// `DISPLAY` nor `WAYLAND_DISPLAY` set, the display refused the connection, the portal is
    /// missing, or the support is not built in); `reason` says which.
    #[error("no screen to read: neither an X11 display nor a Wayland screenshot portal is available ({reason})")]
    NoScreen {
        /// What was tried and why each failed.
        reason: String,
    },
    /// The user declined the screenshot portal's request.
    #[error("the screenshot was declined")]
    ScreenCancelled,
    /// The display was reached but the capture failed (an unsupported pixel format, a screen
    /// too large, a protocol error).
    #[error("screen capture failed: {0}")]
    ScreenCapture(String),
    /// The text of a synthetic frame could not be rendered as a QR code.
    #[error("cannot render the synthetic QR code: {0}")]
    Render(#[from] sca_qr::RenderError),
    /// A setting is out of range; `field` names it.
    #[error("invalid setting `{field}`: {reason}")]
    InvalidConfig {
        /// The setting's name, as in the struct or function that takes it.
        field: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// A frame source panicked while giving a frame (a bug in that source); the scanning loop
    /// caught it and stopped reading the source.
    #[error("the frame source panicked: {0}")]
    SourcePanicked(String),
    /// The operating system refused to start the scanning threads.
    #[error("cannot start the scanning thread: {0}")]
    Spawn(String),
}

impl ScanError {
    pub(crate) fn io(path: impl Into<PathBuf>, e: &std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn config(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            field,
            reason: reason.into(),
        }
    }
}
