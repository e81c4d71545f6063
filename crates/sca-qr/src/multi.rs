//! Every QR code on one frame: for screen captures, where a page may show several codes (and the
//! customer picks one), unlike a camera frame where the one code held up is all that matters.
//!
//! [`decode_all_luma`] runs two detectors that each look for *all* codes, and unites what they
//! read: rxing's `QRCodeMultiReader` (ZXing's multi detector: every plausible triple of finder
//! patterns) and rqrr's `detect_grids` (quirc: every grid). Neither finds every code on every
//! frame on its own (rxing's multi detector gives up on a triple that an unrelated finder-like
//! square spoils; rqrr misses codes whose quiet zone touches other dark shapes), so both run.
//!
//! Screens are crisp (no blur, no perspective, no sensor noise) but large and full of text. A
//! frame above [`LARGE_FRAME_PIXELS`] (a 4K screen) is first halved until it fits under
//! [`MULTI_WORK_PIXELS`]: a code drawn on a 4K screen has modules of 4 px or more, which survive
//! the halving; only when that copy holds no code at all is the full-size frame tried (with
//! rxing alone, see [`RQRR_MAX_PIXELS`]).

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use image::GrayImage;
use rxing::common::HybridBinarizer;
use rxing::multi::MultipleBarcodeReader;
use rxing::multi::qrcode::QRCodeMultiReader;
use rxing::{BarcodeFormat, BinaryBitmap, DecodeHints, Luma8Source};

use crate::decode::{Decoded, Decoder, LARGE_FRAME_PIXELS, Pass, RQRR_MAX_PIXELS};

/// The largest frame version [`decode_all_luma`] works on first (1 920 × 1 080 fits): larger
/// frames are halved until they fit, and the full-size frame is tried only when that copy holds
/// no code.
pub const MULTI_WORK_PIXELS: u64 = LARGE_FRAME_PIXELS / 2;

/// A code found on the frame, with where it was (for reading order) before it becomes a
/// [`Decoded`].
struct Hit {
    text: String,
    decoder: Decoder,
    /// Top-left corner of the code's bounding box, in the coordinates of the frame version.
    top: f32,
    left: f32,
}

/// Reads every QR code on a frame and returns each distinct text once, in reading order (top to
/// bottom, then left to right, by the top-left corner of each code). An empty list when the frame
/// holds no readable code.
///
/// Meant for screen captures (see the module documentation for the passes and their cost): on a
/// clean 1 920 × 1 080 screen it costs one rxing multi run and one rqrr run. `pass` in each
/// result is [`Pass::Original`] when the code was read on the frame as given and
/// [`Pass::Downscaled`] when on its halved copy. Never panics: a panic inside either decoder is
/// caught and counts as "nothing found by that decoder".
///
/// Two codes carrying the same text count once. The texts are exactly what the codes encode, and
/// nothing about them is trusted: the caller verifies each one as it would a scanned code.
#[must_use]
pub fn decode_all_luma(img: &GrayImage) -> Vec<Decoded> {
    if img.width() == 0 || img.height() == 0 {
        return Vec::new();
    }
    if pixel_count(img) <= MULTI_WORK_PIXELS {
        return finish(find_all(img, true), Pass::Original);
    }
    let small = halve_until(img, MULTI_WORK_PIXELS);
    let hits = find_all(&small, true);
    if !hits.is_empty() {
        return finish(hits, Pass::Downscaled);
    }
    // Nothing on the small copy: codes with modules under 2 px, only readable at full size.
    let rqrr_too = pixel_count(img) <= RQRR_MAX_PIXELS;
    finish(find_all(img, rqrr_too), Pass::Original)
}

fn pixel_count(img: &GrayImage) -> u64 {
    u64::from(img.width()) * u64::from(img.height())
}

/// Distinct texts in reading order.
fn finish(mut hits: Vec<Hit>, pass: Pass) -> Vec<Decoded> {
    hits.sort_by(|a, b| a.top.total_cmp(&b.top).then(a.left.total_cmp(&b.left)));
    let mut seen = HashSet::new();
    hits.into_iter()
        .filter(|h| seen.insert(h.text.clone()))
        .map(|h| Decoded {
            text: h.text,
            decoder: h.decoder,
            stretched: false,
            pass,
        })
        .collect()
}

/// rxing's multi reader, then rqrr's grids (when `with_rqrr`); every hit of both.
fn find_all(img: &GrayImage, with_rqrr: bool) -> Vec<Hit> {
    let mut hits = guarded(|| rxing_all(img));
    if with_rqrr {
        let known: HashSet<String> = hits.iter().map(|h| h.text.clone()).collect();
        hits.extend(
            guarded(|| rqrr_all(img))
                .into_iter()
                .filter(|h| !known.contains(&h.text)),
        );
    }
    hits
}

/// Runs one decoder with panics caught (both are third-party code run on untrusted pixels; rqrr
/// 0.11 asserts on some real photos): a panic gives no hits.
fn guarded(decode: impl FnOnce() -> Vec<Hit>) -> Vec<Hit> {
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_default()
}

