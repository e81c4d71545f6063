//! The screen as a luma frame, and every QR code on it: for a customer whose bank page is open on
//! the same computer, who cannot point that computer's webcam at its own screen.
//!
//! * **X11** (cargo feature `screen`, on by default): the root window through a pure-Rust X11
//!   client (`x11rb`, no C library), read with core `GetImage` requests in strips of rows (each
//!   reply stays a few megabytes, whatever the screen size), converted to luma with the
//!   server's own pixel format (bits per pixel, byte order and the root visual's colour masks).
//! * **Wayland** (cargo feature `screen-portal`): the `org.freedesktop.portal.Screenshot`
//!   interface of xdg-desktop-portal, which asks the user (or remembers the answer). Wayland
//!   compositors let no client read the screen otherwise: on XWayland, `GetImage` on the root
//!   sees only X11 windows, so a Wayland session tries the portal first.
//!
//! Nothing read from the screen is trusted for having come from there: the texts are handed to
//! the caller, which verifies them as it verifies a scanned code. This module never writes the
//! screen, and keeps no capture after the call (a portal's screenshot file is deleted once read).

use std::time::{Duration, Instant};

use image::GrayImage;

use crate::error::ScanError;

/// Where the screen is: the X11 display and Wayland display names, as in the `DISPLAY` and
/// `WAYLAND_DISPLAY` environment variables ([`ScreenEnv::from_env`]), or given (a test's own
/// X server, a window's display).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenEnv {
    /// The X11 display (`":0"`), `None` for none.
    pub x11_display: Option<String>,
    /// The Wayland display (`"wayland-0"`), `None` for none. When set, the screenshot portal is
    /// tried before X11.
    pub wayland_display: Option<String>,
}

impl ScreenEnv {
    /// `DISPLAY` and `WAYLAND_DISPLAY` of this process (an empty or non-UTF-8 value counts as
    /// unset).
    #[must_use]
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            x11_display: var("DISPLAY"),
            wayland_display: var("WAYLAND_DISPLAY"),
        }
    }

    /// Only this X11 display (no Wayland).
    #[must_use]
    pub fn x11(display: impl Into<String>) -> Self {
        Self {
            x11_display: Some(display.into()),
            wayland_display: None,
        }
    }
}

/// How a screenshot was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScreenBackend {
    /// The X11 root window (every monitor of the X screen).
    X11,
    /// The xdg-desktop-portal Screenshot interface (Wayland, or a sandbox).
    Portal,
}

/// One capture of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenShot {
    /// The whole screen (every monitor of it) in luma, ITU-R BT.601 weights.
    pub image: GrayImage,
    /// How it was taken.
    pub backend: ScreenBackend,
    /// Time spent capturing and converting to luma.
    pub elapsed: Duration,
}

/// What [`read_screen_traced`] found, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenRead {
    /// Every distinct QR code text on the screen, in reading order (see
    /// [`sca_qr::decode_all_luma`]); empty when there is none.
    pub texts: Vec<String>,
    /// Width and height of the capture, in pixels.
    pub size: (u32, u32),
    /// How the screen was captured.
    pub backend: ScreenBackend,
    /// Time spent capturing the screen.
    pub capture: Duration,
    /// Time spent finding and decoding the codes.
    pub decode: Duration,
}

/// Captures the screen of this session ([`ScreenEnv::from_env`]) as luma.
///
/// # Errors
/// [`ScanError::NoScreen`] when there is no screen to read: neither an X11 display nor a Wayland
/// screenshot portal is available (no `DISPLAY`/`WAYLAND_DISPLAY`, connection refused, portal
/// missing, support not built in); [`ScanError::ScreenCancelled`] when the user declined the
/// portal's request; [`ScanError::ScreenCapture`] when the display answered but the capture
/// failed (an unsupported pixel format, a screen above [`sca_qr::MAX_IMAGE_PIXELS`], a protocol
/// error).
pub fn capture_screen() -> Result<ScreenShot, ScanError> {
    capture_screen_in(&ScreenEnv::from_env())
}

