//! The scanning loop: reads a [`FrameSource`] on one thread, decodes the newest frame on
//! another, and reports each code read over a channel.
//!
//! This module owns the threads, the single-frame hand-over between them, the choice of decode
//! pass per frame ([`Strategy`]), de-duplication, and the counters ([`ScanStats`]). It does not
//! own the decoders (that is `sca-qr`) nor what the text means (the authenticator parses and
//! verifies it).
//!
//! How it keeps up with a camera:
//! * the capture thread reads the source at the source's own rate and keeps only the newest
//!   frame in a one-frame slot; a frame still in the slot when the next one arrives is dropped
//!   and counted ([`ScanStats::frames_dropped`]): nothing ever queues;
//! * the decode thread takes whatever frame is in the slot when it is free, so it always works
//!   on the latest picture, whatever the decode time;
//! * results go out over a bounded channel with `try_send`: a caller that stops reading loses
//!   events (counted in [`ScanStats::events_lost`]) but never stalls the loop, and the caller's
//!   thread is never blocked by the loop;
//! * [`Strategy::Live`] runs only the fast rxing pass on most frames and the full pipeline of
//!   [`sca_qr::decode_luma`] on every Nth frame and on the first frame of a still scene, so
//!   that the frames with no code (the usual case while the user aims) cost little.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use image::GrayImage;
use sca_qr::{Decoded, Decoder, Pass};

use crate::error::ScanError;
use crate::source::{Frame, FrameSource, Pacing, ScanClock};

/// Room in the event channel. Results are de-duplicated, so a caller that reads now and then
/// never fills it; one that never reads loses the newest events, and the loop goes on.
pub const EVENT_CAPACITY: usize = 64;

/// Which decode work the loop spends on each frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The full pipeline ([`sca_qr::decode_luma`]) on every frame: the best read rate per
    /// frame, at the full cost (tens of milliseconds) on every frame without a code.
    Full,
    /// For live video: the fast pass ([`fast_decode`]) on most frames, the
    /// full pipeline on every `full_every`-th frame decoded and on the first frame of a scene
    /// that has stopped moving (when `full_when_still`), since a code held still is the one the
    /// user means and is worth every fallback, while a moving or empty view is not.
    Live {
        /// Run the full pipeline on one frame in this many (1 = every frame, like `Full`).
        full_every: u32,
        /// Also run it on the first still frame after movement.
        full_when_still: bool,
    },
}

impl Strategy {
    /// The live strategy measured on this project's frames (see `examples/scan_bench.rs`).
    pub const LIVE_DEFAULT: Strategy = Strategy::Live {
        full_every: 6,
        full_when_still: true,
    };
}

impl Default for Strategy {
    fn default() -> Self {
        Self::LIVE_DEFAULT
    }
}

/// Settings of the scanning loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanConfig {
    /// Decode work per frame.
    pub strategy: Strategy,
    /// The same text is reported again only after it has been out of sight (not read in any
    /// frame) for this long. `Duration::MAX` reports each text once.
    pub repeat_after: Duration,
    /// After this many source errors in a row the loop gives up ([`FinishReason::SourceFailed`]).
    pub max_consecutive_errors: u32,
    /// Pause after a source error before asking for the next frame (a camera that fails at once
    /// would otherwise spin).
    pub error_backoff: Duration,
    /// The time that decode times and latencies are read from: the system's, or a test's
    /// [`crate::StepClock`] (the same one its source runs on).
    pub clock: ScanClock,
}

impl Default for ScanConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::default(),
            repeat_after: Duration::from_secs(3),
            max_consecutive_errors: 30,
            error_backoff: Duration::from_millis(50),
            clock: ScanClock::System,
        }
    }
}

/// Which kind of decode run read a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanPass {
    /// The fast pass ([`fast_decode`]): rxing alone, on a half-size copy of large frames.
    Fast,
    /// The full pipeline of [`sca_qr::decode_luma`].
    Full,
}

