//! The picture facts a media message carries: an image's size in pixels and the small JPEG
//! shown before the file is downloaded (PROTOCOL.md 10.2: B sent 48×48). JPEG and PNG are
//! decoded (crate `image`); anything else, and any video (a frame needs a codec, which means an
//! external tool), goes without a thumbnail and the result of `send_media` says why.
//!
//! ```text
//! picture(<640×480 JPEG>) -> Picture { size: Some((640, 480)), thumbnail: Ok(<48×36 JPEG>) }
//! picture(<GIF>)          -> Picture { size: None, thumbnail: Err(Skipped::Undecodable) }
//! ```

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 48;
/// JPEG quality of thumbnails: they are shown tiny and blurred anyway.
const QUALITY: u8 = 60;
/// Decoding a picture may allocate this much at most: a small file can claim a huge canvas.
const MAX_DECODE_ALLOC: u64 = 48 * 1024 * 1024;

/// Why a message goes without a thumbnail; the text is what `thumbnail_skipped` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A video: no frame without an external decoder.
    Video,
    /// Not JPEG or PNG, or broken, or too large to decode here.
    Undecodable,
}

impl Skipped {
    /// The text of `thumbnail_skipped`.
    pub fn reason(self) -> &'static str {
        match self {
            Skipped::Video => "no video frame can be decoded without an external tool",
            Skipped::Undecodable => {
                "the image could not be decoded for a thumbnail (JPEG and PNG are)"
            }
        }
    }
}

/// What is known of a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width and height, when the header could be read.
    pub size: Option<(u32, u32)>,
    /// The thumbnail, or why there is none.
    pub thumbnail: Result<Vec<u8>, Skipped>,
}

/// A decoder for JPEG and PNG bytes only, with the allocation limit; `None` for other formats.
pub(crate) fn reader(bytes: &[u8]) -> Option<ImageReader<Cursor<&[u8]>>> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?;
    if !matches!(reader.format(), Some(ImageFormat::Jpeg | ImageFormat::Png)) {
        return None;
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    Some(reader)
}

/// The size and thumbnail of an image file's bytes.
pub fn picture(bytes: &[u8]) -> Picture {
    let size = reader(bytes).and_then(|reader| reader.into_dimensions().ok());
    let thumbnail = reader(bytes)
        .and_then(|reader| reader.decode().ok())
        .and_then(|image| {
            let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).into_rgb8();
            let mut jpeg = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, QUALITY)
                .encode_image(&small)
                .ok()?;
            Some(jpeg)
        })
        .ok_or(Skipped::Undecodable);
    Picture { size, thumbnail }
}

#[cfg(test)]
mod tests {
    use image::{ImageBuffer, Rgb};

    use super::*;

    fn encoded(format: ImageFormat, width: u32, height: u32) -> Vec<u8> {
        let image = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 128]));
        let mut bytes = Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    }

    #[test]
    fn jpeg_and_png_get_a_small_jpeg() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png] {
            let picture = picture(&encoded(format, 200, 100));
            assert_eq!(picture.size, Some((200, 100)));
            let thumbnail = picture.thumbnail.unwrap();
            let small = image::load_from_memory_with_format(&thumbnail, ImageFormat::Jpeg).unwrap();
            assert_eq!((small.width(), small.height()), (48, 24));
        }
    }

    #[test]
    fn anything_else_goes_without() {
        for bytes in [
            &b"GIF89a\x01\x00\x01\x00"[..],
            b"",
            b"\xff\xd8\xff\xe0 truncated",
            b"\x89PNG\r\n\x1a\n broken",
        ] {
            let picture = picture(bytes);
            assert_eq!(picture.thumbnail, Err(Skipped::Undecodable), "{bytes:?}");
        }
        // A header claiming a huge canvas is not decoded.
        let mut huge = encoded(ImageFormat::Png, 1, 1);
        huge[16..24].copy_from_slice(&[0, 0, 0x7f, 0xff, 0, 0, 0x7f, 0xff]);
        assert_eq!(picture(&huge).thumbnail, Err(Skipped::Undecodable));
    }
}
