//! A private X server for tests and benchmarks of the screen reader: `Xvfb` started on a free
//! display number, windows showing given pictures on it, and the server stopped when dropped.
//! (Cargo features `testkit` and `screen`; no product uses it.)

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::GrayImage;
use x11rb::connection::Connection;
use x11rb::image::{Image, PixelLayout};
use x11rb::protocol::xproto::{ConnectionExt as _, CreateGCAux, CreateWindowAux, WindowClass};
use x11rb::rust_connection::RustConnection;

use crate::error::ScanError;
use crate::screen::ScreenEnv;

/// The first display number tried (low numbers belong to real sessions).
const FIRST_DISPLAY: u32 = 120;
/// How long a starting Xvfb may take to accept a connection.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// An `Xvfb` server of this process, and a connection to it holding the windows shown.
pub struct TestDisplay {
    child: Child,
    name: String,
    conn: RustConnection,
    screen: usize,
    windows: Vec<u32>,
}

impl std::fmt::Debug for TestDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDisplay")
            .field("name", &self.name)
            .field("windows", &self.windows)
            .finish_non_exhaustive()
    }
}

fn failed(what: &str, e: impl std::fmt::Display) -> ScanError {
    ScanError::ScreenCapture(format!("test display: {what}: {e}"))
}

impl TestDisplay {
    /// Starts `Xvfb` with one screen of `width`×`height` at depth 24 on the first free display
    /// number from 120 (its number offset by this process's id, so that parallel test processes
    /// rarely collide; a taken number is skipped). `Ok(None)` when the `Xvfb` binary is missing.
    ///
    /// # Errors
    /// [`ScanError::ScreenCapture`] when no Xvfb could be started.
    pub fn start(width: u32, height: u32) -> Result<Option<Self>, ScanError> {
        let offset = std::process::id() % 400;
        let mut last = String::from("no display number tried");
        for attempt in 0..40 {
            let number = FIRST_DISPLAY + (offset + attempt * 17) % 800;
            if std::path::Path::new(&format!("/tmp/.X{number}-lock")).exists() {
                continue;
            }
            let name = format!(":{number}");
            let spawned = Command::new("Xvfb")
                .arg(&name)
                .args(["-screen", "0", &format!("{width}x{height}x24"), "-nolisten", "tcp"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let mut child = match spawned {
                Ok(child) => child,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(failed("cannot run Xvfb", e)),
            };
            let deadline = Instant::now() + START_TIMEOUT;
            loop {
                if let Ok((conn, screen)) = x11rb::connect(Some(&name)) {
                    return Ok(Some(Self {
                        child,
                        name,
                        conn,
                        screen,
                        windows: Vec::new(),
                    }));
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("Xvfb {name} exited ({status})");
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = format!("Xvfb {name} did not accept a connection within {START_TIMEOUT:?}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Err(failed("no Xvfb could be started", last))
    }

    /// The display name (`":123"`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// This display only, as the screen reader takes it.
    #[must_use]
    pub fn env(&self) -> ScreenEnv {
        ScreenEnv::x11(self.name.clone())
    }

    /// Shows `picture` in a new borderless window at (`x`, `y`) and waits until the server has
    /// it. The picture is the window's background, so it stays drawn whatever happens on top.
    ///
    /// # Errors
    /// [`ScanError::ScreenCapture`] when the picture is larger than X11 allows or a request fails.
    pub fn show(&mut self, picture: &GrayImage, x: i16, y: i16) -> Result<u32, ScanError> {
        let (Ok(w), Ok(h)) = (u16::try_from(picture.width()), u16::try_from(picture.height())) else {
            return Err(failed("picture too large", format!("{:?}", picture.dimensions())));
        };
        if w == 0 || h == 0 {
            return Err(failed("empty picture", format!("{w}x{h}")));
        }
        let screen = self
            .conn
            .setup()
            .roots
            .get(self.screen)
            .ok_or_else(|| failed("no screen", self.screen))?;
        let (root, depth, root_visual) = (screen.root, screen.root_depth, screen.root_visual);
        let visual = screen
            .allowed_depths
            .iter()
            .flat_map(|d| d.visuals.iter())
            .find(|v| v.visual_id == root_visual)
            .copied()
            .ok_or_else(|| failed("no root visual", root_visual))?;
        let layout = PixelLayout::from_visual_type(visual).map_err(|e| failed("root visual", e))?;
        let mut image = Image::allocate_native(w, h, depth, self.conn.setup()).map_err(|e| failed("image", e))?;
        for (px, py, p) in picture.enumerate_pixels() {
            let v = u16::from(p.0[0]) * 257;
            // Both fit in u16: checked against the picture's size above.
            let (px, py) = (u16::try_from(px).unwrap_or(0), u16::try_from(py).unwrap_or(0));
            image.put_pixel(px, py, layout.encode((v, v, v)));
        }
        let conn = &self.conn;
        let pixmap = conn.generate_id().map_err(|e| failed("id", e))?;
        let gc = conn.generate_id().map_err(|e| failed("id", e))?;
        let window = conn.generate_id().map_err(|e| failed("id", e))?;
        conn.create_pixmap(depth, pixmap, root, w, h)
            .map_err(|e| failed("pixmap", e))?;
        conn.create_gc(gc, pixmap, &CreateGCAux::new())
            .map_err(|e| failed("gc", e))?;
        image.put(conn, pixmap, gc, 0, 0).map_err(|e| failed("put image", e))?;
        conn.create_window(
            depth,
            window,
            root,
            x,
            y,
            w,
            h,
            0,
            WindowClass::INPUT_OUTPUT,
            root_visual,
            &CreateWindowAux::new().background_pixmap(pixmap).override_redirect(1),
        )
        .map_err(|e| failed("window", e))?;
        conn.map_window(window).map_err(|e| failed("map", e))?;
        conn.free_gc(gc).map_err(|e| failed("gc", e))?;
        conn.free_pixmap(pixmap).map_err(|e| failed("pixmap", e))?;
        self.sync()?;
        self.windows.push(window);
        Ok(window)
    }

    /// Removes every window shown.
    ///
    /// # Errors
    /// [`ScanError::ScreenCapture`] when a request fails.
    pub fn clear(&mut self) -> Result<(), ScanError> {
        for window in std::mem::take(&mut self.windows) {
            self.conn.destroy_window(window).map_err(|e| failed("destroy", e))?;
        }
        self.sync()
    }

    /// Waits until the server has handled every request sent (a round trip).
    fn sync(&self) -> Result<(), ScanError> {
        self.conn
            .get_input_focus()
            .map_err(|e| failed("sync", e))?
            .reply()
            .map(|_| ())
            .map_err(|e| failed("sync", e))
    }
}

impl Drop for TestDisplay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small deterministic generator for the page's clutter.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `lo..hi` (`lo` when the range is empty).
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        if hi <= lo {
            return lo;
        }
        lo + u32::try_from(self.next() % u64::from(hi - lo)).unwrap_or(0)
    }
}

/// A QR code to draw on a [`browser_page`]: its text, the top-left corner of the code with its
/// quiet zone, and the size of a module in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCode<'a> {
    /// The text the code carries.
    pub text: &'a str,
    /// Left edge, in pixels from the page's left.
    pub x: u32,
    /// Top edge, in pixels from the page's top.
    pub y: u32,
    /// Module size in pixels.
    pub module_px: u32,
}

/// A picture of a browser window showing a bank page: a dark title bar with tabs, an address
/// bar, a menu, lines of text-like glyphs (strokes of a few pixels, like 13 px body text) and
/// buttons, with `codes` drawn on white where asked (no clutter under a code or its quiet zone).
///
/// # Errors
/// [`ScanError::Render`] when a text does not fit in a QR code.
pub fn browser_page(width: u32, height: u32, codes: &[PageCode<'_>], seed: u64) -> Result<GrayImage, ScanError> {
    let mut page = GrayImage::from_pixel(width, height, image::Luma([250]));
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut rendered = Vec::new();
    for code in codes {
        let png = sca_qr::render_png(code.text, code.module_px)?;
        let luma = sca_qr::load_luma(&png).map_err(|e| failed("QR picture", e))?;
        rendered.push((code.x, code.y, luma));
    }
    let keep_clear = |x: u32, y: u32| {
        rendered
            .iter()
            .any(|(cx, cy, c)| x + 8 >= *cx && x <= cx + c.width() + 8 && y + 16 >= *cy && y <= cy + c.height() + 8)
    };
    let fill = |page: &mut GrayImage, x0: u32, y0: u32, w: u32, h: u32, v: u8| {
        for y in y0..(y0 + h).min(height) {
            for x in x0..(x0 + w).min(width) {
                page.put_pixel(x, y, image::Luma([v]));
            }
        }
    };
    // Title bar with tabs, address bar, menu.
    fill(&mut page, 0, 0, width, 34, 45);
    let mut x = 8;
    while x + 180 < width.min(900) {
        fill(&mut page, x, 6, 170, 28, 70);
        x += 180;
    }
    fill(&mut page, 0, 34, width, 40, 225);
    fill(&mut page, 120, 40, width.saturating_sub(240), 28, 255);
    fill(&mut page, 0, 74, width, 46, 20);
    let mut y = 140;
    while y + 14 < height {
        let indent = rng.range(24, 60);
        let mut x = indent;
        let line_end = width.saturating_sub(rng.range(24, 200));
        let heading = rng.range(0, 9) == 0;
        let (glyph_h, ink) = if heading { (16, 10) } else { (11, 40) };
        while x + 40 < line_end {
            let word = rng.range(2, 10);
            for _ in 0..word {
                let gw = rng.range(5, if heading { 11 } else { 8 });
                if !keep_clear(x, y) {
                    // A glyph: a few vertical and horizontal strokes.
                    for _ in 0..rng.range(2, 4) {
                        if rng.range(0, 2) == 0 {
                            let sx = x + rng.range(0, gw);
                            let top = y + rng.range(0, glyph_h / 2);
                            fill(&mut page, sx, top, 1 + rng.range(0, 2), glyph_h - (top - y), ink);
                        } else {
                            let sy = y + rng.range(0, glyph_h);
                            fill(&mut page, x, sy, gw, 1 + rng.range(0, 2), ink);
                        }
                    }
                }
                x += gw + 1;
            }
            x += 5;
        }
        // Now and then a button.
        if rng.range(0, 12) == 0 && !keep_clear(indent, y + 22) && !keep_clear(indent + 160, y + 22) {
            fill(&mut page, indent, y + 22, 160, 36, 30);
            y += 40;
        }
        y += if heading { 34 } else { 22 };
    }
    for (cx, cy, code) in &rendered {
        for (px, py, p) in code.enumerate_pixels() {
            if cx + px < width && cy + py < height {
                page.put_pixel(cx + px, cy + py, *p);
            }
        }
    }
    Ok(page)
}
