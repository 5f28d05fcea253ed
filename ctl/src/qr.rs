//! Drawing the pairing QR code: in the terminal, as PNG and as SVG.

use std::io;
use std::path::Path;

use qrcode::render::svg;
use qrcode::render::unicode::Dense1x2;
use qrcode::{Color, QrCode};

/// The light margin around the code, in modules; the QR standard asks for 4.
const QUIET_ZONE: usize = 4;

/// Pixels per module in the PNG (and user units per module in the SVG): large enough for any
/// scanner, small enough to stay tiny.
const PNG_SCALE: usize = 8;

/// A QR code ready to be drawn.
pub struct Qr {
    code: QrCode,
}

impl Qr {
    /// Encodes `content`.
    pub fn new(content: &str) -> Result<Qr, String> {
        QrCode::new(content.as_bytes())
            .map(|code| Qr { code })
            .map_err(|error| format!("cannot encode the QR code: {error}"))
    }

    /// Text for a terminal, two modules per character cell.
    ///
    /// Light modules are drawn as blocks and dark ones left blank, which reads correctly on the
    /// usual dark terminal background; the quiet zone is included so scanners find the edges.
    pub fn terminal(&self) -> String {
        self.code
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build()
    }

    /// Dark modules as a grid including the quiet zone, row by row.
    fn grid(&self) -> (usize, Vec<bool>) {
        let width = self.code.width();
        let colors = self.code.to_colors();
        let size = width + 2 * QUIET_ZONE;
        let mut grid = vec![false; size * size];
        for (index, color) in colors.iter().enumerate() {
            let (x, y) = (index % width, index / width);
            grid[(y + QUIET_ZONE) * size + x + QUIET_ZONE] = *color == Color::Dark;
        }
        (size, grid)
    }

    /// A 1-bit greyscale PNG, black on white, written by hand: a QR code needs no compression
    /// worth a dependency (stored deflate blocks keep it about 35 KB).
    ///
    /// Deliberately not the `png` crate (nor `image` with its PNG codec, nor qrcode's `image`
    /// feature): that is a second PNG/deflate stack (flate2, fdeflate, crc32fast) for one small
    /// picture, and it pulled a second miniz_oxide version into the graph beside the one
    /// already there. Chunks, CRC-32 and the zlib stream here were checked against Python's
    /// zlib, and [`read_png`] reads the result back for the tests.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        let (size, grid) = self.grid();
        let side = size * PNG_SCALE;
        let row_bytes = side.div_ceil(8);
        let mut raw = Vec::with_capacity((row_bytes + 1) * side);
        for y in 0..side {
            raw.push(0); // filter type: none
            let mut byte = 0u8;
            for x in 0..side {
                let dark = grid[(y / PNG_SCALE) * size + x / PNG_SCALE];
                byte = (byte << 1) | u8::from(!dark);
                if x % 8 == 7 {
                    raw.push(byte);
                    byte = 0;
                }
            }
            if !side.is_multiple_of(8) {
                raw.push(byte << (8 - side % 8));
            }
        }
        let side = u32::try_from(side).map_err(|_| "QR code too large".to_owned())?;
        let mut ihdr = Vec::with_capacity(13);
        ihdr.extend_from_slice(&side.to_be_bytes());
        ihdr.extend_from_slice(&side.to_be_bytes());
        ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // 1-bit greyscale, deflate, no filter, no interlace
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png_chunk(&mut png, b"IHDR", &ihdr);
        png_chunk(&mut png, b"IDAT", &zlib_stored(&raw));
        png_chunk(&mut png, b"IEND", &[]);
        Ok(png)
    }

    /// An SVG document drawn by qrcode's own renderer: a white background and one black path
    /// of rectangles, [`PNG_SCALE`] user units per module, the quiet zone included.
    pub fn svg(&self) -> String {
        let scale = PNG_SCALE as u32;
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(scale, scale)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build()
    }
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = png.len();
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let crc = crc32(&png[start..]);
    png.extend_from_slice(&crc.to_be_bytes());
}

