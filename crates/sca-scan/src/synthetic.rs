//! Synthetic camera frames: a text rendered as a QR code by `sca-qr`, placed in a frame the way
//! a webcam would see a screen or a printout — at a size and position, rotated, tilted in
//! perspective, blurred, at low contrast, under uneven light, among clutter, with sensor noise.
//!
//! Everything here is deterministic (a seeded generator, no clock, no global state), so tests
//! and benchmarks see the same pixels on every run. This module owns the scene model
//! ([`Scene`]), the compositor ([`compose`]), the standard test set ([`standard_set`]) and the
//! [`SyntheticSource`] that plays composed frames like a camera.

use image::{GrayImage, Luma};

use crate::error::ScanError;
use crate::source::{Frame, FrameClock, FrameSource, Pacing, ScanClock};

/// A payload shaped like a real signed operation payload (docs/spec/sca1.md §6: a TRANSFER with a
/// non-ASCII payee, so the code is in byte mode behind an ECI header; 250-odd bytes, a version-12
/// code at level M). The signature is not a real one: this is about optics, not cryptography.
pub const SAMPLE_PAYLOAD: &str = "SCA1\n48213307\nTRANSFER\n\
A:1250.00EUR*B:Società Cooperativa Edilizia*D:Saldo fattura 2024/117*I:IT60X0542811101000000123456\n\
q3Zl9XkT0bWcR1yPv2mNfA\n1767225600\nbank-2025-01\n\
MEUCIQDx3k2v7Q0yX9Wm1o6q2Zb8Rr4tJ5a9nL0pK1cV2dE3fgIgB7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8\n";

/// Largest frame side accepted by [`compose`] (a 4K camera frame is 3 840 wide).
pub const MAX_FRAME_SIDE: u32 = 8192;

/// Largest [`Scene::curvature_deg`] accepted (at 180° the edges of the code would be seen
/// edge-on).
const MAX_CURVATURE_DEG: f64 = 170.0;

/// Largest [`Scene::crumple`] accepted, in modules (the quiet zone is 4 modules wide).
const MAX_CRUMPLE: f64 = 4.0;

/// How a QR code appears in one synthetic frame. [`Scene::default`] is a clean, centred,
/// straight code with 4-pixel modules on a plain 640×480 frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// Side of one module in pixels, before perspective (the quiet zone of 4 modules counts).
    pub module_px: f64,
    /// Centre of the code, as fractions of the frame's width and height.
    pub center: (f64, f64),
    /// Rotation of the code in the image plane, in degrees, clockwise.
    pub rotation_deg: f64,
    /// Perspective: the code turned about its vertical axis so that its right edge appears this
    /// fraction shorter than its left edge (0 = facing the camera, 0.4 = strongly turned).
    pub tilt: f64,
    /// Curvature: the code is printed on a cylinder whose axis runs along the code's vertical,
    /// and its width wraps this many degrees of the cylinder (0 = flat paper, 90 = a quarter of
    /// the way round a bottle). Modules shrink towards the left and right edges, and the top and
    /// bottom edges bow (the middle of the code is nearer the camera). The code keeps the width
    /// in the frame that `module_px` gives it.
    pub curvature_deg: f64,
    /// Crumpling: a smooth random displacement field over the code, of at most this many modules
    /// (0 = flat), with the light varying across its folds (±12 % at an amplitude of 1 module).
    /// Drawn from `seed`.
    pub crumple: f64,
    /// Gaussian-like blur (three box passes) of this standard deviation in pixels; 0 = sharp.
    pub blur_sigma: f64,
    /// Grey level of dark modules.
    pub dark: u8,
    /// Grey level of light modules and of the quiet zone.
    pub light: u8,
    /// Grey level of the background around the code (before clutter and shading).
    pub background: u8,
    /// Number of random boxes and striped patches drawn on the background (never over the code
    /// or its quiet zone).
    pub clutter: u32,
    /// Uneven light: brightness falls linearly from 100 % at the left edge to `100 % - shading`
    /// at the right edge (0 = even light).
    pub shading: f64,
    /// Amplitude of uniform sensor noise added to every pixel after blurring (±`noise` levels).
    pub noise: u8,
    /// Seed of the generator that places clutter (and of the noise, with `noise_seed`).
    pub seed: u64,
    /// Seed of the sensor noise alone: frames of one scene that differ only here are what a
    /// camera held still delivers.
    pub noise_seed: u64,
}

impl Default for Scene {
    fn default() -> Self {
        Self {
            width: 640,
            height: 480,
            module_px: 4.0,
            center: (0.5, 0.5),
            rotation_deg: 0.0,
            tilt: 0.0,
            curvature_deg: 0.0,
            crumple: 0.0,
            blur_sigma: 0.0,
            dark: 0,
            light: 255,
            background: 200,
            clutter: 0,
            shading: 0.0,
            noise: 0,
            seed: 1,
            noise_seed: 0,
        }
    }
}

