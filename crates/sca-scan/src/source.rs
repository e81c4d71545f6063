//! The frame-source abstraction: what a camera, a folder of images, the clipboard and the
//! synthetic generator have in common, and the pacing helper that live sources share.
//!
//! A source owns its device or files and nothing else; it never decodes QR codes (that is the
//! scanning loop's job, in [`crate::scanner`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use image::GrayImage;

use crate::error::ScanError;

/// One 8-bit luma frame with its place in the source's sequence.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The pixels (0 = black, 255 = white).
    pub image: GrayImage,
    /// Position of the frame in its source's sequence, from 0, without gaps: a frame that the
    /// scanning loop drops still used its number, so gaps in the numbers the loop reports are
    /// frames that were never decoded.
    pub seq: u64,
    /// When the source had the frame (for a camera: when the driver handed it over). Latencies
    /// are measured from here.
    pub captured_at: Instant,
}

/// How a source delivers frames, which decides how the scanning loop treats the frames it has
/// no time to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pacing {
    /// Frames come at the source's own rate whether anyone reads them or not (a camera, or
    /// files replayed at a frame rate): the loop keeps only the newest one and drops the rest.
    Live,
    /// Frames are produced when asked (files read as fast as they are decoded): the loop asks
    /// for the next frame only when the previous one has been decoded, so none is dropped.
    OnDemand,
}

/// A source of luma frames: a webcam, image files, the clipboard, or synthetic frames.
///
/// Object safe, so that the scanning loop and the app can hold a `Box<dyn FrameSource>`; `Send`,
/// because the loop reads the source on its own thread.
pub trait FrameSource: Send {
    /// Waits for the next frame and returns it; `Ok(None)` when the source has no more frames
    /// (a folder read to its end without looping). A live source blocks here until its next
    /// frame is due.
    ///
    /// # Errors
    /// A [`ScanError`] when this frame could not be had (an unreadable file, a camera read that
    /// failed). The source stays usable: the next call tries the next frame.
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError>;

    /// Whether frames come at the source's own rate ([`Pacing::Live`]) or on demand.
    fn pacing(&self) -> Pacing;

    /// A short human-readable description ("camera 0: Integrated Webcam 1280x720 YUYV @ 30 fps",
    /// "12 images from /tmp/codes"), for logs and the UI.
    fn describe(&self) -> String;
}

impl<S: FrameSource + ?Sized> FrameSource for Box<S> {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        (**self).next_frame()
    }

    fn pacing(&self) -> Pacing {
        (**self).pacing()
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// Where the scanning loop and the file and synthetic sources read the time: the system's
/// monotonic clock, or a [`StepClock`] that moves only when a source delivers a frame — so a test
/// can play seconds of a camera's time in a few milliseconds, without sleeping, and assert times
/// exactly.
#[derive(Debug, Clone, Default)]
pub enum ScanClock {
    /// `Instant::now()`.
    #[default]
    System,
    /// A clock that moves by one frame interval per frame delivered.
    Stepped(Arc<StepClock>),
}

impl ScanClock {
    /// The time now on this clock.
    #[must_use]
    pub fn now(&self) -> Instant {
        match self {
            Self::System => Instant::now(),
            Self::Stepped(clock) => clock.now(),
        }
    }
}

impl PartialEq for ScanClock {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::System, Self::System) => true,
            (Self::Stepped(a), Self::Stepped(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Eq for ScanClock {}

/// A clock that stands still until it is moved ([`ScanClock::Stepped`]).
#[derive(Debug)]
pub struct StepClock {
    origin: Instant,
    nanos: AtomicU64,
}

impl Default for StepClock {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            nanos: AtomicU64::new(0),
        }
    }
}

impl StepClock {
    /// A clock at an arbitrary origin, moved only by [`advance`](Self::advance); as a
    /// [`ScanClock`] to hand to a source and to the loop's [`crate::ScanConfig`].
    #[must_use]
    pub fn new_shared() -> ScanClock {
        ScanClock::Stepped(Arc::new(Self::default()))
    }

    /// The time now.
    #[must_use]
    pub fn now(&self) -> Instant {
        self.origin + Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

/// Highest frame rate a source accepts (above any webcam; keeps the frame interval non-zero).
pub const MAX_FPS: f64 = 1000.0;

/// Frame interval for a frame rate, refusing rates that are not finite or out of range.
pub(crate) fn interval_for(fps: f64) -> Result<Duration, ScanError> {
    if !fps.is_finite() || fps <= 0.0 || fps > MAX_FPS {
        return Err(ScanError::config(
            "fps",
            format!("{fps} is outside (0, {MAX_FPS}] frames per second"),
        ));
    }
    Ok(Duration::from_secs_f64(1.0 / fps))
}

/// Sleeps until each frame's due time, at a fixed interval. A caller that falls behind is not
/// made to catch up with a burst of frames: the schedule restarts from now.
#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    interval: Duration,
    next_due: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            next_due: None,
        }
    }

    /// Waits until the next frame is due and returns that moment.
    pub(crate) fn wait(&mut self) -> Instant {
        let now = Instant::now();
        let due = match self.next_due {
            Some(due) if due > now => {
                std::thread::sleep(due - now);
                due
            }
            // First frame, or the caller is late: deliver now and restart the schedule.
            _ => now,
        };
        self.next_due = Some(due + self.interval);
        Instant::now().max(due)
    }
}

