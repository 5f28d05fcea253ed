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

    /// An 8-bit greyscale PNG, black on white.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        let (size, grid) = self.grid();
        let pixels = size * PNG_SCALE;
        let mut data = Vec::with_capacity(pixels * pixels);
        for y in 0..pixels {
            for x in 0..pixels {
                let dark = grid[(y / PNG_SCALE) * size + x / PNG_SCALE];
                data.push(if dark { 0 } else { 255 });
            }
        }
        let side = u32::try_from(pixels).map_err(|_| "QR code too large".to_owned())?;
        let mut png = Vec::new();
        let mut encoder = png::Encoder::new(&mut png, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let encode = |error: png::EncodingError| format!("cannot encode the PNG: {error}");
        let mut writer = encoder.write_header().map_err(encode)?;
        writer.write_image_data(&data).map_err(encode)?;
        writer.finish().map_err(encode)?;
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