/// A code read by the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanResult {
    /// The text, exactly as encoded.
    pub text: String,
    /// The decoder that read it.
    pub decoder: Decoder,
    /// The pass of the sca-qr pipeline that read it (for the fast pass: [`Pass::Downscaled`] on
    /// a large frame, else [`Pass::Original`]).
    pub pass: Pass,
    /// Whether the fast pass or the full pipeline read it.
    pub scan_pass: ScanPass,
    /// Sequence number of the frame it was read in.
    pub frame_seq: u64,
    /// When the source had that frame.
    pub captured_at: Instant,
    /// Time spent decoding that frame.
    pub decode_time: Duration,
    /// From the frame's capture to this result being sent: waiting in the slot plus decoding.
    pub latency: Duration,
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// [`Scanner::stop`] was called, the [`Scanner`] was dropped, or the event receiver was.
    Stopped,
    /// The source has no more frames; every frame it gave was handled.
    SourceEnded,
    /// The source failed [`ScanConfig::max_consecutive_errors`] times in a row.
    SourceFailed,
}

/// Counters of one scanning loop. Every frame the source gave is either decoded, dropped, or
/// (at most one, when the loop is stopped) left in the slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Frames the source gave.
    pub frames_captured: u64,
    /// Frames replaced by a newer one before the decoder was free (stale frames, never decoded).
    pub frames_dropped: u64,
    /// Frames the decoder ran on.
    pub frames_decoded: u64,
    /// Frames decoded with the fast pass ([`fast_decode`]) only.
    pub fast_passes: u64,
    /// Frames decoded with the full pipeline.
    pub full_passes: u64,
    /// Frames in which a code was read (before de-duplication).
    pub codes_read: u64,
    /// Results sent (after de-duplication).
    pub results_sent: u64,
    /// Reads not sent because the same text had been seen within [`ScanConfig::repeat_after`].
    pub duplicates: u64,
    /// Errors the source returned.
    pub source_errors: u64,
    /// Events not sent because the channel was full.
    pub events_lost: u64,
    /// Total time spent decoding.
    pub decode_busy: Duration,
}

/// How a loop finished, with its final counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// Why it ended.
    pub reason: FinishReason,
    /// The counters at the end.
    pub stats: ScanStats,
}

/// What the loop reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEvent {
    /// A code was read (not one seen within [`ScanConfig::repeat_after`]).
    Code(ScanResult),
    /// The source failed to give a frame; the loop goes on (until
    /// [`ScanConfig::max_consecutive_errors`] in a row).
    SourceError(ScanError),
    /// The loop has ended; always the last event (lost, like any event, only when the caller
    /// has left [`EVENT_CAPACITY`] events unread; [`Scanner::stop`] returns the same counters).
    Finished(Finish),
}

/// A running scanning loop. Dropping it stops the loop without waiting; [`Scanner::stop`] stops
/// it and waits for its threads.
#[derive(Debug)]
pub struct Scanner {
    shared: Arc<Shared>,
    capture: Option<JoinHandle<()>>,
    decode: Option<JoinHandle<()>>,
    description: String,
}

impl Scanner {
    /// Starts scanning `source` on two new threads and returns the handle and the receiver of
    /// its events. Returns at once: it neither reads a frame nor decodes on the caller's thread.
    ///
    /// # Errors
    /// [`ScanError::InvalidConfig`] for a `full_every` of 0, [`ScanError::Spawn`] when a thread
    /// cannot be started.
    pub fn start(
        source: impl FrameSource + 'static,
        config: ScanConfig,
    ) -> Result<(Scanner, Receiver<ScanEvent>), ScanError> {
        Self::start_boxed(Box::new(source), config)
    }

