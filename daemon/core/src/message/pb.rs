//! The `WebMessageInfo` protobuf family (PROTOCOL.md section 9), written out by hand for prost.
//!
//! Hand-derived rather than generated so the build needs no `protoc`; field numbers and wire types
//! follow the table in section 9 (proto2, package `proto`), which agrees with every legacy client.
//! Only the fields a client interprets or a simulator sends are declared: prost skips the others
//! on decode, which is what protobuf readers are meant to do with fields they do not know.
//!
//! Everything is proto2 `optional`, so each scalar is an `Option` and an absent field is not
//! encoded at all; that keeps re-encoded messages byte-identical to what other clients write.
//! Every sub-message of [`Message`] is boxed: the union has a dozen of them and most are large,
//! so boxing keeps a `Message` (and every stack frame decoding a nested one) small, and it is
//! required anyway where `Message` contains itself (view-once and ephemeral wrappers, quotes).
//! prost encodes fields in tag order whatever the declaration order.

/// One message as stored and relayed by WhatsApp: key, content and delivery metadata.
#[derive(Clone, PartialEq, prost::Message)]
pub struct WebMessageInfo {
    /// Which chat and which message this is; required by the schema.
    #[prost(message, optional, tag = "1")]
    pub key: Option<MessageKey>,
    /// The content; absent for system events, which carry `message_stub_type` instead.
    #[prost(message, optional, tag = "2")]
    pub message: Option<Message>,
    /// Unix seconds.
    #[prost(uint64, optional, tag = "3")]
    pub message_timestamp: Option<u64>,
    /// Delivery progress, see [`WebMessageInfoStatus`].
    #[prost(enumeration = "WebMessageInfoStatus", optional, tag = "4")]
    pub status: Option<i32>,
    /// The author inside a group chat, for received group messages.
    #[prost(string, optional, tag = "5")]
    pub participant: Option<String>,
    /// When the client handed the message over (only newer clients set it).
    #[prost(uint64, optional, tag = "6")]
    pub message_c2s_timestamp: Option<u64>,
    /// Set by the phone for messages the web client should not show.
    #[prost(bool, optional, tag = "16")]
    pub ignore: Option<bool>,
    /// Starred by the user.
    #[prost(bool, optional, tag = "17")]
    pub starred: Option<bool>,
    /// Sent to a broadcast list.
    #[prost(bool, optional, tag = "18")]
    pub broadcast: Option<bool>,
    /// The display name the sender chose for themselves.
    #[prost(string, optional, tag = "19")]
    pub push_name: Option<String>,
    /// SHA-256 of the uploaded media body, when the message has media.
    #[prost(bytes = "vec", optional, tag = "20")]
    pub media_ciphertext_sha256: Option<Vec<u8>>,
    /// Sent to several chats at once.
    #[prost(bool, optional, tag = "21")]
    pub multicast: Option<bool>,
    /// The text contains a URL.
    #[prost(bool, optional, tag = "22")]
    pub url_text: Option<bool>,
    /// The text contains a phone number.
    #[prost(bool, optional, tag = "23")]
    pub url_number: Option<bool>,
    /// Non-zero for system events (group changes, revokes…), see [`WebMessageInfoStubType`].
    #[prost(enumeration = "WebMessageInfoStubType", optional, tag = "24")]
    pub message_stub_type: Option<i32>,
    /// The media was deleted from the phone.
    #[prost(bool, optional, tag = "25")]
    pub clear_media: Option<bool>,
    /// JIDs or strings a system event refers to.
    #[prost(string, repeated, tag = "26")]
    pub message_stub_parameters: Vec<String>,
    /// Duration of a call event, in seconds.
    #[prost(uint32, optional, tag = "27")]
    pub duration: Option<u32>,
    /// Business labels.
    #[prost(string, repeated, tag = "28")]
    pub labels: Vec<String>,
    /// The last position of a live location that has ended.
    #[prost(message, optional, tag = "30")]
    pub final_live_location: Option<LiveLocationMessage>,
    /// When a disappearing message's timer started.
    #[prost(uint64, optional, tag = "32")]
    pub ephemeral_start_timestamp: Option<u64>,
    /// A disappearing message's lifetime in seconds.
    #[prost(uint32, optional, tag = "33")]
    pub ephemeral_duration: Option<u32>,
    /// Disappearing messages were switched on by this message.
    #[prost(bool, optional, tag = "34")]
    pub ephemeral_off_to_on: Option<bool>,
    /// The disappearing-message setting is out of sync with the chat's.
    #[prost(bool, optional, tag = "35")]
    pub ephemeral_out_of_sync: Option<bool>,
    /// Who can read a business chat, see [`BizPrivacyStatus`].
    #[prost(enumeration = "BizPrivacyStatus", optional, tag = "36")]
    pub biz_privacy_status: Option<i32>,
    /// The verified name of a business sender.
    #[prost(string, optional, tag = "37")]
    pub verified_biz_name: Option<String>,
}

