//! `sca` — the developer's tool for SCA1 dynamic linking: make, inspect and verify signed
//! payloads, compute codes from raw keys, render and decode QR codes, check test vectors.
//!
//! A thin shell over `sca-protocol` and `sca-qr`: it parses arguments, reads and writes files,
//! reads the clock, and maps errors to messages and exit codes. It owns no protocol logic.
#![forbid(unsafe_code)]

mod commands;
mod error;
mod io;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The developer's tool for SCA1 dynamic linking.
#[derive(Debug, Parser)]
#[command(
    name = "sca",
    version,
    about,
    propagate_version = true,
    after_help = "\
Examples:
  sca keygen --out bank.pk8
  sca payload make --key bank.pk8 --kind TRANSFER --field A=12.50EUR --field 'B=Mario Rossi' \\
      --field I=IT60X0542811101000000123456 --ttl 300 > payload.txt
  sca qr render payload.txt -o payload.png && sca qr decode payload.png
  sca payload verify --bank-pub <B64U> payload.txt
  sca vectors check crates/sca-protocol/tests/vectors/sca1.json"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check or generate test vector files.
    #[command(subcommand)]
    Vectors(VectorsCommand),
    /// Make a bank signing key (PKCS#8, written owner-only) and print its public key and key id.
    #[command(after_help = "Example:\n  sca keygen --out bank.pk8")]
    Keygen {
        /// Where to write the private key.
        #[arg(long, short)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Make, inspect or verify signed operation payloads (docs/spec/sca1.md §6).
    #[command(subcommand)]
    Payload(PayloadCommand),
    /// Compute a 6-digit code from raw keys (docs/spec/sca1.md §5).
    Code(CodeArgs),
    /// Render a payload as a QR code, or decode one from an image.
    #[command(subcommand)]
    Qr(QrCommand),
    /// Make or check 8-digit identifiers with a Damm check digit (docs/spec/sca1.md §2).
    #[command(subcommand)]
    Id(IdCommand),
}

