//! `sca-server`: loads the configuration from flags and environment, then binds. Everything else
//! is in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sca_server::config::defaults;
use sca_server::{AppState, Config, MessagesConfig, ShiftedClock, SystemClock};

/// The bank side of Sigillo (PSD2 SCA with dynamic linking).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

// Parsed once at start: the size of the import's server options does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Verifies the audit hash chain of a data directory; exit status 1 if it is broken.
    AuditVerify {
        /// Data directory.
        #[arg(long, env = "SCA_DATA_DIR")]
        data_dir: PathBuf,
        /// Database URL: sqlite://… (default sqlite://<data-dir>/sca.db) or postgres://….
        #[arg(long, env = "DATABASE_URL")]
        database_url: Option<String>,
        /// The bank key's file, when it is not in the data directory.
        #[arg(long, env = "SCA_BANK_KEY_FILE")]
        bank_key_file: Option<PathBuf>,
    },
    /// Imports the customers of an acquired bank from the file it exported (CSV or JSON, by the
    /// file's extension; docs/api.md §12): all of them in one commit, or none, every bad row
    /// reported with its line and field. Importing the same file again adds nothing.
    ImportLegacy {
        /// The acquired bank's code (`ubi`).
        #[arg(long)]
        bank: String,
        /// With --opens: makes the acquired bank (or renames it).
        #[arg(long, requires = "opens")]
        bank_name: Option<String>,
        /// The day its customers' first access opens, YYYY-MM-DD.
        #[arg(long, requires = "bank_name")]
        opens: Option<String>,
        /// The day it closes, YYYY-MM-DD.
        #[arg(long, requires = "opens")]
        closes: Option<String>,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Makes the two key files that every instance of a deployment is given: the bank signing
    /// key and the secrets key (0600; neither file may exist yet).
    Keygen {
        /// Where to write the bank signing key (P-256, PKCS#8).
        #[arg(long)]
        bank_key_file: PathBuf,
        /// Where to write the secrets key (32 bytes).
        #[arg(long)]
        secrets_key_file: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Address to listen on.
    #[arg(long, env = "SCA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Data directory: database, bank key, secrets key.
    #[arg(long, env = "SCA_DATA_DIR", default_value = "./sca-data")]
    data_dir: PathBuf,
    /// Database URL: sqlite://… (default sqlite://<data-dir>/sca.db) or postgres://….
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Serve the Area Clienti pages from this folder (default: the pages built into the binary;
    /// debug builds read ui/dist of the source tree).
    #[arg(long, env = "SCA_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Sandbox mode: /dev/outbox, 10 000.00 EUR for each new customer.
    #[arg(long, env = "SCA_SANDBOX")]
    sandbox: bool,
    /// Demo: implies --sandbox; seeds a demo customer and prints its credentials.
    #[arg(long, env = "SCA_DEMO")]
    demo: bool,
    /// Bearer token of the branch API (unset: branch API disabled).
    #[arg(long, env = "SCA_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// AES-256-GCM key for device secrets at rest, 64 hex characters (unset: --secrets-key-file,
    /// else <data-dir>/secrets.key).
    #[arg(
        long,
        env = "SCA_SECRETS_KEY",
        hide_env_values = true,
        conflicts_with = "secrets_key_file"
    )]
    secrets_key: Option<String>,
    /// The secrets key's file (32 bytes or 64 hex characters), the same for every instance; never
    /// made (`sca-server keygen` makes it). Unset: <data-dir>/secrets.key, made on first start.
    #[arg(long, env = "SCA_SECRETS_KEY_FILE")]
    secrets_key_file: Option<PathBuf>,
    /// The bank signing key's file (P-256 PKCS#8), the same for every instance; never made.
    /// Unset: <data-dir>/bank-key.p8, made on first start.
    #[arg(long, env = "SCA_BANK_KEY_FILE")]
    bank_key_file: Option<PathBuf>,
    /// Seconds before an operation expires.
    #[arg(long, env = "SCA_OPERATION_TTL", default_value_t = defaults::OPERATION_TTL)]
    operation_ttl: u64,
    /// Seconds of inactivity that end a web session.
    #[arg(long, env = "SCA_SESSION_IDLE", default_value_t = defaults::SESSION_IDLE)]
    session_idle: u64,
    /// Seconds after login that end a web session whatever the activity.
    #[arg(long, env = "SCA_SESSION_LIFETIME", default_value_t = defaults::SESSION_LIFETIME)]
    session_lifetime: u64,
    /// Largest transfer, in cents.
    #[arg(long, env = "SCA_MAX_TRANSFER_CENTS", default_value_t = defaults::MAX_TRANSFER_MINOR)]
    max_transfer_cents: u64,
    /// Above this amount (cents) OPERATION_ID codes are refused.
    #[arg(long, env = "SCA_OPERATION_ID_CODE_MAX_CENTS", default_value_t = defaults::OPERATION_ID_CODE_MAX_MINOR)]
    operation_id_code_max_cents: u64,
    /// At or below this amount (cents) TRANSACTION codes may authorize a transfer (0: never).
    #[arg(long, env = "SCA_TRANSACTION_CODE_MAX_CENTS", default_value_t = defaults::TRANSACTION_CODE_MAX_MINOR)]
    transaction_code_max_cents: u64,
    /// Bearer token of the 3-D Secure servers allowed to call the ACS (without it, the ACS
    /// answers only in sandbox mode).
    #[arg(long, env = "SCA_ACS_TOKEN", hide_env_values = true)]
    acs_token: Option<String>,
    /// The bank's public address (`https://bank.example`): the 3-D Secure challenge URL starts
    /// with it (default: the address a merchant's request came to).
    #[arg(long, env = "SCA_PUBLIC_URL")]
    public_url: Option<String>,
    /// 3-D Secure low-value exemption: purchases up to this amount (cents) pass without a
    /// challenge …
    #[arg(long, env = "SCA_EXEMPT_MAX_CENTS", default_value_t = defaults::EXEMPT_MAX_MINOR)]
    exempt_max_cents: u64,
    /// … while those let through since the last challenge add up to at most this (cents) …
    #[arg(long, env = "SCA_EXEMPT_SUM_CENTS", default_value_t = defaults::EXEMPT_SUM_MINOR)]
    exempt_sum_cents: u64,
    /// … and number at most this many (0: the exemption is off).
    #[arg(long, env = "SCA_EXEMPT_COUNT", default_value_t = defaults::EXEMPT_COUNT)]
    exempt_count: u32,
    /// Session cookie `Secure` attribute (default: on unless --sandbox).
    #[arg(long, env = "SCA_COOKIE_SECURE")]
    cookie_secure: Option<bool>,
    /// Largest request body in bytes.
    #[arg(long, env = "SCA_BODY_LIMIT", default_value_t = defaults::BODY_LIMIT)]
    body_limit: usize,
    /// Seconds between event-stream heartbeats.
    #[arg(long, env = "SCA_SSE_HEARTBEAT", default_value_t = defaults::SSE_HEARTBEAT_SECS)]
    sse_heartbeat: u64,
    /// Concurrent argon2id hashes.
    #[arg(long, env = "SCA_PASSWORD_HASH_CONCURRENCY", default_value_t = defaults::PASSWORD_HASH_CONCURRENCY)]
    password_hash_concurrency: usize,
    /// Most writes committed in one transaction.
    #[arg(long, env = "SCA_WRITER_BATCH_MAX", default_value_t = defaults::WRITER_BATCH_MAX)]
    writer_batch_max: usize,
    /// Webhook of an SMS/e-mail provider (unset: outbox table only).
    #[arg(long, env = "SCA_MESSAGES_WEBHOOK_URL")]
    messages_webhook_url: Option<String>,
    /// Bearer token for the webhook.
    #[arg(long, env = "SCA_MESSAGES_WEBHOOK_TOKEN", hide_env_values = true)]
    messages_webhook_token: Option<String>,
    /// Seconds between two SMS codes to one customer or phone (default 30; none in sandbox).
    #[arg(long, env = "SCA_SMS_MIN_INTERVAL")]
    sms_min_interval: Option<u64>,
    /// SMS codes to one customer or phone per hour (default 10; none in sandbox; 0: no limit).
    #[arg(long, env = "SCA_SMS_PER_HOUR")]
    sms_per_hour: Option<u32>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); with --tls-key.
    #[arg(long, env = "SCA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "SCA_TLS_KEY", requires = "tls_cert", hide_env_values = true)]
    tls_key: Option<PathBuf>,
    /// Passwords or security codes one client IP may have checked at once (0: no limit).
    #[arg(long, env = "SCA_LOGIN_BURST", default_value_t = defaults::LOGIN_BURST)]
    login_burst: u32,
    /// … and per second, sustained.
    #[arg(long, env = "SCA_LOGIN_PER_SECOND", default_value_t = defaults::LOGIN_PER_SECOND)]
    login_per_second: u32,
}

