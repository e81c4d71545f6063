//! The image on the system clipboard, as a luma frame (a screenshot of the bank's page pasted
//! into the authenticator).
//!
//! Through `arboard` (X11 on Linux, no C library). Without a display, or with the cargo feature
//! `clipboard` off, reading fails with [`ScanError::ClipboardUnavailable`]; it never panics (a
//! panic inside the clipboard library is caught and reported the same way). This module only
//! reads: it never writes the clipboard.

use image::GrayImage;

use crate::error::ScanError;

/// Reads the image on the system clipboard and converts it to luma (transparent pixels over
/// white).
///
/// # Errors
/// [`ScanError::ClipboardUnavailable`] when there is no clipboard to read (no display, not
/// built in, held by another program), [`ScanError::ClipboardEmpty`] when it holds no image,
/// [`ScanError::ClipboardImage`] when the image is larger than [`sca_qr::MAX_IMAGE_PIXELS`] or
/// malformed.
pub fn clipboard_image() -> Result<GrayImage, ScanError> {
    imp::read()
}

/// Converts straight RGBA pixels to luma, blending over white (ITU-R BT.601 weights).
#[cfg_attr(not(feature = "clipboard"), allow(dead_code))]
pub(crate) fn rgba_to_luma(width: usize, height: usize, rgba: &[u8]) -> Result<GrayImage, ScanError> {
    let pixels = width
        .checked_mul(height)
        .ok_or_else(|| ScanError::ClipboardImage(format!("{width}x{height} overflows")))?;
    if u64::try_from(pixels).unwrap_or(u64::MAX) > sca_qr::MAX_IMAGE_PIXELS {
        return Err(ScanError::ClipboardImage(format!(
            "{width}x{height} exceeds the limit of {} pixels",
            sca_qr::MAX_IMAGE_PIXELS
        )));
    }
    if pixels.checked_mul(4) != Some(rgba.len()) {
        return Err(ScanError::ClipboardImage(format!(
            "{} bytes do not make {width}x{height} RGBA pixels",
            rgba.len()
        )));
    }
    let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
        return Err(ScanError::ClipboardImage(format!("{width}x{height} is too large")));
    };
    let luma = rgba
        .chunks_exact(4)
        .map(|p| {
            let (r, g, b, a) = (u32::from(p[0]), u32::from(p[1]), u32::from(p[2]), u32::from(p[3]));
            let y = (77 * r + 150 * g + 29 * b + 128) >> 8;
            u8::try_from((y * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        })
        .collect();
    GrayImage::from_raw(w, h, luma)
        .ok_or_else(|| ScanError::ClipboardImage(format!("{width}x{height}: buffer size mismatch")))
}

#[cfg(feature = "clipboard")]
mod imp {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use image::GrayImage;

    use super::rgba_to_luma;
    use crate::error::ScanError;

    pub(super) fn read() -> Result<GrayImage, ScanError> {
        let image = catch_unwind(AssertUnwindSafe(|| {
            let mut clipboard = arboard::Clipboard::new().map_err(|e| map_error(&e))?;
            clipboard.get_image().map_err(|e| map_error(&e))
        }))
        .map_err(|_| ScanError::ClipboardUnavailable("the clipboard library failed".to_owned()))??;
        rgba_to_luma(image.width, image.height, &image.bytes)
    }

    fn map_error(e: &arboard::Error) -> ScanError {
        match e {
            arboard::Error::ContentNotAvailable => ScanError::ClipboardEmpty,
            arboard::Error::ConversionFailure => ScanError::ClipboardImage(e.to_string()),
            other => ScanError::ClipboardUnavailable(other.to_string()),
        }
    }
}

#[cfg(not(feature = "clipboard"))]
mod imp {
    use image::GrayImage;

    use crate::error::ScanError;

    pub(super) fn read() -> Result<GrayImage, ScanError> {
        Err(ScanError::ClipboardUnavailable(
            "clipboard support is not built in (cargo feature `clipboard`)".to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rgba_converts_over_white_and_checks_sizes() {
        // Opaque black, opaque white, transparent black, half-transparent black.
        let px = [0, 0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 128];
        let luma = rgba_to_luma(4, 1, &px).unwrap();
        assert_eq!(luma.as_raw(), &[0, 255, 255, 127]);
        assert!(matches!(rgba_to_luma(2, 1, &px), Err(ScanError::ClipboardImage(_))));
        assert!(matches!(
            rgba_to_luma(10_000, 10_000, &[]),
            Err(ScanError::ClipboardImage(_))
        ));
        assert!(matches!(
            rgba_to_luma(usize::MAX, 2, &[]),
            Err(ScanError::ClipboardImage(_))
        ));
    }

    /// With no display server the clipboard cannot be reached: a typed error, never a panic.
    /// (With a display, whatever the clipboard holds, the call must not panic either.)
    #[test]
    fn no_display_is_a_typed_error() {
        let headless = std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none();
        let result = clipboard_image();
        if headless || cfg!(not(feature = "clipboard")) {
            assert!(matches!(result, Err(ScanError::ClipboardUnavailable(_))), "{result:?}");
        } else {
            assert!(
                matches!(
                    result,
                    Ok(_)
                        | Err(ScanError::ClipboardEmpty
                            | ScanError::ClipboardUnavailable(_)
                            | ScanError::ClipboardImage(_))
                ),
                "{result:?}"
            );
        }
        if headless {
            assert!(matches!(
                crate::StillImage::from_clipboard(),
                Err(ScanError::ClipboardUnavailable(_))
            ));
        }
    }
}
