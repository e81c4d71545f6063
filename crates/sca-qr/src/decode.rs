//! The decode pipeline on one luma (8-bit grayscale) frame.
//!
//! Passes, in order, stopping at the first text found (see [`decode_luma`]):
//!
//! 1. [`Pass::Original`] — rxing (hybrid binarizer, `TryHarder`, QR only), then rqrr.
//! 2. [`Pass::GlobalHistogram`] — rxing with its global-histogram binarizer: one threshold for
//!    the whole frame, which reads some blurred or evenly lit codes the local binarizer breaks up.
//! 3. [`Pass::Stretched`] — a percentile contrast stretch of the frame, then rxing and rqrr
//!    (skipped when the frame already spans most of the grey range: see [`stretch_contrast`]).
//! 4. [`Pass::Downscaled`] — a half-size copy (2×2 box filter), then rxing and rqrr: blur and
//!    sensor noise shrink, and oversized modules come back into the range the detectors expect.
//! 5. [`Pass::Regions`] — for codes on curved or crumpled paper (version 2 and up): rxing's
//!    finder patterns, every alignment pattern located, one transform per cell of their grid,
//!    bent further by a mesh refined on the frame, then rxing's QR decoder (`regions.rs`). It
//!    reuses the binarized frame of the first rxing run and stops at once when that shows no
//!    three finder patterns.
//!
//! Frames above [`LARGE_FRAME_PIXELS`] run rxing on the downscaled copy *first*, because on a
//! full-resolution photo every pass is many times slower and the code is big anyway. rqrr never
//! runs on a frame version above [`RQRR_MAX_PIXELS`].
//!
//! Cost: a clean frame costs one rxing run (a median of 0.4 ms on ZXing's photos, about 10 ms on
//! a cluttered 1280×720 frame); a frame with no code pays for every pass (about 50 ms at
//! 1280×720, of which the regions pass takes 2–7 ms: a finder-pattern search; docs/benchmarks.md
//! has the figures). A frame whose code only the regions pass reads costs about 40–65 ms, one
//! with finder patterns that nothing reads up to about 35 ms more than before that pass. Neither decoder bounds its own work: a frame tiled with hundreds of finder-like
//! squares keeps rxing busy for seconds and rqrr for much longer, so callers that decode frames
//! from untrusted sources on a UI thread should run the pipeline on a worker thread.

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use image::GrayImage;
use rxing::common::{BitMatrix, GlobalHistogramBinarizer, HybridBinarizer};
use rxing::{BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, MultiFormatReader, Reader};

/// Frames with more pixels than this (a little over 2 560 × 1 600) try a downscaled copy
/// first; that copy is halved until it has at most half this many pixels (so 1 920 × 1 080 is
/// the largest size the detectors see in that first attempt).
pub const LARGE_FRAME_PIXELS: u64 = 4_200_000;

/// rqrr runs only on frame versions with at most this many pixels (1 920 × 1 080 fits). Its
/// grouping step copies the whole frame for every candidate triple of finder patterns, so its
/// cost grows with the square of the frame size on busy frames: on 3 000 × 2 000 pixels of noise
/// it took 30 s here. Larger frames get rqrr on their downscaled copy only.
pub const RQRR_MAX_PIXELS: u64 = 2_100_000;

/// Fraction of the pixels clipped at each end by [`stretch_contrast`].
const STRETCH_CLIP: f64 = 0.01;

/// Widest percentile span that [`stretch_contrast`] still stretches (gain 255 / 170 = 1.5).
const MAX_SPAN_TO_STRETCH: u8 = 170;

/// Smallest side, in pixels, that a frame must have for [`Pass::Downscaled`] to be tried
/// (a QR code of version 1 with its quiet zone is 29 modules; below 2 px per module after
/// halving nothing is readable).
const MIN_SIDE_FOR_DOWNSCALE: u32 = 2 * 29 * 2;

/// A QR decoder library used by the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decoder {
    /// `rxing`, a Rust port of ZXing (and of parts of zxing-cpp).
    Rxing,
    /// `rqrr`, a Rust port of quirc.
    Rqrr,
}

