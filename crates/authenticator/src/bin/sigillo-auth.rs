//! `sigillo-auth` — the authenticator without a window, for developers, kiosks and tests.
//!
//! A thin shell over the `authenticator` crate. Secrets are asked for on the terminal without
//! echo; with `--pin-stdin` every secret (password, SMS code, PIN, new PIN) is read instead from
//! standard input, one line each, in the order the command asks for them.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use authenticator::{
    Authenticator, Error, FoundOperation, KeyringStore, OpIdLookup, Profile, PushEvent, TimeCodeKind, Vault,
    needs_number, operation_summary, parse_op_id, parse_typed_number,
};
use clap::{Parser, Subcommand};
use sca_protocol::{Kind, Pin, SignedPayload};

/// The Sigillo authenticator on the command line.
#[derive(Debug, Parser)]
#[command(
    name = "sigillo-auth",
    version,
    about,
    after_help = "\
Examples (with `sca-server --demo` on http://127.0.0.1:8080):
  sigillo-auth activate --server http://127.0.0.1:8080 --user 12345678
  sigillo-auth otp login
  sigillo-auth scan qr.png
  sigillo-auth scan --screen
  sigillo-auth sign --op-id 57240000
  sigillo-auth listen"
)]
struct Cli {
    /// Where the profile index lives (secrets are in the OS keyring).
    #[arg(long, env = "SIGILLO_DATA_DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The profile to use: its id or user; the main profile when absent.
    #[arg(long, short, global = true)]
    profile: Option<String>,
    /// Read secrets from standard input, one per line, instead of prompting on the terminal.
    #[arg(long, global = true)]
    pin_stdin: bool,
    /// Also trust the certificate authorities in this PEM file (a bank's own CA, a test CA).
    #[arg(long, env = "SIGILLO_CA_FILE", global = true)]
    ca_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Activate this computer as a device: user code + password + SMS code, or a DEVICE QR code.
    #[command(
        after_help = "Examples:\n  sigillo-auth activate --server https://bank.example --user 12345678\n  \
        sigillo-auth activate --server https://bank.example --user 12345678 --qr-image device-qr.png"
    )]
    Activate {
        /// The bank's server.
        #[arg(long)]
        server: String,
        /// Your user code or alias.
        #[arg(long)]
        user: String,
        /// The SMS code, if you have it already (asked for otherwise).
        #[arg(long)]
        sms_otp: Option<String>,
        /// A name for this device.
        #[arg(long, default_value = "Sigillo CLI")]
        name: String,
        /// Activate from the text of a DEVICE QR code shown by an active device (no password).
        #[arg(long, conflicts_with = "qr_image")]
        qr: Option<String>,
        /// … or from an image of it.
        #[arg(long)]
        qr_image: Option<PathBuf>,
    },
    /// From this active device: show a QR code that activates another one.
    #[command(after_help = "Example:\n  sigillo-auth device-qr --out new-device.png")]
    DeviceQr {
        /// Also write the QR code as an image (.png or .svg).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// List the profiles on this computer.
    Profiles {
        /// Make this profile (id or user) the main one.
        #[arg(long)]
        set_main: Option<String>,
    },
    /// Change the PIN (the bank checks the old one first).
    #[command(subcommand)]
    Pin(PinCommand),
    /// A time-based code: `login` ("OTP login") or `transaction` ("OTP dispositiva").
    Otp {
        /// login | transaction
        #[arg(value_parser = ["login", "transaction"])]
        kind: String,
    },
    /// Print the text of the QR code in an image, exactly (exit 1 if there is none).
    Decode {
        /// PNG or JPEG.
        image: PathBuf,
    },
    /// List the cameras that can scan QR codes.
    Cameras,
    /// Read a bill's QR code (a pagoPA notice or an EPC transfer) from an image: print the bill
    /// and the bank's page that pays it, prefilled (the desktop app opens that page).
    #[command(
        after_help = "Example:\n  sigillo-auth bill avviso.png\n  sigillo-auth bill fattura.jpg --bank https://bank.example/"
    )]
    Bill {
        /// PNG or JPEG (`-` for the QR code's text on standard input).
        image: PathBuf,
        /// The bank's Area Clienti (default: the profile's bank).
        #[arg(long)]
        bank: Option<String>,
    },
    /// Scan a QR code from an image, the camera or the screen: show the verified operation, ask
    /// the PIN, print the code.
    #[command(
        after_help = "Example:\n  sigillo-auth scan qr.png\n  sigillo-auth scan qr.png --approve\n  \
        sigillo-auth scan --camera 0\n  sigillo-auth scan --screen\n  sigillo-auth scan --screen --pick 2"
    )]
    Scan {
        /// PNG or JPEG (`-` for a payload's text on standard input).
        #[arg(required_unless_present_any = ["camera", "screen"])]
        image: Option<PathBuf>,
        /// Scan with this camera instead (see `sigillo-auth cameras`); gives up after 60 s.
        #[arg(long, conflicts_with_all = ["image", "screen"])]
        camera: Option<u32>,
        /// Read the QR code on this computer's screen instead (the bank's page open in a browser
        /// here): every code on the screen that is an operation of one of your profiles (or of
        /// `--profile` when given) is offered; several are listed to choose from.
        #[arg(long, conflicts_with = "image")]
        screen: bool,
        /// With `--screen`, when the screen shows several operations: take the N-th of the list
        /// (from 1) instead of asking.
        #[arg(long, requires = "screen", value_name = "N")]
        pick: Option<usize>,
        /// Approve online instead of printing a code to type.
        #[arg(long)]
        approve: bool,
    },
    /// A code for an 8-digit operation identifier typed by hand.
    Sign {
        /// The operation identifier shown in Area Clienti.
        #[arg(long)]
        op_id: String,
        /// Do not look the operation up online.
        #[arg(long)]
        offline: bool,
    },
    /// Operations waiting for this device's approval (one look, no waiting).
    Pending,
    /// Approve a pending operation online, by its identifier.
    Approve {
        /// The operation identifier.
        op_id: String,
        /// For a login: the two-digit number the page shows (asked for when not given).
        #[arg(long)]
        number: Option<String>,
    },
    /// Reject a pending operation ("non sono io"); no PIN needed.
    Reject {
        /// The operation identifier.
        op_id: String,
    },
    /// Wait for pushes to every profile; approve or reject each as it comes.
    Listen,
    /// Remove a profile: the device on the server, then its keys here.
    Remove {
        /// Only here (when the server is gone or the device was removed in Area Clienti).
        #[arg(long)]
        local_only: bool,
    },
}

