//! Reading a code on curved or crumpled paper: the grid is sampled region by region, each region
//! through its own transform, and those transforms are then bent to follow the paper.
//!
//! rxing's zxing-cpp detector already samples a code of version 7 or more through one
//! perspective transform per cell of the alignment-pattern grid (26 modules apart for the bills'
//! version-12 codes). On a cylinder of 100° or on paper crumpled by half a module the modules in
//! the middle of such a cell are a module or more away from where the cell's transform puts them.
//!
//! This pass does the same first step (finder patterns and version from rxing's detector, every
//! alignment pattern located progressively, each one searched for where its already located
//! neighbours predict it), then refines a displacement mesh over those cell transforms: nodes
//! halfway between the alignment patterns first, then every quarter. Each node moves (by up to a
//! module on the first level, half a module on the next) to where the module centres it
//! influences are most contrasted (centres that fall on module edges are grey, centres inside
//! modules dark or light). The module centres are then sampled on the grey frame, thresholded
//! against their neighbourhood, and decoded with rxing's QR decoder.
//!
//! It runs only on frames where rxing finds finder patterns that the earlier passes could not
//! read; see `decode.rs` for its place and cost.

use image::GrayImage;
use rxing::common::cpp_essentials::{ConcentricPattern, FindConcentricPatternCorners};
use rxing::common::{BitMatrix, HybridBinarizer, PerspectiveTransform, Quadrilateral};
use rxing::qrcode::common::{Version, VersionRef};
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{
    FindFinderPatterns, FinderPatternSet, GenerateFinderPatternSets, LocateAlignmentPattern, ReadVersion,
};
use rxing::{Binarizer, Luma8Source, Point};

/// At most this many finder-pattern triples are tried per frame (a cluttered frame can have
/// many; the code's own triple is among the first, which rxing orders by how square they are).
const MAX_SETS: usize = 3;

/// At most this many candidate versions are tried per finder triple.
const MAX_VERSIONS: usize = 3;

/// Point in the frame, in pixels.
type Pt = (f64, f64);

/// Decodes a QR code of version 2 or more in `img` through region-wise transforms refined to the
/// paper's shape. `binarized` is `img` through rxing's hybrid binarizer when the caller has it
/// already (it is made here otherwise). `None` when rxing finds no finder patterns or nothing
/// decodes.
pub(crate) fn decode_regions(img: &GrayImage, binarized: Option<&BitMatrix>) -> Option<String> {
    if let Some(b) = binarized {
        if b.width() != img.width() || b.height() != img.height() {
            return None;
        }
        return decode_binarized(img, b);
    }
    let source = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).ok()?;
    let binarizer = HybridBinarizer::new(source);
    let binary = binarizer.get_black_matrix().ok()?;
    decode_binarized(img, binary)
}

fn decode_binarized(img: &GrayImage, binary: &BitMatrix) -> Option<String> {
    // rxing's finder search as in its fast mode (every few rows; a finder pattern's centre is
    // 3 modules tall, so small codes are still crossed): half the cost of its try-harder mode.
    let mut patterns = FindFinderPatterns(binary, false, 0);
    if patterns.len() < 3 {
        return None;
    }
    let sets = GenerateFinderPatternSets(&mut patterns);
    for set in sets.iter().take(MAX_SETS) {
        if let Some(text) = decode_set(img, binary, set) {
            return Some(text);
        }
    }
    None
}

fn pt(p: Point) -> Pt {
    (f64::from(p.x), f64::from(p.y))
}

#[allow(clippy::cast_possible_truncation)]
fn rx(p: Pt) -> Point {
    Point::new(p.0 as f32, p.1 as f32)
}

fn dist(a: Pt, b: Pt) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// The candidate versions of one finder triple: from the finder spacing, and for 45 modules or
/// more from the version information blocks.
fn candidate_versions(binary: &BitMatrix, set: &FinderPatternSet) -> Vec<(VersionRef, bool)> {
    let (tl, tr, bl) = (pt(set.tl.p), pt(set.tr.p), pt(set.bl.p));
    let sizes = f64::from(set.tl.size + set.tr.size + set.bl.size) / 3.0;
    if sizes <= 0.0 {
        return Vec::new();
    }
    let module = sizes / 7.0;
    // From each side separately: a curved code's finder spacing differs between its axes.
    let est = |d: f64| -> i64 {
        #[allow(clippy::cast_possible_truncation)]
        let v = ((d / module + 7.0 - 17.0) / 4.0).round() as i64;
        v
    };
    let (e1, e2) = (est(dist(tl, tr)), est(dist(tl, bl)));
    let estimate = (e1 + e2) / 2;
    let mut confirmed: Vec<VersionRef> = Vec::new();
    #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
    let est_dim = (17 + 4 * estimate.clamp(1, 40)) as u32;
    // The version blocks read through each finder pattern's own transform (they are next to it).
    for v in read_version_local(binary, set, est_dim) {
        if !confirmed.iter().any(|o| o.getVersionNumber() == v.getVersionNumber()) {
            confirmed.push(v);
        }
    }
    // Then versions read from the blocks through the global transform at a candidate size that
    // agrees with what they say, and the finder spacings' own versions, nearest their mean first.
    let mut spaced: Vec<VersionRef> = Vec::new();
    let (lo, hi) = (e1.min(e2) - 1, e1.max(e2) + 1);
    let mut order: Vec<i64> = (lo..=hi).collect();
    order.sort_by_key(|&v| (2 * v - e1 - e2).abs());
    for v in order {
        let Ok(v) = u32::try_from(v) else { continue };
        let Ok(version) = Version::getVersionForNumber(v) else {
            continue;
        };
        if !(2..=40).contains(&v) {
            continue;
        }
        if v >= 7 {
            let dim = version.getDimensionForVersion();
            if let Some(read) = mod2pix(set, dim, None).and_then(|m2p| ReadVersion(binary, dim, m2p).ok())
                && read.getVersionNumber() == v
                && !confirmed.iter().any(|o| o.getVersionNumber() == v)
            {
                confirmed.push(read);
            }
        }
        spaced.push(version);
    }
    let mut spaced_added = 0;
    for v in spaced {
        if confirmed.len() >= MAX_VERSIONS {
            break;
        }
        if !confirmed.iter().any(|o| o.getVersionNumber() == v.getVersionNumber()) {
            confirmed.push(v);
            spaced_added += 1;
        }
    }
    let read = confirmed.len().min(MAX_VERSIONS).saturating_sub(spaced_added);
    confirmed.truncate(MAX_VERSIONS);
    confirmed.into_iter().enumerate().map(|(i, v)| (v, i < read)).collect()
}