/// Which pass of the pipeline produced (or tried) a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Pass {
    /// The frame as given (rxing with its hybrid binarizer, or rqrr).
    Original,
    /// The frame as given, rxing with its global-histogram binarizer.
    GlobalHistogram,
    /// The contrast-stretched frame ([`stretch_contrast`]).
    Stretched,
    /// A downscaled copy of the frame (each step halves both sides with a 2×2 box filter).
    Downscaled,
    /// The frame as given, sampled region by region through transforms bent to the paper's
    /// shape (curved or crumpled codes), then rxing's QR decoder; the last pass.
    Regions,
}

/// A QR code text read from a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The text exactly as encoded in the code (no trimming, line endings kept).
    pub text: String,
    /// The decoder that read it.
    pub decoder: Decoder,
    /// `true` when it was read on the contrast-stretched frame (`pass == Pass::Stretched`).
    pub stretched: bool,
    /// The pass of the pipeline that read it.
    pub pass: Pass,
}

/// How one attempt of the pipeline ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A text was read.
    Decoded,
    /// The decoder found no readable code.
    NotFound,
    /// The decoder panicked; the panic was caught and the attempt counts as not found.
    Panicked,
}

/// One decoder run on one version of the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The decoder that ran.
    pub decoder: Decoder,
    /// The pass it ran in.
    pub pass: Pass,
    /// How it ended.
    pub outcome: Outcome,
    /// Time spent in the decoder, excluding preparing the frame version.
    pub elapsed: Duration,
}

/// The result of [`decode_luma_traced`]: the pipeline's answer and every attempt it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Same as what [`decode_luma`] returns.
    pub decoded: Option<Decoded>,
    /// The attempts in the order they ran; the last one is the successful one, if any.
    pub attempts: Vec<Attempt>,
}

impl Trace {
    /// Number of attempts that ended in a caught panic.
    #[must_use]
    pub fn panics(&self) -> usize {
        self.attempts.iter().filter(|a| a.outcome == Outcome::Panicked).count()
    }
}

/// Runs the decode pipeline on one luma frame and returns the first text found, or `None` when
/// no pass finds a QR code.
///
/// Order: rxing on the frame; rqrr on the frame (inside `catch_unwind`: rqrr panics on some real
/// photos; both decoders run that way); rxing with a global-histogram binarizer; a
/// contrast-stretched frame with rxing then rqrr; a half-size frame with rxing then rqrr; last
/// the frame sampled region by region (for curved or crumpled paper). On a clean frame the first attempt succeeds, so the common cost is one rxing run. A frame with no
/// code pays for every pass. Frames larger than [`LARGE_FRAME_PIXELS`] try rxing on a downscaled
/// copy first, and rqrr is skipped on any frame version above [`RQRR_MAX_PIXELS`].
#[must_use]
pub fn decode_luma(img: &GrayImage) -> Option<Decoded> {
    run_pipeline(img, None)
}

/// [`decode_luma`], and also the list of attempts it made (with their outcome and time), for
/// diagnostics and benchmarks.
#[must_use]
pub fn decode_luma_traced(img: &GrayImage) -> Trace {
    let mut attempts = Vec::new();
    let decoded = run_pipeline(img, Some(&mut attempts));
    Trace { decoded, attempts }
}

/// One decoder alone on the frame as given: no fallback, no stretch, no downscale (for
/// benchmarks). rxing runs with its hybrid binarizer. A panic inside the decoder gives `None`.
///
/// Unlike the pipeline, this applies no size cap: rqrr on a large busy frame can take many
/// seconds (see [`RQRR_MAX_PIXELS`]).
#[must_use]
pub fn decode_with(decoder: Decoder, img: &GrayImage) -> Option<String> {
    let method = match decoder {
        Decoder::Rxing => Method::RxingHybrid,
        Decoder::Rqrr => Method::Rqrr,
    };
    run_method(method, img).ok()
}