fn rxing_all(img: &GrayImage) -> Vec<Hit> {
    let Ok(source) = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()) else {
        return Vec::new();
    };
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    let Ok(results) = QRCodeMultiReader::new().decode_multiple_with_hints(&mut bitmap, &hints) else {
        return Vec::new();
    };
    results
        .into_iter()
        .map(|r| {
            let points = r.getPoints();
            let top = points.iter().map(|p| p.y).fold(f32::INFINITY, f32::min);
            let left = points.iter().map(|p| p.x).fold(f32::INFINITY, f32::min);
            Hit {
                text: r.getText().to_owned(),
                decoder: Decoder::Rxing,
                top: if top.is_finite() { top } else { 0.0 },
                left: if left.is_finite() { left } else { 0.0 },
            }
        })
        .collect()
}

fn rqrr_all(img: &GrayImage) -> Vec<Hit> {
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| {
            let top = grid.bounds.iter().map(|p| p.y).min().unwrap_or(0);
            let left = grid.bounds.iter().map(|p| p.x).min().unwrap_or(0);
            let (_meta, text) = grid.decode().ok()?;
            #[allow(clippy::cast_precision_loss)] // pixel coordinates, far below 2^24
            Some(Hit {
                text,
                decoder: Decoder::Rqrr,
                top: top as f32,
                left: left as f32,
            })
        })
        .collect()
}

/// Halves both sides with a 2×2 box filter until the frame has at most `max_pixels` pixels (at
/// least once). An odd last row or column is dropped.
fn halve_until(img: &GrayImage, max_pixels: u64) -> GrayImage {
    let mut out = halve(img);
    while pixel_count(&out) > max_pixels && out.width() > 1 && out.height() > 1 {
        out = halve(&out);
    }
    out
}

fn halve(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let stride = img.width() as usize;
    let src = img.as_raw();
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for (r0, r1) in src
        .chunks_exact(stride)
        .step_by(2)
        .zip(src.chunks_exact(stride).skip(1).step_by(2))
    {
        out.extend(
            r0.chunks_exact(2)
                .zip(r1.chunks_exact(2))
                .take(w as usize)
                .map(|(a, b)| {
                    let s = u16::from(a[0]) + u16::from(a[1]) + u16::from(b[0]) + u16::from(b[1]);
                    u8::try_from((s + 2) / 4).unwrap_or(u8::MAX)
                }),
        );
    }
    // The buffer has exactly w * h bytes; an empty frame if that ever failed.
    GrayImage::from_raw(w, h, out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paste(canvas: &mut GrayImage, code: &GrayImage, x: u32, y: u32) {
        for (cx, cy, p) in code.enumerate_pixels() {
            if x + cx < canvas.width() && y + cy < canvas.height() {
                canvas.put_pixel(x + cx, y + cy, *p);
            }
        }
    }

    fn code(text: &str, module_px: u32) -> GrayImage {
        let png = crate::render_png(text, module_px).expect("render");
        crate::load_luma(&png).expect("load")
    }

    #[test]
    fn finds_every_code_once_in_reading_order() {
        let mut canvas = GrayImage::from_pixel(1200, 700, image::Luma([255]));
        paste(&mut canvas, &code("second, right", 4), 700, 100);
        paste(&mut canvas, &code("first, left", 4), 100, 180);
        paste(&mut canvas, &code("third, below", 3), 300, 450);
        paste(&mut canvas, &code("first, left", 3), 800, 450);
        let texts: Vec<String> = decode_all_luma(&canvas).into_iter().map(|d| d.text).collect();
        assert_eq!(texts, ["second, right", "first, left", "third, below"]);
    }

    #[test]
    fn a_large_frame_is_read_on_its_halved_copy_and_at_full_size_when_needed() {
        let mut canvas = GrayImage::from_pixel(3840, 2160, image::Luma([255]));
        paste(&mut canvas, &code("big modules", 6), 2000, 900);
        let found = decode_all_luma(&canvas);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].text, "big modules");
        assert_eq!(found[0].pass, Pass::Downscaled);

        // Modules of 1 px do not survive the halving: the full-size frame reads them.
        let mut canvas = GrayImage::from_pixel(3840, 2160, image::Luma([255]));
        paste(&mut canvas, &code("tiny modules", 2), 100, 100);
        let found = decode_all_luma(&canvas);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].text, "tiny modules");
    }

    #[test]
    fn frames_without_a_code_give_nothing() {
        assert!(decode_all_luma(&GrayImage::new(0, 0)).is_empty());
        assert!(decode_all_luma(&GrayImage::new(1, 9)).is_empty());
        let noise = GrayImage::from_fn(640, 480, |x, y| {
            image::Luma([u8::try_from((x * 37 + y * 91 + x * y) % 256).unwrap_or(0)])
        });
        assert!(decode_all_luma(&noise).is_empty());
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_decoder_panic_gives_no_hits() {
        assert!(guarded(|| panic!("decoder bug")).is_empty());
    }

    #[test]
    fn halving_averages_blocks_and_stops_under_the_limit() {
        let img = GrayImage::from_fn(5, 3, |x, y| image::Luma([u8::try_from(x * 10 + y).unwrap_or(0)]));
        let d = halve(&img);
        assert_eq!(d.dimensions(), (2, 1));
        assert_eq!(d.as_raw(), &[6, 26]);
        let big = GrayImage::new(3840, 2160);
        assert_eq!(halve_until(&big, MULTI_WORK_PIXELS).dimensions(), (1920, 1080));
        assert_eq!(halve_until(&GrayImage::new(1, 1), 0).dimensions(), (0, 0));
    }
}