/// `WebMessageInfo.status`: how far a message has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum WebMessageInfoStatus {
    /// Sending failed.
    Error = 0,
    /// Not yet acknowledged by the server; what a client writes into messages it sends.
    Pending = 1,
    /// The server has it; what received messages carry.
    ServerAck = 2,
    /// Delivered to the recipient's phone.
    DeliveryAck = 3,
    /// Read by the recipient.
    Read = 4,
    /// A voice note or video was played.
    Played = 5,
}

/// `WebMessageInfo.messageStubType`: the system events a client may want to name.
///
/// A selection of G's 0–118; other values survive in the raw `i32` and decode as `Unknown` through
/// the generated getter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum WebMessageInfoStubType {
    Unknown = 0,
    Revoke = 1,
    Ciphertext = 2,
    Futureproof = 3,
    GroupCreate = 20,
    GroupChangeSubject = 21,
    GroupChangeIcon = 22,
    GroupChangeInviteLink = 23,
    GroupChangeDescription = 24,
    GroupChangeRestrict = 25,
    GroupChangeAnnounce = 26,
    GroupParticipantAdd = 27,
    GroupParticipantRemove = 28,
    GroupParticipantPromote = 29,
    GroupParticipantDemote = 30,
    GroupParticipantInvite = 31,
    GroupParticipantLeave = 32,
    GroupParticipantChangeNumber = 33,
    BroadcastCreate = 34,
    BroadcastAdd = 35,
    BroadcastRemove = 36,
    GenericNotification = 37,
    E2eIdentityChanged = 38,
    E2eEncrypted = 39,
    CallMissedVoice = 40,
    CallMissedVideo = 41,
    IndividualChangeNumber = 42,
    GroupDelete = 43,
    CallMissedGroupVoice = 45,
    CallMissedGroupVideo = 46,
    GroupParticipantAddRequestJoin = 71,
    ChangeEphemeralSetting = 72,
    ViewedOnce = 74,
}

/// `WebMessageInfo.bizPrivacyStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum BizPrivacyStatus {
    E2ee = 0,
    Bsp = 1,
    Fb = 2,
    BspAndFb = 3,
}

/// Identifies a message: `(remote_jid, from_me, id)` is unique.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MessageKey {
    /// The chat, `@s.whatsapp.net` for people (the server refuses `@c.us` here), `@g.us` for groups.
    #[prost(string, optional, tag = "1")]
    pub remote_jid: Option<String>,
    /// Written by this account.
    #[prost(bool, optional, tag = "2")]
    pub from_me: Option<bool>,
    /// Opaque message id.
    #[prost(string, optional, tag = "3")]
    pub id: Option<String>,
    /// The author, in keys that point at someone else's group message.
    #[prost(string, optional, tag = "4")]
    pub participant: Option<String>,
}