impl Scene {
    /// A 1280×720 webcam frame of a screen showing the code: gradient-lit cluttered desk, the
    /// code at 4 px per module right of centre, grey-ish blacks and whites, ±16 levels of noise.
    #[must_use]
    pub fn cluttered_720p(seed: u64) -> Self {
        Self {
            width: 1280,
            height: 720,
            module_px: 4.0,
            center: (0.66, 0.5),
            dark: 30,
            light: 220,
            background: 120,
            clutter: 60,
            shading: 0.25,
            noise: 16,
            seed,
            ..Self::default()
        }
    }

    /// The same frame as [`Scene::cluttered_720p`] with no code in view (the costly case for a
    /// decoder: every fallback runs).
    #[must_use]
    pub fn cluttered_720p_empty(seed: u64) -> Self {
        // A module size of 0 draws no code; see `compose`.
        Self {
            module_px: 0.0,
            ..Self::cluttered_720p(seed)
        }
    }

    fn check(&self) -> Result<(), ScanError> {
        if self.width == 0 || self.height == 0 || self.width > MAX_FRAME_SIDE || self.height > MAX_FRAME_SIDE {
            return Err(ScanError::config(
                "width/height",
                format!(
                    "{}x{} is outside 1..={MAX_FRAME_SIDE} pixels a side",
                    self.width, self.height
                ),
            ));
        }
        let finite = [
            ("module_px", self.module_px),
            ("center", self.center.0),
            ("center", self.center.1),
            ("rotation_deg", self.rotation_deg),
            ("tilt", self.tilt),
            ("curvature_deg", self.curvature_deg),
            ("crumple", self.crumple),
            ("blur_sigma", self.blur_sigma),
            ("shading", self.shading),
        ];
        for (field, v) in finite {
            if !v.is_finite() {
                return Err(ScanError::config(field, format!("{v} is not a finite number")));
            }
        }
        if !(0.0..=64.0).contains(&self.module_px) {
            return Err(ScanError::config("module_px", "must be within 0..=64"));
        }
        if !(0.0..0.9).contains(&self.tilt) {
            return Err(ScanError::config("tilt", "must be within 0..0.9"));
        }
        if !(0.0..=MAX_CURVATURE_DEG).contains(&self.curvature_deg) {
            return Err(ScanError::config("curvature_deg", "must be within 0..=170"));
        }
        if !(0.0..=MAX_CRUMPLE).contains(&self.crumple) {
            return Err(ScanError::config("crumple", "must be within 0..=4"));
        }
        if !(0.0..=20.0).contains(&self.blur_sigma) {
            return Err(ScanError::config("blur_sigma", "must be within 0..=20"));
        }
        if !(0.0..=1.0).contains(&self.shading) {
            return Err(ScanError::config("shading", "must be within 0..=1"));
        }
        Ok(())
    }
}

/// The modules of a QR code, one pixel per module, quiet zone of 4 modules included
/// (0 = dark, 255 = light), as [`sca_qr::render_png`] draws it at 1 px per module.
///
/// # Errors
/// [`ScanError::Render`] when the text does not fit in a QR code.
pub fn code_modules(text: &str) -> Result<GrayImage, ScanError> {
    let png = sca_qr::render_png(text, 1)?;
    // Our own PNG: it always loads; a failure would be a bug in sca-qr, reported as such.
    sca_qr::load_luma(&png).map_err(|e| ScanError::Render(sca_qr::RenderError::Png(e.to_string())))
}

/// Composes one frame of `scene` showing the code whose modules are `modules` (from
/// [`code_modules`]). A `scene.module_px` of 0 draws no code at all (an empty scene with the
/// same background, clutter, light and noise).
///
/// # Errors
/// [`ScanError::InvalidConfig`] naming the field of `scene` that is out of range.
pub fn compose(modules: &GrayImage, scene: &Scene) -> Result<GrayImage, ScanError> {
    scene.check()?;
    let (w, h) = (scene.width, scene.height);
    let mut rng = XorShift::new(scene.seed);
    let mut frame = GrayImage::from_pixel(w, h, Luma([scene.background]));

    let quad = if scene.module_px > 0.0 && modules.width() > 0 && modules.height() > 0 {
        Some(code_quad(modules.width(), scene))
    } else {
        None
    };
    draw_clutter(&mut frame, scene.clutter, quad.as_ref(), &mut rng);
    if let Some(quad) = &quad {
        draw_code(&mut frame, modules, quad, scene);
    }
    if scene.shading > 0.0 {
        shade(&mut frame, scene.shading);
    }
    if scene.blur_sigma > 0.0 {
        box_blur3(&mut frame, scene.blur_sigma);
    }
    if scene.noise > 0 {
        let mut rng = XorShift::new(scene.seed ^ scene.noise_seed.rotate_left(32) ^ 0xA5A5_A5A5);
        let amp = u32::from(scene.noise);
        for p in frame.pixels_mut() {
            let n = i32::try_from(rng.below(2 * amp + 1)).unwrap_or(0) - i32::try_from(amp).unwrap_or(0);
            p.0[0] = clamp_u8(i32::from(p.0[0]) + n);
        }
    }
    Ok(frame)
}

