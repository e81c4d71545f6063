//! Image files (PNG or JPEG bytes) to luma frames, with limits against hostile files.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use crate::decode::{Decoded, decode_luma};
use crate::error::DecodeError;

/// Largest image accepted by [`decode_image_bytes`] and [`load_luma`], in pixels (40 megapixels;
/// a phone's main camera is 12 to 50). Checked against the file header before any pixel buffer
/// is allocated.
pub const MAX_IMAGE_PIXELS: u64 = 40_000_000;

/// Memory the image decoder may allocate in total (an RGBA 16-bit image of 40 megapixels needs
/// 320 MB).
const MAX_DECODER_ALLOC: u64 = 384 * 1024 * 1024;

/// Reads an image file's bytes (PNG or JPEG, the format sniffed from the content) and runs the
/// pipeline of [`decode_luma`] on it.
///
/// # Errors
/// [`DecodeError::UnsupportedFormat`] for anything but PNG or JPEG, [`DecodeError::TooLarge`]
/// when the header announces more than [`MAX_IMAGE_PIXELS`] pixels,
/// [`DecodeError::BadImage`] when the file is corrupt or truncated, [`DecodeError::NotFound`]
/// when no QR code could be read.
pub fn decode_image_bytes(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let luma = load_luma(bytes)?;
    decode_luma(&luma).ok_or(DecodeError::NotFound)
}

/// Decodes a PNG or JPEG file's bytes into an 8-bit luma frame, as [`decode_image_bytes`] does
/// before the pipeline: a transparent image is composited over white first (a QR code saved
/// with a transparent background would otherwise turn black on black).
///
/// # Errors
/// As [`decode_image_bytes`], except never [`DecodeError::NotFound`].
pub fn load_luma(bytes: &[u8]) -> Result<GrayImage, DecodeError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| DecodeError::BadImage(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg) => {}
        _ => return Err(DecodeError::UnsupportedFormat),
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    reader.limits(limits);
    // Creating the decoder reads only the header; the dimensions are checked before any pixel
    // buffer exists.
    let decoder = reader.into_decoder().map_err(map_image_error)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max_pixels: MAX_IMAGE_PIXELS,
        });
    }
    let image = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    Ok(to_luma_on_white(&image))
}

fn map_image_error(e: ImageError) -> DecodeError {
    match e {
        ImageError::Unsupported(_) => DecodeError::UnsupportedFormat,
        other => DecodeError::BadImage(other.to_string()),
    }
}

/// Luma of the image; pixels with alpha are blended over white.
fn to_luma_on_white(image: &DynamicImage) -> GrayImage {
    if !image.color().has_alpha() {
        return image.to_luma8();
    }
    let la = image.to_luma_alpha8();
    let (w, h) = la.dimensions();
    let data = la
        .as_raw()
        .chunks_exact(2)
        .map(|p| {
            let (l, a) = (u32::from(p[0]), u32::from(p[1]));
            u8::try_from((l * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        })
        .collect();
    GrayImage::from_raw(w, h, data).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageEncoder, codecs::png::PngEncoder};

    fn png_of(w: u32, h: u32, color: image::ExtendedColorType, raw: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PngEncoder::new(&mut out).write_image(raw, w, h, color).expect("encode");
        out
    }

    #[test]
    fn transparent_background_becomes_white() {
        // Black opaque pixel, then a fully transparent black pixel.
        let png = png_of(2, 1, image::ExtendedColorType::La8, &[0, 255, 0, 0]);
        let luma = load_luma(&png).expect("load");
        assert_eq!(luma.as_raw(), &[0, 255]);
    }

    #[test]
    fn oversized_header_is_refused_before_decoding() {
        // A valid PNG header (IHDR) announcing 10 000 × 10 000 pixels, with no pixel data at all.
        let mut png = png_of(1, 1, image::ExtendedColorType::L8, &[255]);
        // IHDR width/height live at bytes 16..24; patching them breaks the CRC, so recompute it.
        png[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(
            load_luma(&png),
            Err(DecodeError::TooLarge {
                width: 10_000,
                height: 10_000,
                max_pixels: MAX_IMAGE_PIXELS
            })
        );
    }

    #[test]
    fn oversized_jpeg_header_is_refused_and_the_limit_is_inclusive() {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .write_image(&[255], 1, 1, image::ExtendedColorType::L8)
            .expect("encode");
        // Baseline frame header: FF C0, length (2), precision (1), height (2), width (2).
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0");
        let patch = |jpeg: &mut Vec<u8>, w: u16, h: u16| {
            jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
            jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        };
        patch(&mut jpeg, 65_000, 65_000);
        assert!(matches!(
            load_luma(&jpeg),
            Err(DecodeError::TooLarge {
                width: 65_000,
                height: 65_000,
                ..
            })
        ));
        // Exactly 40 000 000 pixels passes the size check (the JPEG decoder then fills the
        // missing scan data, or refuses it: either way it is not `TooLarge`).
        patch(&mut jpeg, 8_000, 5_000);
        let r = load_luma(&jpeg);
        assert!(
            !matches!(r, Err(DecodeError::TooLarge { .. })),
            "{:?}",
            r.map(|i| i.dimensions())
        );
    }

    #[test]
    fn other_formats_are_unsupported() {
        assert_eq!(
            load_luma(b"GIF89a\x01\x00\x01\x00"),
            Err(DecodeError::UnsupportedFormat)
        );
        assert_eq!(
            load_luma(b"BM not really a bitmap"),
            Err(DecodeError::UnsupportedFormat)
        );
        assert_eq!(load_luma(b""), Err(DecodeError::UnsupportedFormat));
    }

    #[test]
    fn truncated_png_is_bad_image() {
        let png = png_of(64, 64, image::ExtendedColorType::L8, &[128; 64 * 64]);
        let cut = &png[..png.len() / 2];
        assert!(matches!(load_luma(cut), Err(DecodeError::BadImage(_))));
        assert!(matches!(load_luma(&png[..20]), Err(DecodeError::BadImage(_))));
    }

    /// CRC-32 (IEEE) as PNG uses it; only for building test files.
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