/// The content union: normally exactly one field is set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Message {
    /// Plain text.
    #[prost(string, optional, tag = "1")]
    pub conversation: Option<String>,
    /// A photo.
    #[prost(message, optional, boxed, tag = "3")]
    pub image_message: Option<Box<ImageMessage>>,
    /// One contact card.
    #[prost(message, optional, boxed, tag = "4")]
    pub contact_message: Option<Box<ContactMessage>>,
    /// A static location.
    #[prost(message, optional, boxed, tag = "5")]
    pub location_message: Option<Box<LocationMessage>>,
    /// Text with a quote, mentions or a link preview.
    #[prost(message, optional, boxed, tag = "6")]
    pub extended_text_message: Option<Box<ExtendedTextMessage>>,
    /// Any file.
    #[prost(message, optional, boxed, tag = "7")]
    pub document_message: Option<Box<DocumentMessage>>,
    /// Audio or a voice note.
    #[prost(message, optional, boxed, tag = "8")]
    pub audio_message: Option<Box<AudioMessage>>,
    /// Video or a GIF.
    #[prost(message, optional, boxed, tag = "9")]
    pub video_message: Option<Box<VideoMessage>>,
    /// Control messages such as "delete for everyone".
    #[prost(message, optional, boxed, tag = "12")]
    pub protocol_message: Option<Box<ProtocolMessage>>,
    /// Several contact cards.
    #[prost(message, optional, boxed, tag = "13")]
    pub contacts_array_message: Option<Box<ContactsArrayMessage>>,
    /// A live location update.
    #[prost(message, optional, boxed, tag = "18")]
    pub live_location_message: Option<Box<LiveLocationMessage>>,
    /// A sticker.
    #[prost(message, optional, boxed, tag = "26")]
    pub sticker_message: Option<Box<StickerMessage>>,
    /// View-once media; the real content is inside.
    #[prost(message, optional, boxed, tag = "37")]
    pub view_once_message: Option<Box<FutureProofMessage>>,
    /// A disappearing message; the real content is inside.
    #[prost(message, optional, boxed, tag = "40")]
    pub ephemeral_message: Option<Box<FutureProofMessage>>,
}

/// A wrapper newer features put around ordinary content so old clients can still skip it.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FutureProofMessage {
    /// The wrapped content.
    #[prost(message, optional, boxed, tag = "1")]
    pub message: Option<Box<Message>>,
}

/// Quotes, mentions and forwarding information attached to content.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContextInfo {
    /// Id of the quoted message.
    #[prost(string, optional, tag = "1")]
    pub stanza_id: Option<String>,
    /// Author of the quoted message.
    #[prost(string, optional, tag = "2")]
    pub participant: Option<String>,
    /// The quoted content itself.
    #[prost(message, optional, boxed, tag = "3")]
    pub quoted_message: Option<Box<Message>>,
    /// Chat of the quoted message, set for group quotes.
    #[prost(string, optional, tag = "4")]
    pub remote_jid: Option<String>,
    /// JIDs mentioned with `@` in the text.
    #[prost(string, repeated, tag = "15")]
    pub mentioned_jid: Vec<String>,
    /// How often the content has been forwarded.
    #[prost(uint32, optional, tag = "21")]
    pub forwarding_score: Option<u32>,
    /// The content was forwarded.
    #[prost(bool, optional, tag = "22")]
    pub is_forwarded: Option<bool>,
    /// Key of a message this one stands in for.
    #[prost(message, optional, tag = "24")]
    pub placeholder_key: Option<MessageKey>,
    /// Disappearing-message lifetime in seconds.
    #[prost(uint32, optional, tag = "25")]
    pub expiration: Option<u32>,
    /// When the disappearing-message setting last changed.
    #[prost(int64, optional, tag = "26")]
    pub ephemeral_setting_timestamp: Option<i64>,
    /// Secret shared for disappearing messages.
    #[prost(bytes = "vec", optional, tag = "27")]
    pub ephemeral_shared_secret: Option<Vec<u8>>,
}