/// Renders `text` and composes it into `scene` (see [`compose`]).
///
/// # Errors
/// [`ScanError::Render`] when the text does not fit in a QR code, [`ScanError::InvalidConfig`]
/// when the scene is out of range.
pub fn render_scene(text: &str, scene: &Scene) -> Result<GrayImage, ScanError> {
    compose(&code_modules(text)?, scene)
}

/// One case of the standard synthetic set.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The category it measures: one of [`CATEGORIES`].
    pub category: &'static str,
    /// What varies in this case, e.g. `module 2.5 px` or `rotation 30°`.
    pub label: String,
    /// The scene.
    pub scene: Scene,
}

/// The categories of [`standard_set`], in order.
pub const CATEGORIES: [&str; 8] = [
    "size",
    "rotation",
    "blur",
    "low contrast",
    "perspective",
    "cluttered 1280x720",
    "curved 1280x720",
    "crumpled 1280x720",
];

/// Module size that makes the sample code (73 modules with its quiet zone) about 240 px wide:
/// the small printed codes that phone photos of curved or crumpled bills miss most.
pub const SMALL_MODULE_PX: f64 = 3.3;

/// The synthetic set of the tests and benchmarks (issue 4): sizes, rotations, blur, low
/// contrast, perspective and cluttered 1280×720 frames, each with light noise; and (issue 16)
/// codes printed on a cylinder ([`Scene::curvature_deg`]) or on crumpled paper
/// ([`Scene::crumple`]) in cluttered 1280×720 frames, half of them small ([`SMALL_MODULE_PX`],
/// about 240 px wide). The code is [`SAMPLE_PAYLOAD`]-sized (about 73 modules a side with its
/// quiet zone); frames other than the 1280×720 ones are 640×640 or larger when the code needs
/// it.
#[must_use]
pub fn standard_set() -> Vec<Case> {
    let base = Scene {
        width: 640,
        height: 640,
        module_px: 4.0,
        background: 170,
        dark: 20,
        light: 235,
        noise: 6,
        ..Scene::default()
    };
    let mut set = Vec::new();
    let mut push = |category: &'static str, label: String, scene: Scene| {
        set.push(Case { category, label, scene });
    };
    for (i, m) in [1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 10.0].into_iter().enumerate() {
        // Frame big enough for the code (~73 modules) plus a margin.
        let side = ((m * 73.0 * 1.3) as u32).max(320);
        push(
            "size",
            format!("module {m} px"),
            Scene {
                width: side,
                height: side,
                module_px: m,
                seed: 100 + i as u64,
                ..base.clone()
            },
        );
    }
    for (i, deg) in (0..12).map(|k| f64::from(k) * 30.0 + 7.0).enumerate() {
        push(
            "rotation",
            format!("rotation {deg}°"),
            Scene {
                rotation_deg: deg,
                seed: 200 + i as u64,
                ..base.clone()
            },
        );
    }
    for (i, sigma) in [0.5, 0.8, 1.0, 1.3, 1.6, 2.0].into_iter().enumerate() {
        push(
            "blur",
            format!("blur sigma {sigma} px"),
            Scene {
                blur_sigma: sigma,
                seed: 300 + i as u64,
                ..base.clone()
            },
        );
    }
    for (i, (dark, light)) in [
        (90, 160),
        (100, 150),
        (110, 145),
        (120, 150),
        (60, 100),
        (170, 210),
        (115, 140),
    ]
    .into_iter()
    .enumerate()
    {
        push(
            "low contrast",
            format!("dark {dark} / light {light}"),
            Scene {
                dark,
                light,
                background: 130,
                noise: 3,
                seed: 400 + i as u64,
                ..base.clone()
            },
        );
    }
    for (i, (tilt, deg)) in [
        (0.1, 0.0),
        (0.2, 10.0),
        (0.3, 0.0),
        (0.3, 45.0),
        (0.4, 20.0),
        (0.5, 0.0),
        (0.5, 60.0),
    ]
    .into_iter()
    .enumerate()
    {
        push(
            "perspective",
            format!("tilt {tilt}, rotation {deg}°"),
            Scene {
                tilt,
                rotation_deg: deg,
                seed: 500 + i as u64,
                ..base.clone()
            },
        );
    }
    for (i, (cx, cy, m)) in [
        (0.66, 0.5, 4.0),
        (0.3, 0.4, 4.0),
        (0.5, 0.5, 3.0),
        (0.75, 0.6, 5.0),
        (0.4, 0.55, 3.5),
        (0.6, 0.45, 6.0),
    ]
    .into_iter()
    .enumerate()
    {
        push(
            "cluttered 1280x720",
            format!("centre ({cx}, {cy}), module {m} px"),
            Scene {
                center: (cx, cy),
                module_px: m,
                ..Scene::cluttered_720p(600 + i as u64)
            },
        );
    }
    let small = SMALL_MODULE_PX;
    for (i, (deg, m, rot)) in [
        (40.0, small, 0.0),
        (60.0, small, 0.0),
        (80.0, small, 0.0),
        (90.0, small, 0.0),
        (100.0, small, 0.0),
        (120.0, small, 0.0),
        (80.0, 5.0, 10.0),
        (100.0, 5.0, 0.0),
    ]
    .into_iter()
    .enumerate()
    {
        push(
            "curved 1280x720",
            format!("cylinder {deg}°, module {m} px, rotation {rot}°"),
            Scene {
                curvature_deg: deg,
                module_px: m,
                rotation_deg: rot,
                center: (0.35 + 0.04 * i as f64, 0.5),
                ..Scene::cluttered_720p(700 + i as u64)
            },
        );
    }
    for (i, (amp, m)) in [
        (0.2, small),
        (0.3, small),
        (0.4, small),
        (0.5, small),
        (0.6, small),
        (0.8, small),
        (0.4, 5.0),
        (0.6, 5.0),
    ]
    .into_iter()
    .enumerate()
    {
        push(
            "crumpled 1280x720",
            format!("crumpled {amp} modules, module {m} px"),
            Scene {
                crumple: amp,
                module_px: m,
                center: (0.6 - 0.03 * i as f64, 0.48),
                ..Scene::cluttered_720p(800 + i as u64)
            },
        );
    }
    set
}