#[derive(Debug, Subcommand)]
enum PinCommand {
    /// Change the PIN: asks the old one, then the new one twice.
    Change,
}

struct Io {
    stdin_secrets: bool,
}

impl Io {
    fn line(&self, prompt: &str, secret: bool) -> Result<String, Error> {
        if self.stdin_secrets {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::input("stdin", e))?;
            if line.is_empty() {
                return Err(Error::input("stdin", format!("no line left for: {prompt}")));
            }
            return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Error::input(
                "stdin",
                format!("{prompt}: no terminal to ask on (use --pin-stdin)"),
            ));
        }
        if secret {
            rpassword::prompt_password(format!("{prompt}: ")).map_err(|e| Error::input("terminal", e))
        } else {
            eprint!("{prompt}: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| Error::input("terminal", e))?;
            Ok(line.trim().to_owned())
        }
    }

    fn pin(&self, prompt: &str) -> Result<Pin, Error> {
        Ok(Pin::parse(&self.line(prompt, true)?)?)
    }

    fn new_pin(&self) -> Result<Pin, Error> {
        let pin = self.pin("New PIN (5 digits)")?;
        let again = self.line("New PIN again", true)?;
        if again.as_bytes() != pin.expose_secret() {
            return Err(Error::input("pin", "the two PINs differ"));
        }
        Ok(pin)
    }
}

