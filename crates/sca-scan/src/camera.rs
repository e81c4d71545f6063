//! The webcam: listing cameras and reading luma frames from one, through `nokhwa` (V4L2 on
//! Linux, Media Foundation on Windows, AVFoundation on macOS) behind the cargo feature `camera`.
//!
//! "No camera" is a normal state: [`list_cameras`] returns an empty list, and opening an index
//! that is not in the list gives [`ScanError::NoSuchCamera`]. This module owns the choice of the
//! camera's format and the conversion of its frames to luma: YUYV, NV12 and GRAY frames give
//! their Y plane directly (no colour conversion at all), MJPEG frames are decoded with `image`'s
//! JPEG decoder, raw RGB/BGR frames are converted. It never decodes QR codes.

use image::GrayImage;

use crate::error::ScanError;

/// A camera found on the system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraInfo {
    /// The index to pass to [`CameraSource::open`] (on Linux, N of `/dev/videoN`).
    pub index: u32,
    /// The name the device gives itself ("Integrated Camera").
    pub name: String,
    /// Where it is, as the backend describes it ("Video4Linux Device @ /dev/video0").
    pub description: String,
}

/// The frame size and rate asked of a camera; the closest mode the camera offers is used
/// (see [`CameraSource::open`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraRequest {
    /// Wanted width in pixels.
    pub width: u32,
    /// Wanted height in pixels.
    pub height: u32,
    /// Wanted frames per second.
    pub fps: u32,
}

impl Default for CameraRequest {
    /// 1280×720 at 30 frames per second: enough pixels for a code shown on a screen at arm's
    /// length, and a mode nearly every webcam offers.
    fn default() -> Self {
        Self {
            width: 1280,
            height: 720,
            fps: 30,
        }
    }
}

/// A pixel layout a camera can deliver, as far as this crate is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelFormat {
    /// 8-bit grey.
    Gray,
    /// Packed 4:2:2 Y′CbCr (Y0 U Y1 V).
    Yuyv,
    /// Planar 4:2:0 Y′ then interleaved CbCr.
    Nv12,
    /// Motion JPEG: each frame a JPEG image.
    Mjpeg,
    /// Packed 8-bit R G B.
    Rgb,
    /// Packed 8-bit B G R.
    Bgr,
}

impl PixelFormat {
    /// Preference when two modes are otherwise equal: cheapest luma first.
    fn rank(self) -> u8 {
        match self {
            PixelFormat::Gray => 0,
            PixelFormat::Yuyv => 1,
            PixelFormat::Nv12 => 2,
            PixelFormat::Mjpeg => 3,
            PixelFormat::Rgb => 4,
            PixelFormat::Bgr => 5,
        }
    }
}

/// One mode a camera offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CameraMode {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Pixel layout.
    pub format: PixelFormat,
}

/// Picks the mode closest to the request: nearest frame size first (by squared distance), then
/// a rate at least the one asked for and nearest to it, then the cheapest pixel format. `None`
/// for an empty list.
#[must_use]
pub fn choose_mode(modes: &[CameraMode], request: CameraRequest) -> Option<CameraMode> {
    modes.iter().copied().min_by_key(|m| {
        let dx = i64::from(m.width) - i64::from(request.width);
        let dy = i64::from(m.height) - i64::from(request.height);
        // A slow mode is worse than a fast one by the same margin: the loop drops extra frames,
        // but cannot invent missing ones.
        let fps_gap = if m.fps >= request.fps {
            u64::from(m.fps - request.fps)
        } else {
            4 * u64::from(request.fps - m.fps)
        };
        (dx * dx + dy * dy, fps_gap, m.format.rank())
    })
}

