//! The process before any window: whether there is a display, where the app keeps its files,
//! the one re-execution that sets the environment the libraries read at start (GPU compositing,
//! JIT, malloc, a kiosk's caches), and a kiosk's scratch folder.

use std::path::{Path, PathBuf};

/// Whether a window can be opened at all.
pub(crate) fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
}

/// The app's folder under an XDG base directory (`var`, or `$HOME/fallback`).
pub(crate) fn platform_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(fallback)))
        .map(|d| d.join("it.sigillo.desktop"))
}

/// Before the vault had one folder for every program (`authenticator::vault::default_dir`), the
/// app kept its profiles and its demo bank in its own platform folder (`legacy`). Moves them to
/// `dir` once, when `dir` holds no profiles yet; the keyring entries are the same for both. A
/// failure leaves everything where it was, and is said.
pub(crate) fn move_legacy_data(legacy: &Path, dir: &Path) {
    const MOVED: [&str; 2] = ["profiles.json", "demo-bank"];
    if !legacy.join(MOVED[0]).exists() || dir.join(MOVED[0]).exists() {
        return;
    }
    let moved = std::fs::create_dir_all(dir).and_then(|()| {
        for name in MOVED {
            if legacy.join(name).exists() && !dir.join(name).exists() {
                std::fs::rename(legacy.join(name), dir.join(name))?;
            }
        }
        Ok(())
    });
    match moved {
        Ok(()) => println!("Sigillo: profiles moved from {} to {}", legacy.display(), dir.display()),
        Err(e) => eprintln!(
            "Sigillo: cannot move the profiles from {} to {}: {e}",
            legacy.display(),
            dir.display()
        ),
    }
}

const KIOSK_SCRATCH_PREFIX: &str = "sigillo-kiosk-";
pub(crate) const KIOSK_SCRATCH_ENV: &str = "SIGILLO_KIOSK_SCRATCH";

/// Set in the environment of the process once it has re-executed itself.
const REEXEC_ENV: &str = "SIGILLO_REEXEC";

/// Some settings of the libraries under the app are read from the environment once, when they
/// start, so the process re-executes itself once with them before anything else:
/// * always: no GPU compositing in the webviews (`WEBKIT_DISABLE_COMPOSITING_MODE=1`, unless
///   `SIGILLO_GPU=1` or the variable is set already): for these simple pages it halves the
///   memory of each web process (docs/benchmarks.md) at no visible cost;
/// * always: no JavaScript JIT in the web processes (`JSC_useJIT=0`, unless `SIGILLO_JIT=1` or
///   the variable is set already). JIT compilers are where most engine exploits live, which is
///   why Safari's Lockdown Mode turns them off too; the pages of a bank stay quick enough without
///   one, and each web process needs about 5 MB less;
/// * always: allocations of 1 MiB or more go straight to `mmap` (`MALLOC_MMAP_THRESHOLD_`).
///   Otherwise glibc raises that threshold after the first large free, and the 19 MiB blocks of
///   the demo bank's argon2id hashes stay in a malloc arena for good: 38 MB after the demo
///   customer is created;
/// * in kiosk mode: every per-user cache (GTK, WebKit, Mesa's shader cache, GSettings) pointed
///   into the kiosk's scratch folder or kept in memory.
#[cfg(unix)]
pub(crate) fn reexec(kiosk: bool) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(REEXEC_ENV).is_some() {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the program: {e}"))?;
    let mut command = std::process::Command::new(exe);
    command.args(std::env::args_os().skip(1)).env(REEXEC_ENV, "1");
    let gpu = std::env::var_os("SIGILLO_GPU").is_some_and(|v| v == "1");
    if !gpu && std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        command.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    let jit = std::env::var_os("SIGILLO_JIT").is_some_and(|v| v == "1");
    if !jit && std::env::var_os("JSC_useJIT").is_none() {
        command.env("JSC_useJIT", "0");
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        command.env("MALLOC_MMAP_THRESHOLD_", "1048576");
    }
    let mut scratch = None;
    if kiosk {
        let dir = kiosk_scratch()?;
        command
            .env(KIOSK_SCRATCH_ENV, &dir)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("MESA_SHADER_CACHE_DISABLE", "true")
            .env("GSETTINGS_BACKEND", "memory");
        scratch = Some(dir);
    }
    let err = command.exec();
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    Err(format!("cannot start the app: {err}"))
}

#[cfg(not(unix))]
pub(crate) fn reexec(_kiosk: bool) -> Result<(), String> {
    Ok(())
}

/// A kiosk's one folder on disk, in the temporary directory. Folders of earlier kiosk runs that
/// did not end cleanly (power cut, kill) are deleted first: a branch machine runs one kiosk.
pub(crate) fn kiosk_scratch() -> Result<PathBuf, String> {
    let tmp = std::env::temp_dir();
    if let Ok(entries) = std::fs::read_dir(&tmp) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(KIOSK_SCRATCH_PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    tempfile::Builder::new()
        .prefix(KIOSK_SCRATCH_PREFIX)
        .tempdir()
        .map(tempfile::TempDir::keep)
        .map_err(|e| format!("cannot make a scratch folder in {}: {e}", tmp.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_old_folder_moves_once_and_never_over_profiles() {
        let root = tempfile::tempdir().unwrap();
        let (legacy, dir) = (root.path().join("it.sigillo.desktop"), root.path().join("sigillo"));
        std::fs::create_dir_all(legacy.join("demo-bank")).unwrap();
        std::fs::write(legacy.join("profiles.json"), "old").unwrap();
        std::fs::write(legacy.join("demo-bank/bank.db"), "db").unwrap();
        move_legacy_data(&legacy, &dir);
        assert_eq!(std::fs::read_to_string(dir.join("profiles.json")).unwrap(), "old");
        assert_eq!(std::fs::read_to_string(dir.join("demo-bank/bank.db")).unwrap(), "db");
        assert!(!legacy.join("profiles.json").exists());
        // Profiles in the new folder are never replaced by an old index.
        std::fs::write(legacy.join("profiles.json"), "older").unwrap();
        move_legacy_data(&legacy, &dir);
        assert_eq!(std::fs::read_to_string(dir.join("profiles.json")).unwrap(), "old");
    }
}