/// A scripted run of frames: each item is shown for a number of frames.
#[derive(Debug, Clone)]
pub struct Shot {
    /// The frame (composed once, shown `frames` times).
    pub image: GrayImage,
    /// What the frame shows: the code's text, or `None` for a frame without a code.
    pub text: Option<String>,
    /// How many consecutive frames show it (at least 1).
    pub frames: u32,
}

/// A frame source that plays pre-composed frames like a camera: a list of [`Shot`]s, each shown
/// for some frames, at a frame rate or on demand, once or looping.
///
/// Frames are composed before the source starts (composing costs a few milliseconds a frame, and
/// a benchmark must not measure that); each frame sent is a copy of its shot's image.
#[derive(Debug, Clone)]
pub struct SyntheticSource {
    shots: Vec<Shot>,
    shot: usize,
    shown: u32,
    looping: bool,
    clock: FrameClock,
}

impl SyntheticSource {
    /// A source over these shots, played once, on demand.
    ///
    /// # Errors
    /// [`ScanError::InvalidConfig`] (`shots`) when the list is empty or a shot has 0 frames.
    pub fn new(shots: Vec<Shot>) -> Result<Self, ScanError> {
        if shots.is_empty() {
            return Err(ScanError::config("shots", "no shot to play"));
        }
        if shots.iter().any(|s| s.frames == 0) {
            return Err(ScanError::config("shots", "a shot must last at least one frame"));
        }
        Ok(Self {
            shots,
            shot: 0,
            shown: 0,
            looping: false,
            clock: FrameClock::default(),
        })
    }

    /// One scene showing `text`, forever, at `fps` — a camera held still on a code.
    ///
    /// # Errors
    /// As [`render_scene`], and [`ScanError::InvalidConfig`] (`fps`) for a bad rate.
    pub fn still(text: &str, scene: &Scene, fps: f64) -> Result<Self, ScanError> {
        let image = render_scene(text, scene)?;
        Self::new(vec![Shot {
            image,
            text: Some(text.to_owned()),
            frames: 1,
        }])?
        .looping(true)
        .at_fps(fps)
    }

    crate::source::replay_settings!("shot");

    /// The shots.
    #[must_use]
    pub fn shots(&self) -> &[Shot] {
        &self.shots
    }

    /// What the frame with sequence number `seq` shows (the shot's text), following the script
    /// and the looping setting; `None` for a frame without a code or past the end.
    #[must_use]
    pub fn text_at(&self, seq: u64) -> Option<&str> {
        let total: u64 = self.shots.iter().map(|s| u64::from(s.frames)).sum();
        if total == 0 || (!self.looping && seq >= total) {
            return None;
        }
        let mut k = seq % total;
        for s in &self.shots {
            if k < u64::from(s.frames) {
                return s.text.as_deref();
            }
            k -= u64::from(s.frames);
        }
        None
    }
}

impl FrameSource for SyntheticSource {
    fn next_frame(&mut self) -> Result<Option<Frame>, ScanError> {
        if self.shot >= self.shots.len() {
            if !self.looping {
                return Ok(None);
            }
            self.shot = 0;
        }
        let Some(shot) = self.shots.get(self.shot) else {
            return Ok(None);
        };
        let image = shot.image.clone();
        self.shown += 1;
        if self.shown >= shot.frames {
            self.shown = 0;
            self.shot += 1;
        }
        Ok(Some(self.clock.frame(image)))
    }

    fn pacing(&self) -> Pacing {
        self.clock.pacing()
    }

    fn describe(&self) -> String {
        let frames: u64 = self.shots.iter().map(|s| u64::from(s.frames)).sum();
        format!(
            "synthetic: {} shot(s), {frames} frame(s){}",
            self.shots.len(),
            if self.looping { ", looping" } else { "" }
        )
    }
}

// ---- geometry -------------------------------------------------------------------------------

