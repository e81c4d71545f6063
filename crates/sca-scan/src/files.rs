//! Frame sources over images that already exist: files in a folder or a list ([`ImageFiles`]),
//! and one image held in memory ([`StillImage`], also what the clipboard gives).
//!
//! Files are decoded with [`sca_qr::load_luma`] (PNG or JPEG sniffed from the content, size
//! limit checked before decoding, transparency over white), one file per frame, when the frame is
//! asked for: a long folder costs no memory up front. This module never writes files.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use image::GrayImage;

use crate::error::ScanError;
use crate::source::{Frame, FrameClock, FrameSource, Pacing, ScanClock};

/// File name extensions taken from a folder (compared without case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Image files read in order, one frame each, optionally looping, optionally at a frame rate.
///
/// Without a frame rate the source is [`Pacing::OnDemand`]: the scanning loop decodes every
/// file. With one ([`ImageFiles::at_fps`]) it behaves like a camera ([`Pacing::Live`]): files
/// come at that rate and those the loop has no time for are dropped.
#[derive(Debug, Clone)]
pub struct ImageFiles {
    paths: Vec<PathBuf>,
    origin: String,
    next: usize,
    looping: bool,
    clock: FrameClock,
}

impl ImageFiles {
    /// Every PNG or JPEG file directly in `dir` (by extension, see [`IMAGE_EXTENSIONS`];
    /// sub-folders and other files are ignored), in natural name order (`2.png` before
    /// `10.png`, then byte order).
    ///
    /// # Errors
    /// [`ScanError::Io`] when the folder cannot be read, [`ScanError::NoImages`] when it holds no
    /// image file.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ScanError> {
        let dir = dir.as_ref();
        let entries = std::fs::read_dir(dir).map_err(|e| ScanError::io(dir, &e))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ScanError::io(dir, &e))?;
            let path = entry.path();
            if has_image_extension(&path) && path.is_file() {
                paths.push(path);
            }
        }
        if paths.is_empty() {
            return Err(ScanError::NoImages(dir.to_path_buf()));
        }
        paths.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
        let origin = format!("{} image(s) from {}", paths.len(), dir.display());
        Ok(Self::with_paths(paths, origin))
    }

    /// The given files, in the given order (their extensions are not checked: the content
    /// decides).
    ///
    /// # Errors
    /// [`ScanError::InvalidConfig`] (`paths`) for an empty list.
    pub fn from_paths(paths: Vec<PathBuf>) -> Result<Self, ScanError> {
        if paths.is_empty() {
            return Err(ScanError::config("paths", "the list of image files is empty"));
        }
        let origin = match paths.as_slice() {
            [one] => format!("image {}", one.display()),
            many => format!("{} image files", many.len()),
        };
        Ok(Self::with_paths(paths, origin))
    }

    fn with_paths(paths: Vec<PathBuf>, origin: String) -> Self {
        Self {
            paths,
            origin,
            next: 0,
            looping: false,
            clock: FrameClock::default(),
        }
    }

    crate::source::replay_settings!("file");

    /// The files, in the order they are read.
    #[must_use]
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

impl FrameSource for ImageFiles {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        if self.next >= self.paths.len() {
            if !self.looping {
                return Ok(None);
            }
            self.next = 0;
        }
        let Some(path) = self.paths.get(self.next).cloned() else {
            return Ok(None);
        };
        // Advance first: a bad file is reported once and skipped, not retried forever.
        self.next += 1;
        let image = load_file(&path)?;
        // Loaded first, delivered when due: the frame rate is the one asked for, whatever the
        // file's decoding time (as long as it is shorter than a frame interval).
        Ok(Some(self.clock.frame(image)))
    }

    fn pacing(&self) -> Pacing {
        self.clock.pacing()
    }

    fn describe(&self) -> String {
        self.origin.clone()
    }
}

/// One image held in memory, given once, or repeated at a frame rate like a camera pointed at
/// a still picture.
#[derive(Debug, Clone)]
pub struct StillImage {
    image: GrayImage,
    origin: String,
    done: bool,
    clock: FrameClock,
}

impl StillImage {
    /// The image, given once ([`Pacing::OnDemand`]); `origin` says where it came from, for
    /// [`FrameSource::describe`].
    #[must_use]
    pub fn new(image: GrayImage, origin: impl Into<String>) -> Self {
        Self {
            image,
            origin: origin.into(),
            done: false,
            clock: FrameClock::default(),
        }
    }

    /// The image in a PNG or JPEG file, given once.
    ///
    /// # Errors
    /// [`ScanError::Io`] when the file cannot be read, [`ScanError::Image`] when it is not a
    /// usable PNG or JPEG image.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ScanError> {
        let path = path.as_ref();
        Ok(Self::new(load_file(path)?, format!("image {}", path.display())))
    }

    /// The image on the system clipboard, given once (see [`crate::clipboard_image`]).
    ///
    /// # Errors
    /// As [`crate::clipboard_image`].
    pub fn from_clipboard() -> Result<Self, ScanError> {
        Ok(Self::new(crate::clipboard::clipboard_image()?, "clipboard image"))
    }

    /// Repeats the image forever at `fps` frames per second ([`Pacing::Live`]).
    ///
    /// # Errors
    /// [`ScanError::InvalidConfig`] (`fps`) unless `0 < fps <= MAX_FPS`.
    pub fn repeating(mut self, fps: f64) -> Result<Self, ScanError> {
        self.clock.set_fps(fps)?;
        Ok(self)
    }

    /// The image.
    #[must_use]
    pub fn image(&self) -> &GrayImage {
        &self.image
    }
}

impl FrameSource for StillImage {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        // Unpaced, a still image is one frame; paced, it repeats at its rate.
        if self.done && matches!(self.clock.pacing(), Pacing::OnDemand) {
            return Ok(None);
        }
        self.done = true;
        Ok(Some(self.clock.frame(self.image.clone())))
    }

    fn pacing(&self) -> Pacing {
        self.clock.pacing()
    }

    fn describe(&self) -> String {
        format!("{} ({}x{})", self.origin, self.image.width(), self.image.height())
    }
}

/// Reads and decodes one image file.
pub(crate) fn load_file(path: &Path) -> Result<GrayImage, ScanError> {
    let bytes = std::fs::read(path).map_err(|e| ScanError::io(path, &e))?;
    sca_qr::load_luma(&bytes).map_err(|source| ScanError::Image {
        path: path.to_path_buf(),
        source,
    })
}

fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Natural order: runs of ASCII digits compare as numbers (`2` < `10`), everything else by
/// bytes; ties (`01` vs `1`) fall back to plain byte order so the order is total.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let (nx, rx) = split_digits(x);
                let (ny, ry) = split_digits(y);
                let (tx, ty) = (trim_zeros(nx), trim_zeros(ny));
                let ord = tx.len().cmp(&ty.len()).then_with(|| tx.cmp(ty));
                if ord != Ordering::Equal {
                    return ord;
                }
                (x, y) = (rx, ry);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}

fn split_digits(s: &[u8]) -> (&[u8], &[u8]) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    s.split_at(n)
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| c == b'0').count();
    &s[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut names = vec!["10.png", "2.png", "1.png", "b.png", "a10.jpg", "a9.jpg", "01.png"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["01.png", "1.png", "2.png", "10.png", "a9.jpg", "a10.jpg", "b.png"]
        );
        assert_eq!(natural_cmp("x", "x"), Ordering::Equal);
    }
}