/// A photo (PROTOCOL.md section 9.4).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImageMessage {
    /// Full download URL (expires).
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    /// MIME type, `image/jpeg` usually.
    #[prost(string, optional, tag = "2")]
    pub mimetype: Option<String>,
    /// Text shown under the image.
    #[prost(string, optional, tag = "3")]
    pub caption: Option<String>,
    /// SHA-256 of the plaintext file.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub file_sha256: Option<Vec<u8>>,
    /// Plaintext length.
    #[prost(uint64, optional, tag = "5")]
    pub file_length: Option<u64>,
    /// Pixels.
    #[prost(uint32, optional, tag = "6")]
    pub height: Option<u32>,
    /// Pixels.
    #[prost(uint32, optional, tag = "7")]
    pub width: Option<u32>,
    /// The 32-byte per-file key.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub media_key: Option<Vec<u8>>,
    /// SHA-256 of the uploaded body (`enc ‖ mac`).
    #[prost(bytes = "vec", optional, tag = "9")]
    pub file_enc_sha256: Option<Vec<u8>>,
    /// Host-independent path of the body.
    #[prost(string, optional, tag = "11")]
    pub direct_path: Option<String>,
    /// When the media key was made.
    #[prost(int64, optional, tag = "12")]
    pub media_key_timestamp: Option<i64>,
    /// Small inline preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
    /// Progressive-JPEG scan data.
    #[prost(bytes = "vec", optional, tag = "18")]
    pub first_scan_sidecar: Option<Vec<u8>>,
    /// Length of the first progressive scan.
    #[prost(uint32, optional, tag = "19")]
    pub first_scan_length: Option<u32>,
    /// Server-side experiment bucket.
    #[prost(uint32, optional, tag = "20")]
    pub experiment_group_id: Option<u32>,
    /// Progressive-JPEG scan data.
    #[prost(bytes = "vec", optional, tag = "21")]
    pub scans_sidecar: Option<Vec<u8>>,
    /// Hash of a mid-quality variant.
    #[prost(bytes = "vec", optional, tag = "23")]
    pub mid_quality_file_sha256: Option<Vec<u8>>,
    /// Hash of a mid-quality variant's body.
    #[prost(bytes = "vec", optional, tag = "24")]
    pub mid_quality_file_enc_sha256: Option<Vec<u8>>,
    /// Shown only once.
    #[prost(bool, optional, tag = "25")]
    pub view_once: Option<bool>,
    /// Path of a separately uploaded thumbnail.
    #[prost(string, optional, tag = "26")]
    pub thumbnail_direct_path: Option<String>,
    /// Hash of that thumbnail.
    #[prost(bytes = "vec", optional, tag = "27")]
    pub thumbnail_sha256: Option<Vec<u8>>,
    /// Hash of that thumbnail's body.
    #[prost(bytes = "vec", optional, tag = "28")]
    pub thumbnail_enc_sha256: Option<Vec<u8>>,
}

/// A video or GIF.
#[derive(Clone, PartialEq, prost::Message)]
pub struct VideoMessage {
    /// Full download URL (expires).
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    /// MIME type, `video/mp4` usually.
    #[prost(string, optional, tag = "2")]
    pub mimetype: Option<String>,
    /// SHA-256 of the plaintext file.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub file_sha256: Option<Vec<u8>>,
    /// Plaintext length.
    #[prost(uint64, optional, tag = "4")]
    pub file_length: Option<u64>,
    /// Duration.
    #[prost(uint32, optional, tag = "5")]
    pub seconds: Option<u32>,
    /// The 32-byte per-file key.
    #[prost(bytes = "vec", optional, tag = "6")]
    pub media_key: Option<Vec<u8>>,
    /// Text shown under the video.
    #[prost(string, optional, tag = "7")]
    pub caption: Option<String>,
    /// Play as a looping GIF.
    #[prost(bool, optional, tag = "8")]
    pub gif_playback: Option<bool>,
    /// Pixels.
    #[prost(uint32, optional, tag = "9")]
    pub height: Option<u32>,
    /// Pixels.
    #[prost(uint32, optional, tag = "10")]
    pub width: Option<u32>,
    /// SHA-256 of the uploaded body.
    #[prost(bytes = "vec", optional, tag = "11")]
    pub file_enc_sha256: Option<Vec<u8>>,
    /// Host-independent path of the body.
    #[prost(string, optional, tag = "13")]
    pub direct_path: Option<String>,
    /// When the media key was made.
    #[prost(int64, optional, tag = "14")]
    pub media_key_timestamp: Option<i64>,
    /// Small inline preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
    /// Seek table for streaming (PROTOCOL.md section 10.4).
    #[prost(bytes = "vec", optional, tag = "18")]
    pub streaming_sidecar: Option<Vec<u8>>,
    /// GIF source, see [`GifAttribution`].
    #[prost(enumeration = "GifAttribution", optional, tag = "19")]
    pub gif_attribution: Option<i32>,
    /// Shown only once.
    #[prost(bool, optional, tag = "20")]
    pub view_once: Option<bool>,
    /// Path of a separately uploaded thumbnail.
    #[prost(string, optional, tag = "21")]
    pub thumbnail_direct_path: Option<String>,
    /// Hash of that thumbnail.
    #[prost(bytes = "vec", optional, tag = "22")]
    pub thumbnail_sha256: Option<Vec<u8>>,
    /// Hash of that thumbnail's body.
    #[prost(bytes = "vec", optional, tag = "23")]
    pub thumbnail_enc_sha256: Option<Vec<u8>>,
}

