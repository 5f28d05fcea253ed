//! Drawing the pairing QR code: in the terminal, as PNG and as SVG.

use std::fs;
use std::io;
use std::path::Path;

use qrcode::render::unicode::Dense1x2;
use qrcode::{Color, QrCode};

/// The light margin around the code, in modules; the QR standard asks for 4.
const QUIET_ZONE: usize = 4;

/// Pixels per module in the PNG: large enough for any scanner, small enough to stay tiny.
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

    /// An SVG document, one path of unit squares (runs merged per row) on a white background.
    pub fn svg(&self) -> String {
        let (size, grid) = self.grid();
        let mut path = String::new();
        for y in 0..size {
            let mut x = 0;
            while x < size {
                if !grid[y * size + x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < size && grid[y * size + x] {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!("M{start} {y}h{run}v1h-{run}z"));
            }
        }
        let pixels = size * PNG_SCALE;
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{pixels}\" \
             height=\"{pixels}\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\n\
             <rect width=\"{size}\" height=\"{size}\" fill=\"#ffffff\"/>\n\
             <path fill=\"#000000\" d=\"{path}\"/>\n\
             </svg>\n"
        )
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

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so a program
/// watching the file never reads half a QR code.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(temp_name);
    fs::write(&temp, bytes)?;
    fs::rename(&temp, path).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
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

    #[test]
    fn svg_draws_every_dark_module() {
        let qr = Qr::new("x").unwrap();
        let svg = qr.svg();
        assert!(svg.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        let (_, grid) = qr.grid();
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let drawn: usize = path
            .split('h')
            .skip(1)
            .step_by(2)
            .map(|run| run.split('v').next().unwrap().parse::<usize>().unwrap())
            .sum();
        assert_eq!(drawn, grid.iter().filter(|dark| **dark).count());
    }
}