/// A projective map from the unit square to the frame, and its inverse.
#[derive(Debug, Clone)]
struct Quad {
    /// Frame → unit square (the inverse of the square-to-quad map).
    inverse: [[f64; 3]; 3],
    /// Bounding box of the quad in the frame, in pixels (inclusive min, exclusive max).
    bbox: (i64, i64, i64, i64),
}

/// The quadrilateral where the code (quiet zone included) lands in the frame.
fn code_quad(modules_side: u32, scene: &Scene) -> Quad {
    let side = f64::from(modules_side) * scene.module_px;
    let half = side / 2.0;
    // Turned about the vertical axis: the right edge is shorter and the code narrower.
    let right = 1.0 - scene.tilt;
    let narrow = 1.0 - scene.tilt / 2.0;
    let corners = [
        (-half * narrow, -half),
        (half * narrow, -half * right),
        (half * narrow, half * right),
        (-half * narrow, half),
    ];
    let (s, c) = scene.rotation_deg.to_radians().sin_cos();
    let (cx, cy) = (
        scene.center.0 * f64::from(scene.width),
        scene.center.1 * f64::from(scene.height),
    );
    let pts = corners.map(|(x, y)| (cx + x * c - y * s, cy + x * s + y * c));
    let forward = square_to_quad(pts);
    let inverse = invert3(&forward);
    let xs = pts.map(|p| p.0);
    let ys = pts.map(|p| p.1);
    let min = |v: [f64; 4]| v.into_iter().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.into_iter().fold(f64::NEG_INFINITY, f64::max);
    #[allow(clippy::cast_possible_truncation)]
    let bbox = (
        min(xs).floor() as i64,
        min(ys).floor() as i64,
        max(xs).ceil() as i64 + 1,
        max(ys).ceil() as i64 + 1,
    );
    Quad { inverse, bbox }
}

/// Heckbert's projective map of the unit square (corners (0,0), (1,0), (1,1), (0,1)) onto the
/// quadrilateral `p` (same corner order), as a 3×3 matrix acting on (u, v, 1).
fn square_to_quad(p: [(f64, f64); 4]) -> [[f64; 3]; 3] {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = p;
    let (dx1, dx2, dx3) = (x1 - x2, x3 - x2, x0 - x1 + x2 - x3);
    let (dy1, dy2, dy3) = (y1 - y2, y3 - y2, y0 - y1 + y2 - y3);
    let det = dx1 * dy2 - dx2 * dy1;
    let (g, h) = if det.abs() < 1e-12 {
        (0.0, 0.0)
    } else {
        ((dx3 * dy2 - dx2 * dy3) / det, (dx1 * dy3 - dx3 * dy1) / det)
    };
    [
        [x1 - x0 + g * x1, x3 - x0 + h * x3, x0],
        [y1 - y0 + g * y1, y3 - y0 + h * y3, y0],
        [g, h, 1.0],
    ]
}

/// Inverse of a 3×3 matrix through its adjugate (a singular matrix gives zeros: nothing is
/// drawn).
fn invert3(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let [[a, b, c], [d, e, f], [g, h, i]] = *m;
    let co = [
        [e * i - f * h, c * h - b * i, b * f - c * e],
        [f * g - d * i, a * i - c * g, c * d - a * f],
        [d * h - e * g, b * g - a * h, a * e - b * d],
    ];
    let det = a * co[0][0] + b * co[1][0] + c * co[2][0];
    if det.abs() < 1e-12 {
        return [[0.0; 3]; 3];
    }
    co.map(|row| row.map(|v| v / det))
}

/// Where frame point (x, y) falls in the unit square of the code, if it is a finite point.
fn to_square(inv: &[[f64; 3]; 3], x: f64, y: f64) -> Option<(f64, f64)> {
    let w = inv[2][0] * x + inv[2][1] * y + inv[2][2];
    if w.abs() < 1e-12 {
        return None;
    }
    Some((
        (inv[0][0] * x + inv[0][1] * y + inv[0][2]) / w,
        (inv[1][0] * x + inv[1][1] * y + inv[1][2]) / w,
    ))
}

/// Sub-pixel sample offsets (a 3×3 grid): edges come out anti-aliased as a lens would draw them.
const SUBSAMPLES: [f64; 3] = [1.0 / 6.0, 0.5, 5.0 / 6.0];