/// The perspective transform from module coordinates to pixels through the three finder centres
/// and, when given, a fourth point at module (dim - 6.5, dim - 6.5); without one, the
/// parallelogram's fourth corner of the finder centres.
fn mod2pix(set: &FinderPatternSet, dim: u32, br: Option<Pt>) -> Option<PerspectiveTransform> {
    #[allow(clippy::cast_precision_loss)]
    let d = dim as f32;
    let (src_br, dst_br) = match br {
        Some(p) => (Point::new(d - 6.5, d - 6.5), rx(p)),
        None => (Point::new(d - 3.5, d - 3.5), set.tr.p - set.tl.p + set.bl.p),
    };
    PerspectiveTransform::quadrilateralToQuadrilateral(
        Quadrilateral::from([
            Point::new(3.5, 3.5),
            Point::new(d - 3.5, 3.5),
            src_br,
            Point::new(3.5, d - 3.5),
        ]),
        Quadrilateral::from([set.tl.p, set.tr.p, dst_br, set.bl.p]),
    )
    .ok()
}

/// A homography from the unit square, as a 3×3 matrix.
type Homography = [[f64; 3]; 3];

/// The homography mapping the unit square's corners (0,0), (1,0), (1,1), (0,1) to `p`.
fn square_to_quad(p: [Pt; 4]) -> Option<Homography> {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = p;
    let (dx3, dy3) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dy1, dx2, dy2) = (x1 - x2, y1 - y2, x3 - x2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    if den.abs() < 1e-12 {
        return None;
    }
    let a13 = (dx3 * dy2 - dx2 * dy3) / den;
    let a23 = (dx1 * dy3 - dx3 * dy1) / den;
    let m = [
        [x1 - x0 + a13 * x1, x3 - x0 + a23 * x3, x0],
        [y1 - y0 + a13 * y1, y3 - y0 + a23 * y3, y0],
        [a13, a23, 1.0],
    ];
    m.iter().flatten().all(|v| v.is_finite()).then_some(m)
}

fn project(m: &Homography, u: f64, v: f64) -> Pt {
    let w = m[2][0] * u + m[2][1] * v + m[2][2];
    if w.abs() < 1e-12 {
        return (f64::NAN, f64::NAN);
    }
    (
        (m[0][0] * u + m[0][1] * v + m[0][2]) / w,
        (m[1][0] * u + m[1][1] * v + m[1][2]) / w,
    )
}

/// Index of the interval of the sorted `knots` that holds `x` (the first or last one outside).
fn interval(knots: &[f64], x: f64) -> usize {
    let last = knots.len().saturating_sub(2);
    knots.windows(2).position(|w| x < w[1]).unwrap_or(last).min(last)
}

/// The alignment-pattern grid: module coordinates of its lines and the pixel position of every
/// node (row-major), and one homography per cell.
struct Cells {
    knots: Vec<f64>,
    cells: Vec<Homography>,
    nodes: Vec<Pt>,
    /// Where each true module column (then row) lies in the cells' own coordinates, as pairs
    /// (true, seen) to interpolate linearly; empty for none (see [`Cells::with_timing`]).
    warp_x: Vec<(f64, f64)>,
    warp_y: Vec<(f64, f64)>,
}

impl Cells {
    fn new(knots: Vec<f64>, nodes: &[Pt]) -> Option<Self> {
        let k = knots.len();
        let mut cells = Vec::with_capacity((k - 1) * (k - 1));
        for j in 0..k - 1 {
            for i in 0..k - 1 {
                let at = |x: usize, y: usize| nodes.get(y * k + x).copied();
                cells.push(square_to_quad([
                    at(i, j)?,
                    at(i + 1, j)?,
                    at(i + 1, j + 1)?,
                    at(i, j + 1)?,
                ])?);
            }
        }
        Some(Self {
            knots,
            cells,
            nodes: nodes.to_vec(),
            warp_x: Vec::new(),
            warp_y: Vec::new(),
        })
    }

    /// Pixel position of alignment-grid node (i, j).
    fn node(&self, i: usize, j: usize) -> Option<Pt> {
        self.nodes.get(j * self.knots.len() + i).copied()
    }

    /// The same cells with the module columns and rows moved to where the timing patterns
    /// (row and column 6, alternating dark and light between the finder patterns) show them:
    /// on a cylinder every row's columns are spaced like the timing row's, which the cells'
    /// transforms, linear between alignment patterns 26 modules apart, cannot follow.
    /// `None` when neither timing pattern shows exactly its modules.
    fn with_timing(&self, img: &GrayImage, dim: f64) -> Option<Self> {
        let warp_x = timing_pairs(img, dim, |t| self.map(t, 6.5)).unwrap_or_default();
        let warp_y = timing_pairs(img, dim, |t| self.map(6.5, t)).unwrap_or_default();
        if warp_x.is_empty() && warp_y.is_empty() {
            return None;
        }
        Some(Self {
            knots: self.knots.clone(),
            cells: self.cells.clone(),
            nodes: self.nodes.clone(),
            warp_x,
            warp_y,
        })
    }

