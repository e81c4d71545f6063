//! How the app was asked to run: command-line flags, their environment variables, and the one
//! persistent setting (`settings.json` in the app's config folder: `{"server": "https://…"}`).

use std::path::{Path, PathBuf};

use clap::Parser;

/// Sigillo: authorize your bank's operations from this computer.
#[derive(Debug, Clone, Parser)]
#[command(name = "sigillo", version, about)]
pub struct Options {
    /// The bank's server (https://…). Unset: the app starts its own demo bank on loopback.
    #[arg(long, env = "SIGILLO_SERVER")]
    pub server: Option<String>,
    /// Kiosk mode (bank branches): full screen, no window decorations, profiles in memory only,
    /// reset after 2 minutes without activity, nothing left on disk.
    #[arg(long, env = "SIGILLO_KIOSK", action = clap::ArgAction::SetTrue,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub kiosk: bool,
    /// Port of the embedded demo bank (0: any free port).
    #[arg(long, env = "SIGILLO_PORT", default_value_t = 0)]
    pub port: u16,
    /// The app's data folder (default: the vault's, shared with `sigillo-auth`: ~/.local/share/sigillo).
    #[arg(long, env = "SIGILLO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Read "camera" frames from the images of this folder (looping, 10 per second) instead of a
    /// webcam: for demos on machines without one, and for tests.
    #[arg(long, env = "SIGILLO_CAMERA_FRAMES")]
    pub camera_frames: Option<PathBuf>,
    /// Seconds without activity before a kiosk session is reset.
    #[arg(long, env = "SIGILLO_KIOSK_IDLE", default_value_t = 120)]
    pub kiosk_idle: u64,
    /// Seconds before an operation of the embedded demo bank expires.
    #[arg(long, env = "SIGILLO_DEMO_OPERATION_TTL", default_value_t = 300)]
    pub demo_operation_ttl: u64,
}

/// The persistent settings file.
#[derive(Debug, Default, serde::Deserialize)]
struct Settings {
    server: Option<String>,
}

impl Options {
    /// The bank's URL from the flag, else from `settings.json` in `config_dir`.
    pub fn server_from(&self, config_dir: &Path) -> Result<Option<String>, String> {
        if let Some(s) = self.server.as_deref().filter(|s| !s.trim().is_empty()) {
            return check_server_url(s).map(Some);
        }
        let path = config_dir.join("settings.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let settings: Settings =
                    serde_json::from_str(&text).map_err(|e| format!("{}: not valid settings ({e})", path.display()))?;
                settings
                    .server
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| check_server_url(&s))
                    .transpose()
                    .map_err(|e| format!("{}: server: {e}", path.display()))
            }
            Err(_) => Ok(None),
        }
    }
}

/// A bank URL: `https://host[:port]`, or `http://` on loopback only (the rule is the
/// authenticator crate's, [`authenticator::client::check_server_url`]), without a trailing slash.
pub fn check_server_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    authenticator::client::check_server_url(url.as_str()).map_err(|e| e.to_string())?;
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bank_urls_must_be_https_except_on_loopback() {
        assert_eq!(
            check_server_url("https://bank.example/").unwrap(),
            "https://bank.example"
        );
        assert_eq!(
            check_server_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(check_server_url("http://bank.example").unwrap_err().contains("https"));
        assert!(check_server_url("ftp://bank.example").is_err());
        assert!(check_server_url("bank").is_err());
    }

    #[test]
    fn the_flag_wins_over_the_settings_file_and_a_bad_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let none = Options::parse_from(["sigillo"]);
        assert_eq!(none.server_from(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("settings.json"), r#"{"server":"https://bank.example"}"#).unwrap();
        assert_eq!(
            none.server_from(dir.path()).unwrap().as_deref(),
            Some("https://bank.example")
        );
        let flag = Options::parse_from(["sigillo", "--server", "https://other.example"]);
        assert_eq!(
            flag.server_from(dir.path()).unwrap().as_deref(),
            Some("https://other.example")
        );
        std::fs::write(dir.path().join("settings.json"), "{").unwrap();
        assert!(none.server_from(dir.path()).unwrap_err().contains("settings.json"));
    }
}