/// Prints the text of the QR code in `image`, exactly.
fn decode(image: &std::path::Path) -> Result<(), Error> {
    let bytes = std::fs::read(image).map_err(|e| Error::storage("read", image, e))?;
    let decoded = sca_qr::decode_image_bytes(&bytes)?;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(decoded.text.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

fn cameras() -> Result<(), Error> {
    let cameras = authenticator::scan::list_cameras()?;
    if cameras.is_empty() {
        println!("no camera found: scan from an image file instead (sigillo-auth scan FILE)");
    }
    for c in cameras {
        println!("{}  {}", c.index, c.name);
    }
    Ok(())
}

fn data_dir(given: Option<PathBuf>) -> PathBuf {
    given
        .or_else(authenticator::vault::default_dir)
        .unwrap_or_else(|| PathBuf::from("sigillo"))
}

fn print_operation(payload: &SignedPayload) {
    let op = payload.operation();
    println!("Operation {} — {}", op.op_id, kind_label(op.kind));
    for line in op.data.terminal_lines("  ", false) {
        println!("{line}");
    }
}

/// `sigillo-auth bill`: the bill in an image (or its text on stdin) and the page that pays it.
fn bill(image: &std::path::Path, bank: &str) -> Result<(), Error> {
    let text = if image.as_os_str() == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text).map_err(|e| Error::input("stdin", e))?;
        // The line end a shell or a file adds; the QR code's own text has none after its last element.
        let end = text
            .strip_suffix("\r\n")
            .or_else(|| text.strip_suffix('\n'))
            .unwrap_or(&text)
            .len();
        text.truncate(end);
        text
    } else {
        let bytes = std::fs::read(image).map_err(|e| Error::storage("read", image, e))?;
        sca_qr::decode_image_bytes(&bytes)?.text
    };
    let page = authenticator::bill::BillPage::read(bank, &text)?;
    let amount = page.amount_cents.map_or_else(
        || "not given (the customer types it)".to_owned(),
        |c| format!("{} EUR", authenticator::bill::decimal(c)),
    );
    match page.kind {
        "pagopa" => {
            println!("pagoPA notice");
            println!("  notice code:     {}", page.notice_code.as_deref().unwrap_or(""));
            println!("  creditor (CF):   {}", page.payee);
        }
        _ => {
            println!("EPC credit transfer");
            println!("  beneficiary:     {}", page.payee);
            println!("  IBAN:            {}", page.iban.as_deref().unwrap_or(""));
            if let Some(d) = &page.description {
                println!("  description:     {d}");
            }
        }
    }
    println!("  amount:          {amount}");
    println!("opens: {}", page.url);
    Ok(())
}

fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::Transfer => "transfer (bonifico)",
        Kind::Login => "login (accesso)",
        Kind::CardPayment => "card payment",
        Kind::Device => "activate a new device",
        Kind::Generic => "operation",
        Kind::PagoPa => "pagoPA notice (avviso pagoPA)",
    }
}

/// For a login, the number the page shows: `given` (`--number`), or typed at the prompt. The
/// bank never tells the device the number, so nothing can be offered to pick from.
fn ask_number(io: &Io, payload: &SignedPayload, given: Option<&str>) -> Result<Option<u8>, Error> {
    if !needs_number(payload) {
        return Ok(None);
    }
    let typed = match given {
        Some(text) => text.to_owned(),
        None => io.line("Type the two-digit number the login page shows", false)?,
    };
    parse_typed_number(&typed).map(Some)
}

/// One of the operations found on the screen: the only one, the `pick`-th, or the one the
/// customer types the number of (the list shows amount, payee and bank of each).
fn choose_operation(io: &Io, mut found: Vec<FoundOperation>, pick: Option<usize>) -> Result<FoundOperation, Error> {
    let n = found.len();
    if n == 1 && pick.is_none_or(|k| k == 1) {
        return Ok(found.remove(0));
    }
    let index = match pick {
        Some(k) => k,
        None => {
            println!("{n} operations on the screen:");
            for (i, op) in found.iter().enumerate() {
                println!("  {}) {}", i + 1, operation_summary(op));
            }
            let typed = io.line(&format!("Which one (1 to {n})?"), false)?;
            typed
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::input("pick", format!("type a number from 1 to {n}")))?
        }
    };
    if index == 0 || index > n {
        return Err(Error::input("pick", format!("choose a number from 1 to {n}")));
    }
    Ok(found.swap_remove(index - 1))
}

