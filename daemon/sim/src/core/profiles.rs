//! The phone's profile side (PROTOCOL.md 11.1, 11.2): who is on WhatsApp, profile pictures
//! (kept per JID, served by the media host at the `eurl` answered), "about" texts, our push
//! name and the block list, each changed by its set-action and read back by its query.
//!
//! ```text
//! ["query","exist",J]           -> {"status":200,"jid","biz"} for contacts, us and numbers added by `on_whatsapp`; else 404
//! ["query","ProfilePicThumb",J] -> {"eurl","tag"} | {"status":404}
//! ["query","Status",J]          -> {"status":"<text>"} | {"status":404}
//! set ["picture",{jid,id=tag,type:set},[image 640x640 JPEG, preview 96x96 JPEG]] -> {"status":200,"eurl","tag"} | 400
//! set ["status",null,<text>]    -> our about text          set ["profile",{name}] -> {"pushname"}, then ["Conn",{"pushname"}]
//! set ["block",{type:add|remove},[["user",{jid}]]] -> the list changes, then ["Blocklist",…]
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::sync::LazyLock;

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb};
use serde_json::{Value, json};
use waweb_core::binary::Node;
use waweb_core::message;

use super::phone::CONTACTS;
use super::{Core, str_at, user_jid};
use crate::media_host::Store;

/// The sides a `picture` set-action's two JPEGs must have.
const PICTURE_SIDE: u32 = 640;
const PREVIEW_SIDE: u32 = 96;

/// JIDs in the spelling of JSON replies: `@c.us` for people, `@g.us` for groups.
pub(super) fn json_jid(number_or_jid: &str) -> String {
    message::jid_for_json_command(&user_jid(number_or_jid))
}

/// What the phone knows of profiles, keyed by [`json_jid`].
#[derive(Default)]
pub(super) struct Profiles {
    /// The picture of each JID that has one: its URL on the media host and its `tag`.
    pictures: HashMap<String, (String, String)>,
    abouts: HashMap<String, String>,
    /// Numbers beyond the contacts that are on WhatsApp, with whether they are businesses.
    known: BTreeMap<String, bool>,
    next_tag: u64,
}

/// The first contact's and the group's pictures, encoded once: every core starts with them, and
/// encoding two 640x640 JPEGs per core was most of a core's start-up (the sim_frames fuzz target
/// builds one per input).
static INITIAL_PICTURES: LazyLock<[Vec<u8>; 2]> =
    LazyLock::new(|| [solid_jpeg([200, 40, 40]), solid_jpeg([40, 40, 200])]);

/// A one-colour JPEG of the picture size, as contacts' pictures.
fn solid_jpeg(colour: [u8; 3]) -> Vec<u8> {
    let image = ImageBuffer::from_pixel(PICTURE_SIDE, PICTURE_SIDE, Rgb(colour));
    let mut out = Vec::new();
    let _ = DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut out), ImageFormat::Jpeg);
    out
}

/// Checks that `bytes` are a JPEG of `side`x`side` that decodes; the size is read from the
/// header first, so a client's picture claiming a huge canvas is refused before decoding.
fn check_jpeg(bytes: Option<&[u8]>, what: &str, side: u32) -> Result<(), String> {
    let bytes = bytes.ok_or_else(|| format!("the {what} has no bytes"))?;
    let reader = || image::ImageReader::with_format(Cursor::new(bytes), ImageFormat::Jpeg);
    let not_jpeg = |error: image::ImageError| format!("the {what} is not a JPEG: {error}");
    let (width, height) = reader().into_dimensions().map_err(not_jpeg)?;
    if (width, height) != (side, side) {
        return Err(format!("the {what} is {width}x{height}, not {side}x{side}"));
    }
    reader().decode().map_err(not_jpeg)?;
    Ok(())
}