/// The settings every replaying source (image files, synthetic shots) offers, over its fields
/// `looping: bool` and `clock: FrameClock`; `$item` names what it replays.
macro_rules! replay_settings {
    ($item:literal) => {
        #[doc = concat!("Starts again from the first ", $item, " after the last one, forever.")]
        #[must_use]
        pub fn looping(mut self, looping: bool) -> Self {
            self.looping = looping;
            self
        }

        /// Delivers frames at `fps` frames per second, like a camera ([`Pacing::Live`]).
        ///
        /// # Errors
        /// [`ScanError::InvalidConfig`] (`fps`) unless `0 < fps <= MAX_FPS`.
        pub fn at_fps(mut self, fps: f64) -> Result<Self, ScanError> {
            self.clock.set_fps(fps)?;
            Ok(self)
        }

        /// Runs on `clock` ([`ScanClock`]): on a [`crate::StepClock`], frames are stamped with
        /// its time, a frame rate moves it instead of sleeping, and frames come on demand.
        #[must_use]
        pub fn on_clock(mut self, clock: ScanClock) -> Self {
            self.clock.set_time(clock);
            self
        }
    };
}
pub(crate) use replay_settings;

/// What every file and synthetic source does alike: number its frames and, when paced, deliver
/// each at its due time ([`Pacing::Live`]); unpaced, frames come as fast as they are asked for
/// ([`Pacing::OnDemand`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct FrameClock {
    seq: u64,
    pacer: Option<Pacer>,
    time: ScanClock,
}

impl FrameClock {
    /// Paces frames at `fps` from now on.
    pub(crate) fn set_fps(&mut self, fps: f64) -> Result<(), ScanError> {
        self.pacer = Some(Pacer::new(interval_for(fps)?));
        Ok(())
    }

    /// Reads the time from `time`. On a [`ScanClock::Stepped`] clock a paced source does not
    /// sleep: each frame moves the clock by one interval instead, and is delivered when asked
    /// ([`Pacing::OnDemand`]), so that the loop sees every frame of the simulated camera.
    pub(crate) fn set_time(&mut self, time: ScanClock) {
        self.time = time;
    }

    /// The next frame of `image`, once it is due.
    pub(crate) fn frame(&mut self, image: GrayImage) -> Frame {
        let captured_at = match (&self.time, self.pacer.as_mut()) {
            (ScanClock::System, Some(pacer)) => pacer.wait(),
            (ScanClock::System, None) => Instant::now(),
            (ScanClock::Stepped(clock), pacer) => {
                if self.seq > 0
                    && let Some(pacer) = pacer
                {
                    clock.advance(pacer.interval);
                }
                clock.now()
            }
        };
        let frame = Frame {
            image,
            seq: self.seq,
            captured_at,
        };
        self.seq += 1;
        frame
    }

    /// Live when paced on the system clock, on demand otherwise.
    pub(crate) fn pacing(&self) -> Pacing {
        if self.pacer.is_some() && self.time == ScanClock::System {
            Pacing::Live
        } else {
            Pacing::OnDemand
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fps_out_of_range_is_refused() {
        for fps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1000.5] {
            assert!(
                matches!(interval_for(fps), Err(ScanError::InvalidConfig { field: "fps", .. })),
                "{fps}"
            );
        }
        assert_eq!(interval_for(4.0).unwrap(), Duration::from_millis(250));
    }

    #[test]
    fn pacer_keeps_the_interval_and_does_not_burst() {
        let mut p = Pacer::new(Duration::from_millis(20));
        let t0 = p.wait();
        let t1 = p.wait();
        assert!(t1 - t0 >= Duration::from_millis(19), "{:?}", t1 - t0);
        // Fall behind by several intervals: the next frame comes at once, the one after a full
        // interval later (no burst to catch up).
        std::thread::sleep(Duration::from_millis(70));
        let t2 = p.wait();
        let t3 = p.wait();
        assert!(t3 - t2 >= Duration::from_millis(19), "{:?}", t3 - t2);
    }
}