/// Converts one camera frame to luma.
///
/// # Errors
/// [`ScanError::CameraFrame`] when the buffer is too short for its format and size, or an MJPEG
/// frame does not decode.
pub fn frame_to_luma(format: PixelFormat, width: u32, height: u32, data: &[u8]) -> Result<GrayImage, ScanError> {
    let pixels = usize::try_from(u64::from(width) * u64::from(height))
        .map_err(|_| ScanError::CameraFrame(format!("{width}x{height} is too large")))?;
    let need = |bytes_per_pixel_x2: usize| -> Result<(), ScanError> {
        let needed = pixels.saturating_mul(bytes_per_pixel_x2) / 2;
        if data.len() < needed {
            return Err(ScanError::CameraFrame(format!(
                "{format:?} frame of {width}x{height} has {} bytes, needs {needed}",
                data.len()
            )));
        }
        Ok(())
    };
    let luma: Vec<u8> = match format {
        PixelFormat::Gray => {
            need(2)?;
            data[..pixels].to_vec()
        }
        PixelFormat::Yuyv => {
            need(4)?;
            data[..pixels * 2].iter().step_by(2).copied().collect()
        }
        PixelFormat::Nv12 => {
            need(3)?;
            data[..pixels].to_vec()
        }
        PixelFormat::Rgb | PixelFormat::Bgr => {
            need(6)?;
            let (ri, bi) = if format == PixelFormat::Rgb { (0, 2) } else { (2, 0) };
            data[..pixels * 3]
                .chunks_exact(3)
                .map(|p| {
                    let y = (77 * u32::from(p[ri]) + 150 * u32::from(p[1]) + 29 * u32::from(p[bi]) + 128) >> 8;
                    u8::try_from(y).unwrap_or(u8::MAX)
                })
                .collect()
        }
        PixelFormat::Mjpeg => {
            let img = image::load_from_memory_with_format(data, image::ImageFormat::Jpeg)
                .map_err(|e| ScanError::CameraFrame(format!("MJPEG frame does not decode: {e}")))?;
            return Ok(img.to_luma8());
        }
    };
    GrayImage::from_raw(width, height, luma)
        .ok_or_else(|| ScanError::CameraFrame(format!("{width}x{height}: buffer size mismatch")))
}

#[cfg(feature = "camera")]
mod imp {
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use nokhwa::Camera;
    use nokhwa::utils::{
        ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
    };

    use super::{CameraInfo, CameraMode, CameraRequest, PixelFormat, choose_mode, frame_to_luma};
    use crate::error::ScanError;
    use crate::source::{Frame, FrameSource, Pacing};

    /// Every frame format this crate can turn into luma.
    const READABLE: &[FrameFormat] = &[
        FrameFormat::GRAY,
        FrameFormat::YUYV,
        FrameFormat::NV12,
        FrameFormat::MJPEG,
        FrameFormat::RAWRGB,
        FrameFormat::RAWBGR,
    ];

    fn pixel_format(f: FrameFormat) -> PixelFormat {
        match f {
            FrameFormat::GRAY => PixelFormat::Gray,
            FrameFormat::YUYV => PixelFormat::Yuyv,
            FrameFormat::NV12 => PixelFormat::Nv12,
            FrameFormat::MJPEG => PixelFormat::Mjpeg,
            FrameFormat::RAWRGB => PixelFormat::Rgb,
            FrameFormat::RAWBGR => PixelFormat::Bgr,
        }
    }

    fn frame_format(f: PixelFormat) -> FrameFormat {
        match f {
            PixelFormat::Gray => FrameFormat::GRAY,
            PixelFormat::Yuyv => FrameFormat::YUYV,
            PixelFormat::Nv12 => FrameFormat::NV12,
            PixelFormat::Mjpeg => FrameFormat::MJPEG,
            PixelFormat::Rgb => FrameFormat::RAWRGB,
            PixelFormat::Bgr => FrameFormat::RAWBGR,
        }
    }

    pub(super) fn list() -> Result<Vec<CameraInfo>, ScanError> {
        let found = nokhwa::query(ApiBackend::Auto).map_err(|e| ScanError::CameraQuery(e.to_string()))?;
        let mut cameras: Vec<CameraInfo> = found
            .iter()
            .filter_map(|c| {
                // Only numbered devices (IP cameras have string "indices"; we do not use them).
                let index = c.index().as_index().ok()?;
                Some(CameraInfo {
                    index,
                    name: c.human_name(),
                    description: c.description().to_owned(),
                })
            })
            .collect();
        cameras.sort_by_key(|c| c.index);
        Ok(cameras)
    }