#[derive(Debug, Subcommand)]
enum VectorsCommand {
    /// Check every case of a vectors file; ends with `N passed, M failed` (exit 1 on any failure).
    #[command(after_help = "Example:\n  sca vectors check crates/sca-protocol/tests/vectors/sca1.json")]
    Check {
        /// The JSON file (`-` for standard input).
        file: PathBuf,
        /// Unix seconds for payload cases that give no `now` (default: the current time).
        #[arg(long)]
        now: Option<u64>,
        /// Print every case, not only the failures.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Write a fresh vectors file: new random keys, ids and payloads.
    #[command(
        after_help = "Example:\n  sca vectors generate --out my-vectors.json && sca vectors check my-vectors.json"
    )]
    Generate {
        /// Where to write it (`-` for standard output).
        #[arg(long, short, default_value = "-")]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Unix seconds the time-based cases are built around (default: the current time).
        #[arg(long)]
        now: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
enum PayloadCommand {
    /// Sign a new payload with a bank key and print it.
    #[command(
        after_help = "Example:\n  sca payload make --key bank.pk8 --kind TRANSFER --op-id 57240000 \\\n      \
        --field A=12.50EUR --field 'B=Mario Rossi' --field I=IT60X0542811101000000123456 --ttl 300\n\n\
        Fields: A amount (12.50EUR), B payee name, C card (****1234), D description,\n\
        F creditor fiscal code (11 digits), I payee IBAN, M merchant, N pagoPA notice code\n\
        (18 digits), X execution date (YYYY-MM-DD). Write a line break as \\n."
    )]
    Make {
        /// The bank key (PKCS#8, as written by `sca keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The operation kind.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// The operation identifier (default: a new random one).
        #[arg(long)]
        op_id: Option<String>,
        /// A field as KEY=VALUE; repeat for each field.
        #[arg(long = "field", short = 'f', value_name = "KEY=VALUE")]
        fields: Vec<String>,
        /// Seconds until it expires.
        #[arg(long, default_value_t = 300)]
        ttl: u64,
        /// Unix seconds to count the expiry from (default: the current time).
        #[arg(long)]
        now: Option<u64>,
        /// Where to write it (`-` for standard output).
        #[arg(long, short, default_value = "-")]
        out: PathBuf,
    },
    /// Verify a payload against the bank's public key; print its fields or the reason it is refused.
    #[command(
        after_help = "Example:\n  sca payload verify --bank-pub BGx0… payload.txt\n  sca qr decode photo.png | sca payload verify --bank-pub BGx0… -"
    )]
    Verify {
        /// The bank's public key, b64u (as printed by `sca keygen`).
        #[arg(long)]
        bank_pub: String,
        /// Unix seconds to check the expiry at (default: the current time).
        #[arg(long)]
        now: Option<u64>,
        /// The payload file (`-` or nothing for standard input).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Show a payload's fields without verifying anything (never trust what this prints).
    #[command(after_help = "Example:\n  sca payload inspect payload.txt")]
    Inspect {
        /// The payload file (`-` or nothing for standard input).
        #[arg(default_value = "-")]
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
enum KindArg {
    Transfer,
    Login,
    CardPayment,
    Device,
    Generic,
    #[value(name = "PAGOPA")]
    PagoPa,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PurposeArg {
    Login,
    Operation,
    OperationId,
    Transaction,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    sca code --purpose login --k-poss <64 hex> --k-know <64 hex> --time 1700000000\n  \
    sca code --purpose operation-id --k-poss <hex> --k-know <hex> --op-id 57240000\n  \
    sca code --purpose operation --k-poss <hex> --k-know <hex> --payload payload.txt\n  \
    sca code --purpose operation --k-poss <hex> --k-know <hex> --op-id 57240000 \\\n      \
    --nonce <b64u> --data 'A:12.50EUR*B:Mario Rossi*I:IT60X0542811101000000123456'")]
struct CodeArgs {
    /// What the code is for.
    #[arg(long, value_enum)]
    purpose: PurposeArg,
    /// K_poss, 64 hex characters.
    #[arg(long)]
    k_poss: String,
    /// K_know, 64 hex characters.
    #[arg(long)]
    k_know: String,
    /// LOGIN/TRANSACTION: unix seconds (default: now).
    #[arg(long)]
    time: Option<u64>,
    /// OPERATION/OPERATION_ID: the operation identifier.
    #[arg(long)]
    op_id: Option<String>,
    /// OPERATION: the payload's nonce, b64u (which may start with `-`).
    #[arg(long, allow_hyphen_values = true)]
    nonce: Option<String>,
    /// OPERATION: the canonical data text.
    #[arg(long)]
    data: Option<String>,
    /// OPERATION: take op id, nonce and data from this payload file (not verified; `-` for stdin).
    #[arg(long, conflicts_with_all = ["op_id", "nonce", "data"])]
    payload: Option<PathBuf>,
    /// Also print MSG in hex.
    #[arg(long)]
    show_msg: bool,
}

#[derive(Debug, Subcommand)]
enum QrCommand {
    /// Render text (a payload) as a QR code; the format follows the extension (.png or .svg).
    #[command(
        after_help = "Example:\n  sca qr render payload.txt -o payload.svg\n  sca payload make … | sca qr render - -o payload.png"
    )]
    Render {
        /// The text file (`-` or nothing for standard input). Its bytes are encoded exactly.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// The image to write: *.png or *.svg.
        #[arg(long, short)]
        out: PathBuf,
        /// PNG only: pixels per module.
        #[arg(long, default_value_t = 8)]
        module_px: u32,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Decode a QR code from a PNG or JPEG image; prints its text exactly (exit 1 if none found).
    #[command(after_help = "Example:\n  sca qr decode photo.jpg > payload.txt")]
    Decode {
        /// The image file (`-` for standard input).
        image: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum IdCommand {
    /// Print a new random identifier.
    #[command(after_help = "Example:\n  sca id new\n  sca id new --user-code")]
    New {
        /// A user code (never starts with 0) rather than an operation identifier.
        #[arg(long)]
        user_code: bool,
    },
    /// Check an identifier; says what is wrong (exit 1 if invalid).
    #[command(after_help = "Example:\n  sca id check 57240000")]
    Check {
        /// The identifier.
        id: String,
        /// Also apply the user-code rule (never starts with 0).
        #[arg(long)]
        user_code: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sca: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
