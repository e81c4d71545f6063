//! # sca-qr — QR rendering and the QR decode pipeline of Sigillo
//!
//! This crate owns the *optical channel* between the bank server and the authenticator:
//!
//! * **Rendering** ([`render_svg`], [`render_png`]): a signed operation payload (multi-line UTF-8
//!   text) becomes a QR code at error-correction level M with a quiet zone of 4 modules. Text that
//!   is not pure ASCII is encoded in byte mode behind an ECI 26 (UTF-8) header, and never in Kanji
//!   mode, so every conforming reader gets back exactly the bytes that were rendered.
//! * **Decoding** ([`decode_luma`], [`decode_with`], [`decode_image_bytes`]): a camera frame or an
//!   image file becomes the text it carries, byte for byte (no trimming, no line-ending changes).
//!   Two decoders are combined, rxing (a ZXing port) and rqrr (a quirc port); see [`decode_luma`]
//!   for the order of the passes and what each one is for.
//! * **Bills** ([`bill`]): the text read from the QR code on a bill (a pagoPA notice or an EPC
//!   "GiroCode" for a SEPA transfer) becomes a typed value, strictly, every check digit verified.
//!
//! It does not own the payload format, signatures or keys (that is `sca-protocol`), nor cameras
//! or files on disk: the caller hands in pixels or bytes. The crate has no network access, no
//! global state and does not change the process's panic hook. No function of it panics on any
//! input; a panic inside the rqrr or rxing decoders is caught and counted as "not found" (the
//! default panic hook still prints its message on stderr when that happens).

#![warn(missing_docs)]

pub mod bill;
mod decode;
mod error;
mod load;
mod multi;
mod regions;
mod render;

pub use decode::{
    Attempt, Decoded, Decoder, LARGE_FRAME_PIXELS, Outcome, Pass, RQRR_MAX_PIXELS, Trace, decode_luma,
    decode_luma_traced, decode_with, stretch_contrast,
};
/// The region-wise sampler alone (for benchmarks and diagnostics): see the pipeline's last pass.
#[doc(hidden)]
#[must_use]
pub fn decode_regions_alone(img: &image::GrayImage) -> Option<String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| regions::decode_regions(img, None)))
        .ok()
        .flatten()
}
/// Diagnostics of the region-wise sampler: per candidate, version, stage, sampled bits and the
/// alignment patterns located.
#[doc(hidden)]
#[must_use]
pub fn regions_debug(
    img: &image::GrayImage,
    levels: &[(usize, f64, usize)],
) -> Vec<(u32, String, Vec<bool>, Vec<bool>)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| regions::debug_stages(img, levels))).unwrap_or_default()
}
pub use error::{DecodeError, RenderError};
pub use load::{MAX_IMAGE_PIXELS, decode_image_bytes, load_luma};
pub use multi::{MULTI_WORK_PIXELS, decode_all_luma};
pub use render::{ImageFormat, MAX_MODULE_PX, MIN_MODULE_PX, render_as, render_png, render_svg};

#[cfg(test)]
mod tests;