/// zlib with stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in data {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Reads back a PNG that [`Qr::png`] wrote (stored deflate, 1-bit greyscale, no filtering) as
/// `(width, height, one byte per pixel: 0 black, 255 white)`; `None` for anything else. It lets
/// tests and scripts check a written code without an image library.
pub fn read_png(bytes: &[u8]) -> Option<(usize, usize, Vec<u8>)> {
    let mut rest = bytes.strip_prefix(b"\x89PNG\r\n\x1a\n")?;
    let (mut width, mut height, mut zlib) = (0usize, 0usize, Vec::new());
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().ok()?) as usize;
        let kind = &rest[4..8];
        let data = rest.get(8..8 + len)?;
        match kind {
            b"IHDR" if data.len() == 13 && data[8..13] == [1, 0, 0, 0, 0] => {
                width = u32::from_be_bytes(data[..4].try_into().ok()?) as usize;
                height = u32::from_be_bytes(data[4..8].try_into().ok()?) as usize;
            }
            b"IDAT" => zlib.extend_from_slice(data),
            _ => {}
        }
        rest = rest.get(12 + len..)?;
    }
    let mut deflate = zlib.get(2..)?;
    let mut raw = Vec::new();
    loop {
        let header = *deflate.first()?;
        let len = u16::from_le_bytes(deflate.get(1..3)?.try_into().ok()?) as usize;
        raw.extend_from_slice(deflate.get(5..5 + len)?);
        deflate = &deflate[5 + len..];
        if header & 1 == 1 {
            break;
        }
    }
    let row_bytes = width.div_ceil(8);
    let mut pixels = Vec::with_capacity(width * height);
    for row in raw.chunks(row_bytes + 1).take(height) {
        if row.len() != row_bytes + 1 || row[0] != 0 {
            return None;
        }
        for x in 0..width {
            let bit = (row[1 + x / 8] >> (7 - x % 8)) & 1;
            pixels.push(if bit == 1 { 255 } else { 0 });
        }
    }
    (pixels.len() == width * height && width > 0).then_some((width, height, pixels))
}

/// Reads back an SVG that [`Qr::svg`] wrote (qrcode's renderer: a `width`/`height` in user
/// units and one path of rectangles `M{x} {y}h{w}v{h}H{x}V{y}`) as `(width, height, one byte per
/// unit: 0 black, 255 white)`, like [`read_png`]; `None` for anything else. It lets tests check
/// that an SVG draws the same code as the PNG, without an SVG library.
pub fn read_svg(text: &str) -> Option<(usize, usize, Vec<u8>)> {
    let tag = text.split("<svg ").nth(1)?.split('>').next()?;
    let attribute = |name: &str| -> Option<usize> {
        let value = tag
            .split(&format!(" {name}=\""))
            .nth(1)?
            .split('"')
            .next()?;
        value.parse().ok()
    };
    let (width, height) = (attribute("width")?, attribute("height")?);
    let path = text.split(" d=\"").nth(1)?.split('"').next()?;
    let mut pixels = vec![255u8; width.checked_mul(height)?];
    for rect in path.split('M').skip(1) {
        let (x, rest) = rect.split_once(' ')?;
        let (y, rest) = rest.split_once('h')?;
        let (w, rest) = rest.split_once('v')?;
        let (h, close) = rest.split_once('H')?;
        if close != format!("{x}V{y}") {
            return None;
        }
        let [x, y, w, h] = [x, y, w, h].map(|n| n.parse::<usize>().ok());
        let (x, y, w, h) = (x?, y?, w?, h?);
        if x + w > width || y + h > height {
            return None;
        }
        for row in y..y + h {
            pixels[row * width + x..row * width + x + w].fill(0);
        }
    }
    (width > 0).then_some((width, height, pixels))
}

/// Writes `bytes` to `path` atomically (through [`waweb_fs`]: a private temporary file beside
/// it, mode 0600, fsynced and renamed), so a program watching the file never reads half a QR
/// code. The error is the OS error of the step that failed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    waweb_fs::write_atomically(path, bytes).map_err(waweb_fs::Error::into_source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_rendering_uses_half_blocks_and_a_quiet_zone() {
        let qr = Qr::new("1@ref,key,client").unwrap();
        let text = qr.terminal();
        let width = qr.code.width() + 2 * QUIET_ZONE;
        let first = text.lines().next().unwrap();
        assert_eq!(first.chars().count(), width);
        assert!(text.lines().count() >= width / 2);
        assert!(text.contains('\u{2580}') || text.contains('\u{2584}'));
    }

    fn decode(width: usize, height: usize, pixels: &[u8]) -> String {
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
            pixels[y * width + x]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn svg_and_png_draw_the_same_code_and_it_decodes() {
        let content = "1@ref,a2V5,Y2xpZW50";
        let qr = Qr::new(content).unwrap();
        let svg = qr.svg();
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        let from_svg = read_svg(&svg).expect("an SVG that Qr::svg wrote");
        let from_png = read_png(&qr.png().unwrap()).expect("a PNG that Qr::png wrote");
        assert_eq!(from_svg.0, (qr.code.width() + 2 * QUIET_ZONE) * PNG_SCALE);
        assert!(
            from_svg == from_png,
            "the same modules, quiet zone and scale"
        );
        assert_eq!(decode(from_svg.0, from_svg.1, &from_svg.2), content);
    }

    #[test]
    fn written_files_replace_atomically_and_are_private() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qr.svg");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        let error = write_atomically(&dir.path().join("no/qr.svg"), b"x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
