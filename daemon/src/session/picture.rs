//! Profile pictures as files: a picture to set is cropped to the centre square and scaled to
//! the 640x640 JPEG and 96x96 preview the `picture` set-action carries (PROTOCOL.md 11.2); a
//! picture fetched from its `eurl` is written to the output atomically.
//!
//! ```text
//! prepare(<1200x800 PNG>)  -> (<640x640 JPEG>, <96x96 JPEG>)   (the middle 800x800)
//! prepare(<a GIF>)         -> invalid_params
//! download(eurl, output)   -> GET eurl (200, a JPEG, at most 5 MiB) -> output.tmp -> output
//! ```

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;

use futures_util::StreamExt;
use image::imageops::FilterType;
use image::{DynamicImage, ImageFormat};

use super::handle::SessionError;
use crate::http::Http;
use crate::thumbnail;

/// The side of a profile picture, in pixels.
pub const PICTURE_SIDE: u32 = 640;
/// The side of its preview.
pub const PREVIEW_SIDE: u32 = 96;
/// The largest file `set_profile_picture` reads (the server's `imageMaxKBytes` is for what it
/// receives; a camera picture before scaling may be this big).
pub const INPUT_MAX: u64 = 16 * 1024 * 1024;
/// The largest picture `profile_picture` downloads: a 640x640 JPEG is well below.
pub const DOWNLOAD_MAX: usize = 5 * 1024 * 1024;
const QUALITY: u8 = 85;

fn invalid(text: impl Into<String>) -> SessionError {
    SessionError::InvalidParams(text.into())
}

/// The picture and preview JPEGs for an opened JPEG or PNG file.
pub fn prepare(mut file: File) -> Result<(Vec<u8>, Vec<u8>), SessionError> {
    let size = file
        .metadata()
        .map_err(|error| SessionError::Io(format!("reading the picture: {error}")))?
        .len();
    if size > INPUT_MAX {
        return Err(invalid(format!(
            "path: the picture has {size} bytes; at most {INPUT_MAX} are read"
        )));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.read_to_end(&mut bytes)
        .map_err(|error| SessionError::Io(format!("reading the picture: {error}")))?;
    let image = thumbnail::reader(&bytes)
        .and_then(|reader| reader.decode().ok())
        .ok_or_else(|| invalid("path: not a JPEG or PNG picture that can be decoded"))?;
    let square = centre_square(&image);
    Ok((jpeg(&square, PICTURE_SIDE)?, jpeg(&square, PREVIEW_SIDE)?))
}

fn centre_square(image: &DynamicImage) -> DynamicImage {
    let (width, height) = (image.width(), image.height());
    let side = width.min(height);
    image.crop_imm((width - side) / 2, (height - side) / 2, side, side)
}

fn jpeg(square: &DynamicImage, side: u32) -> Result<Vec<u8>, SessionError> {
    let scaled = square
        .resize_exact(side, side, FilterType::Triangle)
        .into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY)
        .encode_image(&scaled)
        .map_err(|error| SessionError::Internal(format!("encoding the picture: {error}")))?;
    Ok(out)
}

/// Fetches a picture from its `eurl` and writes it to `output` (already checked), replacing
/// what was there only once the whole JPEG arrived.
pub async fn download(http: &Http, url: &str, output: PathBuf) -> Result<(), SessionError> {
    let host = url.split('?').next().unwrap_or_default().to_owned();
    let failed =
        |error: &dyn std::fmt::Display| SessionError::Io(format!("downloading {host}: {error}"));
    let response = http.get(url).await.map_err(|error| failed(&error))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(SessionError::Io(format!(
            "the picture host answered {status}"
        )));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| failed(&error))?;
        if body.len() + chunk.len() > DOWNLOAD_MAX {
            return Err(SessionError::Io(format!(
                "the picture at {host} is larger than {DOWNLOAD_MAX} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    if image::guess_format(&body).ok() != Some(ImageFormat::Jpeg) {
        return Err(SessionError::Integrity(format!(
            "{host} did not send a JPEG"
        )));
    }
    tokio::task::spawn_blocking(move || write_atomically(&output, &body))
        .await
        .map_err(|error| SessionError::Internal(format!("the write task failed: {error}")))?
}

fn write_atomically(output: &std::path::Path, body: &[u8]) -> Result<(), SessionError> {
    let folder = output.parent().unwrap_or(std::path::Path::new("/"));
    let io =
        |error: std::io::Error| SessionError::Io(format!("writing {}: {error}", output.display()));
    let mut temp = tempfile::NamedTempFile::new_in(folder).map_err(io)?;
    temp.write_all(body).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    temp.persist(output).map_err(|error| io(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom};

    use image::{ImageBuffer, Rgb};

    use super::*;

    fn file_with(bytes: &[u8]) -> File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    #[test]
    fn a_wide_png_becomes_the_middle_square_in_both_sizes() {
        // Red left and right thirds, green in the middle: the crop keeps only green.
        let wide = ImageBuffer::from_fn(300, 100, |x, _| {
            if (100..200).contains(&x) {
                Rgb([0u8, 255, 0])
            } else {
                Rgb([255, 0, 0])
            }
        });
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(wide)
            .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        let (image, preview) = prepare(file_with(&png)).unwrap();
        for (bytes, side) in [(image, 640), (preview, 96)] {
            let decoded = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (side, side));
            let corner = decoded.to_rgb8().get_pixel(2, 2).0;
            assert!(corner[1] > 200 && corner[0] < 60, "{corner:?}");
        }
    }

    #[test]
    fn what_is_not_a_jpeg_or_png_is_refused() {
        let error = prepare(file_with(b"GIF89a not really")).unwrap_err();
        assert!(matches!(error, SessionError::InvalidParams(_)), "{error:?}");
    }

    #[test]
    fn the_output_appears_whole() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("p.jpg");
        std::fs::write(&output, b"old").unwrap();
        write_atomically(&output, b"new").unwrap();
        assert_eq!(std::fs::read(&output).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
