//! Error types of the crate: one enum for rendering, one for decoding image files.
//!
//! Decoding a *frame* ([`crate::decode_luma`]) has no error type: a frame either holds a readable
//! QR code or it does not, and that is an `Option`.

use thiserror::Error;

/// Why a text could not be rendered as a QR code.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenderError {
    /// The text does not fit in the largest QR code (version 40) at error-correction level M
    /// (2 331 bytes of UTF-8 at most, fewer when the text needs an ECI header).
    #[error("text of {len} bytes does not fit in a QR code at error-correction level M")]
    TooLong {
        /// Length of the text in UTF-8 bytes.
        len: usize,
    },
    /// `module_px` was outside the accepted range.
    #[error("module size of {module_px} px is outside {min}..={max}")]
    BadModuleSize {
        /// The module size asked for.
        module_px: u32,
        /// Smallest accepted module size in pixels.
        min: u32,
        /// Largest accepted module size in pixels.
        max: u32,
    },
    /// The QR encoder refused the data for a reason other than its length.
    #[error("QR encoder failed: {0}")]
    Encode(String),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// Why an image file did not yield a QR code text.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not a PNG or JPEG file (sniffed from the content, not a file name).
    #[error("unsupported image format: only PNG and JPEG are accepted")]
    UnsupportedFormat,
    /// The bytes look like PNG or JPEG but could not be decoded (truncated, corrupt, …).
    #[error("cannot decode image: {0}")]
    BadImage(String),
    /// The image header announces more pixels than we are willing to decode; it is refused
    /// before any pixel buffer is allocated.
    #[error("image of {width}x{height} exceeds the limit of {max_pixels} pixels")]
    TooLarge {
        /// Width announced by the file header.
        width: u32,
        /// Height announced by the file header.
        height: u32,
        /// The limit in pixels ([`crate::MAX_IMAGE_PIXELS`]).
        max_pixels: u64,
    },
    /// The image was decoded but no QR code could be read in it.
    #[error("no readable QR code found in the image")]
    NotFound,
}
