//! Error types of the crate: one enum for rendering, one for decoding image files, one for
//! reading the text of a bill's QR code ([`crate::bill`]).
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

/// Why the text of a QR code on a bill was refused ([`crate::bill::parse`]).
///
/// Every refusal of a recognised format names the field, so that the app can say which part of
/// the bill is wrong (`iban: the check digits are wrong`).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BillError {
    /// The text starts neither with `PAGOPA` (a pagoPA notice) nor with `BCD` (an EPC transfer).
    #[error("not a bill: the text starts neither with PAGOPA nor with BCD")]
    UnknownFormat,
    /// One field of a recognised format is wrong; `field` is one of the names listed in
    /// [`crate::bill`].
    #[error("{field}: {reason}")]
    Field {
        /// The field, by the name the module documentation lists (`iban`, `notice code`, …).
        field: &'static str,
        /// What is wrong with it.
        reason: FieldReason,
    },
}

impl BillError {
    /// The field named by the refusal; `None` when the format itself was not recognised.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::UnknownFormat => None,
            Self::Field { field, .. } => Some(field),
        }
    }

    /// What is wrong with the field; `None` when the format itself was not recognised.
    pub fn reason(&self) -> Option<&FieldReason> {
        match self {
            Self::UnknownFormat => None,
            Self::Field { reason, .. } => Some(reason),
        }
    }
}

/// What is wrong with one field of a bill ([`BillError::Field`]).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldReason {
    /// A mandatory field is absent or empty.
    #[error("is missing")]
    Missing,
    /// The field does not have the form the standard gives; the text says which form.
    #[error("must be {0}")]
    Form(&'static str),
    /// More characters than the standard allows.
    #[error("has {len} characters, more than {max}")]
    TooLong {
        /// The limit of the standard, in characters.
        max: usize,
        /// The characters found.
        len: usize,
    },
    /// The whole text is longer than the standard allows.
    #[error("has {len} bytes, more than {max}")]
    TooManyBytes {
        /// The limit of the standard, in bytes of the declared character set.
        max: usize,
        /// The bytes found.
        len: usize,
    },
    /// A check digit (IBAN, partita IVA, RF creditor reference) does not match: a typing or
    /// printing mistake, or a forged code.
    #[error("the check digits are wrong")]
    CheckDigits,
    /// A number outside the range of the standard (an amount of zero, or too large).
    #[error("must be from {min} to {max}")]
    OutOfRange {
        /// The smallest accepted value, as the standard writes it.
        min: &'static str,
        /// The largest accepted value, as the standard writes it.
        max: &'static str,
    },
    /// A control character (tab, carriage return, …) inside a field; `position` counts
    /// characters from 1.
    #[error("has a control character at position {position}")]
    Control {
        /// Position of the first control character, from 1.
        position: usize,
    },
    /// The field holds characters that the declared character set cannot hold, or that this
    /// parser cannot check against it; the text says which.
    #[error("has characters outside {0}")]
    CharacterSet(&'static str),
    /// Both the structured reference and the unstructured remittance are given; the standard
    /// allows one of them at most.
    #[error("is given together with a structured reference, and only one of the two is allowed")]
    BothReferences,
    /// More elements than the format has.
    #[error("has {found} elements, at most {max}")]
    TooMany {
        /// The elements the format has at most.
        max: usize,
        /// The elements found.
        found: usize,
    },
    /// A separator after the last element (the standards end the text with the last element).
    #[error("ends with a separator after the last element")]
    TrailingSeparator,
}