    /// Pixel position of module coordinate (x, y) (module centres at half-integers).
    fn map(&self, x: f64, y: f64) -> Pt {
        let (x, y) = (warp(&self.warp_x, x), warp(&self.warp_y, y));
        let (i, j) = (interval(&self.knots, x), interval(&self.knots, y));
        let k = self.knots.len() - 1;
        let (x0, x1, y0, y1) = (self.knots[i], self.knots[i + 1], self.knots[j], self.knots[j + 1]);
        match self.cells.get(j * k + i) {
            Some(h) => project(h, (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)),
            None => (f64::NAN, f64::NAN),
        }
    }
}

/// Piecewise-linear interpolation through `pairs` (sorted by their first value); identity when
/// empty or outside.
fn warp(pairs: &[(f64, f64)], x: f64) -> f64 {
    match pairs.windows(2).find(|w| x >= w[0].0 && x <= w[1].0) {
        Some(w) if w[1].0 > w[0].0 => w[0].1 + (w[1].1 - w[0].1) * (x - w[0].0) / (w[1].0 - w[0].0),
        _ => x,
    }
}

/// Reads a timing pattern along `line` (module coordinate to pixels, from the dark module 6 to
/// the dark module `dim` − 7): the profile in twentieths of a module, thresholded against its
/// mean over 4 modules, must show exactly the `dim` − 13 module edges in between (specks
/// shorter than a third of a module ignored). Returns (true edge, seen edge) pairs, with the
/// code's outer module centres as fixed ends.
fn timing_pairs(img: &GrayImage, dim: f64, line: impl Fn(f64) -> Pt) -> Option<Vec<(f64, f64)>> {
    const STEP: f64 = 0.05;
    let (start, end) = (6.5, dim - 6.5);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = ((end - start) / STEP).round() as usize + 1;
    let mut grey = Vec::with_capacity(n);
    for i in 0..n {
        #[allow(clippy::cast_precision_loss)]
        let p = line(start + i as f64 * STEP);
        grey.push(sample(img, p.0, p.1)?);
    }
    // Prefix sums for the moving mean.
    let mut prefix = vec![0.0; n + 1];
    for (i, g) in grey.iter().enumerate() {
        prefix[i + 1] = prefix[i] + g;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let half = (2.0 / STEP) as usize;
    let dark: Vec<bool> = (0..n)
        .map(|i| {
            let (a, b) = (i.saturating_sub(half), (i + half + 1).min(n));
            #[allow(clippy::cast_precision_loss)]
            let mean = (prefix[b] - prefix[a]) / (b - a) as f64;
            grey[i] < mean
        })
        .collect();
    // Edges: where the profile turns, and whether it turns dark there.
    let mut edges: Vec<(f64, bool)> = Vec::new();
    for i in 1..n {
        if dark[i] != dark[i - 1] {
            #[allow(clippy::cast_precision_loss)]
            edges.push((start + (i as f64 - 0.5) * STEP, dark[i]));
        }
    }
    // Drop specks: pairs of edges closer than a third of a module.
    let mut i = 0;
    while i + 1 < edges.len() {
        if edges[i + 1].0 - edges[i].0 < 1.0 / 3.0 {
            edges.drain(i..i + 2);
            i = i.saturating_sub(1);
        } else {
            i += 1;
        }
    }
    // Number the edges: edge k is the true edge 7 + k, turning light for even k. Where the
    // modules are too thin to resolve a few edges go missing: a gap of several local spacings
    // skips that many numbers (the turn's direction settles an odd or even count). The last
    // edge must come out as the last number, else the reading is rejected.
    #[allow(clippy::cast_possible_truncation)]
    let expected = (dim - 13.0).round() as i64;
    let (mut index, mut last, mut spacing) = (-1i64, 6.0, 1.0);
    let mut pairs = vec![(0.5, 0.5)];
    for &(t, turns_dark) in &edges {
        let gap = (t - last) / spacing;
        #[allow(clippy::cast_possible_truncation)]
        let mut k = index + (gap.round() as i64).max(1);
        if (k % 2 == 1) != turns_dark {
            #[allow(clippy::cast_precision_loss)]
            let want = index as f64 + gap;
            #[allow(clippy::cast_precision_loss)]
            let down_better = k - 1 > index && (want - (k - 1) as f64).abs() < (want - (k + 1) as f64).abs();
            k = if down_better { k - 1 } else { k + 1 };
        }
        if k >= expected {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let step = (t - last) / (k - index) as f64;
        spacing = (0.5 * spacing + 0.5 * step).clamp(0.4, 2.0);
        index = k;
        last = t;
        #[allow(clippy::cast_precision_loss)]
        let truth = 7.0 + k as f64;
        if (t - truth).abs() > 3.0 {
            return None;
        }
        pairs.push((truth, t));
    }
    if index != expected - 1 {
        return None;
    }
    pairs.push((dim - 0.5, dim - 0.5));
    Some(pairs)
}

/// Locates every alignment pattern of `version` for the finder triple, progressively: the nodes
/// nearest the finder patterns and the already located ones first, each predicted from its
/// located neighbours. Returns the grid (with the finder-side nodes from the finder patterns) and
/// how many patterns were found.
#[allow(clippy::type_complexity)]
fn locate_grid(
    binary: &BitMatrix,
    set: &FinderPatternSet,
    version: VersionRef,
) -> Option<(Cells, Vec<bool>, Vec<(f64, f64, Pt)>)> {
    let dim = version.getDimensionForVersion();
    let centres = version.getAlignmentPatternCenters();
    if centres.len() < 2 {
        return None;
    }
    let module = f64::from(set.tl.size + set.tr.size + set.bl.size) / 21.0;
    #[allow(clippy::cast_possible_truncation)]
    let module_px = (module + 1.0) as i32;
    let knots: Vec<f64> = centres.iter().map(|&c| f64::from(c) + 0.5).collect();
    let k = knots.len();
    let n = k - 1;
    let mut m2p = mod2pix(set, dim, None)?;
    // The bottom-right alignment pattern first, as rxing does, to fix the global transform.
    let guess_br = pt(m2p.transform_point(Point::new(
        f32::from(u16::try_from(centres[n]).ok()?) + 0.5,
        f32::from(u16::try_from(centres[n]).ok()?) + 0.5,
    )));
    if let Some(br) = LocateAlignmentPattern(binary, module_px, rx(guess_br))
        && let Some(t) = mod2pix(set, dim, Some(pt(br)))
    {
        m2p = t;
    }
    let global = |x: f64, y: f64| {
        #[allow(clippy::cast_possible_truncation)]
        pt(m2p.transform_point(Point::new(x as f32, y as f32)))
    };
    let mut nodes: Vec<Option<Pt>> = vec![None; k * k];
    let mut found = vec![false; k * k];
    // The finder-side corners: the corner of the finder pattern's outer ring (module centres
    // 0.5 and 6.5 from its edge) nearest where the global transform puts it, else that.
    let d = f64::from(dim);
    let mut anchors: Vec<(f64, f64, Pt)> = Vec::new();
    for (x, y, fp, ox, oy) in [
        (0, 0, set.tl, 0.0, 0.0),
        (n, 0, set.tr, d - 7.0, 0.0),
        (0, n, set.bl, 0.0, d - 7.0),
    ] {
        let corners = finder_corners(binary, fp);
        let mut place = |mx: f64, my: f64| -> Pt {
            let g = global(mx, my);
            let near = corners
                .iter()
                .copied()
                .min_by(|a, b| dist(*a, g).total_cmp(&dist(*b, g)));
            match near {
                Some(c) if dist(c, g) < 2.5 * module => {
                    anchors.push((mx, my, c));
                    c
                }
                _ => g,
            }
        };
        for (cx, cy) in [(0.5, 0.5), (6.5, 0.5), (0.5, 6.5), (6.5, 6.5)] {
            let p = place(ox + cx, oy + cy);
            if (ox + cx - knots[x]).abs() < 1e-9 && (oy + cy - knots[y]).abs() < 1e-9 {
                nodes[y * k + x] = Some(p);
            }
        }
        if nodes[y * k + x].is_none() {
            nodes[y * k + x] = Some(global(knots[x], knots[y]));
        }
        found[y * k + x] = true;
    }
    // Progressive: repeatedly take the unlocated node with the most located neighbours (then the
    // nearest the top-left), predict it from them, and search there.
    loop {
        let mut best: Option<(usize, usize, usize)> = None;
        for y in 0..k {
            for x in 0..k {
                if nodes[y * k + x].is_some() {
                    continue;
                }
                let count = neighbours(x, y, k).filter(|&(a, b)| nodes[b * k + a].is_some()).count();
                if best.is_none_or(|(_, _, c)| count > c) {
                    best = Some((x, y, count));
                }
            }
        }
        let Some((x, y, _)) = best else { break };
        let predicted = predict(&nodes, &knots, x, y).unwrap_or_else(|| global(knots[x], knots[y]));
        let located = LocateAlignmentPattern(binary, module_px, rx(predicted))
            .map(pt)
            .filter(|&p| dist(p, predicted) < 2.5 * module);
        found[y * k + x] = located.is_some();
        nodes[y * k + x] = Some(located.unwrap_or(predicted));
    }
    let nodes: Vec<Pt> = nodes.into_iter().collect::<Option<_>>()?;
    Some((Cells::new(knots, &nodes)?, found, anchors))
}

/// A finder pattern's own transform: from module coordinates relative to its top-left corner
/// (its module centres from 0.5 to 6.5) to pixels, through the corners of its outer ring, each
/// matched to where `global` (with the finder's origin at `origin`) puts it.
fn finder_transform(
    binary: &BitMatrix,
    fp: ConcentricPattern,
    origin: (f64, f64),
    global: &PerspectiveTransform,
) -> Option<Homography> {
    let corners = finder_corners(binary, fp);
    if corners.len() != 4 {
        return None;
    }
    let mut quad = [(0.0, 0.0); 4];
    let mut used = [false; 4];
    for (slot, (cx, cy)) in [(0.5, 0.5), (6.5, 0.5), (6.5, 6.5), (0.5, 6.5)].into_iter().enumerate() {
        #[allow(clippy::cast_possible_truncation)]
        let g = pt(global.transform_point(Point::new((origin.0 + cx) as f32, (origin.1 + cy) as f32)));
        let (i, c) = corners
            .iter()
            .copied()
            .enumerate()
            .filter(|(i, _)| !used[*i])
            .min_by(|a, b| dist(a.1, g).total_cmp(&dist(b.1, g)))?;
        used[i] = true;
        quad[slot] = c;
    }
    square_to_quad(quad)
}

/// Module (x, y) relative to a finder pattern's top-left corner, through its own transform.
fn finder_map(h: &Homography, x: f64, y: f64) -> Pt {
    project(h, (x - 0.5) / 6.0, (y - 0.5) / 6.0)
}

/// The version read from the two version blocks (versions 7 and up), each through the transform
/// of the finder pattern next to it; the blocks' readings in order, agreeing ones once.
fn read_version_local(binary: &BitMatrix, set: &FinderPatternSet, est_dim: u32) -> Vec<VersionRef> {
    let mut out: Vec<VersionRef> = Vec::new();
    let Some(global) = mod2pix(set, est_dim, None) else {
        return out;
    };
    let d = f64::from(est_dim);
    let bit = |p: Pt| -> Option<bool> {
        if !(p.0.is_finite() && p.1.is_finite()) || p.0 < 0.0 || p.1 < 0.0 {
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        binary.try_get(p.0 as u32, p.1 as u32)
    };
    for (fp, origin, mirror) in [(set.tr, (d - 7.0, 0.0), false), (set.bl, (0.0, d - 7.0), true)] {
        let Some(h) = finder_transform(binary, fp, origin, &global) else {
            continue;
        };
        let mut bits = 0u32;
        let mut ok = true;
        for y in (0..=5).rev() {
            for x in (-4..=-2).rev() {
                let (mx, my) = if mirror {
                    (f64::from(y), f64::from(x))
                } else {
                    (f64::from(x), f64::from(y))
                };
                let p = finder_map(&h, mx + 0.5, my + 0.5);
                match bit(p) {
                    Some(b) => bits = (bits << 1) | u32::from(b),
                    None => ok = false,
                }
            }
        }
        if !ok {
            continue;
        }
        if let Ok(v) = Version::decodeVersionInformation(bits)
            && !out.iter().any(|o| o.getVersionNumber() == v.getVersionNumber())
        {
            out.push(v);
        }
    }
    out
}

/// The four corners of a finder pattern's outer ring (through its module centres), in pixels.
fn finder_corners(binary: &BitMatrix, fp: ConcentricPattern) -> Vec<Pt> {
    FindConcentricPatternCorners(binary, fp.p, fp.size, 2)
        .map(|q| q.0.iter().map(|&p| pt(p)).collect())
        .unwrap_or_default()
}

fn neighbours(x: usize, y: usize, k: usize) -> impl Iterator<Item = (usize, usize)> {
    let (x, y) = (x as isize, y as isize);
    [
        (-1isize, 0isize),
        (1, 0),
        (0, -1),
        (0, 1),
        (-1, -1),
        (1, -1),
        (-1, 1),
        (1, 1),
    ]
    .into_iter()
    .map(move |(dx, dy)| (x + dx, y + dy))
    .filter_map(move |(a, b)| {
        let (a, b) = (usize::try_from(a).ok()?, usize::try_from(b).ok()?);
        (a < k && b < k).then_some((a, b))
    })
}

/// Predicts node (x, y) from located neighbours: the parallelogram rule over any located
/// 2×2 block that contains it (averaged), else linear extrapolation along a row or column.
fn predict(nodes: &[Option<Pt>], knots: &[f64], x: usize, y: usize) -> Option<Pt> {
    let k = knots.len();
    let get = |a: isize, b: isize| -> Option<Pt> {
        let (a, b) = (usize::try_from(a).ok()?, usize::try_from(b).ok()?);
        if a >= k || b >= k {
            return None;
        }
        nodes[b * k + a]
    };
    let (xi, yi) = (x as isize, y as isize);
    let mut sum = (0.0, 0.0);
    let mut count = 0.0;
    for (dx, dy) in [(-1isize, -1isize), (1, -1), (-1, 1), (1, 1)] {
        if let (Some(a), Some(b), Some(c)) = (get(xi + dx, yi), get(xi, yi + dy), get(xi + dx, yi + dy)) {
            sum = (sum.0 + a.0 + b.0 - c.0, sum.1 + a.1 + b.1 - c.1);
            count += 1.0;
        }
    }
    if count > 0.0 {
        return Some((sum.0 / count, sum.1 / count));
    }
    // Along a line: the next two nodes on one side, scaled by the knot spacing.
    for (dx, dy) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)] {
        if let (Some(a), Some(b)) = (get(xi + dx, yi + dy), get(xi + 2 * dx, yi + 2 * dy)) {
            let along = |i: isize, d: isize| -> Option<f64> {
                let (i0, i1, i2) = (
                    usize::try_from(i).ok()?,
                    usize::try_from(i + d).ok()?,
                    usize::try_from(i + 2 * d).ok()?,
                );
                Some((knots.get(i0)? - knots.get(i1)?) / (knots.get(i1)? - knots.get(i2)?))
            };
            let r = if dx != 0 { along(xi, dx)? } else { along(yi, dy)? };
            return Some((a.0 + (a.0 - b.0) * r, a.1 + (a.1 - b.1) * r));
        }
    }
    None
}

/// Bilinear sample of the frame at (x, y), `None` outside.
fn sample(img: &GrayImage, x: f64, y: f64) -> Option<f64> {
    if !(x.is_finite() && y.is_finite()) || x < 0.0 || y < 0.0 {
        return None;
    }
    if x >= f64::from(img.width().saturating_sub(1)) || y >= f64::from(img.height().saturating_sub(1)) {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (x0, y0) = (x as u32, y as u32);
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let w = img.width() as usize;
    let raw = img.as_raw();
    let i = y0 as usize * w + x0 as usize;
    let p = |o: usize| f64::from(raw.get(i + o).copied().unwrap_or(0));
    let top = p(0) * (1.0 - fx) + p(1) * fx;
    let bottom = p(w) * (1.0 - fx) + p(w + 1) * fx;
    Some(top * (1.0 - fy) + bottom * fy)
}

/// A displacement field over the cell transforms: nodes on a finer grid of module coordinates,
/// each with a displacement in pixels, bilinear in between.
struct Mesh<'a> {
    cells: &'a Cells,
    knots: Vec<f64>,
    disp: Vec<Pt>,
    fixed: Vec<bool>,
}

impl<'a> Mesh<'a> {
    /// Nodes at the cells' knots, `sub` per cell, and at the code's edges; displacements from
    /// `from` (a coarser mesh) or zero. Nodes at located alignment patterns stay fixed.
    fn new(
        cells: &'a Cells,
        dim: f64,
        sub: usize,
        found: &[bool],
        anchors: &[(f64, f64, Pt)],
        from: Option<&Mesh<'_>>,
    ) -> Self {
        let ck = &cells.knots;
        let mut knots = vec![0.5];
        for w in ck.windows(2) {
            for s in 0..sub {
                #[allow(clippy::cast_precision_loss)]
                knots.push(w[0] + (w[1] - w[0]) * s as f64 / sub as f64);
            }
        }
        knots.push(ck[ck.len() - 1]);
        knots.push(dim - 0.5);
        let k = knots.len();
        let mut disp = vec![(0.0, 0.0); k * k];
        let mut fixed = vec![false; k * k];
        let ckn = ck.len();
        for (j, &y) in knots.iter().enumerate() {
            for (i, &x) in knots.iter().enumerate() {
                if let Some(m) = from {
                    disp[j * k + i] = m.displacement(x, y);
                }
                let ci = ck.iter().position(|&c| (c - x).abs() < 1e-9);
                let cj = ck.iter().position(|&c| (c - y).abs() < 1e-9);
                if let (Some(ci), Some(cj)) = (ci, cj)
                    && found.get(cj * ckn + ci).copied().unwrap_or(false)
                    && let Some(p) = cells.node(ci, cj)
                {
                    fixed[j * k + i] = true;
                    disp[j * k + i] = sub_pt(p, cells.map(x, y));
                }
                if let Some(&(_, _, p)) = anchors
                    .iter()
                    .find(|a| (a.0 - x).abs() < 1e-9 && (a.1 - y).abs() < 1e-9)
                {
                    fixed[j * k + i] = true;
                    disp[j * k + i] = sub_pt(p, cells.map(x, y));
                }
            }
        }
        Self {
            cells,
            knots,
            disp,
            fixed,
        }
    }

    fn displacement(&self, x: f64, y: f64) -> Pt {
        let k = self.knots.len();
        let (i, j) = (interval(&self.knots, x), interval(&self.knots, y));
        let (x0, x1, y0, y1) = (self.knots[i], self.knots[i + 1], self.knots[j], self.knots[j + 1]);
        let tx = ((x - x0) / (x1 - x0)).clamp(0.0, 1.0);
        let ty = ((y - y0) / (y1 - y0)).clamp(0.0, 1.0);
        let d = |a: usize, b: usize| self.disp[b * k + a];
        let (a, b, c, e) = (d(i, j), d(i + 1, j), d(i, j + 1), d(i + 1, j + 1));
        let top = (a.0 + (b.0 - a.0) * tx, a.1 + (b.1 - a.1) * tx);
        let bottom = (c.0 + (e.0 - c.0) * tx, c.1 + (e.1 - c.1) * tx);
        (top.0 + (bottom.0 - top.0) * ty, top.1 + (bottom.1 - top.1) * ty)
    }

    fn map(&self, x: f64, y: f64) -> Pt {
        let p = self.cells.map(x, y);
        let d = self.displacement(x, y);
        (p.0 + d.0, p.1 + d.1)
    }

    /// Moves every free node to where the module centres it influences are most contrasted,
    /// searching up to `reach` modules from where it is.
    fn refine(&mut self, img: &GrayImage, dim: f64, reach: f64) {
        let k = self.knots.len();
        // Nodes nearest a fixed one first.
        let mut order: Vec<usize> = (0..k * k).filter(|&n| !self.fixed[n]).collect();
        let rank = |n: usize| -> usize {
            let (i, j) = (n % k, n / k);
            (0..k * k)
                .filter(|&f| self.fixed[f])
                .map(|f| (f % k).abs_diff(i).max((f / k).abs_diff(j)))
                .min()
                .unwrap_or(0)
        };
        order.sort_by_key(|&n| rank(n));
        for n in order {
            let (i, j) = (n % k, n / k);
            let lo_x = self.knots[i.saturating_sub(1)];
            let hi_x = self.knots[(i + 1).min(k - 1)];
            let lo_y = self.knots[j.saturating_sub(1)];
            let hi_y = self.knots[(j + 1).min(k - 1)];
            let (nx, ny) = (self.knots[i], self.knots[j]);
            // Module centres in the node's support, with their tent weight and current position.
            let mut pts: Vec<(Pt, f64)> = Vec::new();
            #[allow(clippy::cast_possible_truncation)]
            let (cx0, cx1, cy0, cy1) = (
                lo_x.floor().max(0.0) as i64,
                hi_x.ceil().min(dim) as i64,
                lo_y.floor().max(0.0) as i64,
                hi_y.ceil().min(dim) as i64,
            );
            for my in cy0..cy1 {
                for mx in cx0..cx1 {
                    #[allow(clippy::cast_precision_loss)]
                    let (x, y) = (mx as f64 + 0.5, my as f64 + 0.5);
                    let wx = tent(x, lo_x, nx, hi_x);
                    let wy = tent(y, lo_y, ny, hi_y);
                    let w = wx * wy;
                    if w <= 0.0 {
                        continue;
                    }
                    pts.push((self.map(x, y), w));
                }
            }
            if pts.len() < 9 {
                continue;
            }
            // Local module axes in pixels.
            let o = self.map(nx, ny);
            let ex = sub_pt(self.map(nx + 1.0, ny), o);
            let ey = sub_pt(self.map(nx, ny + 1.0), o);
            if !(ex.0.is_finite() && ey.0.is_finite()) {
                continue;
            }
            let score = |a: f64, b: f64| -> f64 {
                let shift = (a * ex.0 + b * ey.0, a * ex.1 + b * ey.1);
                let (mut s, mut s2, mut sw) = (0.0, 0.0, 0.0);
                for &(p, w) in &pts {
                    let g = sample(img, p.0 + w * shift.0, p.1 + w * shift.1).unwrap_or(128.0);
                    s += w * g;
                    s2 += w * g * g;
                    sw += w;
                }
                if sw <= 0.0 {
                    return 0.0;
                }
                let mean = s / sw;
                s2 / sw - mean * mean
            };
            let mut best = (0.0, 0.0, score(0.0, 0.0));
            // Coarse to fine: half-module steps over the reach, then a quarter and an eighth
            // around the best.
            #[allow(clippy::cast_possible_truncation)]
            let steps = (reach / 0.5).round() as i32;
            for bi in -steps..=steps {
                for ai in -steps..=steps {
                    let (a, b) = (f64::from(ai) * 0.5, f64::from(bi) * 0.5);
                    let s = score(a, b);
                    if s > best.2 * 1.0001 {
                        best = (a, b, s);
                    }
                }
            }
            for fine in [0.25, 0.125] {
                let (ba, bb) = (best.0, best.1);
                for (da, db) in [
                    (-1.0, -1.0),
                    (0.0, -1.0),
                    (1.0, -1.0),
                    (-1.0, 0.0),
                    (1.0, 0.0),
                    (-1.0, 1.0),
                    (0.0, 1.0),
                    (1.0, 1.0),
                ] {
                    let s = score(ba + da * fine, bb + db * fine);
                    if s > best.2 * 1.0001 {
                        best = (ba + da * fine, bb + db * fine, s);
                    }
                }
            }
            let d = &mut self.disp[n];
            *d = (d.0 + best.0 * ex.0 + best.1 * ey.0, d.1 + best.0 * ex.1 + best.1 * ey.1);
        }
    }
}

fn sub_pt(a: Pt, b: Pt) -> Pt {
    (a.0 - b.0, a.1 - b.1)
}

/// Weight of a node at `c` (neighbours at `lo` and `hi`) at `x`: 1 at the node, 0 at the
/// neighbours, linear between.
fn tent(x: f64, lo: f64, c: f64, hi: f64) -> f64 {
    if x < c {
        if c - lo <= 0.0 {
            1.0
        } else {
            ((x - lo) / (c - lo)).max(0.0)
        }
    } else if hi - c <= 0.0 {
        1.0
    } else {
        ((hi - x) / (hi - c)).max(0.0)
    }
}

/// Samples the module centres of a `dim`-module code through `map` and thresholds each against
/// the mean of its neighbourhood. `None` when a centre is outside the frame.
fn sample_bits(img: &GrayImage, dim: usize, map: impl Fn(f64, f64) -> Pt) -> Option<BitMatrix> {
    let mut grey = Vec::with_capacity(dim * dim);
    for y in 0..dim {
        for x in 0..dim {
            #[allow(clippy::cast_precision_loss)]
            let p = map(x as f64 + 0.5, y as f64 + 0.5);
            grey.push(sample(img, p.0, p.1)?);
        }
    }
    let r = 3usize;
    let dim32 = u32::try_from(dim).ok()?;
    let mut bits = BitMatrix::new(dim32, dim32).ok()?;
    for y in 0..dim {
        for x in 0..dim {
            let (mut s, mut c) = (0.0, 0.0);
            for yy in y.saturating_sub(r)..(y + r + 1).min(dim) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(dim) {
                    s += grey[yy * dim + xx];
                    c += 1.0;
                }
            }
            if grey[y * dim + x] < s / c {
                bits.set(u32::try_from(x).ok()?, u32::try_from(y).ok()?);
            }
        }
    }
    Some(bits)
}