fn draw_code(frame: &mut GrayImage, modules: &GrayImage, quad: &Quad, scene: &Scene) {
    let (w, h) = (i64::from(frame.width()), i64::from(frame.height()));
    let (x0, y0, x1, y1) = quad.bbox;
    let n = f64::from(modules.width());
    let (dark, light) = (f64::from(scene.dark), f64::from(scene.light));
    let warp = Warp::new(scene, modules.width());
    for py in y0.max(0)..y1.min(h) {
        for px in x0.max(0)..x1.min(w) {
            let (mut inside, mut sum) = (0u32, 0.0);
            for oy in SUBSAMPLES {
                for ox in SUBSAMPLES {
                    // Pixel coordinates are integers here: exact in f64.
                    #[allow(clippy::cast_precision_loss)]
                    let Some((u, v)) = to_square(&quad.inverse, px as f64 + ox, py as f64 + oy) else {
                        continue;
                    };
                    if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                        continue;
                    }
                    let Some((u, v, gain)) = warp.to_paper(u, v) else {
                        continue;
                    };
                    if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                        continue;
                    }
                    inside += 1;
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let (mx, my) = ((u * n) as u32, (v * n) as u32);
                    let is_dark = modules.get_pixel_checked(mx, my).is_some_and(|p| p.0[0] < 128);
                    sum += gain * if is_dark { dark } else { light };
                }
            }
            if inside == 0 {
                continue;
            }
            let (Ok(ux), Ok(uy)) = (u32::try_from(px), u32::try_from(py)) else {
                continue;
            };
            // Partly covered edge pixels blend with what is under them.
            let under = f64::from(frame.get_pixel(ux, uy).0[0]);
            let covered = f64::from(inside) / 9.0;
            let value = sum / f64::from(inside) * covered + under * (1.0 - covered);
            frame.put_pixel(ux, uy, Luma([clamp_f(value)]));
        }
    }
}

/// Radius of the cylinder of [`Scene::curvature_deg`] over the camera's distance from its front:
/// how much nearer (so taller) the middle of a curved code looks than its edges.
const CYLINDER_NEARNESS: f64 = 0.25;

/// Spacing of the control points of the crumpling field, in modules.
const CRUMPLE_CELL_MODULES: f64 = 9.0;

/// Light change across the folds of crumpled paper, per module of [`Scene::crumple`].
const CRUMPLE_LIGHT: f64 = 0.12;

/// The paper's shape: where a point of the code's flat square lands on curved or crumpled paper.
#[derive(Debug, Clone)]
struct Warp {
    /// The angle the code's width wraps on its cylinder, in radians (0: flat).
    theta: f64,
    /// Control points of the crumpling field, `side` × `side`, each a displacement (in the unit
    /// square) and a light gain offset; empty when flat.
    grid: Vec<(f64, f64, f64)>,
    side: usize,
}