/// A cheap percentile contrast stretch: the darkest 1 % of the pixels become 0, the brightest 1 %
/// become 255 and the values in between are spread linearly (one histogram pass, one lookup-table
/// pass).
///
/// Returns `None` when a stretch would not help: an empty or flat frame, or one whose 1 % and
/// 99 % percentiles are already more than 170 levels apart (a gain under 1.5; the decoders'
/// thresholds are local or adaptive, so such a small global gain changes nothing they see, and
/// skipping it saves two decoder runs on every frame that holds no code).
#[must_use]
pub fn stretch_contrast(img: &GrayImage) -> Option<GrayImage> {
    let pixels = img.as_raw();
    if pixels.is_empty() {
        return None;
    }
    let mut hist = [0u64; 256];
    for &p in pixels {
        hist[usize::from(p)] += 1;
    }
    // Truncation is intended: the clip count is a rough fraction of the pixel count.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let clip = (pixels.len() as f64 * STRETCH_CLIP) as u64;
    let lo = percentile_index(hist.iter().enumerate(), clip)?;
    let hi = percentile_index(hist.iter().enumerate().rev(), clip)?;
    if hi <= lo || hi - lo > MAX_SPAN_TO_STRETCH {
        return None;
    }
    let (lo, hi) = (u32::from(lo), u32::from(hi));
    let span = hi - lo;
    let lut: Vec<u8> = (0..=255u32)
        .map(|v| {
            let v = v.clamp(lo, hi);
            u8::try_from(((v - lo) * 255 + span / 2) / span).unwrap_or(u8::MAX)
        })
        .collect();
    let mut out = img.clone();
    for p in out.iter_mut() {
        *p = lut[usize::from(*p)];
    }
    Some(out)
}

/// First histogram bin (in iteration order) at which more than `clip` pixels have been seen.
fn percentile_index<'a>(bins: impl Iterator<Item = (usize, &'a u64)>, clip: u64) -> Option<u8> {
    let mut acc = 0u64;
    for (i, &count) in bins {
        acc += count;
        if acc > clip {
            return u8::try_from(i).ok();
        }
    }
    None
}

fn pixel_count(img: &GrayImage) -> u64 {
    u64::from(img.width()) * u64::from(img.height())
}

/// Halves both sides of the frame with a 2×2 box filter (odd last row/column dropped).
fn downscale_half(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let src = img.as_raw();
    let stride = img.width() as usize;
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        let r0 = &src[2 * y * stride..];
        let r1 = &src[(2 * y + 1) * stride..];
        for x in 0..w as usize {
            let s = u16::from(r0[2 * x]) + u16::from(r0[2 * x + 1]) + u16::from(r1[2 * x]) + u16::from(r1[2 * x + 1]);
            out.push(u8::try_from((s + 2) / 4).unwrap_or(u8::MAX));
        }
    }
    // The buffer has exactly w * h bytes, so this cannot fail; fall back to an empty frame.
    GrayImage::from_raw(w, h, out).unwrap_or_default()
}

/// Halves the frame until it has at most `max_pixels` pixels.
fn downscale_to(img: &GrayImage, max_pixels: u64) -> GrayImage {
    let mut out = downscale_half(img);
    while pixel_count(&out) > max_pixels && out.width() > 1 {
        out = downscale_half(&out);
    }
    out
}

/// A decoder with its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    RxingHybrid,
    RxingGlobal,
    Rqrr,
    Regions,
}

impl Method {
    fn decoder(self) -> Decoder {
        match self {
            Method::RxingHybrid | Method::RxingGlobal | Method::Regions => Decoder::Rxing,
            Method::Rqrr => Decoder::Rqrr,
        }
    }
}

/// The frame versions the pipeline works on, made on first use and kept for the later passes.
struct Frames<'a> {
    original: &'a GrayImage,
    stretched: Option<Option<GrayImage>>,
    downscaled: Option<Option<GrayImage>>,
}

impl<'a> Frames<'a> {
    fn new(original: &'a GrayImage) -> Self {
        Self {
            original,
            stretched: None,
            downscaled: None,
        }
    }

    fn get(&mut self, pass: Pass) -> Option<&GrayImage> {
        match pass {
            Pass::Original | Pass::GlobalHistogram => Some(self.original),
            Pass::Regions => {
                if pixel_count(self.original) > RQRR_MAX_PIXELS {
                    self.get(Pass::Downscaled)
                } else {
                    Some(self.original)
                }
            }
            Pass::Stretched => self
                .stretched
                .get_or_insert_with(|| stretch_contrast(self.original))
                .as_ref(),
            Pass::Downscaled => {
                let original = self.original;
                self.downscaled
                    .get_or_insert_with(|| {
                        if pixel_count(original) > LARGE_FRAME_PIXELS {
                            Some(downscale_to(original, LARGE_FRAME_PIXELS / 2))
                        } else if original.width().min(original.height()) >= MIN_SIDE_FOR_DOWNSCALE {
                            Some(downscale_half(original))
                        } else {
                            None
                        }
                    })
                    .as_ref()
            }
        }
    }
}