/// `VideoMessage.gifAttribution`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum GifAttribution {
    None = 0,
    Giphy = 1,
    Tenor = 2,
}

/// An audio file or voice note.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AudioMessage {
    /// Full download URL (expires).
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    /// MIME type, `audio/ogg; codecs=opus` for voice notes.
    #[prost(string, optional, tag = "2")]
    pub mimetype: Option<String>,
    /// SHA-256 of the plaintext file.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub file_sha256: Option<Vec<u8>>,
    /// Plaintext length.
    #[prost(uint64, optional, tag = "4")]
    pub file_length: Option<u64>,
    /// Duration.
    #[prost(uint32, optional, tag = "5")]
    pub seconds: Option<u32>,
    /// A voice note ("push to talk") rather than an audio file.
    #[prost(bool, optional, tag = "6")]
    pub ptt: Option<bool>,
    /// The 32-byte per-file key.
    #[prost(bytes = "vec", optional, tag = "7")]
    pub media_key: Option<Vec<u8>>,
    /// SHA-256 of the uploaded body.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub file_enc_sha256: Option<Vec<u8>>,
    /// Host-independent path of the body.
    #[prost(string, optional, tag = "9")]
    pub direct_path: Option<String>,
    /// When the media key was made.
    #[prost(int64, optional, tag = "10")]
    pub media_key_timestamp: Option<i64>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
    /// Seek table for streaming (PROTOCOL.md section 10.4).
    #[prost(bytes = "vec", optional, tag = "18")]
    pub streaming_sidecar: Option<Vec<u8>>,
}

/// Any other file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DocumentMessage {
    /// Full download URL (expires).
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    /// MIME type as the sender declared it.
    #[prost(string, optional, tag = "2")]
    pub mimetype: Option<String>,
    /// Display title.
    #[prost(string, optional, tag = "3")]
    pub title: Option<String>,
    /// SHA-256 of the plaintext file.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub file_sha256: Option<Vec<u8>>,
    /// Plaintext length.
    #[prost(uint64, optional, tag = "5")]
    pub file_length: Option<u64>,
    /// Pages of a PDF.
    #[prost(uint32, optional, tag = "6")]
    pub page_count: Option<u32>,
    /// The 32-byte per-file key.
    #[prost(bytes = "vec", optional, tag = "7")]
    pub media_key: Option<Vec<u8>>,
    /// The sender's file name.
    #[prost(string, optional, tag = "8")]
    pub file_name: Option<String>,
    /// SHA-256 of the uploaded body.
    #[prost(bytes = "vec", optional, tag = "9")]
    pub file_enc_sha256: Option<Vec<u8>>,
    /// Host-independent path of the body.
    #[prost(string, optional, tag = "10")]
    pub direct_path: Option<String>,
    /// When the media key was made.
    #[prost(int64, optional, tag = "11")]
    pub media_key_timestamp: Option<i64>,
    /// The file is a vCard.
    #[prost(bool, optional, tag = "12")]
    pub contact_vcard: Option<bool>,
    /// Path of a separately uploaded thumbnail.
    #[prost(string, optional, tag = "13")]
    pub thumbnail_direct_path: Option<String>,
    /// Hash of that thumbnail.
    #[prost(bytes = "vec", optional, tag = "14")]
    pub thumbnail_sha256: Option<Vec<u8>>,
    /// Hash of that thumbnail's body.
    #[prost(bytes = "vec", optional, tag = "15")]
    pub thumbnail_enc_sha256: Option<Vec<u8>>,
    /// Small inline preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
    /// Thumbnail pixels.
    #[prost(uint32, optional, tag = "18")]
    pub thumbnail_height: Option<u32>,
    /// Thumbnail pixels.
    #[prost(uint32, optional, tag = "19")]
    pub thumbnail_width: Option<u32>,
}

