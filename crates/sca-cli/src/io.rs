//! Reading inputs (files or `-`) with a size limit, and writing outputs without panicking on a
//! closed pipe (`sca … | head`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};

/// Payloads, keys and vector files are small; images are bounded by the QR crate's pixel limit.
pub(crate) const MAX_TEXT_INPUT: u64 = 16 * 1024 * 1024;
pub(crate) const MAX_IMAGE_INPUT: u64 = 64 * 1024 * 1024;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CliError + '_ {
    move |source| CliError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a file, or standard input for `-`, refusing more than `limit` bytes.
pub(crate) fn read_input(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().lock().take(limit + 1).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
    };
    read.map_err(io_err(path))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::arg(
            &path.display().to_string(),
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(bytes)
}

/// Reads UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_input(path, MAX_TEXT_INPUT)?)
        .map_err(|_| CliError::arg(&path.display().to_string(), "not UTF-8 text"))
}

/// Writes to standard output; a reader that went away is not an error.
pub(crate) fn stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(io_err(Path::new("-"))),
    }
}

/// `println!` that cannot panic.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::io::stdout(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}
pub(crate) use say;

/// Writes a file (or standard output for `-`); with `private`, readable by the owner only.
pub(crate) fn write_output(path: &Path, bytes: &[u8], private: bool, overwrite: bool) -> Result<()> {
    if path == Path::new("-") {
        return stdout(bytes);
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::arg(
                &path.display().to_string(),
                "already exists (use --force to replace it)",
            )
        } else {
            CliError::Io {
                path: PathBuf::from(path),
                source: e,
            }
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_err(path))
}

/// Unix seconds now, or the `--now` given.
pub(crate) fn now_or(given: Option<u64>) -> u64 {
    given.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    })
}