impl RunArgs {
    fn config(&self) -> Config {
        let sandbox = self.sandbox || self.demo;
        let mut c = Config::new(&self.data_dir);
        c.database_url = self.database_url.clone();
        c.ui_dir = self.ui_dir.clone();
        c.sandbox = sandbox;
        c.admin_token = self.admin_token.clone().filter(|t| !t.is_empty());
        c.secrets_key_hex = self.secrets_key.clone().filter(|k| !k.is_empty());
        c.secrets_key_file = self.secrets_key_file.clone();
        c.bank_key_file = self.bank_key_file.clone();
        c.operation_ttl = self.operation_ttl;
        c.session_idle = self.session_idle;
        c.session_lifetime = self.session_lifetime;
        c.max_transfer_minor = self.max_transfer_cents;
        c.operation_id_code_max_minor = self.operation_id_code_max_cents;
        c.transaction_code_max_minor = self.transaction_code_max_cents;
        c.acs_token = self.acs_token.clone().filter(|t| !t.is_empty());
        c.public_url = self.public_url.clone().map(|u| u.trim_end_matches('/').to_owned());
        c.exempt_max_minor = self.exempt_max_cents;
        c.exempt_sum_minor = self.exempt_sum_cents;
        c.exempt_count = self.exempt_count;
        // Over HTTPS the cookie is Secure (and HSTS is sent) in sandbox mode too.
        c.cookie_secure = self.cookie_secure.unwrap_or(!sandbox || self.tls_cert.is_some());
        c.body_limit = self.body_limit;
        c.sse_heartbeat = Duration::from_secs(self.sse_heartbeat.max(1));
        c.password_hash_concurrency = self.password_hash_concurrency.max(1);
        c.writer_batch_max = self.writer_batch_max.max(1);
        c.login_burst = self.login_burst;
        c.login_per_second = self.login_per_second.max(1);
        if sandbox {
            c.without_sms_limits();
        }
        if let Some(n) = self.sms_min_interval {
            // Sends are kept for an hour: a longer interval could not be enforced.
            c.sms_min_interval = n.min(3600);
        }
        if let Some(n) = self.sms_per_hour {
            c.sms_per_hour = n;
        }
        c.messages = match &self.messages_webhook_url {
            Some(url) if !url.is_empty() => MessagesConfig::Webhook {
                url: url.clone(),
                token: self.messages_webhook_token.clone(),
            },
            _ => MessagesConfig::OutboxOnly,
        };
        c
    }
}