/// The normal plan: cheap first, fallbacks after.
const PLAN: [(Pass, Method); 8] = [
    (Pass::Original, Method::RxingHybrid),
    (Pass::Original, Method::Rqrr),
    (Pass::GlobalHistogram, Method::RxingGlobal),
    (Pass::Stretched, Method::RxingHybrid),
    (Pass::Stretched, Method::Rqrr),
    (Pass::Downscaled, Method::RxingHybrid),
    (Pass::Downscaled, Method::Rqrr),
    (Pass::Regions, Method::Regions),
];

/// The plan for frames above [`LARGE_FRAME_PIXELS`]: the downscaled copy first.
const PLAN_LARGE: [(Pass, Method); 8] = [
    (Pass::Downscaled, Method::RxingHybrid),
    (Pass::Original, Method::RxingHybrid),
    (Pass::Downscaled, Method::Rqrr),
    (Pass::Original, Method::Rqrr),
    (Pass::GlobalHistogram, Method::RxingGlobal),
    (Pass::Stretched, Method::RxingHybrid),
    (Pass::Stretched, Method::Rqrr),
    (Pass::Regions, Method::Regions),
];

fn run_pipeline(img: &GrayImage, mut trace: Option<&mut Vec<Attempt>>) -> Option<Decoded> {
    if img.width() == 0 || img.height() == 0 {
        return None;
    }
    let large = pixel_count(img) > LARGE_FRAME_PIXELS;
    let plan = if large { &PLAN_LARGE } else { &PLAN };
    let mut frames = Frames::new(img);
    // The hybrid-binarized frames of rxing's runs on the frame and on its downscaled copy, kept
    // for the regions pass (which works on one of them) so that it does not binarize again.
    let mut binarized: Vec<(Pass, BitMatrix)> = Vec::new();
    let regions_source = if pixel_count(img) > RQRR_MAX_PIXELS {
        Pass::Downscaled
    } else {
        Pass::Original
    };
    for &(pass, method) in plan {
        let Some(frame) = frames.get(pass) else {
            continue;
        };
        if method == Method::Rqrr && pixel_count(frame) > RQRR_MAX_PIXELS {
            continue;
        }
        let start = Instant::now();
        let result = match method {
            Method::RxingHybrid if matches!(pass, Pass::Original | Pass::Downscaled) => {
                let mut kept = None;
                let result = guarded(|| rxing_decode_keep(frame, HybridBinarizer::new, Some(&mut kept)));
                if let Some(matrix) = kept {
                    binarized.push((pass, matrix));
                }
                result
            }
            Method::Regions => {
                let reuse = binarized.iter().find(|(p, _)| *p == regions_source).map(|(_, m)| m);
                guarded(|| crate::regions::decode_regions(frame, reuse))
            }
            _ => run_method(method, frame),
        };
        let elapsed = start.elapsed();
        if let Some(t) = trace.as_deref_mut() {
            t.push(Attempt {
                decoder: method.decoder(),
                pass,
                outcome: match &result {
                    Ok(_) => Outcome::Decoded,
                    Err(Miss::NotFound) => Outcome::NotFound,
                    Err(Miss::Panicked) => Outcome::Panicked,
                },
                elapsed,
            });
        }
        if let Ok(text) = result {
            return Some(Decoded {
                text,
                decoder: method.decoder(),
                stretched: pass == Pass::Stretched,
                pass,
            });
        }
    }
    None
}

/// Why one attempt gave no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Miss {
    NotFound,
    Panicked,
}

fn run_method(method: Method, img: &GrayImage) -> Result<String, Miss> {
    if img.width() == 0 || img.height() == 0 {
        return Err(Miss::NotFound);
    }
    guarded(|| match method {
        Method::RxingHybrid => rxing_decode(img, HybridBinarizer::new),
        Method::RxingGlobal => rxing_decode(img, GlobalHistogramBinarizer::new),
        Method::Rqrr => rqrr_decode(img),
        Method::Regions => crate::regions::decode_regions(img, None),
    })
}

/// Runs one decoder call with panics caught. Both decoders are third-party code run on untrusted
/// pixels (rqrr 0.11 asserts in `geometry.rs:55` on some real photos); a panic in either must
/// not reach the caller. Nothing they touch outlives the call, so unwind safety is not a concern.
fn guarded(decode: impl FnOnce() -> Option<String>) -> Result<String, Miss> {
    match catch_unwind(AssertUnwindSafe(decode)) {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err(Miss::NotFound),
        Err(_) => Err(Miss::Panicked),
    }
}