impl Profiles {
    /// The first contact and the group have pictures, the others none; every contact has an
    /// about text but the last.
    pub(super) fn new(store: &Store, group: &str) -> Self {
        let mut profiles = Profiles {
            pictures: HashMap::new(),
            abouts: HashMap::new(),
            known: BTreeMap::new(),
            next_tag: 1,
        };
        let [contact, group_picture] = &*INITIAL_PICTURES;
        profiles.set_picture(store, &json_jid(CONTACTS[0].number), contact.clone());
        profiles.set_picture(store, group, group_picture.clone());
        for (contact, text) in CONTACTS
            .iter()
            .zip(["Hey there! I am using WhatsApp.", "At work"])
        {
            profiles
                .abouts
                .insert(json_jid(contact.number), text.to_owned());
        }
        profiles
    }

    fn set_picture(&mut self, store: &Store, jid: &str, jpeg: Vec<u8>) -> (String, String) {
        let (url, _) = store.put(jpeg);
        let tag = self.next_tag.to_string();
        self.next_tag += 1;
        self.pictures
            .insert(jid.to_owned(), (url.clone(), tag.clone()));
        (url, tag)
    }

    /// `on_whatsapp` control command: a number is (or is no longer) on WhatsApp.
    pub(super) fn set_known(&mut self, number: &str, business: bool, remove: bool) -> String {
        let jid = json_jid(number);
        if remove {
            self.known.remove(&jid);
        } else {
            self.known.insert(jid.clone(), business);
        }
        jid
    }

    /// What the phone holds for `jid`, for scripts to compare against.
    pub(super) fn state_of(&self, jid: &str) -> Value {
        let jid = json_jid(jid);
        json!({
            "jid": jid,
            "picture": self.pictures.get(&jid).map(|(url, _)| url),
            "about": self.abouts.get(&jid),
        })
    }
}

impl Core {
    fn own_json_jid(&self) -> String {
        json_jid(&self.config.phone_number)
    }

    /// Whether `jid` is on WhatsApp, and a business: contacts, us, and numbers added.
    fn exists(&self, jid: &str) -> Option<bool> {
        if jid == self.own_json_jid() {
            return Some(false);
        }
        if CONTACTS
            .iter()
            .any(|contact| json_jid(contact.number) == jid)
        {
            return Some(false);
        }
        self.profiles.known.get(jid).copied()
    }

    /// The JSON queries of 11.1 about profiles: `exist`, `ProfilePicThumb`, `Status`.
    pub(super) fn on_profile_query(&mut self, conn: u64, tag: &str, array: &[Value]) {
        let jid = str_at(array, 2).map(json_jid).unwrap_or_default();
        let reply = match str_at(array, 1) {
            Some("exist") => match self.exists(&jid) {
                Some(biz) => json!({"status": 200, "jid": jid, "biz": biz}),
                None => json!({"status": 404}),
            },
            Some("ProfilePicThumb") => match self.profiles.pictures.get(&jid) {
                Some((url, picture_tag)) => json!({"eurl": url, "tag": picture_tag}),
                None => json!({"status": 404}),
            },
            Some("Status") => match self.profiles.abouts.get(&jid) {
                Some(text) => json!({"status": text}),
                None => json!({"status": 404}),
            },
            _ => json!({"status": 404}),
        };
        self.send_json(conn, tag, &reply);
    }