impl Warp {
    fn new(scene: &Scene, modules_side: u32) -> Self {
        let theta = scene.curvature_deg.to_radians();
        let n = f64::from(modules_side.max(1));
        if scene.crumple <= 0.0 {
            return Self {
                theta,
                grid: Vec::new(),
                side: 0,
            };
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let side = ((n / CRUMPLE_CELL_MODULES).ceil() as usize + 1).max(2);
        let mut rng = XorShift::new(scene.seed ^ 0xC0FF_EE00_D15E_A5E5);
        let mut unit = || f64::from(rng.below(20_001)) / 10_000.0 - 1.0;
        let amp = scene.crumple / n;
        let light = (CRUMPLE_LIGHT * scene.crumple).min(0.5);
        let grid = (0..side * side)
            .map(|_| (unit() * amp, unit() * amp, unit() * light))
            .collect();
        Self { theta, grid, side }
    }

    /// From the unit square as seen (after the projective map) to the unit square of the flat
    /// code, and the light gain there; `None` where the paper is not seen.
    fn to_paper(&self, u: f64, v: f64) -> Option<(f64, f64, f64)> {
        let (mut u, mut v, mut gain) = (u, v, 1.0);
        if self.theta > 0.0 {
            // Seen from the front, a point at angle phi on the cylinder is at sin(phi) across;
            // the code's width spans [-theta/2, theta/2] and fills [0, 1] as seen.
            let across = (u - 0.5) * 2.0 * (self.theta / 2.0).sin();
            if across.abs() > 1.0 {
                return None;
            }
            let phi = across.asin();
            u = 0.5 + phi / self.theta;
            let nearness = 1.0 / (1.0 + CYLINDER_NEARNESS * (1.0 - phi.cos()));
            v = 0.5 + (v - 0.5) / nearness;
            // Lit from the camera: the paper turned away is darker.
            gain = 1.0 - 0.3 * (1.0 - phi.cos());
        }
        if self.side >= 2 {
            let (dx, dy, dg) = self.field(u, v);
            u += dx;
            v += dy;
            gain *= 1.0 + dg;
        }
        Some((u, v, gain))
    }

    /// The crumpling field at (u, v): smoothstep-weighted interpolation of the control points.
    fn field(&self, u: f64, v: f64) -> (f64, f64, f64) {
        #[allow(clippy::cast_precision_loss)]
        let last = (self.side - 1) as f64;
        let (gx, gy) = ((u.clamp(0.0, 1.0)) * last, (v.clamp(0.0, 1.0)) * last);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (ix, iy) = (
            (gx.floor() as usize).min(self.side - 2),
            (gy.floor() as usize).min(self.side - 2),
        );
        #[allow(clippy::cast_precision_loss)]
        let (tx, ty) = (smoothstep(gx - ix as f64), smoothstep(gy - iy as f64));
        let at = |x: usize, y: usize| self.grid.get(y * self.side + x).copied().unwrap_or((0.0, 0.0, 0.0));
        let lerp3 = |a: (f64, f64, f64), b: (f64, f64, f64), t: f64| {
            (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
        };
        let top = lerp3(at(ix, iy), at(ix + 1, iy), tx);
        let bottom = lerp3(at(ix, iy + 1), at(ix + 1, iy + 1), tx);
        lerp3(top, bottom, ty)
    }
}

fn smoothstep(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Boxes (flat or striped) of random shade on the background, kept clear of the code's
/// bounding box so the code and its quiet zone stay intact.
fn draw_clutter(frame: &mut GrayImage, count: u32, quad: Option<&Quad>, rng: &mut XorShift) {
    let (w, h) = frame.dimensions();
    for _ in 0..count {
        let (bx, by) = (rng.below(w), rng.below(h));
        let (bw, bh) = (8 + rng.below(w / 6 + 1), 6 + rng.below(h / 6 + 1));
        let shade = u8::try_from(rng.below(256)).unwrap_or(0);
        let stripes = rng.below(3);
        for y in by..(by + bh).min(h) {
            for x in bx..(bx + bw).min(w) {
                if let Some(q) = quad {
                    let (qx0, qy0, qx1, qy1) = q.bbox;
                    let (xi, yi) = (i64::from(x), i64::from(y));
                    if xi >= qx0 - 2 && xi < qx1 + 2 && yi >= qy0 - 2 && yi < qy1 + 2 {
                        continue;
                    }
                }
                let on = match stripes {
                    0 => true,
                    1 => (x / 3) % 2 == 0,
                    _ => (y / 4) % 2 == 0,
                };
                if on {
                    frame.put_pixel(x, y, Luma([shade]));
                }
            }
        }
    }
}

fn shade(frame: &mut GrayImage, amount: f64) {
    let w = f64::from(frame.width().max(1));
    for (x, _, p) in frame.enumerate_pixels_mut() {
        let gain = 1.0 - amount * f64::from(x) / w;
        p.0[0] = clamp_f(f64::from(p.0[0]) * gain);
    }
}

/// Three passes of a separable box blur, close to a Gaussian of standard deviation `sigma`.
fn box_blur3(frame: &mut GrayImage, sigma: f64) {
    // Three boxes of width 2r + 1 have variance 3 * ((2r + 1)^2 - 1) / 12 = r(r + 1).
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let r = (((4.0 * sigma * sigma + 1.0).sqrt() - 1.0) / 2.0).round().max(1.0) as usize;
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut buf: Vec<u8> = frame.as_raw().clone();
    let mut line = Vec::new();
    for _ in 0..3 {
        for y in 0..h {
            blur_line(&mut buf, y * w, 1, w, r, &mut line);
        }
        for x in 0..w {
            blur_line(&mut buf, x, w, h, r, &mut line);
        }
    }
    if let Some(out) = GrayImage::from_raw(frame.width(), frame.height(), buf) {
        *frame = out;
    }
}

/// Box blur of radius `r` along one row or column (`len` samples from `start`, `stride` apart),
/// edges clamped.
fn blur_line(buf: &mut [u8], start: usize, stride: usize, len: usize, r: usize, line: &mut Vec<u8>) {
    line.clear();
    line.extend((0..len).map(|i| buf[start + i * stride]));
    let at = |i: isize| -> u32 {
        let i = i.clamp(0, len as isize - 1) as usize;
        u32::from(line[i])
    };
    let r = r as isize;
    let width = 2 * r as u32 + 1;
    let mut sum: u32 = (-r..=r).map(at).sum();
    for i in 0..len {
        buf[start + i * stride] = u8::try_from((sum + width / 2) / width).unwrap_or(u8::MAX);
        let i = i as isize;
        sum = sum + at(i + r + 1) - at(i - r);
    }
}

fn clamp_u8(v: i32) -> u8 {
    u8::try_from(v.clamp(0, 255)).unwrap_or(u8::MAX)
}

fn clamp_f(v: f64) -> u8 {
    #[allow(clippy::cast_possible_truncation)]
    clamp_u8(v.round() as i32)
}

/// xorshift64: small, fast, deterministic; not for anything secret.
#[derive(Debug, Clone)]
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // splitmix64 of the seed, so that nearby seeds give unrelated streams; never zero
        // (xorshift's fixed point).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }

    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        u32::try_from(self.0 % u64::from(n.max(1))).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_scene_maps_modules_onto_pixels() {
        let modules = code_modules("hi").unwrap();
        let n = modules.width();
        let scene = Scene {
            width: n * 4,
            height: n * 4,
            module_px: 4.0,
            ..Scene::default()
        };
        let frame = compose(&modules, &scene).unwrap();
        // Each module is a 4×4 block; sample its centre.
        for my in 0..n {
            for mx in 0..n {
                let want = if modules.get_pixel(mx, my).0[0] < 128 { 0 } else { 255 };
                assert_eq!(
                    frame.get_pixel(mx * 4 + 2, my * 4 + 2).0[0],
                    want,
                    "module ({mx}, {my})"
                );
            }
        }
    }

    #[test]
    fn empty_scene_has_no_code_and_bad_scenes_name_the_field() {
        let frame = render_scene("x", &Scene::cluttered_720p_empty(3)).unwrap();
        assert_eq!(frame.dimensions(), (1280, 720));
        assert!(sca_qr::decode_luma(&frame).is_none());
        for (scene, field) in [
            (
                Scene {
                    width: 0,
                    ..Scene::default()
                },
                "width/height",
            ),
            (
                Scene {
                    tilt: 0.95,
                    ..Scene::default()
                },
                "tilt",
            ),
            (
                Scene {
                    module_px: f64::NAN,
                    ..Scene::default()
                },
                "module_px",
            ),
            (
                Scene {
                    blur_sigma: -1.0,
                    ..Scene::default()
                },
                "blur_sigma",
            ),
            (
                Scene {
                    curvature_deg: 180.0,
                    ..Scene::default()
                },
                "curvature_deg",
            ),
            (
                Scene {
                    crumple: f64::INFINITY,
                    ..Scene::default()
                },
                "crumple",
            ),
        ] {
            match render_scene("x", &scene) {
                Err(ScanError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn flat_paper_is_the_identity() {
        let warp = Warp::new(&Scene::default(), 73);
        for (u, v) in [(0.0, 0.0), (0.3, 0.7), (0.99, 0.5)] {
            assert_eq!(warp.to_paper(u, v), Some((u, v, 1.0)));
        }
    }

    #[test]
    fn a_cylinder_squeezes_the_edges_and_bows_the_top() {
        let warp = Warp::new(
            &Scene {
                curvature_deg: 120.0,
                ..Scene::default()
            },
            73,
        );
        let (u, v, gain) = warp.to_paper(0.5, 0.5).unwrap();
        assert!((u - 0.5).abs() < 1e-9 && (v - 0.5).abs() < 1e-9 && (gain - 1.0).abs() < 1e-9);
        // 5 % in from the left edge of the frame's quad shows 7.4 % of the paper: squeezed.
        let (u, _, gain) = warp.to_paper(0.05, 0.5).unwrap();
        assert!((u - 0.074).abs() < 0.002, "{u}");
        assert!(gain < 0.9, "turned away from the light: {gain}");
        // At the sides, the top edge of the paper is lower than in the middle.
        let (_, v_side, _) = warp.to_paper(0.02, 0.05).unwrap();
        assert!(v_side < 0.04, "{v_side}");
    }

    #[test]
    fn crumpling_moves_modules_by_at_most_its_amplitude() {
        let n = 73;
        let scene = Scene {
            crumple: 1.5,
            seed: 7,
            ..Scene::default()
        };
        let warp = Warp::new(&scene, n);
        let mut largest: f64 = 0.0;
        for k in 0..=100 {
            for l in 0..=100 {
                let (u, v) = (f64::from(k) / 100.0, f64::from(l) / 100.0);
                let (pu, pv, gain) = warp.to_paper(u, v).unwrap();
                let moved = (pu - u).abs().max((pv - v).abs()) * f64::from(n);
                assert!(moved <= 1.5 + 1e-9, "{moved} modules at ({u}, {v})");
                assert!((0.8..=1.2).contains(&gain), "{gain}");
                largest = largest.max(moved);
            }
        }
        assert!(largest > 0.75, "the field hardly moves anything: {largest}");
        // Another seed, another field; the same seed, the same one.
        let other = Warp::new(
            &Scene {
                seed: 8,
                ..scene.clone()
            },
            n,
        );
        assert_ne!(other.to_paper(0.5, 0.5), warp.to_paper(0.5, 0.5));
        assert_eq!(Warp::new(&scene, n).to_paper(0.5, 0.5), warp.to_paper(0.5, 0.5));
    }

    #[test]
    fn composing_is_deterministic() {
        let a = render_scene(SAMPLE_PAYLOAD, &Scene::cluttered_720p(9)).unwrap();
        let b = render_scene(SAMPLE_PAYLOAD, &Scene::cluttered_720p(9)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn script_and_text_at_agree() {
        let img = GrayImage::new(4, 4);
        let shot = |t: Option<&str>, frames| Shot {
            image: img.clone(),
            text: t.map(str::to_owned),
            frames,
        };
        let mut src = SyntheticSource::new(vec![shot(None, 2), shot(Some("a"), 1)]).unwrap();
        assert_eq!(src.pacing(), Pacing::OnDemand);
        let mut seqs = Vec::new();
        while let Some(f) = src.next_frame().unwrap() {
            seqs.push(f.seq);
        }
        assert_eq!(seqs, [0, 1, 2]);
        assert_eq!(src.text_at(2), Some("a"));
        assert_eq!(src.text_at(3), None);
        let src = src.looping(true);
        assert_eq!(src.text_at(5), Some("a"));
        assert_eq!(src.text_at(4), None);
        assert!(SyntheticSource::new(vec![]).is_err());
        assert!(SyntheticSource::new(vec![shot(None, 0)]).is_err());
    }
}