    /// [`Scanner::start`] for a boxed source.
    ///
    /// # Errors
    /// As [`Scanner::start`].
    pub fn start_boxed(
        source: Box<dyn FrameSource>,
        config: ScanConfig,
    ) -> Result<(Scanner, Receiver<ScanEvent>), ScanError> {
        if let Strategy::Live { full_every: 0, .. } = config.strategy {
            return Err(ScanError::config("strategy.full_every", "must be at least 1"));
        }
        let description = source.describe();
        let pacing = source.pacing();
        let shared = Arc::new(Shared::default());
        let (tx, rx) = sync_channel(EVENT_CAPACITY);

        let capture = {
            let shared = Arc::clone(&shared);
            let tx = tx.clone();
            let config = config.clone();
            std::thread::Builder::new()
                .name("sca-scan-capture".to_owned())
                .spawn(move || capture_loop(source, pacing, &shared, &tx, &config))
                .map_err(|e| ScanError::Spawn(e.to_string()))?
        };
        let decode = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("sca-scan-decode".to_owned())
                .spawn(move || decode_loop(&shared, &tx, &config))
        };
        let decode = match decode {
            Ok(handle) => handle,
            Err(e) => {
                shared.request_stop();
                let _ = capture.join();
                return Err(ScanError::Spawn(e.to_string()));
            }
        };
        Ok((
            Scanner {
                shared,
                capture: Some(capture),
                decode: Some(decode),
                description,
            },
            rx,
        ))
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> ScanStats {
        *lock(&self.shared.stats)
    }

    /// Whether the loop has ended (its `Finished` event is sent or being sent).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.decode.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// The source's description.
    #[must_use]
    pub fn source_description(&self) -> &str {
        &self.description
    }

    /// Stops the loop and waits for its threads: at most the decode of the current frame and
    /// the source's wait for its current frame. Returns the final counters. The source has been
    /// dropped when this returns (a [`crate::CameraSource`] then lets its device go after the
    /// frame it is waiting for).
    pub fn stop(mut self) -> ScanStats {
        self.shared.request_stop();
        for handle in [self.capture.take(), self.decode.take()].into_iter().flatten() {
            // A panic on a loop thread would be a bug here; the counters are still valid.
            let _ = handle.join();
        }
        self.stats()
    }
}

impl Drop for Scanner {
    /// Tells the threads to stop and returns at once (dropping must not block a UI thread on a
    /// long decode); they end after their current frame.
    fn drop(&mut self) {
        self.shared.request_stop();
    }
}

/// State shared by the two threads and the handle.
#[derive(Debug, Default)]
struct Shared {
    slot: Mutex<Slot>,
    changed: Condvar,
    stop: AtomicBool,
    stats: Mutex<ScanStats>,
}

#[derive(Debug, Default)]
struct Slot {
    frame: Option<Frame>,
    /// Set by the capture thread when it has ended, and why.
    ended: Option<FinishReason>,
}

impl Shared {
    fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Take the lock so that a thread between its check and its wait cannot miss the wake-up.
        let _slot = lock(&self.slot);
        self.changed.notify_all();
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn count(&self, f: impl FnOnce(&mut ScanStats)) {
        f(&mut lock(&self.stats));
    }
}

/// Locks a mutex, taking the data even if a thread panicked while holding it (the data are
/// counters and a frame slot, valid at every point).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn send(shared: &Shared, tx: &SyncSender<ScanEvent>, event: ScanEvent) -> bool {
    match tx.try_send(event) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            shared.count(|s| s.events_lost += 1);
            true
        }
        // Nobody listens any more: there is no point in going on.
        Err(TrySendError::Disconnected(_)) => {
            shared.request_stop();
            false
        }
    }
}