/// [`capture_screen`] on the displays of `env`: the portal first when a Wayland display is set,
/// then X11 when an X11 display is set.
///
/// # Errors
/// As [`capture_screen`].
pub fn capture_screen_in(env: &ScreenEnv) -> Result<ScreenShot, ScanError> {
    let mut why = Vec::new();
    if env.wayland_display.is_some() {
        match portal::capture() {
            Ok(shot) => return Ok(shot),
            Err(ScanError::NoScreen { reason }) => why.push(reason),
            Err(other) => return Err(other),
        }
    }
    match &env.x11_display {
        Some(display) => match x11::capture(display) {
            Ok(shot) => return Ok(shot),
            Err(ScanError::NoScreen { reason }) => why.push(reason),
            Err(other) => return Err(other),
        },
        None if env.wayland_display.is_none() => why.push("neither DISPLAY nor WAYLAND_DISPLAY is set".to_owned()),
        None => {}
    }
    Err(ScanError::NoScreen { reason: why.join("; ") })
}

/// Captures the screen and returns every distinct QR code text on it, in reading order (empty
/// when there is none). The texts are exactly what the codes hold, not verified: verify each one
/// as a scanned code.
///
/// # Errors
/// As [`capture_screen`]; a screen without a code is not an error.
pub fn read_screen() -> Result<Vec<String>, ScanError> {
    read_screen_in(&ScreenEnv::from_env())
}

/// [`read_screen`] on the displays of `env`.
///
/// # Errors
/// As [`capture_screen`].
pub fn read_screen_in(env: &ScreenEnv) -> Result<Vec<String>, ScanError> {
    read_screen_traced(env).map(|read| read.texts)
}

/// [`read_screen_in`], with the size of the capture and the time spent capturing and decoding
/// (for diagnostics and benchmarks).
///
/// # Errors
/// As [`capture_screen`].
pub fn read_screen_traced(env: &ScreenEnv) -> Result<ScreenRead, ScanError> {
    let shot = capture_screen_in(env)?;
    let start = Instant::now();
    let texts = codes_on(&shot.image);
    Ok(ScreenRead {
        texts,
        size: shot.image.dimensions(),
        backend: shot.backend,
        capture: shot.elapsed,
        decode: start.elapsed(),
    })
}

/// Every distinct QR code text on a captured screen ([`sca_qr::decode_all_luma`]), in reading
/// order.
#[must_use]
pub fn codes_on(image: &GrayImage) -> Vec<String> {
    sca_qr::decode_all_luma(image).into_iter().map(|d| d.text).collect()
}

/// A pixel layout the server described: how to find red, green and blue in one pixel.
#[cfg_attr(not(feature = "screen"), allow(dead_code))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PixelFormat {
    /// Bytes per pixel: 2, 3 or 4.
    pub(crate) bytes: usize,
    /// Most significant byte first (`true`) or least (`false`).
    pub(crate) msb_first: bool,
    pub(crate) red_mask: u32,
    pub(crate) green_mask: u32,
    pub(crate) blue_mask: u32,
}

/// Shift and width of one colour channel's mask.
#[derive(Debug, Clone, Copy)]
struct Channel {
    shift: u32,
    max: u32,
}

impl Channel {
    fn new(mask: u32) -> Option<Self> {
        if mask == 0 {
            return None;
        }
        let shift = mask.trailing_zeros();
        let max = mask >> shift;
        // A mask must be one run of ones.
        (max & (max + 1) == 0).then_some(Self { shift, max })
    }

    /// The channel of `pixel` scaled to 0..=255.
    fn get(self, pixel: u32) -> u32 {
        let v = (pixel >> self.shift) & self.max;
        if self.max == 255 {
            v
        } else {
            (v * 255 + self.max / 2) / self.max
        }
    }
}