async fn run(cli: Cli) -> Result<(), Error> {
    let io = Io {
        stdin_secrets: cli.pin_stdin,
    };
    // Reading an image and listing cameras need no profile: they work without a keyring.
    let command = match cli.command {
        Command::Decode { image } => return decode(&image),
        Command::Cameras => return cameras(),
        Command::Bill {
            image,
            bank: Some(bank),
        } => return bill(&image, &bank),
        other => other,
    };
    let dir = data_dir(cli.data_dir);
    let vault = Vault::open(&dir, Box::new(KeyringStore::secret_service()?))?;
    let mut auth = Authenticator::new(vault);
    if let Some(path) = &cli.ca_file {
        let pem = std::fs::read(path).map_err(|e| Error::input("ca_file", format!("{}: {e}", path.display())))?;
        auth = auth.trust_ca_pem(pem)?;
    }
    let profile = || auth.vault().profile(cli.profile.as_deref());
    match command {
        Command::Activate {
            server,
            user,
            sms_otp,
            name,
            qr,
            qr_image,
        } => {
            let qr_text = match (qr, qr_image) {
                (Some(text), _) => Some(text),
                (None, Some(path)) => {
                    let bytes = std::fs::read(&path).map_err(|e| Error::storage("read", &path, e))?;
                    Some(sca_qr::decode_image_bytes(&bytes)?.text)
                }
                (None, None) => None,
            };
            let created = if let Some(text) = qr_text {
                let pin = io.new_pin()?;
                auth.activate_from_qr(&server, &text, &user, &pin, &name).await?
            } else {
                let password = io.line("Password", true)?;
                let pending = auth.start_activation(&server, &user, &password).await?;
                eprintln!("An SMS code was sent to your certified phone.");
                let otp = match sms_otp {
                    Some(otp) => otp,
                    None => io.line("SMS code", true)?,
                };
                let pin = io.new_pin()?;
                auth.finish_activation(&pending, &otp, &pin, &name).await?
            };
            println!(
                "activated: profile {} (device {}){}",
                created.id,
                created.device_id,
                if created.main { ", main" } else { "" }
            );
        }
        Command::DeviceQr { out } => {
            // Refused before the PIN is asked, not after the DEVICE operation is approved.
            let out_format = match &out {
                Some(path) => Some(
                    sca_qr::ImageFormat::from_path(path)
                        .ok_or_else(|| Error::input("out", sca_qr::ImageFormat::EXPECTED))?,
                ),
                None => None,
            };
            let p = profile()?;
            let started = auth.start_second_device(&p).await?;
            let payload = auth.verify_payload(&p, &started.payload)?;
            print_operation(&payload);
            let pin = io.pin("PIN to approve activating a new device")?;
            auth.approve(&p, &payload, &pin, None).await?;
            println!(
                "Show this to the new device (valid until unix time {}):",
                started.expires
            );
            println!("{}", started.qr_text);
            if let Some(out) = out {
                let bytes = sca_qr::render_as(&started.qr_text, out_format.unwrap_or(sca_qr::ImageFormat::Png), 8)
                    .map_err(|e| Error::input("out", e))?;
                std::fs::write(&out, bytes).map_err(|e| Error::storage("write", &out, e))?;
            }
        }
        Command::Profiles { set_main } => {
            if let Some(id) = set_main {
                let target = auth.vault().profile(Some(&id))?;
                auth.vault().set_main(&target.id)?;
            }
            let profiles = auth.vault().profiles();
            if profiles.is_empty() {
                println!("no profile yet: run `sigillo-auth activate`");
            }
            for p in profiles {
                println!(
                    "{}{}  user {}  device {} \"{}\"  {}",
                    if p.main { "* " } else { "  " },
                    p.id,
                    p.user,
                    p.device_id,
                    p.device_name,
                    p.server_url
                );
            }
        }
        Command::Pin(PinCommand::Change) => {
            let p = profile()?;
            let old = io.pin("Current PIN")?;
            let new = io.new_pin()?;
            auth.change_pin(&p, &old, &new).await?;
            println!("PIN changed");
        }
        Command::Otp { kind } => {
            let p = profile()?;
            let pin = io.pin("PIN")?;
            let kind = if kind == "login" {
                TimeCodeKind::Login
            } else {
                TimeCodeKind::Transaction
            };
            let code = auth.time_code(&p, &pin, kind)?;
            println!("{}", code.code);
            eprintln!("valid for {} more seconds", code.seconds_left);
        }
        // Answered above, before the vault was opened.
        Command::Decode { .. } | Command::Cameras | Command::Bill { bank: Some(_), .. } => {}
        Command::Bill { image, bank: None } => {
            let bank = profile()?.server_url;
            bill(&image, &bank)?;
        }
        Command::Scan {
            image,
            camera,
            screen,
            pick,
            approve,
        } => {
            let mut p = profile()?;
            let payload = if screen {
                // Every profile's operations, unless one was named.
                let only = cli.profile.is_some().then(|| p.clone());
                let found = auth.scan_screen(only.as_ref())?.into_operations()?;
                let chosen = choose_operation(&io, found, pick)?;
                p = chosen.profile;
                chosen.payload
            } else if let Some(index) = camera {
                let source =
                    authenticator::scan::CameraSource::open(index, authenticator::scan::CameraRequest::default())?;
                eprintln!("Hold the QR code in front of the camera…");
                auth.scan_frames(&p, Box::new(source), std::time::Duration::from_secs(60))?
            } else if let Some(image) = image.filter(|i| i.as_os_str() != "-") {
                let bytes = std::fs::read(&image).map_err(|e| Error::storage("read", &image, e))?;
                auth.scan_image(&p, &bytes)?
            } else {
                let mut text = String::new();
                std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut text)
                    .map_err(|e| Error::input("stdin", e))?;
                auth.verify_payload(&p, &text)?
            };
            print_operation(&payload);
            let pin = io.pin("PIN")?;
            if approve {
                println!("{}", auth.approve(&p, &payload, &pin, None).await?);
            } else {
                println!("{}", auth.operation_code(&p, &payload, &pin)?);
            }
        }
        Command::Sign { op_id, offline } => {
            let p = profile()?;
            let op_id = parse_op_id(&op_id)?;
            let lookup = if offline {
                OpIdLookup::Offline("--offline".into())
            } else {
                auth.lookup_op_id(&p, &op_id).await?
            };
            match lookup {
                OpIdLookup::Verified(payload) => print_operation(&payload),
                OpIdLookup::Offline(reason) => {
                    println!("Operation {op_id}: OFFLINE ({reason}).");
                    println!(
                        "The details cannot be shown: compare amount and payee with those in Area Clienti before you go on."
                    );
                }
            }
            let pin = io.pin("PIN")?;
            println!("{}", auth.operation_id_code(&p, &op_id, &pin)?);
        }
        Command::Pending => {
            let p = profile()?;
            for (op_id, payload) in pending(&auth, &p).await? {
                match auth.verify_payload(&p, &payload) {
                    Ok(verified) => {
                        print_operation(&verified);
                        if needs_number(&verified) {
                            println!("  (login: to approve, type the number shown on the page)");
                        }
                    }
                    Err(e) => println!("Operation {op_id}: refused, not shown ({e})"),
                }
            }
        }
        Command::Approve { op_id, number } => {
            let p = profile()?;
            let op_id = parse_op_id(&op_id)?;
            let payload = match auth.lookup_op_id(&p, &op_id).await? {
                OpIdLookup::Verified(payload) => *payload,
                OpIdLookup::Offline(reason) => return Err(Error::Offline(reason)),
            };
            print_operation(&payload);
            let number = ask_number(&io, &payload, number.as_deref())?;
            let pin = io.pin("PIN")?;
            println!("{}", auth.approve(&p, &payload, &pin, number).await?);
        }
        Command::Reject { op_id } => {
            let p = profile()?;
            let op_id = parse_op_id(&op_id)?;
            let payload = match auth.lookup_op_id(&p, &op_id).await? {
                OpIdLookup::Verified(payload) => *payload,
                OpIdLookup::Offline(reason) => return Err(Error::Offline(reason)),
            };
            println!("{}", auth.reject(&p, &payload).await?);
        }
        Command::Listen => listen(&auth, &io).await?,
        Command::Remove { local_only } => {
            let p = profile()?;
            auth.remove(&p, local_only).await?;
            println!("removed profile {}", p.id);
        }
    }
    Ok(())
}

