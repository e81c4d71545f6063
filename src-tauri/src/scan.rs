//! The live scanner of the authenticator window: a frame source (the webcam, or the folder of
//! `--camera-frames`) through `sca-scan`'s loop, a small preview of the newest frame for the
//! window, and what the code read means: a verified operation, or a `SCA1-ACTIVATE:` QR.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use authenticator::scan::{
    CameraRequest, CameraSource, Frame, FrameSource, ImageFiles, Pacing, ScanConfig, ScanError, ScanEvent, Scanner,
};
use base64::Engine as _;
use image::GrayImage;
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::error::{CommandError, CommandResult};
use crate::state::Shared;
use crate::sync::lock;
use crate::views::events;

/// Previews are at most this wide, and at most this often: enough to aim, cheap to send.
const PREVIEW_WIDTH: u32 = 480;
const PREVIEW_EVERY: Duration = Duration::from_millis(100);

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The scan in progress: one per app (one camera, one authenticator window), owned here.
static ACTIVE: std::sync::Mutex<Option<ActiveScan>> = std::sync::Mutex::new(None);

/// The scan in progress.
#[derive(Debug)]
pub struct ActiveScan {
    generation: u64,
    scanner: Scanner,
}

/// A small JPEG of a frame, for the window to show while the customer aims.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewFrame {
    pub data_url: String,
    pub width: u32,
    pub height: u32,
    pub seq: u64,
}

#[derive(Debug, Clone, Serialize)]
struct Refused {
    code: String,
    message: String,
}

#[derive(Debug, Clone, Serialize)]
struct Finished {
    reason: &'static str,
    message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActivationQr {
    qr_text: String,
}

/// A source that hands every frame on unchanged and, at most every 100 ms, a small JPEG of it
/// to `sink` (the window, in the app).
pub struct Preview<S, F> {
    inner: S,
    sink: F,
    last: Option<Instant>,
}

impl<S: FrameSource, F> std::fmt::Debug for Preview<S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Preview({})", self.inner.describe())
    }
}

impl<S, F> Preview<S, F> {
    /// Wraps `inner`.
    pub fn new(inner: S, sink: F) -> Self {
        Self {
            inner,
            sink,
            last: None,
        }
    }
}