    /// An open webcam delivering luma frames at its own rate.
    ///
    /// The device lives on a thread of its own (nokhwa's camera handle is not `Send` on every
    /// platform), which reads frames as the camera delivers them, converts them to luma and
    /// hands them over one at a time; [`FrameSource::next_frame`] waits for the next one.
    /// Dropping the source tells that thread to release the camera after its current frame;
    /// [`CameraSource::close`] also waits for it.
    #[derive(Debug)]
    pub struct CameraSource {
        frames: Option<Receiver<Result<Frame, ScanError>>>,
        worker: Option<JoinHandle<()>>,
        index: u32,
        name: String,
        mode: CameraMode,
    }

    impl CameraSource {
        /// Opens camera `index` in the mode closest to `request` (see [`choose_mode`]) and
        /// starts its stream.
        ///
        /// # Errors
        /// [`ScanError::NoSuchCamera`] when no camera has this index (always, on a machine with
        /// no camera), [`ScanError::CameraUnavailable`] when it exists but cannot be opened,
        /// offers no mode this crate can read, or will not stream, [`ScanError::CameraQuery`]
        /// when the cameras cannot be listed, [`ScanError::InvalidConfig`] for a zero size or
        /// rate in `request`, [`ScanError::Spawn`] when its thread cannot be started.
        pub fn open(index: u32, request: CameraRequest) -> Result<Self, ScanError> {
            if request.width == 0 || request.height == 0 {
                return Err(ScanError::config("request.width/height", "must not be 0"));
            }
            if request.fps == 0 {
                return Err(ScanError::config("request.fps", "must not be 0"));
            }
            let cameras = list()?;
            let Some(info) = cameras.iter().find(|c| c.index == index) else {
                return Err(ScanError::NoSuchCamera {
                    index,
                    available: cameras.len(),
                });
            };
            let (opened_tx, opened_rx) = sync_channel(1);
            let (frames_tx, frames_rx) = sync_channel(1);
            let worker = std::thread::Builder::new()
                .name(format!("sca-scan-camera-{index}"))
                .spawn(move || {
                    let mut camera = match start_camera(index, request) {
                        Ok((camera, mode)) => {
                            let _ = opened_tx.send(Ok(mode));
                            camera
                        }
                        Err(e) => {
                            let _ = opened_tx.send(Err(e));
                            return;
                        }
                    };
                    stream(&mut camera, &frames_tx);
                    // Ignore the error of a camera that is already gone.
                    let _ = camera.stop_stream();
                })
                .map_err(|e| ScanError::Spawn(e.to_string()))?;
            let mode = match opened_rx.recv() {
                Ok(Ok(mode)) => mode,
                Ok(Err(e)) => {
                    let _ = worker.join();
                    return Err(e);
                }
                Err(_) => {
                    let _ = worker.join();
                    return Err(ScanError::CameraUnavailable {
                        index,
                        reason: "the camera thread ended while opening the device".to_owned(),
                    });
                }
            };
            Ok(Self {
                frames: Some(frames_rx),
                worker: Some(worker),
                index,
                name: info.name.clone(),
                mode,
            })
        }

        /// The mode the camera streams in.
        #[must_use]
        pub fn mode(&self) -> CameraMode {
            self.mode
        }

        /// Releases the camera and waits until it is released (at most the wait for the
        /// camera's current frame), so that it can be opened again at once.
        pub fn close(mut self) {
            self.frames = None;
            if let Some(worker) = self.worker.take() {
                let _ = worker.join();
            }
        }
    }

