use serde_json::json;

use super::*;
use crate::message;

#[test]
fn props_set_the_limits_in_their_units() {
    let defaults = Limits::default();
    assert_eq!(defaults.image, 1024 * 1024);
    let limits = defaults.with_props(&json!({
        "imageMaxKBytes": 1, "media": "2", "maxFileSize": 3, "imageMaxEdge": 1600,
        "maxSubject": 30
    }));
    assert_eq!(
        limits,
        Limits {
            image: 1024,
            media: 2 * 1024 * 1024,
            document: 3 * 1024 * 1024,
            group_subject: 30,
            group_description: 512,
        }
    );
    // Missing, zero or nonsense keeps what was known.
    let kept = limits.with_props(&json!({"imageMaxKBytes": 0, "media": "x", "maxFileSize": -1}));
    assert_eq!(kept, limits);
    assert_eq!(limits.with_props(&json!(null)), limits);

    limits.check(SendMediaKind::Image, 1024).unwrap();
    let error = limits.check(SendMediaKind::Image, 1025).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the image is 1025 bytes; the server's limit (imageMaxKBytes) is 1024 bytes"
    );
    assert_eq!(
        limits.limit(SendMediaKind::Voice),
        (2 * 1024 * 1024, "media")
    );
    assert_eq!(limits.limit(SendMediaKind::Sticker).1, "media");
    assert_eq!(limits.limit(SendMediaKind::Document).1, "maxFileSize");
    assert!(
        limits
            .check(SendMediaKind::Document, 3 * 1024 * 1024 + 1)
            .is_err()
    );
}

#[test]
fn media_conn_replies() {
    let reply = json!({"status": 200, "media_conn": {"auth": "A+b/=", "ttl": 300, "hosts": [
        {"hostname": "one.example", "ips": []}, {"hostname": ""}, {"ips": []}, {"hostname": "two.example"}
    ]}});
    let conn = MediaConn::from_reply(&reply).unwrap();
    assert_eq!(conn.auth, "A+b/=");
    assert_eq!(conn.ttl, Duration::from_secs(300));
    assert_eq!(conn.hosts, ["one.example", "two.example"]);
    assert_eq!(
        MediaConn::from_reply(&json!({"status": 599})),
        Err(Error::Status(599))
    );
    for broken in [
        json!({}),
        json!({"media_conn": {"hosts": [{"hostname": "h"}]}}),
        json!({"media_conn": {"auth": "a", "hosts": []}}),
        json!([1, 2]),
    ] {
        assert!(MediaConn::from_reply(&broken).is_err(), "{broken}");
    }
}

#[test]
fn upload_urls_follow_the_protocol() {
    // PROTOCOL.md 10.8: fileEncSha256 of the test vector.
    let digest: [u8; 32] =
        crate::hex::decode("5acabfcc78b6f13b31727d79e35733603627d83faf20caeb69e888b652d5aa8e")
            .unwrap()
            .try_into()
            .unwrap();
    let token = "Wsq_zHi28Tsxcn1541czYDYn2D-vIMrraeiItlLVqo4";
    assert_eq!(
        upload_url(
            "https",
            "mmg.whatsapp.net",
            MediaType::Image,
            &digest,
            "a%2Bb"
        ),
        format!("https://mmg.whatsapp.net/mms/image/{token}?auth=a%2Bb&token={token}")
    );
    assert_eq!(upload_path(MediaType::Sticker), "/mms/image");
    assert_eq!(upload_path(MediaType::Video), "/mms/video");
    assert_eq!(upload_path(MediaType::Audio), "/mms/audio");
    assert_eq!(upload_path(MediaType::Document), "/mms/document");
    assert_eq!(media_type(SendMediaKind::Voice), MediaType::Audio);
    assert_eq!(SendMediaKind::Voice.as_str(), "voice");
    assert_eq!(SendMediaKind::Sticker.as_str(), "sticker");
}

#[test]
fn upload_answers() {
    let uploaded =
        Uploaded::from_reply(&json!({"url": "https://h/d/1", "direct_path": "/d/1"})).unwrap();
    assert_eq!(uploaded.direct_path.as_deref(), Some("/d/1"));
    let bare = Uploaded::from_reply(&json!({"url": "https://h/d/1"})).unwrap();
    assert_eq!(bare.direct_path, None);
    assert!(Uploaded::from_reply(&json!({"direct_path": "/d/1"})).is_err());
    assert!(Uploaded::from_reply(&json!({"url": ""})).is_err());
}

fn attachment(kind: SendMediaKind) -> Attachment {
    Attachment {
        kind,
        uploaded: Uploaded {
            url: "https://h/d/1".into(),
            direct_path: Some("/d/1".into()),
        },
        media_key: vec![7; 32],
        encrypted: Encrypted {
            file_sha256: [1; 32],
            file_enc_sha256: [2; 32],
            file_length: 3,
        },
        media_key_timestamp: 1_600_000_000,
        mimetype: "x/y".into(),
        caption: Some("look".into()),
        file_name: Some("f.pdf".into()),
        width: Some(4),
        height: Some(5),
        jpeg_thumbnail: Some(vec![0xff, 0xd8]),
        gif: true,
    }
}

#[test]
fn each_kind_announces_its_fields() {
    for kind in SendMediaKind::ALL {
        let content = attachment(kind).to_content();
        let media = message::media_of(&content).expect("a media message");
        assert_eq!(media.url.as_deref(), Some("https://h/d/1"));
        assert_eq!(media.media_key, vec![7; 32]);
        assert_eq!(media.file_sha256, vec![1; 32]);
        assert_eq!(media.file_enc_sha256, vec![2; 32]);
        assert_eq!(media.file_length, 3);
        assert_eq!(media.mimetype.as_deref(), Some("x/y"));
        assert_eq!(
            serde_json::to_value(media.kind).unwrap(),
            if kind == SendMediaKind::Voice {
                "audio"
            } else {
                kind.as_str()
            }
        );
    }
    let voice = attachment(SendMediaKind::Voice).to_content();
    assert_eq!(voice.audio_message.unwrap().ptt, Some(true));
    let audio = attachment(SendMediaKind::Audio).to_content();
    assert_eq!(audio.audio_message.unwrap().ptt, None);
    let video = attachment(SendMediaKind::Video)
        .to_content()
        .video_message
        .unwrap();
    assert_eq!(video.gif_playback, Some(true));
    assert_eq!(video.caption.as_deref(), Some("look"));
    let image = attachment(SendMediaKind::Image)
        .to_content()
        .image_message
        .unwrap();
    assert_eq!(image.jpeg_thumbnail, Some(vec![0xff, 0xd8]));
    assert_eq!((image.width, image.height), (Some(4), Some(5)));
    assert_eq!(image.media_key_timestamp, Some(1_600_000_000));
    let document = attachment(SendMediaKind::Document)
        .to_content()
        .document_message
        .unwrap();
    assert_eq!(document.file_name.as_deref(), Some("f.pdf"));
    assert_eq!(document.title.as_deref(), Some("f.pdf"));
}
