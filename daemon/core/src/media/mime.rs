//! The MIME type of a file to send, when the caller gave none: from its first bytes (which say
//! what it is), else from its extension (which says what it claims to be), else the protocol's
//! default for the kind (PROTOCOL.md 10.2, B's defaults).
//!
//! ```text
//! guess(Image, b"\xff\xd8\xff\xe0…", "x.bin")  -> image/jpeg    (content)
//! guess(Document, b"plain text", "notes.txt")  -> text/plain    (extension)
//! guess(Voice, b"…", "note")                   -> audio/ogg; codecs=opus (default)
//! ```

use waweb_proto::SendMediaKind;

/// How many leading bytes [`guess`] looks at.
pub const SNIFF_LEN: usize = 64;

/// The MIME type of a file starting with `head`, named `name`, sent as `kind`.
pub fn guess(kind: SendMediaKind, head: &[u8], name: &str) -> String {
    if kind == SendMediaKind::Voice {
        // A voice note is Opus in Ogg whatever the file says: that is what phones play as one.
        return VOICE.to_owned();
    }
    sniff(head)
        .or_else(|| by_extension(name))
        .unwrap_or_else(|| default_for(kind))
        .to_owned()
}

/// What voice notes are.
const VOICE: &str = "audio/ogg; codecs=opus";

fn default_for(kind: SendMediaKind) -> &'static str {
    match kind {
        SendMediaKind::Image => "image/jpeg",
        SendMediaKind::Video => "video/mp4",
        SendMediaKind::Audio | SendMediaKind::Voice => VOICE,
        SendMediaKind::Document => "application/octet-stream",
        SendMediaKind::Sticker => "image/webp",
    }
}

/// The type its magic number says, for the formats chats carry.
pub fn sniff(head: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    Some(match () {
        () if at(0, b"\xff\xd8\xff") => "image/jpeg",
        () if at(0, b"\x89PNG\r\n\x1a\n") => "image/png",
        () if at(0, b"GIF87a") || at(0, b"GIF89a") => "image/gif",
        () if at(0, b"RIFF") && at(8, b"WEBP") => "image/webp",
        () if at(0, b"RIFF") && at(8, b"WAVE") => "audio/wav",
        () if at(0, b"BM") && head.len() >= 26 => "image/bmp",
        () if at(0, b"%PDF-") => "application/pdf",
        () if at(0, b"OggS") => {
            if head.windows(8).any(|window| window == b"OpusHead") {
                VOICE
            } else {
                "audio/ogg"
            }
        }
        () if at(0, b"ID3") || at(0, b"\xff\xfb") || at(0, b"\xff\xf3") => "audio/mpeg",
        () if at(0, b"fLaC") => "audio/flac",
        () if at(4, b"ftyp") => {
            if at(8, b"M4A ") || at(8, b"M4B ") {
                "audio/mp4"
            } else if at(8, b"qt  ") {
                "video/quicktime"
            } else if at(8, b"3gp") {
                "video/3gpp"
            } else {
                "video/mp4"
            }
        }
        () if at(0, b"\x1a\x45\xdf\xa3") => "video/webm",
        () if at(0, b"PK\x03\x04") => "application/zip",
        _ => return None,
    })
}

/// The type a file name's extension claims.
pub fn by_extension(name: &str) -> Option<&'static str> {
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "3gp" => "video/3gpp",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ogg" | "opus" => VOICE,
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "aac" => "audio/aac",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "amr" => "audio/amr",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "7z" => "application/x-7z-compressed",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        "vcf" => "text/vcard",
        "apk" => "application/vnd.android.package-archive",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_beats_extension_beats_default() {
        assert_eq!(
            guess(SendMediaKind::Image, b"\xff\xd8\xff\xe0\0\x10JFIF", "x.png"),
            "image/jpeg"
        );
        assert_eq!(
            guess(SendMediaKind::Document, b"milk\neggs\n", "list.TXT"),
            "text/plain"
        );
        assert_eq!(guess(SendMediaKind::Video, b"????", "clip"), "video/mp4");
        assert_eq!(guess(SendMediaKind::Sticker, b"", ""), "image/webp");
        assert_eq!(
            guess(SendMediaKind::Document, b"", "archive"),
            "application/octet-stream"
        );
        assert_eq!(
            guess(SendMediaKind::Voice, b"\xff\xd8\xff", "x.jpg"),
            "audio/ogg; codecs=opus"
        );
    }

    #[test]
    fn magic_numbers() {
        let cases: [(&[u8], &str); 10] = [
            (b"\x89PNG\r\n\x1a\n\0\0", "image/png"),
            (b"GIF89a\x01\0", "image/gif"),
            (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
            (b"RIFF\0\0\0\0WAVEfmt ", "audio/wav"),
            (b"%PDF-1.7\n", "application/pdf"),
            (
                b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x13OpusHead",
                "audio/ogg; codecs=opus",
            ),
            (b"ID3\x04\0", "audio/mpeg"),
            (b"\0\0\0\x20ftypisom\0\0\x02\0", "video/mp4"),
            (b"\0\0\0\x20ftypM4A \0\0\x02\0", "audio/mp4"),
            (b"PK\x03\x04\x14\0", "application/zip"),
        ];
        for (head, mime) in cases {
            assert_eq!(sniff(head), Some(mime), "{head:?}");
        }
        assert_eq!(sniff(b"OggS\0\x02"), Some("audio/ogg"));
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xff"), None);
        assert_eq!(by_extension("no-extension"), None);
        assert_eq!(by_extension("a.weird"), None);
    }
}