/// Converts rows of pixels in `format` to luma (BT.601: `(77 R + 150 G + 29 B + 128) >> 8`),
/// appending `width` values per row to `out`. `stride` is the padded length of a row in bytes.
#[cfg_attr(not(feature = "screen"), allow(dead_code))]
pub(crate) fn rows_to_luma(
    format: PixelFormat,
    width: usize,
    stride: usize,
    data: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ScanError> {
    let (Some(r), Some(g), Some(b)) = (
        Channel::new(format.red_mask),
        Channel::new(format.green_mask),
        Channel::new(format.blue_mask),
    ) else {
        return Err(ScanError::ScreenCapture(format!(
            "unsupported colour masks {:#x}/{:#x}/{:#x}",
            format.red_mask, format.green_mask, format.blue_mask
        )));
    };
    if !(2..=4).contains(&format.bytes) || width.saturating_mul(format.bytes) > stride {
        return Err(ScanError::ScreenCapture(format!(
            "unsupported pixel layout: {} bytes per pixel, {width} pixels in rows of {stride} bytes",
            format.bytes
        )));
    }
    let row_bytes = width * format.bytes;
    // The common case, 32-bit pixels with 8-bit channels in little-endian order (BGRX in memory).
    let bgrx = format.bytes == 4
        && !format.msb_first
        && (format.red_mask, format.green_mask, format.blue_mask) == (0x00ff_0000, 0x0000_ff00, 0x0000_00ff);
    for row in data.chunks_exact(stride) {
        let row = &row[..row_bytes];
        if bgrx {
            out.extend(row.chunks_exact(4).map(|p| {
                let y = (77 * u32::from(p[2]) + 150 * u32::from(p[1]) + 29 * u32::from(p[0]) + 128) >> 8;
                u8::try_from(y).unwrap_or(u8::MAX)
            }));
        } else {
            out.extend(row.chunks_exact(format.bytes).map(|p| {
                let pixel = if format.msb_first {
                    p.iter().fold(0u32, |acc, &byte| (acc << 8) | u32::from(byte))
                } else {
                    p.iter().rev().fold(0u32, |acc, &byte| (acc << 8) | u32::from(byte))
                };
                let y = (77 * r.get(pixel) + 150 * g.get(pixel) + 29 * b.get(pixel) + 128) >> 8;
                u8::try_from(y).unwrap_or(u8::MAX)
            }));
        }
    }
    Ok(())
}

#[cfg(feature = "screen")]
mod x11 {
    use std::time::Instant;

    use image::GrayImage;
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, ImageOrder, VisualClass};

    use super::{PixelFormat, ScreenBackend, ScreenShot, rows_to_luma};
    use crate::error::ScanError;

    /// Each `GetImage` reply carries at most this many bytes (a strip of rows).
    const STRIP_BYTES: usize = 4 * 1024 * 1024;

    pub(super) fn capture(display: &str) -> Result<ScreenShot, ScanError> {
        let start = Instant::now();
        let (conn, screen_num) = x11rb::connect(Some(display)).map_err(|e| ScanError::NoScreen {
            reason: format!("cannot connect to the X11 display {display}: {e}"),
        })?;
        let setup = conn.setup();
        let screen = setup
            .roots
            .get(screen_num)
            .ok_or_else(|| ScanError::ScreenCapture(format!("the X11 display {display} has no screen {screen_num}")))?;
        let (width, height) = (screen.width_in_pixels, screen.height_in_pixels);
        if u64::from(width) * u64::from(height) > sca_qr::MAX_IMAGE_PIXELS {
            return Err(ScanError::ScreenCapture(format!(
                "a screen of {width}x{height} exceeds the limit of {} pixels",
                sca_qr::MAX_IMAGE_PIXELS
            )));
        }
        let depth = screen.root_depth;
        let visual = screen
            .allowed_depths
            .iter()
            .filter(|d| d.depth == depth)
            .flat_map(|d| d.visuals.iter())
            .find(|v| v.visual_id == screen.root_visual)
            .ok_or_else(|| ScanError::ScreenCapture("the root window's visual is not listed".to_owned()))?;
        if !matches!(visual.class, VisualClass::TRUE_COLOR | VisualClass::DIRECT_COLOR) {
            return Err(ScanError::ScreenCapture(format!(
                "the root window uses a colour-mapped visual ({:?}), not supported",
                visual.class
            )));
        }
        let pixmap = setup
            .pixmap_formats
            .iter()
            .find(|f| f.depth == depth)
            .ok_or_else(|| ScanError::ScreenCapture(format!("no pixmap format for depth {depth}")))?;
        let bits = usize::from(pixmap.bits_per_pixel);
        let pad = usize::from(pixmap.scanline_pad).max(8);
        if !matches!(bits, 16 | 24 | 32) {
            return Err(ScanError::ScreenCapture(format!(
                "{bits} bits per pixel at depth {depth}, not supported"
            )));
        }
        let format = PixelFormat {
            bytes: bits / 8,
            msb_first: setup.image_byte_order == ImageOrder::MSB_FIRST,
            red_mask: visual.red_mask,
            green_mask: visual.green_mask,
            blue_mask: visual.blue_mask,
        };
        let w = usize::from(width);
        let stride = (w * bits).div_ceil(pad) * pad / 8;
        let rows_per_strip = (STRIP_BYTES / stride.max(1)).clamp(1, usize::from(u16::MAX));
        let error = |e: &dyn std::fmt::Display| ScanError::ScreenCapture(format!("X11 GetImage failed: {e}"));
        // Every request first, then every reply: the server works while the replies are read.
        let mut cookies = Vec::new();
        let mut y = 0usize;
        while y < usize::from(height) {
            let rows = rows_per_strip.min(usize::from(height) - y);
            let (Ok(top), Ok(rows16)) = (i16::try_from(y), u16::try_from(rows)) else {
                return Err(ScanError::ScreenCapture(format!(
                    "row {y} is beyond the X11 coordinate range"
                )));
            };
            let cookie = conn
                .get_image(ImageFormat::Z_PIXMAP, screen.root, 0, top, width, rows16, !0)
                .map_err(|e| error(&e))?;
            cookies.push((cookie, rows));
            y += rows;
        }
        let mut luma = Vec::with_capacity(w * usize::from(height));
        for (cookie, rows) in cookies {
            let reply = cookie.reply().map_err(|e| error(&e))?;
            if reply.depth != depth || reply.data.len() < rows * stride {
                return Err(ScanError::ScreenCapture(format!(
                    "X11 GetImage answered {} bytes at depth {}, expected {} at depth {depth}",
                    reply.data.len(),
                    reply.depth,
                    rows * stride
                )));
            }
            rows_to_luma(format, w, stride, &reply.data[..rows * stride], &mut luma)?;
        }
        let image = GrayImage::from_raw(u32::from(width), u32::from(height), luma)
            .ok_or_else(|| ScanError::ScreenCapture("the converted screen has the wrong size".to_owned()))?;
        Ok(ScreenShot {
            image,
            backend: ScreenBackend::X11,
            elapsed: start.elapsed(),
        })
    }
}