/// rxing, QR only, `TryHarder`; the same call as `rxing::helpers::detect_in_luma_slice_with_hints`
/// but with a choice of binarizer (the helper always uses the hybrid one).
fn rxing_decode<'a, B, F>(img: &'a GrayImage, binarizer: F) -> Option<String>
where
    B: Binarizer,
    F: FnOnce(Luma8Source<'a>) -> B,
{
    rxing_decode_keep(img, binarizer, None)
}

/// [`rxing_decode`], and on a miss a copy of the binarized frame in `keep` (when given).
fn rxing_decode_keep<'a, B, F>(img: &'a GrayImage, binarizer: F, keep: Option<&mut Option<BitMatrix>>) -> Option<String>
where
    B: Binarizer,
    F: FnOnce(Luma8Source<'a>) -> B,
{
    let source = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).ok()?;
    let mut bitmap = BinaryBitmap::new(binarizer(source));
    let hints = DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    };
    let text = MultiFormatReader::default()
        .decode_with_hints(&mut bitmap, &hints)
        .ok()
        .map(|r| r.getText().to_owned());
    if text.is_none()
        && let Some(keep) = keep
    {
        *keep = Some(bitmap.get_black_matrix().clone());
    }
    text
}

/// rqrr: prepare, detect every grid, return the first that decodes.
fn rqrr_decode(img: &GrayImage) -> Option<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img.clone());
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_meta, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stretch_spreads_a_narrow_range() {
        let img = GrayImage::from_fn(100, 100, |x, _| image::Luma([if x < 50 { 110 } else { 150 }]));
        let s = stretch_contrast(&img).expect("stretch");
        assert_eq!(s.get_pixel(0, 0).0[0], 0);
        assert_eq!(s.get_pixel(99, 0).0[0], 255);
    }

    #[test]
    fn stretch_skips_flat_and_full_range_frames() {
        assert!(stretch_contrast(&GrayImage::from_pixel(10, 10, image::Luma([200]))).is_none());
        let full = GrayImage::from_fn(100, 100, |x, _| image::Luma([if x < 50 { 0 } else { 255 }]));
        assert!(stretch_contrast(&full).is_none());
        let wide = GrayImage::from_fn(100, 100, |x, _| image::Luma([if x < 50 { 30 } else { 220 }]));
        assert!(stretch_contrast(&wide).is_none(), "gain 1.34 is not worth a pass");
        let narrower = GrayImage::from_fn(100, 100, |x, _| image::Luma([if x < 50 { 60 } else { 200 }]));
        assert!(stretch_contrast(&narrower).is_some());
        assert!(stretch_contrast(&GrayImage::new(0, 0)).is_none());
    }

    #[test]
    fn downscale_half_averages_blocks() {
        let img = GrayImage::from_fn(5, 3, |x, y| image::Luma([u8::try_from(x * 10 + y).unwrap_or(0)]));
        let d = downscale_half(&img);
        assert_eq!(d.dimensions(), (2, 1));
        // (0 + 1 + 10 + 11) / 4 = 5.5 → 6
        assert_eq!(d.get_pixel(0, 0).0[0], 6);
    }

    #[test]
    #[allow(clippy::panic)]
    fn a_decoder_panic_becomes_not_found() {
        assert_eq!(guarded(|| panic!("decoder bug")), Err(Miss::Panicked));
        assert_eq!(guarded(|| None), Err(Miss::NotFound));
        assert_eq!(guarded(|| Some("x".to_owned())), Ok("x".to_owned()));
    }

    #[test]
    fn empty_frame_is_not_found() {
        assert!(decode_luma(&GrayImage::new(0, 0)).is_none());
        assert!(decode_with(Decoder::Rxing, &GrayImage::new(0, 7)).is_none());
        assert!(decode_with(Decoder::Rqrr, &GrayImage::new(7, 0)).is_none());
    }

    #[test]
    fn tiny_frames_do_not_panic() {
        for (w, h) in [(1, 1), (1, 50), (50, 1), (3, 3)] {
            let img = GrayImage::from_fn(w, h, |x, y| {
                image::Luma([u8::try_from((x * 37 + y * 91) % 256).unwrap_or(0)])
            });
            let t = decode_luma_traced(&img);
            assert!(t.decoded.is_none());
        }
    }
}