fn keygen(bank_key_file: &std::path::Path, secrets_key_file: &std::path::Path) -> ExitCode {
    match sca_server::crypto::generate_key_files(bank_key_file, secrets_key_file) {
        Ok((key_id, fingerprint)) => {
            println!("bank signing key: {} (key id {key_id})", bank_key_file.display());
            println!(
                "secrets key:      {} (fingerprint {fingerprint})",
                secrets_key_file.display()
            );
            println!(
                "Give both files to every instance (--bank-key-file, --secrets-key-file), readable by its user only."
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot make the keys: {e}");
            ExitCode::from(2)
        }
    }
}

async fn audit_verify(data_dir: PathBuf, database_url: Option<String>, bank_key_file: Option<PathBuf>) -> ExitCode {
    let mut config = Config::new(&data_dir);
    config.database_url = database_url;
    let rng = ring::rand::SystemRandom::new();
    let bank = match sca_server::crypto::read_bank_public_key(bank_key_file.as_deref(), &data_dir, &rng) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("cannot read the bank key: {e}");
            return ExitCode::from(2);
        }
    };
    // No signer: verifying writes nothing of its own.
    let store = match sca_server::storage::Store::open(&config.database_url(), 1, None).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("cannot open the database: {e}");
            return ExitCode::from(2);
        }
    };
    let verdict = match &bank {
        Some(bank) => store
            .verify_audit_signed(bank)
            .await
            .map(|r| r.map(|(n, c)| (n, Some(c)))),
        None => store.verify_audit().await.map(|r| r.map(|n| (n, None))),
    };
    match verdict {
        Ok(Ok((n, Some(c)))) => {
            println!("audit chain OK: {n} entries, the newest covered by the last of {c} signed checkpoints");
            ExitCode::SUCCESS
        }
        Ok(Ok((n, None))) => {
            println!("audit chain OK: {n} entries (no bank-key.p8 here: the signed checkpoints were not checked)");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("audit chain BROKEN: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("cannot read the audit log: {e}");
            ExitCode::from(2)
        }
    }
}

