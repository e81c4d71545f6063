//! Rendering text as a QR code (SVG document or PNG bytes).
//!
//! The encoder is the `qrcode` crate, but its automatic segmentation is not used as is: it would
//! put any byte pair that looks like Shift_JIS (which many UTF-8 sequences do, e.g. `€` or CJK
//! characters) into a Kanji segment, and readers would then return different characters. Here
//! Kanji segments are turned back into byte segments, adjacent byte segments are merged (so a
//! UTF-8 character is never split between two segments), and non-ASCII text gets an ECI 26
//! (UTF-8) designator so that readers do not have to guess the character set.

use std::io::Cursor;

use image::{GrayImage, ImageEncoder, Luma, codecs::png::PngEncoder};
use qrcode::QrCode;
use qrcode::bits::Bits;
use qrcode::optimize::{Optimizer, Parser, Segment};
use qrcode::render::svg;
use qrcode::types::{EcLevel, Mode, QrError, Version};

use crate::error::RenderError;

/// Smallest module size accepted by [`render_png`], in pixels.
pub const MIN_MODULE_PX: u32 = 1;
/// Largest module size accepted by [`render_png`], in pixels (a version-40 code is then
/// 5 920 px wide, about 35 megapixels, still under [`crate::MAX_IMAGE_PIXELS`]).
pub const MAX_MODULE_PX: u32 = 32;

/// Error-correction level of every code this crate renders.
const EC_LEVEL: EcLevel = EcLevel::M;
/// ECI designator for UTF-8.
const ECI_UTF8: u32 = 26;

/// The image formats a QR code is written in, chosen by a file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// PNG bytes ([`render_png`]).
    Png,
    /// An SVG document ([`render_svg`]).
    Svg,
}

impl ImageFormat {
    /// The format a file name asks for: `.png` or `.svg`, in any case; `None` for anything else,
    /// which every tool refuses with the same words ([`ImageFormat::EXPECTED`]).
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "png" => Some(Self::Png),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }

    /// What a file name must end in.
    pub const EXPECTED: &'static str = "the file name must end in .png or .svg";
}

/// Renders `text` in `format`: PNG with modules of `module_px` pixels, or SVG (scalable, so
/// `module_px` does not apply).
///
/// # Errors
/// As [`render_png`] and [`render_svg`].
pub fn render_as(text: &str, format: ImageFormat, module_px: u32) -> Result<Vec<u8>, RenderError> {
    match format {
        ImageFormat::Png => render_png(text, module_px),
        ImageFormat::Svg => render_svg(text).map(String::into_bytes),
    }
}