/// A sticker; its field numbers differ from the other media messages (hash and key come first).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StickerMessage {
    /// Full download URL (expires).
    #[prost(string, optional, tag = "1")]
    pub url: Option<String>,
    /// SHA-256 of the plaintext file.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub file_sha256: Option<Vec<u8>>,
    /// SHA-256 of the uploaded body.
    #[prost(bytes = "vec", optional, tag = "3")]
    pub file_enc_sha256: Option<Vec<u8>>,
    /// The 32-byte per-file key.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub media_key: Option<Vec<u8>>,
    /// MIME type, `image/webp`.
    #[prost(string, optional, tag = "5")]
    pub mimetype: Option<String>,
    /// Pixels.
    #[prost(uint32, optional, tag = "6")]
    pub height: Option<u32>,
    /// Pixels.
    #[prost(uint32, optional, tag = "7")]
    pub width: Option<u32>,
    /// Host-independent path of the body.
    #[prost(string, optional, tag = "8")]
    pub direct_path: Option<String>,
    /// Plaintext length.
    #[prost(uint64, optional, tag = "9")]
    pub file_length: Option<u64>,
    /// When the media key was made.
    #[prost(int64, optional, tag = "10")]
    pub media_key_timestamp: Option<i64>,
    /// Length of an animated sticker's first frame.
    #[prost(uint32, optional, tag = "11")]
    pub first_frame_length: Option<u32>,
    /// An animated sticker's first frame.
    #[prost(bytes = "vec", optional, tag = "12")]
    pub first_frame_sidecar: Option<Vec<u8>>,
    /// Animated WebP.
    #[prost(bool, optional, tag = "13")]
    pub is_animated: Option<bool>,
    /// Small inline preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub png_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
}

/// One contact card.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContactMessage {
    /// Name shown in the chat.
    #[prost(string, optional, tag = "1")]
    pub display_name: Option<String>,
    /// The vCard text.
    #[prost(string, optional, tag = "16")]
    pub vcard: Option<String>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
}

/// Several contact cards.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ContactsArrayMessage {
    /// Name shown in the chat.
    #[prost(string, optional, tag = "1")]
    pub display_name: Option<String>,
    /// The cards.
    #[prost(message, repeated, tag = "2")]
    pub contacts: Vec<ContactMessage>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
}

/// A static location.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LocationMessage {
    /// Latitude.
    #[prost(double, optional, tag = "1")]
    pub degrees_latitude: Option<f64>,
    /// Longitude.
    #[prost(double, optional, tag = "2")]
    pub degrees_longitude: Option<f64>,
    /// Place name.
    #[prost(string, optional, tag = "3")]
    pub name: Option<String>,
    /// Street address.
    #[prost(string, optional, tag = "4")]
    pub address: Option<String>,
    /// Link to the place.
    #[prost(string, optional, tag = "5")]
    pub url: Option<String>,
    /// Part of a live location.
    #[prost(bool, optional, tag = "6")]
    pub is_live: Option<bool>,
    /// Accuracy radius.
    #[prost(uint32, optional, tag = "7")]
    pub accuracy_in_meters: Option<u32>,
    /// Speed.
    #[prost(float, optional, tag = "8")]
    pub speed_in_mps: Option<f32>,
    /// Heading.
    #[prost(uint32, optional, tag = "9")]
    pub degrees_clockwise_from_magnetic_north: Option<u32>,
    /// Free text.
    #[prost(string, optional, tag = "11")]
    pub comment: Option<String>,
    /// Map preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
}

/// A live location update.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LiveLocationMessage {
    /// Latitude.
    #[prost(double, optional, tag = "1")]
    pub degrees_latitude: Option<f64>,
    /// Longitude.
    #[prost(double, optional, tag = "2")]
    pub degrees_longitude: Option<f64>,
    /// Accuracy radius.
    #[prost(uint32, optional, tag = "3")]
    pub accuracy_in_meters: Option<u32>,
    /// Speed.
    #[prost(float, optional, tag = "4")]
    pub speed_in_mps: Option<f32>,
    /// Heading.
    #[prost(uint32, optional, tag = "5")]
    pub degrees_clockwise_from_magnetic_north: Option<u32>,
    /// Free text.
    #[prost(string, optional, tag = "6")]
    pub caption: Option<String>,
    /// Orders updates.
    #[prost(int64, optional, tag = "7")]
    pub sequence_number: Option<i64>,
    /// Seconds since sharing started.
    #[prost(uint32, optional, tag = "8")]
    pub time_offset: Option<u32>,
    /// Map preview.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
}