#[cfg(not(feature = "screen"))]
mod x11 {
    use super::ScreenShot;
    use crate::error::ScanError;

    pub(super) fn capture(_display: &str) -> Result<ScreenShot, ScanError> {
        Err(ScanError::NoScreen {
            reason: "X11 screen capture is not built in (cargo feature `screen`)".to_owned(),
        })
    }
}

#[cfg(feature = "screen-portal")]
mod portal {
    use std::time::Instant;

    use ashpd::desktop::ResponseError;
    use ashpd::desktop::screenshot::Screenshot;
    use ashpd::{Error, PortalError};

    use super::{ScreenBackend, ScreenShot};
    use crate::error::ScanError;

    /// Asks xdg-desktop-portal for a screenshot of the whole screen (not interactive: the portal
    /// asks the user for permission the first time, or remembers it), reads the PNG it saved,
    /// and deletes that file: a capture of a bank page must not stay in the user's pictures.
    pub(super) fn capture() -> Result<ScreenShot, ScanError> {
        let start = Instant::now();
        let response = async_io::block_on(async {
            Screenshot::request()
                .interactive(false)
                .modal(true)
                .send()
                .await?
                .response()
        })
        .map_err(|e| map_error(&e))?;
        let uri = response.uri().as_str().to_owned();
        let path = file_path(&uri)
            .ok_or_else(|| ScanError::ScreenCapture(format!("the portal's screenshot is not a local file: {uri}")))?;
        let bytes = std::fs::read(&path);
        let _ = std::fs::remove_file(&path);
        let bytes = bytes.map_err(|e| ScanError::ScreenCapture(format!("cannot read {}: {e}", path.display())))?;
        let image =
            sca_qr::load_luma(&bytes).map_err(|e| ScanError::ScreenCapture(format!("the portal's screenshot: {e}")))?;
        Ok(ScreenShot {
            image,
            backend: ScreenBackend::Portal,
            elapsed: start.elapsed(),
        })
    }

    fn map_error(e: &Error) -> ScanError {
        match e {
            Error::Response(ResponseError::Cancelled)
            | Error::Portal(PortalError::Cancelled(_) | PortalError::NotAllowed(_)) => ScanError::ScreenCancelled,
            Error::PortalNotFound(_) => ScanError::NoScreen {
                reason: "no screenshot portal on the session bus (install xdg-desktop-portal and a backend)".to_owned(),
            },
            Error::Zbus(_) | Error::Portal(PortalError::ZBus(_) | PortalError::NotFound(_)) => ScanError::NoScreen {
                reason: format!("cannot reach the screenshot portal: {e}"),
            },
            other => ScanError::ScreenCapture(format!("the screenshot portal failed: {other}")),
        }
    }

