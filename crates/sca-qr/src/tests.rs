//! Round trips through the public API: render → image bytes → decode pipeline.

use image::{GrayImage, ImageEncoder, Luma, codecs::jpeg::JpegEncoder, codecs::png::PngEncoder};
use proptest::prelude::*;

use crate::render::render_luma;
use crate::*;

/// A payload shaped like Sigillo's signed operations: several lines, final "\n".
const PAYLOAD: &str = "SIGILLO/1\nop=bonifico\nbeneficiario=Società Cooperativa Edilizia\n\
    iban=IT60X0542811101000000123456\nimporto=1250.00 EUR\nnonce=9f1c2e7a\n\
    sig=MEUCIQDx3k2v7Q0yX9Wm1o6q2Zb8Rr4tJ5a9nL0pK1cV2dE3fgIgB7h8i9j0k1l2m3n4o5p6q7r8s9t0u1v2w3x4y5z6A7B8=\n";

fn png_luma(img: &GrayImage) -> Vec<u8> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .expect("png");
    out
}

fn assert_round_trip(text: &str) {
    let png = render_png(text, 4).expect("render");
    let decoded = decode_image_bytes(&png).expect("decode");
    assert_eq!(decoded.text, text, "text must come back byte for byte");
}

#[test]
fn round_trip_ascii() {
    assert_round_trip("Hello, Sigillo!");
    assert_round_trip("1234567890");
    assert_round_trip("HTTPS://EXAMPLE.INVALID/OP/42");
}

#[test]
fn round_trip_multiline_payload_keeps_final_newline() {
    assert_round_trip(PAYLOAD);
    assert_round_trip("a\n");
    assert_round_trip("\n\n");
    assert_round_trip("line one\r\nline two  \n  ");
}

#[test]
fn round_trip_italian_accents() {
    assert_round_trip("è à");
    assert_round_trip("Perché è già là? Più così, però.\n");
    assert_round_trip("Importo: 12,50 € — caffè\n");
}

#[test]
fn round_trip_non_latin_text_is_not_mangled_by_kanji_mode() {
    // These UTF-8 byte sequences look like Shift_JIS to the qrcode crate's segmenter.
    assert_round_trip("日本語のテキスト\n");
    assert_round_trip("€€€ 東京 ₿ 🙂");
}

#[test]
fn round_trip_lengths_1_to_1000() {
    for len in [1usize, 2, 17, 100, 255, 256, 500, 999, 1000] {
        let text: String = "Pagamento à Società 0123456789\n".chars().cycle().take(len).collect();
        assert_eq!(text.chars().count(), len);
        assert_round_trip(&text);
    }
}

#[test]
fn both_decoders_read_a_clean_render_exactly() {
    for text in ["plain ASCII", PAYLOAD, "è à €"] {
        let img = render_luma(text, 4).expect("render");
        assert_eq!(decode_with(Decoder::Rxing, &img).as_deref(), Some(text));
        assert_eq!(decode_with(Decoder::Rqrr, &img).as_deref(), Some(text));
    }
}

#[test]
fn clean_frame_is_read_by_the_first_attempt() {
    let img = render_luma(PAYLOAD, 3).expect("render");
    let trace = decode_luma_traced(&img);
    assert_eq!(trace.attempts.len(), 1, "{trace:?}");
    let decoded = trace.decoded.expect("decoded");
    assert_eq!(decoded.decoder, Decoder::Rxing);
    assert_eq!(decoded.pass, Pass::Original);
    assert!(!decoded.stretched);
}

#[test]
fn jpeg_is_sniffed_and_decoded() {
    let img = render_luma(PAYLOAD, 4).expect("render");
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 70)
        .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::L8)
        .expect("jpeg");
    assert_eq!(decode_image_bytes(&jpeg).expect("decode").text, PAYLOAD);
}

#[test]
fn render_svg_is_a_standalone_svg_document() {
    let svg = render_svg(PAYLOAD).expect("svg");
    assert!(svg.starts_with("<?xml"), "{}", &svg[..40]);
    assert!(svg.contains("<svg"));
    assert!(svg.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.contains("viewBox=\"0 0 "));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<svg").count(), 1);
}

#[test]
fn render_png_is_black_on_white_png() {
    let png = render_png("x", 5).expect("png");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let luma = load_luma(&png).expect("load");
    assert_eq!(luma.width(), (21 + 8) * 5);
    let mut values: Vec<u8> = luma.as_raw().clone();
    values.sort_unstable();
    values.dedup();
    assert_eq!(values, vec![0, 255]);
}