fn capture_loop(
    mut source: Box<dyn FrameSource>,
    pacing: Pacing,
    shared: &Shared,
    tx: &SyncSender<ScanEvent>,
    config: &ScanConfig,
) {
    let mut errors_in_a_row = 0u32;
    let reason = loop {
        if pacing == Pacing::OnDemand {
            // Ask for a frame only when the decoder has taken the previous one.
            let mut slot = lock(&shared.slot);
            while slot.frame.is_some() && !shared.stopping() {
                slot = shared.changed.wait(slot).unwrap_or_else(PoisonError::into_inner);
            }
        }
        if shared.stopping() {
            break FinishReason::Stopped;
        }
        // A source is any implementation of the trait, the app's own included: a panic in it
        // must end this loop cleanly (and tell the decoder), not leave the decoder waiting.
        let next = catch_unwind(AssertUnwindSafe(|| source.next_frame()));
        let next = match next {
            Ok(next) => next,
            Err(panic) => {
                shared.count(|s| s.source_errors += 1);
                send(
                    shared,
                    tx,
                    ScanEvent::SourceError(ScanError::SourcePanicked(panic_message(&*panic))),
                );
                break FinishReason::SourceFailed;
            }
        };
        match next {
            Ok(Some(frame)) => {
                errors_in_a_row = 0;
                let mut slot = lock(&shared.slot);
                let stale = slot.frame.replace(frame).is_some();
                shared.count(|s| {
                    s.frames_captured += 1;
                    s.frames_dropped += u64::from(stale);
                });
                shared.changed.notify_all();
            }
            Ok(None) => break FinishReason::SourceEnded,
            Err(e) => {
                errors_in_a_row += 1;
                shared.count(|s| s.source_errors += 1);
                if !send(shared, tx, ScanEvent::SourceError(e)) {
                    break FinishReason::Stopped;
                }
                if errors_in_a_row >= config.max_consecutive_errors.max(1) {
                    break FinishReason::SourceFailed;
                }
                match &config.clock {
                    ScanClock::System => std::thread::sleep(config.error_backoff),
                    ScanClock::Stepped(clock) => clock.advance(config.error_backoff),
                }
            }
        }
    };
    // Release the device before telling the decoder we are done.
    drop(source);
    let mut slot = lock(&shared.slot);
    slot.ended = Some(reason);
    shared.changed.notify_all();
}

fn decode_loop(shared: &Shared, tx: &SyncSender<ScanEvent>, config: &ScanConfig) {
    let mut planner = Planner::new(config.strategy);
    let mut dedup = Dedup::new(config.repeat_after);
    let reason = loop {
        let frame = {
            let mut slot = lock(&shared.slot);
            loop {
                if shared.stopping() {
                    break None;
                }
                if let Some(frame) = slot.frame.take() {
                    // An on-demand source waits for the slot to be empty.
                    shared.changed.notify_all();
                    break Some(frame);
                }
                if slot.ended.is_some() {
                    break None;
                }
                slot = shared.changed.wait(slot).unwrap_or_else(PoisonError::into_inner);
            }
        };
        let Some(frame) = frame else {
            let slot = lock(&shared.slot);
            break if shared.stopping() {
                FinishReason::Stopped
            } else {
                slot.ended.unwrap_or(FinishReason::Stopped)
            };
        };
        let started = config.clock.now();
        let scan_pass = planner.plan(&frame.image);
        // sca-qr catches the decoders' panics already; this also covers the glue around them,
        // so that no frame, whatever its pixels, can end the loop.
        let decoded = catch_unwind(AssertUnwindSafe(|| match scan_pass {
            ScanPass::Fast => fast_decode(&frame.image),
            ScanPass::Full => sca_qr::decode_luma(&frame.image),
        }))
        .unwrap_or(None);
        let decode_time = config.clock.now().saturating_duration_since(started);
        shared.count(|s| {
            s.frames_decoded += 1;
            s.decode_busy += decode_time;
            match scan_pass {
                ScanPass::Fast => s.fast_passes += 1,
                ScanPass::Full => s.full_passes += 1,
            }
            s.codes_read += u64::from(decoded.is_some());
        });
        let Some(decoded) = decoded else { continue };
        if !dedup.is_new(&decoded.text, frame.captured_at) {
            shared.count(|s| s.duplicates += 1);
            continue;
        }
        let result = ScanResult {
            text: decoded.text,
            decoder: decoded.decoder,
            pass: decoded.pass,
            scan_pass,
            frame_seq: frame.seq,
            captured_at: frame.captured_at,
            decode_time,
            latency: config.clock.now().saturating_duration_since(frame.captured_at),
        };
        shared.count(|s| s.results_sent += 1);
        if !send(shared, tx, ScanEvent::Code(result)) {
            break FinishReason::Stopped;
        }
    };
    let stats = *lock(&shared.stats);
    let _ = tx.try_send(ScanEvent::Finished(Finish { reason, stats }));
}