    /// One profile child of an `action type=set` (`profile`, `status`, `picture`, `block`):
    /// the state changes, the reply gains its fields (or a failure status), and the pushes that
    /// announce the change are returned, to follow the reply.
    pub(super) fn on_profile_set(
        &mut self,
        tag: &str,
        child: &Node,
        reply: &mut Value,
    ) -> Vec<Value> {
        match child.tag.as_ref() {
            "profile" => {
                let name = child.get("name").unwrap_or_default().to_owned();
                self.config.pushname = name.clone();
                reply["pushname"] = json!(name);
                vec![json!(["Conn", {"pushname": name}])]
            }
            "status" => {
                let text = child.content_bytes().map(String::from_utf8_lossy);
                match text {
                    Some(text) if !text.is_empty() => {
                        let own = self.own_json_jid();
                        self.profiles.abouts.insert(own, text.into_owned());
                    }
                    _ => reply["status"] = json!(400),
                }
                Vec::new()
            }
            "picture" => {
                match self.picture_set(tag, child) {
                    Ok((url, picture_tag)) => {
                        reply["eurl"] = json!(url);
                        reply["tag"] = json!(picture_tag);
                    }
                    Err(why) => {
                        self.emit(json!({"type": "refused", "what": "picture", "reason": why}));
                        reply["status"] = json!(400);
                    }
                }
                Vec::new()
            }
            "block" => {
                let add = match child.get("type") {
                    Some("add") => true,
                    Some("remove") => false,
                    _ => {
                        reply["status"] = json!(400);
                        return Vec::new();
                    }
                };
                let users: Vec<String> = child
                    .children()
                    .iter()
                    .filter(|user| user.tag == "user")
                    .filter_map(|user| user.get("jid"))
                    .map(json_jid)
                    .collect();
                if users.is_empty() {
                    reply["status"] = json!(400);
                    return Vec::new();
                }
                for jid in users {
                    if add {
                        self.blocklist.insert(jid);
                    } else {
                        self.blocklist.remove(&jid);
                    }
                }
                vec![self.blocklist_push()]
            }
            _ => Vec::new(),
        }
    }

    /// A `picture` set-action: its `id` is the frame's tag, its JID ours or a group's, its
    /// image a 640x640 JPEG and its preview 96x96.
    fn picture_set(&mut self, tag: &str, child: &Node) -> Result<(String, String), String> {
        if child.get("id") != Some(tag) || child.get("type") != Some("set") {
            return Err("a picture set-action needs type=set and id = the frame's tag".into());
        }
        let jid = json_jid(child.get("jid").unwrap_or_default());
        if jid != self.own_json_jid() && !message::is_group(&jid) {
            return Err(format!("{jid} is neither us nor a group"));
        }
        let part = |name: &str| {
            child
                .children()
                .iter()
                .find(|part| part.tag == name)
                .and_then(Node::content_bytes)
        };
        let (image, preview) = (part("image"), part("preview"));
        check_jpeg(image, "image", PICTURE_SIDE)?;
        check_jpeg(preview, "preview", PREVIEW_SIDE)?;
        let image = image.unwrap_or_default().to_vec();
        let store = self.store.clone();
        Ok(self.profiles.set_picture(&store, &jid, image))
    }

    /// `forget_media`: the host forgets a URL (404 or 410); the phone re-uploads it to a new
    /// one, which the next `query media` answers, or with `for_good` no longer has it either.
    pub(super) fn forget_media(
        &mut self,
        url: &str,
        status: u16,
        for_good: bool,
    ) -> Result<Value, String> {
        let fresh = self.store.forget(url, status, for_good)?;
        let ids: Vec<String> = self
            .media
            .iter()
            .filter(|(_, media)| media.url.as_deref() == Some(url))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            match &fresh {
                Some(fresh) => {
                    if let Some(media) = self.media.get_mut(id) {
                        media.url = Some(fresh.clone());
                    }
                }
                None => {
                    self.media.remove(id);
                }
            }
        }
        Ok(json!({"url": fresh, "messages": ids}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_checked_for_format_and_size() {
        let jpeg = solid_jpeg([1, 2, 3]);
        assert_eq!(check_jpeg(Some(&jpeg), "image", 640), Ok(()));
        assert!(check_jpeg(Some(&jpeg), "preview", 96).is_err());
        assert!(check_jpeg(Some(&jpeg[..20]), "image", 640).is_err());
        assert!(check_jpeg(Some(b"\x89PNG"), "image", 640).is_err());
        assert!(check_jpeg(None, "image", 640).is_err());
    }
}