fn decode_bits(bits: &BitMatrix) -> Option<String> {
    let r = Decode(bits).ok()?;
    r.isValid().then(|| r.text().to_owned())
}

/// The mesh levels: nodes per alignment-pattern cell, how far (in modules) a node may move, and
/// how many sweeps over the nodes.
pub(crate) type Levels = [(usize, f64, usize)];

/// The levels the pass uses: halfway between alignment patterns (13 modules apart on a
/// version-12 code), then every quarter.
const LEVELS: [(usize, f64, usize); 2] = [(2, 1.0, 1), (4, 0.5, 1)];

/// Refines the mesh level by level from the cell transforms alone, handing each level to `done`;
/// stops at the first level `done` accepts. The cell transforms themselves (with the finder
/// corners anchored) are handed first.
fn solve_levels(
    img: &GrayImage,
    cells: &Cells,
    dim: f64,
    found: &[bool],
    anchors: &[(f64, f64, Pt)],
    levels: &Levels,
    mut done: impl FnMut(&Mesh<'_>) -> bool,
) -> bool {
    let mut mesh = Mesh::new(cells, dim, 1, found, anchors, None);
    if done(&mesh) {
        return true;
    }
    for &(sub, reach, sweeps) in levels {
        let mut next = Mesh::new(cells, dim, sub, found, anchors, Some(&mesh));
        for _ in 0..sweeps {
            next.refine(img, dim, reach);
        }
        if done(&next) {
            return true;
        }
        mesh = next;
    }
    false
}

/// Decodes one finder triple: every candidate version, the cell transforms alone, then refined.
fn decode_set(img: &GrayImage, binary: &BitMatrix, set: &FinderPatternSet) -> Option<String> {
    for (version, read) in candidate_versions(binary, set) {
        let dim = version.getDimensionForVersion() as usize;
        let Some((cells, found, anchors)) = locate_grid(binary, set, version) else {
            continue;
        };
        // A version only guessed from the finder spacing must show its alignment patterns
        // (most of them): three finder-like squares of clutter go no further.
        let patterns = found.len().saturating_sub(3);
        let located = found.iter().filter(|&&f| f).count().saturating_sub(3);
        if !read && 2 * located < patterns.max(1) + 1 {
            continue;
        }
        #[allow(clippy::cast_precision_loss)]
        let dimf = dim as f64;
        let mut text = None;
        let mut try_levels = |cells: &Cells| {
            solve_levels(img, cells, dimf, &found, &anchors, &LEVELS, |mesh| {
                text = sample_bits(img, dim, |x, y| mesh.map(x, y))
                    .as_ref()
                    .and_then(decode_bits);
                text.is_some()
            })
        };
        if try_levels(&cells) || cells.with_timing(img, dimf).is_some_and(|timed| try_levels(&timed)) {
            return text;
        }
    }
    None
}

/// For diagnostics: per finder triple and candidate version, the bits each level sampled
/// (row-major, `true` dark) and which alignment patterns were located.
pub(crate) fn debug_stages(img: &GrayImage, levels: &Levels) -> Vec<(u32, String, Vec<bool>, Vec<bool>)> {
    let mut out = Vec::new();
    let Some(source) = Luma8Source::new_with_slice(img.as_raw(), img.width(), img.height()).ok() else {
        return out;
    };
    let binarizer = HybridBinarizer::new(source);
    let Ok(binary) = binarizer.get_black_matrix() else {
        return out;
    };
    let mut patterns = FindFinderPatterns(binary, true, 0);
    let sets = GenerateFinderPatternSets(&mut patterns);
    for set in sets.iter().take(MAX_SETS) {
        for (version, _) in candidate_versions(binary, set) {
            let dim = version.getDimensionForVersion() as usize;
            let Some((cells, found, anchors)) = locate_grid(binary, set, version) else {
                continue;
            };
            #[allow(clippy::cast_precision_loss)]
            let dimf = dim as f64;
            let v = version.getVersionNumber();
            let timed = cells.with_timing(img, dimf);
            for (cells, timing) in std::iter::once((&cells, false)).chain(timed.as_ref().map(|t| (t, true))) {
                let mut level = 0;
                solve_levels(img, cells, dimf, &found, &anchors, levels, |mesh| {
                    let bits = sample_bits(img, dim, |x, y| mesh.map(x, y))
                        .map(|b| {
                            (0..dim * dim)
                                .map(|i| {
                                    let (x, y) =
                                        (u32::try_from(i % dim).unwrap_or(0), u32::try_from(i / dim).unwrap_or(0));
                                    b.get(x, y)
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    let t = if timing { "timed " } else { "" };
                    let label = if level == 0 {
                        format!("{t}anchored")
                    } else {
                        format!("{t}level {level}")
                    };
                    out.push((v, label, bits, found.clone()));
                    level += 1;
                    false
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_to_quad_maps_corners() {
        let q = [(10.0, 10.0), (50.0, 12.0), (55.0, 60.0), (8.0, 52.0)];
        let h = square_to_quad(q).expect("homography");
        for (c, want) in [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)].into_iter().zip(q) {
            let p = project(&h, c.0, c.1);
            assert!(dist(p, want) < 1e-9, "{p:?} vs {want:?}");
        }
    }

    #[test]
    fn nothing_in_noise_or_tiny_frames() {
        let img = GrayImage::from_fn(200, 120, |x, y| {
            image::Luma([u8::try_from((x * 37 + y * 91) % 256).unwrap_or(0)])
        });
        assert!(decode_regions(&img, None).is_none());
        assert!(decode_regions(&GrayImage::new(1, 1), None).is_none());
        assert!(decode_regions(&GrayImage::new(0, 0), None).is_none());
    }

    #[test]
    fn garbage_between_finder_patterns_reads_nothing_and_does_not_panic() {
        // A real code's finder patterns with its data scrambled: every step runs (finders,
        // version blocks, alignment search, mesh, timing, decode) and must give up cleanly.
        let text = "SCA1 regions test ".repeat(8);
        let png = crate::render_png(&text, 4).expect("render");
        let mut img = crate::load_luma(&png).expect("load");
        let (w, h) = img.dimensions();
        let mut state = 0x2545_f491_u32;
        for y in 0..h {
            for x in 0..w {
                let (mx, my) = (x / 4, y / 4);
                let in_finder = |a: u32, b: u32| (3..13).contains(&a) && (3..13).contains(&b);
                let n = w / 4;
                if in_finder(mx, my) || in_finder(n - 1 - mx, my) || in_finder(mx, n - 1 - my) {
                    continue;
                }
                if mx < 4 || my < 4 || mx >= n - 4 || my >= n - 4 {
                    continue;
                }
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if (x % 4, y % 4) == (0, 0) || state.is_multiple_of(7) {
                    let v = if state.is_multiple_of(2) { 0 } else { 255 };
                    img.put_pixel(x, y, image::Luma([v]));
                }
            }
        }
        assert!(decode_regions(&img, None).is_none());
        // Degenerate frames: flat, one column, huge coordinates after a bogus transform.
        assert!(decode_regions(&GrayImage::from_pixel(300, 300, image::Luma([255])), None).is_none());
        assert!(decode_regions(&GrayImage::new(1, 500), None).is_none());
        assert!(sample(&img, 1e12, 5.0).is_none());
        assert!(sample(&img, f64::NAN, 5.0).is_none());
    }

    #[test]
    fn reads_a_flat_code_and_checks_the_binarized_frame_size() {
        // Version 7 or more, so that the version blocks are read too.
        let text = "SCA1 regions test ".repeat(8);
        let png = crate::render_png(&text, 4).expect("render");
        let img = crate::load_luma(&png).expect("load");
        assert_eq!(decode_regions(&img, None).as_deref(), Some(text.as_str()));
        let other = BitMatrix::new(3, 3).expect("matrix");
        assert!(decode_regions(&img, Some(&other)).is_none());
    }
}