/// The text of a caught panic, when it has one.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Frames with more pixels than this get the fast pass on a half-size copy (a 1280×720 frame
/// does; 640×480 does not). Measured on cluttered 1280×720 frames without a code: rxing takes
/// 16 ms on the frame and 2.2 ms on its half-size copy (`examples/scan_bench.rs`).
pub const FAST_HALF_ABOVE: u64 = 640 * 480;

/// The fast pass: rxing alone (hybrid binarizer) on the frame, or on a half-size copy of it
/// (2×2 box filter) when it has more than [`FAST_HALF_ABOVE`] pixels; panics caught by sca-qr.
///
/// Reads a sharp code whose modules are at least about 4 px wide in a large frame, or 2 px in a
/// small one; what it misses is left to the full pipeline.
#[must_use]
pub fn fast_decode(image: &GrayImage) -> Option<Decoded> {
    let half = u64::from(image.width()) * u64::from(image.height()) > FAST_HALF_ABOVE;
    let text = if half {
        sca_qr::decode_with(Decoder::Rxing, &downscale_half(image))
    } else {
        sca_qr::decode_with(Decoder::Rxing, image)
    }?;
    Some(Decoded {
        text,
        decoder: Decoder::Rxing,
        stretched: false,
        pass: if half { Pass::Downscaled } else { Pass::Original },
    })
}

/// Halves both sides with a 2×2 box filter (an odd last row or column is dropped).
fn downscale_half(img: &GrayImage) -> GrayImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let src = img.as_raw();
    let stride = img.width() as usize;
    let mut out = Vec::with_capacity(w as usize * h as usize);
    for y in 0..h as usize {
        let r0 = &src[2 * y * stride..(2 * y + 1) * stride];
        let r1 = &src[(2 * y + 1) * stride..(2 * y + 2) * stride];
        for (a, b) in r0.chunks_exact(2).zip(r1.chunks_exact(2)).take(w as usize) {
            let s = u16::from(a[0]) + u16::from(a[1]) + u16::from(b[0]) + u16::from(b[1]);
            out.push(u8::try_from((s + 2) / 4).unwrap_or(u8::MAX));
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_default()
}

/// Side of the blocks averaged into the still-scene thumbnail, in pixels.
const THUMB_BLOCK: u32 = 16;

/// Mean absolute difference between two thumbnails (grey levels) under which the scene counts
/// as still. Measured on synthetic 1280×720 frames (test `still_threshold_separates_noise_from_
/// movement`): fresh ±16-level sensor noise on the same view gives 0.67; the code moved by 13 px
/// gives 2.77.
const STILL_THRESHOLD: f64 = 1.5;

/// Decides, frame by frame, between the fast pass and the full pipeline.
#[derive(Debug)]
struct Planner {
    strategy: Strategy,
    since_full: u32,
    previous: Option<Vec<u8>>,
    /// Whether the full pipeline has already run on the current still scene.
    still_done: bool,
}

impl Planner {
    fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            since_full: 0,
            previous: None,
            still_done: false,
        }
    }

    fn plan(&mut self, image: &GrayImage) -> ScanPass {
        let Strategy::Live {
            full_every,
            full_when_still,
        } = self.strategy
        else {
            return ScanPass::Full;
        };
        let mut full = self.since_full + 1 >= full_every;
        if full_when_still {
            let thumb = thumbnail(image);
            let still = self.previous.as_ref().is_some_and(|p| is_still(p, &thumb));
            self.previous = Some(thumb);
            if !still {
                self.still_done = false;
            } else if !self.still_done {
                full = true;
            }
        }
        if full {
            self.since_full = 0;
            // A full run on a still scene covers it until it moves.
            self.still_done = true;
            ScanPass::Full
        } else {
            self.since_full += 1;
            ScanPass::Fast
        }
    }
}