impl<S: FrameSource, F: FnMut(PreviewFrame) + Send> FrameSource for Preview<S, F> {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        let frame = self.inner.next_frame()?;
        if let Some(f) = &frame
            && self.last.is_none_or(|t| t.elapsed() >= PREVIEW_EVERY)
        {
            self.last = Some(Instant::now());
            if let Some(preview) = preview(&f.image, f.seq) {
                (self.sink)(preview);
            }
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

/// The preview of one frame: at most 480 pixels wide, JPEG quality 70, as a data: URL.
pub fn preview(image: &GrayImage, seq: u64) -> Option<PreviewFrame> {
    let small = if image.width() > PREVIEW_WIDTH {
        let h = (u64::from(image.height()) * u64::from(PREVIEW_WIDTH) / u64::from(image.width().max(1))).max(1);
        image::imageops::resize(
            image,
            PREVIEW_WIDTH,
            u32::try_from(h).ok()?,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image.clone()
    };
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 70)
        .encode_image(&small)
        .ok()?;
    Some(PreviewFrame {
        data_url: format!(
            "data:image/jpeg;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&jpeg)
        ),
        width: small.width(),
        height: small.height(),
        seq,
    })
}

/// Starts scanning for `profile` (an operation QR) or, with `None`, for an activation QR.
/// Replaces any scan in progress. Returns the source's description.
pub fn start(
    shared: &Arc<Shared>,
    app: &AppHandle,
    profile_id: Option<String>,
    camera: Option<u32>,
) -> CommandResult<String> {
    stop();
    let profile = profile_id.as_deref().map(|id| shared.profile(id)).transpose()?;
    let window = app.clone();
    let sink = move |p: PreviewFrame| {
        let _ = window.emit_to(crate::AUTHENTICATOR, events::SCAN_PREVIEW, p);
    };
    let source: Box<dyn FrameSource> = match &shared.options.camera_frames {
        Some(dir) => Box::new(Preview::new(
            ImageFiles::from_dir(dir)
                .and_then(|f| f.looping(true).at_fps(10.0))
                .map_err(authenticator::Error::from)?,
            sink,
        )),
        None => Box::new(Preview::new(
            CameraSource::open(camera.unwrap_or(0), CameraRequest::default()).map_err(authenticator::Error::from)?,
            sink,
        )),
    };
    let description = source.describe();
    let (scanner, rx) = Scanner::start_boxed(source, ScanConfig::default()).map_err(authenticator::Error::from)?;
    let generation = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    *lock(&ACTIVE) = Some(ActiveScan { generation, scanner });

    let shared = shared.clone();
    let app = app.clone();
    std::thread::Builder::new()
        .name("scan-events".into())
        .spawn(move || {
            for event in rx {
                match event {
                    ScanEvent::Code(read) => {
                        let done = match &profile {
                            None => match authenticator::parse_activation_qr(&read.text) {
                                Ok(_) => {
                                    let _ = app.emit_to(
                                        crate::AUTHENTICATOR,
                                        events::SCAN_ACTIVATION,
                                        ActivationQr {
                                            qr_text: read.text.trim().to_owned(),
                                        },
                                    );
                                    true
                                }
                                Err(e) => {
                                    refused(&app, e.into());
                                    false
                                }
                            },
                            Some(p) => match crate::reading::read_and_open(&app, &shared, p, &read.text) {
                                Ok(crate::reading::ReadView::Operation { operation }) => {
                                    let _ = app.emit_to(crate::AUTHENTICATOR, events::SCAN_OPERATION, operation);
                                    true
                                }
                                // A bill: its payment page is open in the banking window now, and
                                // the authenticator says so.
                                Ok(crate::reading::ReadView::Bill { bill, .. }) => {
                                    let _ = app.emit_to(crate::AUTHENTICATOR, events::SCAN_BILL, bill);
                                    true
                                }
                                // Not a payload of this bank, expired, tampered, a wrong bill: say
                                // why and keep looking (the customer may be aiming at the wrong code).
                                Err(e) => {
                                    refused(&app, e);
                                    false
                                }
                            },
                        };
                        if done {
                            stop_generation(generation);
                        }
                    }
                    ScanEvent::SourceError(e) => tracing::debug!(error = %e, "frame lost"),
                    ScanEvent::Finished(finish) => {
                        use authenticator::scan::FinishReason as R;
                        let reason = match finish.reason {
                            R::Stopped => "stopped",
                            R::SourceEnded => "source_ended",
                            R::SourceFailed => "source_failed",
                        };
                        let _ = app.emit_to(
                            crate::AUTHENTICATOR,
                            events::SCAN_FINISHED,
                            Finished { reason, message: None },
                        );
                        break;
                    }
                }
            }
        })
        .map_err(|e| CommandError::new("camera", format!("cannot start the scanner: {e}")))?;
    Ok(description)
}

fn refused(app: &AppHandle, e: CommandError) {
    let _ = app.emit_to(
        crate::AUTHENTICATOR,
        events::SCAN_REFUSED,
        Refused {
            code: e.code,
            message: e.message,
        },
    );
}

/// Stops the scan in progress, if any (the camera light goes off).
/// Stops the scan in progress, if any.
pub fn stop() {
    let active = lock(&ACTIVE).take();
    if let Some(a) = active {
        a.scanner.stop();
    }
}

fn stop_generation(generation: u64) {
    let mut slot = lock(&ACTIVE);
    if slot.as_ref().is_some_and(|a| a.generation == generation)
        && let Some(a) = slot.take()
    {
        drop(slot);
        a.scanner.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_is_a_small_jpeg_data_url() {
        let frame = GrayImage::from_fn(1280, 720, |x, y| image::Luma([((x ^ y) & 0xff) as u8]));
        let p = preview(&frame, 7).unwrap();
        assert_eq!((p.width, p.height, p.seq), (480, 270, 7));
        let b64 = p.data_url.strip_prefix("data:image/jpeg;base64,").unwrap();
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert_eq!(&bytes[..2], &[0xff, 0xd8], "a JPEG");
        assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
    }
}