    /// Opens and configures the device and starts its stream; on the camera's own thread.
    fn start_camera(index: u32, request: CameraRequest) -> Result<(Camera, CameraMode), ScanError> {
        let unavailable = |e: nokhwa::NokhwaError| ScanError::CameraUnavailable {
            index,
            reason: e.to_string(),
        };
        let any = RequestedFormat::with_formats(RequestedFormatType::None, READABLE);
        let mut camera = Camera::new(CameraIndex::Index(index), any).map_err(unavailable)?;
        let modes: Vec<CameraMode> = camera
            .compatible_camera_formats()
            .map_err(unavailable)?
            .into_iter()
            .filter(|f| READABLE.contains(&f.format()))
            .map(|f| CameraMode {
                width: f.width(),
                height: f.height(),
                fps: f.frame_rate(),
                format: pixel_format(f.format()),
            })
            .collect();
        let mode = choose_mode(&modes, request).ok_or_else(|| ScanError::CameraUnavailable {
            index,
            reason: "the camera offers no GRAY, YUYV, NV12, MJPEG or RGB mode".to_owned(),
        })?;
        let wanted = CameraFormat::new(
            Resolution::new(mode.width, mode.height),
            frame_format(mode.format),
            mode.fps,
        );
        camera
            .set_camera_requset(RequestedFormat::with_formats(
                RequestedFormatType::Exact(wanted),
                READABLE,
            ))
            .map_err(unavailable)?;
        camera.open_stream().map_err(unavailable)?;
        // The driver may have adjusted the mode; report what it really is.
        let actual = camera.camera_format();
        let mode = CameraMode {
            width: actual.width(),
            height: actual.height(),
            fps: actual.frame_rate(),
            format: pixel_format(actual.format()),
        };
        Ok((camera, mode))
    }

