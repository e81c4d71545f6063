//! The shared set of real QR photos (ZXing black-box folders `qrcode-1` … `qrcode-3`), used by
//! `tests/real_photos.rs` and `examples/decode_rate.rs`. The photos live outside the repository,
//! in `shared/qr-photos` beside it; they are never copied in.

#![allow(dead_code)] // each user of this module needs a different part of it

use std::path::{Path, PathBuf};

/// Environment variable that overrides where the photo set is.
pub(crate) const PHOTOS_ENV: &str = "SIGILLO_QR_PHOTOS";

/// Folders of the set, in order.
pub(crate) const FOLDERS: [&str; 3] = ["qrcode-1", "qrcode-2", "qrcode-3"];

/// One photo and the text its code holds.
#[derive(Debug, Clone)]
pub(crate) struct Photo {
    /// `qrcode-2/16.png`, for messages.
    pub(crate) name: String,
    /// The file's bytes (PNG or JPEG).
    pub(crate) bytes: Vec<u8>,
    /// The content of the `.txt` file beside it, exactly as stored.
    pub(crate) expected: String,
}

impl Photo {
    /// Whether the expected text is pure ASCII (the rest are Shift_JIS codes in the photos).
    pub(crate) fn is_ascii(&self) -> bool {
        self.expected.is_ascii()
    }
}

/// `$SIGILLO_QR_PHOTOS`, else `shared/qr-photos` beside the repository root.
pub(crate) fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(PHOTOS_ENV) {
        return PathBuf::from(dir);
    }
    // crates/sca-qr → crates → repository root → its parent, which holds shared/.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/qr-photos")
}

/// Every photo in `dir`'s folders `qrcode-1` … `qrcode-3`: each `N.png` / `N.jpg` / `N.jpeg`
/// with its `N.txt` (`N.metadata.txt` files are ZXing's and are ignored).
///
/// # Errors
/// A message when the folder or a photo's `.txt` is missing or unreadable: a missing set is an
/// error, never an empty set.
pub(crate) fn load(dir: &Path) -> Result<Vec<Photo>, String> {
    let mut photos = Vec::new();
    for folder in FOLDERS {
        let sub = dir.join(folder);
        let entries = std::fs::read_dir(&sub).map_err(|e| {
            format!(
                "cannot read the QR photo set at {} ({e}); it must be at shared/qr-photos beside \
                 the repository, or set {PHOTOS_ENV}",
                sub.display()
            )
        })?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
            })
            .collect();
        files.sort_by_key(|p| natural_key(p));
        for path in files {
            let txt = path.with_extension("txt");
            let expected = std::fs::read(&txt)
                .map_err(|e| format!("{}: {e}", txt.display()))
                .and_then(|b| String::from_utf8(b).map_err(|e| format!("{}: {e}", txt.display())))?;
            let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            photos.push(Photo {
                name: format!("{folder}/{file}"),
                bytes,
                expected,
            });
        }
    }
    if photos.is_empty() {
        return Err(format!("no photos found under {}", dir.display()));
    }
    Ok(photos)
}

/// Sort key so that `2.png` comes before `10.png`.
fn natural_key(p: &Path) -> (u64, String) {
    let stem = p
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    (stem.parse().unwrap_or(u64::MAX), stem)
}

/// Median of a list of durations in milliseconds (0 for an empty list).
pub(crate) fn median_ms(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}
