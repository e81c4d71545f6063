//! Webcam frame to code, the desktop app's way (issue 6's latency figure):
//!
//! ```text
//! cargo run --release -p sigillo-desktop --example frame_to_code -- [--runs N]
//! ```
//!
//! A synthetic camera (`sca_scan::SyntheticSource`, 1280×720 at 30 fps, a cluttered scene)
//! shows the QR code of a freshly signed TRANSFER payload. Each run goes through the same parts
//! as the app's scanner: the preview tap (a small JPEG every 100 ms for the window), the
//! scanning loop, the verification of the payload against the bank key, and the OPERATION code
//! from the profile's keys. The latency runs from the capture of the first frame showing the
//! code to the code's 6 digits. Prints median, p90 and max in ms, as a Markdown table row.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::cast_precision_loss)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use authenticator::scan::{ScanConfig, ScanEvent, Scanner, Scene, SyntheticSource};
use ring::rand::SystemRandom;
use sca_protocol::{
    CodeInput, Kind, KnowledgeKey, Nonce, OpId, Operation, OperationData, PossessionKey, SignedPayload, SigningKey,
};
use sigillo_desktop::scan::Preview;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut runs = 30usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).expect("--runs N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let rng = SystemRandom::new();
    let bank = SigningKey::generate(&rng).unwrap();
    let bank_pub = bank.public_key();
    let k_poss = PossessionKey::from_bytes([7; 32]);
    let k_know = KnowledgeKey::from_bytes([9; 32]);
    let previews = Arc::new(AtomicUsize::new(0));
    let mut latencies = Vec::new();
    for run in 0..runs {
        let seven = format!("{:07}", 1_000_000 + run);
        let op_id = OpId::parse(&format!("{seven}{}", sca_protocol::damm_check_digit(&seven).unwrap())).unwrap();
        let op = Operation {
            op_id,
            kind: Kind::Transfer,
            data: OperationData::from_fields([
                ('A', "1250.00EUR"),
                ('B', "Mario Rossi"),
                ('D', "Affitto novembre"),
                ('I', "IT60X0542811101000000123456"),
            ])
            .unwrap(),
            nonce: Nonce::random(&rng).unwrap(),
            expires: 4_102_444_800,
        };
        let text = SignedPayload::sign(op, &bank, &rng).unwrap().text().to_owned();
        let source = SyntheticSource::still(&text, &Scene::cluttered_720p(run as u64), 30.0).unwrap();
        let counter = previews.clone();
        let tapped = Preview::new(source, move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let (scanner, events) = Scanner::start_boxed(Box::new(tapped), ScanConfig::default()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let code = loop {
            match events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(ScanEvent::Code(read)) => {
                    let verified = SignedPayload::verify(&read.text, &bank_pub, 1_700_000_000).unwrap();
                    let o = verified.operation();
                    let sha = o.data_sha();
                    let code = CodeInput::Operation {
                        op_id: &o.op_id,
                        nonce: &o.nonce,
                        data_sha: &sha,
                    }
                    .code(&k_poss, &k_know);
                    break Some((read, code, Instant::now()));
                }
                Ok(ScanEvent::SourceError(_)) => {}
                Ok(ScanEvent::Finished(_)) | Err(_) => break None,
            }
        };
        scanner.stop();
        let (read, code, done) = code.expect("the code was read");
        assert_eq!(code.as_str().len(), 6);
        // The still source shows the code from its first frame (seq 0): measure from the frame
        // the code was read in back to seq 0 at 30 fps, plus that frame's own latency.
        let frames_before = read.frame_seq as f64 / 30.0 * 1000.0;
        let from_read_frame = done.duration_since(read.captured_at).as_secs_f64() * 1000.0;
        latencies.push(frames_before + from_read_frame);
    }
    latencies.sort_by(f64::total_cmp);
    println!("| frame → code (1280×720 @ 30 fps, {runs} runs) | median | p90 | max | previews sent |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| synthetic camera, preview tap, scanning loop, verify, OPERATION code | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        latencies.last().copied().unwrap_or(0.0),
        previews.load(Ordering::Relaxed)
    );
}