#[test]
fn garbage_bytes_give_typed_errors() {
    assert_eq!(
        decode_image_bytes(b"definitely not an image"),
        Err(DecodeError::UnsupportedFormat)
    );
    assert_eq!(decode_image_bytes(&[]), Err(DecodeError::UnsupportedFormat));
    // PNG and JPEG signatures followed by junk.
    let mut fake_png = b"\x89PNG\r\n\x1a\n".to_vec();
    fake_png.extend_from_slice(&[0xAB; 100]);
    assert!(matches!(decode_image_bytes(&fake_png), Err(DecodeError::BadImage(_))));
    let mut fake_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    fake_jpeg.extend_from_slice(&[0x00; 100]);
    assert!(matches!(decode_image_bytes(&fake_jpeg), Err(DecodeError::BadImage(_))));
}

#[test]
fn blank_white_image_is_not_found() {
    let white = GrayImage::from_pixel(640, 480, Luma([255]));
    assert_eq!(decode_image_bytes(&png_luma(&white)), Err(DecodeError::NotFound));
    let trace = decode_luma_traced(&white);
    assert!(trace.decoded.is_none());
    assert_eq!(trace.panics(), 0);
}

#[test]
fn low_contrast_frame_decodes() {
    // Dark modules at 110, light at 150: a dim, washed-out screen.
    let img = render_luma(PAYLOAD, 4).expect("render");
    let dim = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        Luma([if img.get_pixel(x, y).0[0] < 128 { 110 } else { 150 }])
    });
    let decoded = decode_image_bytes(&png_luma(&dim)).expect("decode low contrast");
    assert_eq!(decoded.text, PAYLOAD);
}

#[test]
fn very_low_contrast_is_read_after_the_stretch() {
    // 8 grey levels between dark and light: below rxing's hybrid binarizer's dynamic range.
    let img = render_luma("ciao", 6).expect("render");
    let dim = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        Luma([if img.get_pixel(x, y).0[0] < 128 { 124 } else { 132 }])
    });
    assert_eq!(
        decode_with(Decoder::Rxing, &dim),
        None,
        "premise: rxing alone fails here"
    );
    assert_eq!(decode_with(Decoder::Rqrr, &dim), None, "premise: rqrr alone fails here");
    let decoded = decode_luma(&dim).expect("decode very low contrast");
    assert_eq!(decoded.text, "ciao");
    assert!(decoded.stretched, "{decoded:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_text_round_trips(text in "[a-zA-Z0-9 èàìòù€日本\\n:=/.,+-]{1,300}") {
        let img = render_luma(&text, 3).expect("render");
        let decoded = decode_luma(&img).expect("decode");
        prop_assert_eq!(decoded.text, text);
    }
}

#[test]
fn large_frame_tries_a_downscaled_copy_first() {
    // 2 600 × 1 700 = 4.4 MP, above LARGE_FRAME_PIXELS: a phone photo of a screen.
    let code = render_luma(PAYLOAD, 12).expect("render");
    let mut frame = GrayImage::from_pixel(2600, 1700, Luma([200]));
    image::imageops::overlay(&mut frame, &code, 900, 300);
    let trace = decode_luma_traced(&frame);
    let decoded = trace.decoded.expect("decoded");
    assert_eq!(decoded.text, PAYLOAD);
    assert_eq!(decoded.pass, Pass::Downscaled);
    assert_eq!(trace.attempts.len(), 1);
}

#[test]
fn rqrr_never_runs_on_frames_above_its_cap() {
    let frame = GrayImage::from_pixel(1600, 1400, Luma([255])); // 2.24 MP
    assert!(u64::from(frame.width()) * u64::from(frame.height()) > RQRR_MAX_PIXELS);
    let trace = decode_luma_traced(&frame);
    assert!(trace.decoded.is_none());
    assert!(
        trace
            .attempts
            .iter()
            .all(|a| a.decoder != Decoder::Rqrr || a.pass == Pass::Downscaled),
        "{trace:?}"
    );
    assert!(trace.attempts.iter().any(|a| a.decoder == Decoder::Rqrr));
}

#[test]
fn the_file_name_chooses_the_format_and_both_read_back() {
    use std::path::Path;
    assert_eq!(ImageFormat::from_path(Path::new("a/qr.PNG")), Some(ImageFormat::Png));
    assert_eq!(ImageFormat::from_path(Path::new("qr.svg")), Some(ImageFormat::Svg));
    for other in ["qr.jpg", "qr", "qr.png.txt", ".svg"] {
        assert_eq!(ImageFormat::from_path(Path::new(other)), None, "{other}");
    }
    let png = render_as("SCA1 formats", ImageFormat::Png, 4).unwrap();
    assert_eq!(decode_image_bytes(&png).unwrap().text, "SCA1 formats");
    let svg = String::from_utf8(render_as("SCA1 formats", ImageFormat::Svg, 4).unwrap()).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
}