/// Means of `THUMB_BLOCK`-pixel square blocks (partial blocks at the edges dropped), preceded by
/// the frame's size so frames of different sizes never compare as still.
fn thumbnail(image: &GrayImage) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let (bw, bh) = (w / THUMB_BLOCK, h / THUMB_BLOCK);
    let mut sums = vec![0u32; (bw * bh) as usize];
    let raw = image.as_raw();
    let stride = w as usize;
    for y in 0..(bh * THUMB_BLOCK) as usize {
        let row = &raw[y * stride..y * stride + (bw * THUMB_BLOCK) as usize];
        let base = (y / THUMB_BLOCK as usize) * bw as usize;
        for (bx, chunk) in row.chunks_exact(THUMB_BLOCK as usize).enumerate() {
            sums[base + bx] += chunk.iter().map(|&p| u32::from(p)).sum::<u32>();
        }
    }
    let area = THUMB_BLOCK * THUMB_BLOCK;
    let mut out = Vec::with_capacity(sums.len() + 8);
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend(sums.iter().map(|&s| u8::try_from(s / area).unwrap_or(u8::MAX)));
    out
}

fn is_still(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() || a.get(..8) != b.get(..8) {
        return false;
    }
    let (a, b) = (&a[8..], &b[8..]);
    if a.is_empty() {
        return true;
    }
    let diff: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    #[allow(clippy::cast_precision_loss)]
    let mean = diff as f64 / a.len() as f64;
    mean < STILL_THRESHOLD
}

/// Remembers when each text was last seen, to report it once per appearance.
#[derive(Debug)]
struct Dedup {
    repeat_after: Duration,
    last_seen: HashMap<String, Instant>,
}

impl Dedup {
    fn new(repeat_after: Duration) -> Self {
        Self {
            repeat_after,
            last_seen: HashMap::new(),
        }
    }