/// Text with a quote, mentions or a link preview; some clients send even plain text this way.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExtendedTextMessage {
    /// The text.
    #[prost(string, optional, tag = "1")]
    pub text: Option<String>,
    /// The URL in the text a preview was made for.
    #[prost(string, optional, tag = "2")]
    pub matched_text: Option<String>,
    /// The preview's canonical URL.
    #[prost(string, optional, tag = "4")]
    pub canonical_url: Option<String>,
    /// The preview's description.
    #[prost(string, optional, tag = "5")]
    pub description: Option<String>,
    /// The preview's title.
    #[prost(string, optional, tag = "6")]
    pub title: Option<String>,
    /// Status text colour.
    #[prost(fixed32, optional, tag = "7")]
    pub text_argb: Option<u32>,
    /// Status background colour.
    #[prost(fixed32, optional, tag = "8")]
    pub background_argb: Option<u32>,
    /// Status font, see [`ExtendedTextFont`].
    #[prost(enumeration = "ExtendedTextFont", optional, tag = "9")]
    pub font: Option<i32>,
    /// Preview kind, see [`ExtendedTextPreviewType`].
    #[prost(enumeration = "ExtendedTextPreviewType", optional, tag = "10")]
    pub preview_type: Option<i32>,
    /// Preview image.
    #[prost(bytes = "vec", optional, tag = "16")]
    pub jpeg_thumbnail: Option<Vec<u8>>,
    /// Quote and mention data.
    #[prost(message, optional, tag = "17")]
    pub context_info: Option<ContextInfo>,
    /// Do not play a video preview inline.
    #[prost(bool, optional, tag = "18")]
    pub do_not_play_inline: Option<bool>,
}

/// `ExtendedTextMessage.font`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum ExtendedTextFont {
    SansSerif = 0,
    Serif = 1,
    NoricanRegular = 2,
    BryndanWrite = 3,
    BebasneueRegular = 4,
    OswaldHeavy = 5,
}

/// `ExtendedTextMessage.previewType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum ExtendedTextPreviewType {
    None = 0,
    Video = 1,
}

/// Control content: revokes ("delete for everyone") and disappearing-message settings.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtocolMessage {
    /// The message acted on.
    #[prost(message, optional, tag = "1")]
    pub key: Option<MessageKey>,
    /// What to do, see [`ProtocolMessageType`].
    #[prost(enumeration = "ProtocolMessageType", optional, tag = "2")]
    pub r#type: Option<i32>,
    /// New disappearing-message lifetime in seconds.
    #[prost(uint32, optional, tag = "4")]
    pub ephemeral_expiration: Option<u32>,
    /// When that setting changed.
    #[prost(int64, optional, tag = "5")]
    pub ephemeral_setting_timestamp: Option<i64>,
}

/// `ProtocolMessage.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
#[allow(missing_docs)]
pub enum ProtocolMessageType {
    Revoke = 0,
    EphemeralSetting = 3,
    EphemeralSyncResponse = 4,
    HistorySyncNotification = 5,
    AppStateSyncKeyShare = 6,
    AppStateSyncKeyRequest = 7,
    MsgFanoutBackfillRequest = 8,
    InitialSecurityNotificationSettingSync = 9,
    AppStateFatalExceptionNotification = 10,
}

/// The content messages that carry a `contextInfo` (quotes, mentions, forwarding; PROTOCOL.md
/// 9.4), listed once for both accessors.
macro_rules! context_carriers {
    ($($field:ident),* $(,)?) => {
        impl Message {
            /// The `contextInfo` of the first content message that has one.
            pub fn context_info(&self) -> Option<&ContextInfo> {
                [$(self.$field.as_ref().and_then(|m| m.context_info.as_ref())),*]
                    .into_iter()
                    .flatten()
                    .next()
            }

            /// Where the content's `contextInfo` lives: in its first content message that can
            /// carry one; `None` for content that has none (plain `conversation`, protocol
            /// messages, nothing).
            pub fn context_info_slot(&mut self) -> Option<&mut Option<ContextInfo>> {
                $(
                    if let Some(m) = &mut self.$field {
                        return Some(&mut m.context_info);
                    }
                )*
                None
            }
        }
    };
}

context_carriers!(
    extended_text_message,
    image_message,
    video_message,
    audio_message,
    document_message,
    sticker_message,
    contact_message,
    contacts_array_message,
    location_message,
    live_location_message,
);