async fn import_legacy(
    run: RunArgs,
    bank: &str,
    bank_name: Option<String>,
    opens: Option<String>,
    closes: Option<String>,
    file: &std::path::Path,
) -> ExitCode {
    use sca_server::legacy::{self, Format, ImportError};
    let Some(format) = Format::of_path(file) else {
        eprintln!("{}: the file must end in .csv or .json", file.display());
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let state = match AppState::new(run.config(), Arc::new(SystemClock)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sca-server cannot open its data: {e}");
            return ExitCode::from(2);
        }
    };
    if let (Some(name), Some(opens)) = (bank_name, opens) {
        let dates = legacy::date_to_unix(&opens)
            .and_then(|o| closes.as_deref().map(legacy::date_to_unix).transpose().map(|c| (o, c)));
        let (opens_at, closes_at) = match dates {
            Ok(d) => d,
            Err(e) => {
                eprintln!("--opens/--closes: {e}");
                return ExitCode::from(2);
            }
        };
        if let Err(e) = legacy::upsert_bank(&state, bank, &name, opens_at, closes_at).await {
            eprintln!("the acquired bank: {e}");
            return ExitCode::from(2);
        }
    }
    match legacy::import_text(&state, bank, &text, format).await {
        Ok(done) => {
            println!(
                "{bank}: {} customers imported, {} already there (unchanged)",
                done.added, done.unchanged
            );
            ExitCode::SUCCESS
        }
        Err(e @ (ImportError::Rows(_) | ImportError::UnknownBank(_))) => {
            eprint!("{e}");
            if !matches!(e, ImportError::Rows(_)) {
                eprintln!();
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("import failed, nothing imported: {e}");
            ExitCode::from(2)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::AuditVerify {
            data_dir,
            database_url,
            bank_key_file,
        }) => return audit_verify(data_dir, database_url, bank_key_file).await,
        Some(Command::ImportLegacy {
            bank,
            bank_name,
            opens,
            closes,
            file,
            run,
        }) => return import_legacy(run, &bank, bank_name, opens, closes, &file).await,
        Some(Command::Keygen {
            bank_key_file,
            secrets_key_file,
        }) => return keygen(&bank_key_file, &secrets_key_file),
        None => {}
    }
    let args = cli.run;
    let config = args.config();
    // A sandbox's clock can be moved forward (`POST /dev/clock`), a bank's never.
    let clock: Arc<dyn sca_server::Clock> = if config.sandbox {
        Arc::new(ShiftedClock::default())
    } else {
        Arc::new(SystemClock)
    };
    let state = match AppState::new(config, clock).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sca-server cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match sca_server::tls::server_config(cert, key) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("sca-server cannot start: {e}");
                return ExitCode::from(2);
            }
        },
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot listen on {}: {e}", args.listen);
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().unwrap_or(args.listen);
    if args.demo {
        match sca_server::seed_demo(&state).await {
            Ok(d) => {
                println!("Demo customer: Mario Rossi");
                println!("  user code:     {} (alias: {})", d.user_code, d.alias);
                println!("  password:      {}", d.password);
                println!("  security code: {}", d.security_code);
                println!("  phone:         {}", d.phone);
                println!(
                    "  SMS and e-mail: {scheme}://{local}/dev/outbox?to={}",
                    d.phone.replace('+', "%2B")
                );
                println!("  demo shop:     {scheme}://{local}/dev/shop (3-D Secure: pay with the demo cards,");
                println!("                 made from the user code in the shop's \"sandbox card\" box)");
                for l in &d.legacy {
                    println!(
                        "Former {} customer ({}): first access from the login page's box",
                        l.bank_name,
                        if l.auth == "card" {
                            "used a code card: SMS PINs after"
                        } else {
                            "used an app: push after"
                        }
                    );
                    println!("  legacy code:   {}", l.legacy_code);
                    println!("  password:      {}", l.password);
                    println!(
                        "  phone:         {} (SMS: {scheme}://{local}/dev/outbox?to={})",
                        l.phone,
                        l.phone.replace('+', "%2B")
                    );
                }
            }
            Err(e) => {
                eprintln!("cannot seed the demo customer: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("sca-server listening on {scheme}://{local}");
    tracing::info!(%local, sandbox = state.config().sandbox, "listening");
    // On SIGTERM/ctrl-c: stop accepting, let requests finish, but do not wait for event streams
    // (devices stay connected for hours) longer than a grace period. Writes are acknowledged
    // only after their commit, so stopping at any point loses nothing acknowledged.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    let mut graceful = stop_rx.clone();
    let mut grace = stop_rx;
    let stopped = async move {
        let _ = graceful.wait_for(|stop| *stop).await;
    };
    let serve = async move {
        match tls {
            Some(tls) => sca_server::tls::serve_tls(listener, state, tls, stopped).await,
            None => sca_server::serve(listener, state, stopped).await,
        }
    };
    tokio::select! {
        result = serve => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("server error: {e}");
                ExitCode::FAILURE
            }
        },
        _ = async {
            let _ = grace.wait_for(|stop| *stop).await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => ExitCode::SUCCESS,
    }
}