    /// Whether `text`, seen at `at`, should be reported; records the sighting either way.
    fn is_new(&mut self, text: &str, at: Instant) -> bool {
        let gone = |seen: &Instant| at.checked_duration_since(*seen).is_some_and(|d| d > self.repeat_after);
        let new = self.last_seen.get(text).is_none_or(gone);
        // Forget texts out of sight for longer than the window, so the map stays small.
        let window = self.repeat_after;
        self.last_seen
            .retain(|_, seen| at.checked_duration_since(*seen).is_none_or(|d| d <= window));
        self.last_seen.insert(text.to_owned(), at);
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_reports_once_per_appearance() {
        let t0 = Instant::now();
        let mut d = Dedup::new(Duration::from_secs(2));
        assert!(d.is_new("a", t0));
        assert!(!d.is_new("a", t0 + Duration::from_secs(1)));
        // Seen continuously: never repeated, however long.
        assert!(!d.is_new("a", t0 + Duration::from_secs(3)));
        assert!(d.is_new("b", t0 + Duration::from_secs(3)));
        // Out of sight for more than the window: reported again.
        assert!(d.is_new("a", t0 + Duration::from_secs(6)));
        // Frames out of order (an older capture time) do not panic and count as seen.
        assert!(!d.is_new("a", t0));
        let mut once = Dedup::new(Duration::MAX);
        assert!(once.is_new("x", t0));
        assert!(!once.is_new("x", t0 + Duration::from_secs(1_000_000)));
    }

    #[test]
    fn planner_runs_full_every_nth_and_once_per_still_scene() {
        let a = GrayImage::from_fn(64, 64, |x, y| image::Luma([((x * 7 + y * 3) % 256) as u8]));
        let b = GrayImage::from_fn(64, 64, |x, y| image::Luma([((x * 5 + y * 11) % 256) as u8]));
        let mut p = Planner::new(Strategy::Live {
            full_every: 3,
            full_when_still: false,
        });
        let passes: Vec<_> = (0..6).map(|_| p.plan(&a)).collect();
        use ScanPass::{Fast, Full};
        assert_eq!(passes, [Fast, Fast, Full, Fast, Fast, Full]);

        let mut p = Planner::new(Strategy::Live {
            full_every: 100,
            full_when_still: true,
        });
        // Moving (a, b, a, b): fast; then still on b: one full run, then fast again.
        let seq = [&a, &b, &a, &b, &b, &b, &b];
        let passes: Vec<_> = seq.iter().map(|f| p.plan(f)).collect();
        assert_eq!(passes, [Fast, Fast, Fast, Fast, Full, Fast, Fast]);
        // Movement, then still again: another full run.
        assert_eq!(p.plan(&a), Fast);
        assert_eq!(p.plan(&a), Full);

        let mut p = Planner::new(Strategy::Full);
        assert_eq!(p.plan(&a), Full);
    }

    #[test]
    fn thumbnails_of_other_sizes_are_not_still() {
        let a = thumbnail(&GrayImage::new(64, 64));
        let b = thumbnail(&GrayImage::new(64, 48));
        assert!(!is_still(&a, &b));
        assert!(is_still(&a, &a));
        let tiny = thumbnail(&GrayImage::new(3, 3));
        assert!(is_still(&tiny, &tiny));
    }

    /// The still-scene threshold against synthetic frames: fresh sensor noise (±16 levels) on
    /// the same view is still; the code moved by 1 % of the frame width (13 px) is not.
    #[test]
    fn still_threshold_separates_noise_from_movement() {
        use crate::synthetic::{SAMPLE_PAYLOAD, Scene, code_modules, compose};
        let modules = code_modules(SAMPLE_PAYLOAD).unwrap();
        let scene = Scene::cluttered_720p(3);
        let frame = |center: (f64, f64), noise_seed| {
            thumbnail(
                &compose(
                    &modules,
                    &Scene {
                        center,
                        noise_seed,
                        ..scene.clone()
                    },
                )
                .unwrap(),
            )
        };
        let a = frame(scene.center, 1);
        let b = frame(scene.center, 2);
        let moved = frame((scene.center.0 + 0.01, scene.center.1), 3);
        let mad = |x: &[u8], y: &[u8]| {
            let d: u64 = x[8..].iter().zip(&y[8..]).map(|(p, q)| u64::from(p.abs_diff(*q))).sum();
            d as f64 / (x.len() - 8) as f64
        };
        println!("noise only: {:.2}, moved: {:.2}", mad(&a, &b), mad(&a, &moved));
        assert!(is_still(&a, &b));
        assert!(!is_still(&a, &moved));
    }

    #[test]
    fn downscale_averages_blocks_and_drops_odd_edges() {
        let img = GrayImage::from_fn(5, 3, |x, y| image::Luma([(x * 10 + y) as u8]));
        let d = downscale_half(&img);
        assert_eq!(d.dimensions(), (2, 1));
        // (0 + 1 + 10 + 11) / 4 = 5.5 → 6; (20 + 21 + 30 + 31) / 4 = 25.5 → 26
        assert_eq!(d.as_raw(), &[6, 26]);
        assert_eq!(downscale_half(&GrayImage::new(1, 1)).dimensions(), (0, 0));
    }
}