    /// Reads frames until the receiving side is dropped.
    fn stream(camera: &mut Camera, frames: &SyncSender<Result<Frame, ScanError>>) {
        let mut seq = 0u64;
        loop {
            let item = camera
                .frame()
                .map_err(|e| ScanError::CameraFrame(e.to_string()))
                .and_then(|buffer| {
                    let captured_at = Instant::now();
                    let res = buffer.resolution();
                    let image = frame_to_luma(
                        pixel_format(buffer.source_frame_format()),
                        res.width(),
                        res.height(),
                        buffer.buffer(),
                    )?;
                    let frame = Frame {
                        image,
                        seq,
                        captured_at,
                    };
                    seq += 1;
                    Ok(frame)
                });
            let failed = item.is_err();
            if frames.send(item).is_err() {
                return;
            }
            if failed {
                // A camera that fails at once must not spin this thread.
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl FrameSource for CameraSource {
        fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
            let Some(frames) = self.frames.as_ref() else {
                return Ok(None);
            };
            match frames.recv() {
                Ok(item) => item.map(Some),
                Err(_) => Err(ScanError::CameraFrame("the camera thread has ended".to_owned())),
            }
        }

        fn pacing(&self) -> Pacing {
            Pacing::Live
        }

        fn describe(&self) -> String {
            format!(
                "camera {}: {} {}x{} {:?} @ {} fps",
                self.index, self.name, self.mode.width, self.mode.height, self.mode.format, self.mode.fps
            )
        }
    }
}

#[cfg(not(feature = "camera"))]
mod imp {
    use super::{CameraInfo, CameraMode, CameraRequest};
    use crate::error::ScanError;
    use crate::source::{Frame, FrameSource, Pacing};

    pub(super) fn list() -> Result<Vec<CameraInfo>, ScanError> {
        Err(ScanError::CameraNotBuilt)
    }

    /// An open webcam (not available: the crate was built without the `camera` feature).
    #[derive(Debug)]
    pub struct CameraSource {
        mode: CameraMode,
    }

    impl CameraSource {
        /// Always fails: the crate was built without the `camera` feature.
        ///
        /// # Errors
        /// [`ScanError::CameraNotBuilt`].
        pub fn open(_index: u32, _request: CameraRequest) -> Result<Self, ScanError> {
            Err(ScanError::CameraNotBuilt)
        }

        /// The mode the camera streams in.
        #[must_use]
        pub fn mode(&self) -> CameraMode {
            self.mode
        }

        /// Releases the camera (nothing to release without the `camera` feature).
        pub fn close(self) {}
    }

    impl FrameSource for CameraSource {
        fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
            Err(ScanError::CameraNotBuilt)
        }

        fn pacing(&self) -> Pacing {
            Pacing::Live
        }

        fn describe(&self) -> String {
            "camera (not built in)".to_owned()
        }
    }
}

pub use imp::CameraSource;

/// The cameras on this system, by index; an empty list when there is none (a normal state, not
/// an error).
///
/// # Errors
/// [`ScanError::CameraQuery`] when the backend cannot enumerate devices,
/// [`ScanError::CameraNotBuilt`] without the `camera` feature.
pub fn list_cameras() -> Result<Vec<CameraInfo>, ScanError> {
    imp::list()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(width: u32, height: u32, fps: u32, format: PixelFormat) -> CameraMode {
        CameraMode {
            width,
            height,
            fps,
            format,
        }
    }

    #[test]
    fn mode_choice_prefers_size_then_rate_then_cheap_format() {
        let req = CameraRequest::default();
        let modes = [
            mode(640, 480, 30, PixelFormat::Yuyv),
            mode(1280, 720, 10, PixelFormat::Yuyv),
            mode(1280, 720, 30, PixelFormat::Mjpeg),
            mode(1920, 1080, 30, PixelFormat::Mjpeg),
        ];
        assert_eq!(choose_mode(&modes, req), Some(modes[2]));
        let modes = [
            mode(1280, 720, 30, PixelFormat::Mjpeg),
            mode(1280, 720, 30, PixelFormat::Yuyv),
        ];
        assert_eq!(choose_mode(&modes, req), Some(modes[1]));
        // 60 fps beats 15 fps for a 30 fps request.
        let modes = [
            mode(1280, 720, 15, PixelFormat::Yuyv),
            mode(1280, 720, 60, PixelFormat::Yuyv),
        ];
        assert_eq!(choose_mode(&modes, req), Some(modes[1]));
        assert_eq!(choose_mode(&[], req), None);
    }

    #[test]
    fn frames_convert_to_luma() {
        // 2×1 frames.
        let yuyv = [10, 128, 20, 128];
        assert_eq!(
            frame_to_luma(PixelFormat::Yuyv, 2, 1, &yuyv).unwrap().as_raw(),
            &[10, 20]
        );
        let nv12 = [10, 20, 128, 128]; // Y plane, then CbCr for the 2×2 block (short is fine)
        assert_eq!(
            frame_to_luma(PixelFormat::Nv12, 2, 1, &nv12).unwrap().as_raw(),
            &[10, 20]
        );
        assert_eq!(
            frame_to_luma(PixelFormat::Gray, 2, 1, &[1, 2]).unwrap().as_raw(),
            &[1, 2]
        );
        let rgb = [255, 0, 0, 0, 0, 255];
        assert_eq!(frame_to_luma(PixelFormat::Rgb, 2, 1, &rgb).unwrap().as_raw(), &[77, 29]);
        assert_eq!(frame_to_luma(PixelFormat::Bgr, 2, 1, &rgb).unwrap().as_raw(), &[29, 77]);
        // Too short for its size: typed error, no panic.
        for f in [
            PixelFormat::Yuyv,
            PixelFormat::Gray,
            PixelFormat::Rgb,
            PixelFormat::Nv12,
        ] {
            assert!(matches!(
                frame_to_luma(f, 640, 480, &[0; 10]),
                Err(ScanError::CameraFrame(_))
            ));
        }
        assert!(matches!(
            frame_to_luma(PixelFormat::Mjpeg, 2, 1, b"not a jpeg"),
            Err(ScanError::CameraFrame(_))
        ));
        // A real JPEG.
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut jpeg)
            .encode(&[200u8; 16 * 8], 16, 8, image::ExtendedColorType::L8)
            .unwrap();
        let luma = frame_to_luma(PixelFormat::Mjpeg, 16, 8, &jpeg).unwrap();
        assert_eq!(luma.dimensions(), (16, 8));
        assert!(luma.pixels().all(|p| p.0[0].abs_diff(200) <= 2));
    }
}