/// One look at the push stream: the operations pending at connect.
async fn pending(auth: &Authenticator, profile: &Profile) -> Result<Vec<(String, String)>, Error> {
    let mut events = auth.listen_all()?;
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut connected = false;
    loop {
        let wait = if connected {
            std::time::Duration::from_millis(300)
        } else {
            deadline - tokio::time::Instant::now()
        };
        match tokio::time::timeout(wait, events.recv()).await {
            Ok(Some(e)) if e.profile == profile.id => match e.event {
                PushEvent::Connected => connected = true,
                PushEvent::Operation { op_id, payload } => out.push((op_id, payload)),
                PushEvent::Disconnected { reason, .. } => return Err(Error::Offline(reason)),
                PushEvent::Status { .. } => {}
            },
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Ok(out),
        }
    }
}

async fn listen(auth: &Authenticator, io: &Io) -> Result<(), Error> {
    let mut events = auth.listen_all()?;
    eprintln!("listening for approvals (Ctrl-C to stop)");
    let mut seen = std::collections::HashSet::new();
    while let Some(e) = events.recv().await {
        let p = auth.vault().profile(Some(&e.profile))?;
        match e.event {
            PushEvent::Connected => eprintln!("[{}] connected", p.user),
            PushEvent::Disconnected { reason, retry_in } => {
                eprintln!("[{}] offline ({reason}); retrying in {} s", p.user, retry_in.as_secs())
            }
            PushEvent::Status { op_id, status } => eprintln!("[{}] operation {op_id}: {status}", p.user),
            PushEvent::Operation { op_id, payload } => {
                if !seen.insert(op_id.clone()) {
                    continue;
                }
                let verified = match auth.verify_payload(&p, &payload) {
                    Ok(v) => v,
                    Err(err) => {
                        eprintln!("[{}] operation {op_id} refused, not shown: {err}", p.user);
                        continue;
                    }
                };
                println!("[{}] new request:", p.user);
                print_operation(&verified);
                let answer = io.line("Approve (a), reject (r) or skip (s)?", false)?;
                let result = match answer.trim() {
                    "a" | "approve" | "y" => match ask_number(io, &verified, None) {
                        Ok(picked) => match io.pin("PIN") {
                            Ok(pin) => auth.approve(&p, &verified, &pin, picked).await,
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    },
                    "r" | "reject" => auth.reject(&p, &verified).await,
                    _ => continue,
                };
                match result {
                    Ok(status) => println!("{status}"),
                    Err(err) => eprintln!("sigillo-auth: {err}{}", attempts(&err)),
                }
            }
        }
    }
    Ok(())
}

fn attempts(err: &Error) -> String {
    match err {
        Error::Server {
            attempts_left: Some(n), ..
        } => format!(" ({n} attempts left)"),
        _ => String::new(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sigillo-auth: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sigillo-auth: {err}{} [{}]", attempts(&err), err.code());
            ExitCode::from(match err {
                Error::Input { .. } | Error::Pin(_) | Error::Storage { .. } => 2,
                _ => 1,
            })
        }
    }
}