/// Renders `text` as a standalone SVG document (XML declaration, `<svg>` root with `viewBox`),
/// black modules on a white background, error-correction level M, quiet zone of 4 modules.
///
/// # Errors
/// [`RenderError::TooLong`] when the text does not fit in a version-40 code.
pub fn render_svg(text: &str) -> Result<String, RenderError> {
    let code = encode(text)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// Renders `text` as an 8-bit grayscale PNG, black on white, each module `module_px` pixels
/// wide, error-correction level M, quiet zone of 4 modules.
///
/// # Errors
/// [`RenderError::TooLong`] when the text does not fit in a version-40 code,
/// [`RenderError::BadModuleSize`] when `module_px` is outside
/// [`MIN_MODULE_PX`]`..=`[`MAX_MODULE_PX`].
pub fn render_png(text: &str, module_px: u32) -> Result<Vec<u8>, RenderError> {
    if !(MIN_MODULE_PX..=MAX_MODULE_PX).contains(&module_px) {
        return Err(RenderError::BadModuleSize {
            module_px,
            min: MIN_MODULE_PX,
            max: MAX_MODULE_PX,
        });
    }
    let img = render_luma(text, module_px)?;
    let mut out = Vec::new();
    PngEncoder::new(Cursor::new(&mut out))
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .map_err(|e| RenderError::Png(e.to_string()))?;
    Ok(out)
}

/// Renders `text` as a grayscale image (0 = dark module, 255 = light), `module_px` ≥ 1.
pub(crate) fn render_luma(text: &str, module_px: u32) -> Result<GrayImage, RenderError> {
    let code = encode(text)?;
    Ok(code
        .render::<Luma<u8>>()
        .quiet_zone(true)
        .module_dimensions(module_px, module_px)
        .build())
}

/// Encodes `text` in the smallest QR version that holds it at level M.
fn encode(text: &str) -> Result<QrCode, RenderError> {
    let data = text.as_bytes();
    let too_long = || RenderError::TooLong { len: data.len() };
    // Parse once; Kanji becomes Byte (see the module docs).
    let parsed: Vec<Segment> = Parser::new(data)
        .map(|s| match s.mode {
            Mode::Kanji => Segment { mode: Mode::Byte, ..s },
            _ => s,
        })
        .collect();
    let parsed = merge_byte_segments(parsed);
    let needs_eci = !text.is_ascii();
    for v in 1..=40 {
        let version = Version::Normal(v);
        let segments = merge_byte_segments(Optimizer::new(parsed.iter().copied(), version).collect());
        let mut bits = Bits::new(version);
        let pushed = (if needs_eci {
            bits.push_eci_designator(ECI_UTF8)
        } else {
            Ok(())
        })
        .and_then(|()| bits.push_segments(data, segments.into_iter()))
        .and_then(|()| bits.push_terminator(EC_LEVEL));
        match pushed {
            Ok(()) => return QrCode::with_bits(bits, EC_LEVEL).map_err(|e| map_qr_error(e, data.len())),
            Err(QrError::DataTooLong) => continue,
            Err(e) => return Err(map_qr_error(e, data.len())),
        }
    }
    Err(too_long())
}

/// Merges runs of adjacent byte-mode segments into one.
fn merge_byte_segments(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        match out.last_mut() {
            Some(last) if last.mode == Mode::Byte && s.mode == Mode::Byte && last.end == s.begin => {
                last.end = s.end;
            }
            _ => out.push(s),
        }
    }
    out
}

fn map_qr_error(e: QrError, len: usize) -> RenderError {
    match e {
        QrError::DataTooLong => RenderError::TooLong { len },
        other => RenderError::Encode(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_and_cjk_are_never_kanji_segments() {
        // "€" is E2 82 AC: E2 82 is a valid Shift_JIS double-byte pair.
        let text = "Importo: 12,50 € — 日本語\n";
        let data = text.as_bytes();
        let parsed: Vec<Segment> = Parser::new(data).collect();
        assert!(
            parsed.iter().any(|s| s.mode == Mode::Kanji),
            "premise: qrcode would use Kanji"
        );
        assert!(encode(text).is_ok());
    }

    #[test]
    fn merge_joins_only_adjacent_byte_runs() {
        let segs = vec![
            Segment {
                mode: Mode::Byte,
                begin: 0,
                end: 2,
            },
            Segment {
                mode: Mode::Byte,
                begin: 2,
                end: 3,
            },
            Segment {
                mode: Mode::Numeric,
                begin: 3,
                end: 9,
            },
            Segment {
                mode: Mode::Byte,
                begin: 9,
                end: 10,
            },
        ];
        let merged = merge_byte_segments(segs);
        assert_eq!(merged.len(), 3);
        assert_eq!((merged[0].begin, merged[0].end), (0, 3));
    }

    #[test]
    fn too_long_is_an_error() {
        let text = "x".repeat(3000);
        assert_eq!(render_svg(&text), Err(RenderError::TooLong { len: 3000 }));
        // Capacity at level M, version 40, byte mode: 2 331 bytes.
        assert!(render_svg(&"x".repeat(2331)).is_ok());
        assert!(render_svg(&"x".repeat(2332)).is_err());
    }

    #[test]
    fn module_size_is_checked() {
        assert!(matches!(render_png("a", 0), Err(RenderError::BadModuleSize { .. })));
        assert!(matches!(render_png("a", 33), Err(RenderError::BadModuleSize { .. })));
    }

    #[test]
    fn quiet_zone_is_four_modules() {
        // Version 1 is 21 modules wide; with 4 + 4 quiet modules at 2 px that is 58 px.
        let img = render_luma("A", 2).expect("render");
        assert_eq!(img.width(), (21 + 8) * 2);
        for y in 0..8 {
            for x in 0..img.width() {
                assert_eq!(img.get_pixel(x, y).0[0], 255);
            }
        }
        assert_eq!(
            img.get_pixel(8, 8).0[0],
            0,
            "finder pattern starts after the quiet zone"
        );
    }
}