    /// The path of a `file://` URI (percent-escapes decoded); `None` for anything else.
    pub(super) fn file_path(uri: &str) -> Option<std::path::PathBuf> {
        let rest = uri.strip_prefix("file://")?;
        // `file://host/path`: only the local host (empty or `localhost`).
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            return None;
        }
        let bytes = path.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        use std::os::unix::ffi::OsStringExt as _;
        Some(std::ffi::OsString::from_vec(out).into())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn file_uris_become_paths() {
            assert_eq!(
                file_path("file:///home/m/Pictures/Screenshot%20from%202026.png"),
                Some("/home/m/Pictures/Screenshot from 2026.png".into())
            );
            assert_eq!(file_path("file://localhost/tmp/a.png"), Some("/tmp/a.png".into()));
            for bad in [
                "https://x/a.png",
                "file://otherhost/a.png",
                "file:///a%2",
                "file:///a%zz",
            ] {
                assert_eq!(file_path(bad), None, "{bad}");
            }
        }
    }
}

#[cfg(not(feature = "screen-portal"))]
mod portal {
    use super::ScreenShot;
    use crate::error::ScanError;

    pub(super) fn capture() -> Result<ScreenShot, ScanError> {
        Err(ScanError::NoScreen {
            reason: "the Wayland screenshot portal is not built in (cargo feature `screen-portal`)".to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BGRX: PixelFormat = PixelFormat {
        bytes: 4,
        msb_first: false,
        red_mask: 0x00ff_0000,
        green_mask: 0x0000_ff00,
        blue_mask: 0x0000_00ff,
    };

    #[test]
    fn bgrx_rows_become_luma_and_padding_is_skipped() {
        // Two pixels per row (pure red, white), rows padded to 12 bytes.
        let row = [0, 0, 255, 0, 255, 255, 255, 0, 9, 9, 9, 9];
        let data = [row, row].concat();
        let mut out = Vec::new();
        rows_to_luma(BGRX, 2, 12, &data, &mut out).unwrap();
        assert_eq!(out, [77, 255, 77, 255]);
    }

    #[test]
    fn other_layouts_use_the_masks_and_the_byte_order() {
        // The same pure green in RGB565, little- and big-endian, and in 24-bit MSB-first RGB.
        let mut out = Vec::new();
        let rgb565 = PixelFormat {
            bytes: 2,
            msb_first: false,
            red_mask: 0xf800,
            green_mask: 0x07e0,
            blue_mask: 0x001f,
        };
        rows_to_luma(rgb565, 1, 2, &[0xe0, 0x07], &mut out).unwrap();
        rows_to_luma(
            PixelFormat {
                msb_first: true,
                ..rgb565
            },
            1,
            2,
            &[0x07, 0xe0],
            &mut out,
        )
        .unwrap();
        let rgb24 = PixelFormat {
            bytes: 3,
            msb_first: true,
            ..BGRX
        };
        rows_to_luma(rgb24, 1, 3, &[0, 255, 0], &mut out).unwrap();
        // 32-bit, big-endian XRGB: the generic path must agree with the fast one.
        rows_to_luma(
            PixelFormat {
                msb_first: true,
                ..BGRX
            },
            1,
            4,
            &[0, 0, 255, 0],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, [149, 149, 149, 149]);
    }

    #[test]
    fn impossible_layouts_are_typed_errors() {
        let mut out = Vec::new();
        let holes = PixelFormat {
            red_mask: 0x00f0_0f00,
            ..BGRX
        };
        assert!(matches!(
            rows_to_luma(holes, 1, 4, &[0; 4], &mut out),
            Err(ScanError::ScreenCapture(_))
        ));
        assert!(matches!(
            rows_to_luma(BGRX, 3, 8, &[0; 8], &mut out),
            Err(ScanError::ScreenCapture(_))
        ));
        let one = PixelFormat { bytes: 1, ..BGRX };
        assert!(matches!(
            rows_to_luma(one, 1, 4, &[0; 4], &mut out),
            Err(ScanError::ScreenCapture(_))
        ));
        assert!(out.is_empty());
    }

    /// No display of either kind: the typed error, saying so.
    #[test]
    fn no_display_is_a_typed_error() {
        let err = capture_screen_in(&ScreenEnv::default()).unwrap_err();
        assert!(matches!(err, ScanError::NoScreen { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("neither an X11 display nor a Wayland screenshot portal is available"),
            "{text}"
        );
        assert!(matches!(
            read_screen_in(&ScreenEnv::default()),
            Err(ScanError::NoScreen { .. })
        ));
        // A display that refuses the connection is the same error, naming it.
        let err = capture_screen_in(&ScreenEnv::x11(":4093")).unwrap_err();
        assert!(matches!(err, ScanError::NoScreen { .. }), "{err:?}");
        assert!(err.to_string().contains(":4093"), "{err}");
    }
}
