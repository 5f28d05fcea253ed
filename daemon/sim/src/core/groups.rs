//! The service's groups: who is in each, who administers it, its subject, description,
//! settings and invite code, and the rules the service enforced on changing them. Pure state:
//! every operation either changes it and says what changed, or refuses with the status the
//! service answered. [`super::group_ops`] wires it to the protocol and the pushes.
//!
//! Statuses (PROTOCOL.md is silent on most; B reads any non-2xx as a refusal):
//!
//! ```text
//! 400 malformed (no jid, unknown type or setting value)   401 not a member / not an admin where needed
//! 404 unknown group or invite code                        406 subject empty or too long, description too long
//! 409 description `prev` is not the current one, joining a group one is in
//! per participant: 200 done, 409 already in (add), 404 not in (remove/promote/demote), 403 the super admin (demote)
//! ```

use std::collections::BTreeMap;

use super::random_bytes;

/// `maxSubject` and `groupDescLength` of the `Props` the simulator sends.
pub(super) const MAX_SUBJECT: usize = 25;
pub(super) const MAX_DESCRIPTION: usize = 512;

/// A refusal: the status the service answered.
pub(super) type Status = u16;

/// Someone's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Role {
    pub(super) admin: bool,
    pub(super) super_admin: bool,
}

/// A group's description and who set it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Description {
    pub(super) text: String,
    pub(super) id: String,
    pub(super) owner: String,
    pub(super) time: u64,
}

/// One group. People are canonical JIDs (`<digits>@s.whatsapp.net`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Group {
    pub(super) subject: String,
    pub(super) subject_time: u64,
    pub(super) subject_owner: String,
    pub(super) creation: u64,
    pub(super) owner: String,
    /// In the order they joined.
    pub(super) participants: Vec<(String, Role)>,
    pub(super) description: Option<Description>,
    pub(super) announce: bool,
    pub(super) restrict: bool,
    pub(super) ephemeral: u64,
    pub(super) invite: String,
}

impl Group {
    /// A new group by `owner` (its super admin) with `others` as ordinary participants.
    pub(super) fn new(owner: &str, subject: &str, others: &[String], now: u64) -> Group {
        let mut participants = vec![(
            owner.to_owned(),
            Role {
                admin: true,
                super_admin: true,
            },
        )];
        for other in others {
            if participants.iter().all(|(jid, _)| jid != other) {
                participants.push((other.clone(), Role::default()));
            }
        }
        Group {
            subject: subject.to_owned(),
            subject_time: now,
            subject_owner: owner.to_owned(),
            creation: now,
            owner: owner.to_owned(),
            participants,
            description: None,
            announce: false,
            restrict: false,
            ephemeral: 0,
            invite: invite_code(),
        }
    }

    pub(super) fn role(&self, jid: &str) -> Option<Role> {
        self.participants
            .iter()
            .find(|(member, _)| member == jid)
            .map(|(_, role)| *role)
    }

    /// `who` must be in the group (401 otherwise).
    pub(super) fn member(&self, who: &str) -> Result<Role, Status> {
        self.role(who).ok_or(401)
    }

    /// `who` must administer the group (401 otherwise).
    pub(super) fn admin(&self, who: &str) -> Result<(), Status> {
        match self.member(who)?.admin {
            true => Ok(()),
            false => Err(401),
        }
    }

    /// Editing the subject or description: any member, or only admins when `restrict` (the
    /// service's "only admins can edit group info").
    fn editor(&self, who: &str) -> Result<(), Status> {
        self.member(who)?;
        if self.restrict {
            self.admin(who)?;
        }
        Ok(())
    }

    /// Whether `who` may send into the group: members, and only admins when `announce`.
    pub(super) fn may_send(&self, who: &str) -> Result<(), Status> {
        self.member(who)?;
        if self.announce {
            self.admin(who)?;
        }
        Ok(())
    }

    /// A participant change by `who` (an admin); each participant's status, in order.
    pub(super) fn change(
        &mut self,
        who: &str,
        op: &str,
        participants: &[String],
    ) -> Result<Vec<(String, Status)>, Status> {
        self.admin(who)?;
        let mut statuses = Vec::with_capacity(participants.len());
        for jid in participants {
            let position = self
                .participants
                .iter()
                .position(|(member, _)| member == jid);
            let status = match (op, position) {
                ("add", Some(_)) => 409,
                ("add", None) => {
                    self.participants.push((jid.clone(), Role::default()));
                    200
                }
                (_, None) => 404,
                ("remove", Some(at)) => {
                    self.participants.remove(at);
                    200
                }
                ("promote", Some(at)) => {
                    self.participants[at].1.admin = true;
                    200
                }
                ("demote", Some(at)) if self.participants[at].1.super_admin => 403,
                ("demote", Some(at)) => {
                    self.participants[at].1.admin = false;
                    200
                }
                _ => return Err(400),
            };
            statuses.push((jid.clone(), status));
        }
        self.keep_an_admin();
        Ok(statuses)
    }

    /// `who` leaves. When the last admin goes, the longest-standing participant becomes one,
    /// as the service did.
    pub(super) fn leave(&mut self, who: &str) -> Result<(), Status> {
        self.member(who)?;
        self.participants.retain(|(member, _)| member != who);
        self.keep_an_admin();
        Ok(())
    }

    fn keep_an_admin(&mut self) {
        if self.participants.iter().all(|(_, role)| !role.admin)
            && let Some((_, role)) = self.participants.first_mut()
        {
            role.admin = true;
        }
    }

    pub(super) fn rename(&mut self, who: &str, subject: &str, now: u64) -> Result<(), Status> {
        self.editor(who)?;
        check_subject(subject)?;
        self.subject = subject.to_owned();
        self.subject_time = now;
        self.subject_owner = who.to_owned();
        Ok(())
    }

    /// A new description `text` under `id`, replacing the one `prev` names (409 when that is
    /// not the current one: someone changed it meanwhile); empty `text` removes it.
    pub(super) fn describe(
        &mut self,
        who: &str,
        id: &str,
        prev: Option<&str>,
        text: &str,
        now: u64,
    ) -> Result<(), Status> {
        self.editor(who)?;
        if text.chars().count() > MAX_DESCRIPTION {
            return Err(406);
        }
        if prev != self.description.as_ref().map(|desc| desc.id.as_str()) {
            return Err(409);
        }
        self.description = (!text.is_empty()).then(|| Description {
            text: text.to_owned(),
            id: id.to_owned(),
            owner: who.to_owned(),
            time: now,
        });
        Ok(())
    }

    /// A `prop` change by an admin: `announcement`/`locked` `"true"`/`"false"`, `ephemeral`
    /// seconds. What changed, as the `group` command's action and value.
    pub(super) fn set(
        &mut self,
        who: &str,
        setting: &str,
        value: &str,
    ) -> Result<(&'static str, String), Status> {
        self.admin(who)?;
        let flag = || match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(400u16),
        };
        let on_off = |on: bool| if on { "on" } else { "off" }.to_owned();
        Ok(match setting {
            "announcement" => {
                self.announce = flag()?;
                ("announce", on_off(self.announce))
            }
            "locked" => {
                self.restrict = flag()?;
                ("restrict", on_off(self.restrict))
            }
            "ephemeral" => {
                self.ephemeral = value.parse().map_err(|_| 400u16)?;
                ("ephemeral", self.ephemeral.to_string())
            }
            _ => return Err(400),
        })
    }

    /// The invite code, for an admin (the service showed invite links to admins only).
    pub(super) fn invite_for(&self, who: &str) -> Result<&str, Status> {
        self.admin(who)?;
        Ok(&self.invite)
    }

    /// A new invite code; the old one stops working.
    pub(super) fn reset_invite(&mut self, who: &str) -> Result<&str, Status> {
        self.admin(who)?;
        self.invite = invite_code();
        Ok(&self.invite)
    }
}

/// 1 to `maxSubject` characters.
pub(super) fn check_subject(subject: &str) -> Result<(), Status> {
    let length = subject.chars().count();
    if subject.trim().is_empty() || length > MAX_SUBJECT {
        return Err(406);
    }
    Ok(())
}

/// Every group, by JID.
#[derive(Debug, Default)]
pub(super) struct Groups {
    pub(super) by_jid: BTreeMap<String, Group>,
}

impl Groups {
    pub(super) fn get(&self, chat: &str) -> Result<&Group, Status> {
        self.by_jid.get(chat).ok_or(404)
    }

    pub(super) fn get_mut(&mut self, chat: &str) -> Result<&mut Group, Status> {
        self.by_jid.get_mut(chat).ok_or(404)
    }

    /// A new group's JID: `<creator's number>-<creation time>@g.us`, the next second when
    /// that one is taken.
    pub(super) fn new_jid(&self, owner: &str, now: u64) -> String {
        let number = owner.split('@').next().unwrap_or_default();
        (now..)
            .map(|second| format!("{number}-{second}@g.us"))
            .find(|jid| !self.by_jid.contains_key(jid))
            .unwrap_or_default()
    }

    /// Joins `who` to the group whose invite code is `code`.
    pub(super) fn join(&mut self, who: &str, code: &str) -> Result<String, Status> {
        let (jid, group) = self
            .by_jid
            .iter_mut()
            .find(|(_, group)| group.invite == code)
            .ok_or(404u16)?;
        if group.role(who).is_some() {
            return Err(409);
        }
        group.participants.push((who.to_owned(), Role::default()));
        Ok(jid.clone())
    }
}

/// A fresh invite code: 22 letters and digits, like the service's.
fn invite_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    random_bytes::<22>()
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "4915100000000@s.whatsapp.net";
    const ALICE: &str = "4915100000001@s.whatsapp.net";
    const BOB: &str = "4915100000002@s.whatsapp.net";

    fn group() -> Group {
        Group::new(ME, "Friends", &[ALICE.into(), BOB.into()], 100)
    }

    #[test]
    fn only_admins_change_participants_and_settings() {
        let mut group = group();
        assert_eq!(
            group.change(ALICE, "add", &["49151000009@s.whatsapp.net".into()]),
            Err(401)
        );
        assert_eq!(group.set(ALICE, "announcement", "true"), Err(401));
        let statuses = group
            .change(
                ME,
                "promote",
                &[ALICE.into(), "4915100000009@s.whatsapp.net".into()],
            )
            .unwrap();
        assert_eq!(statuses[0].1, 200);
        assert_eq!(statuses[1].1, 404);
        assert_eq!(
            group.change(ALICE, "demote", &[ME.into()]).unwrap()[0].1,
            403
        );
        assert_eq!(group.change(ALICE, "add", &[BOB.into()]).unwrap()[0].1, 409);
        assert_eq!(
            group.change(ALICE, "remove", &[BOB.into()]).unwrap()[0].1,
            200
        );
        assert_eq!(group.member(BOB), Err(401));
        assert_eq!(group.set(ALICE, "announcement", "maybe"), Err(400));
        assert_eq!(
            group.set(ALICE, "announcement", "true"),
            Ok(("announce", "on".into()))
        );
        assert_eq!(group.may_send(ALICE), Ok(()));
        group.change(ME, "demote", &[ALICE.into()]).unwrap();
        assert_eq!(group.may_send(ALICE), Err(401));
    }

    #[test]
    fn subject_and_description_follow_restrict_and_prev() {
        let mut group = group();
        group.rename(ALICE, "Lunch", 200).unwrap();
        assert_eq!(
            (group.subject.as_str(), group.subject_owner.as_str()),
            ("Lunch", ALICE)
        );
        assert_eq!(group.rename(ALICE, &"x".repeat(26), 200), Err(406));
        group.set(ME, "locked", "true").unwrap();
        assert_eq!(group.rename(ALICE, "Dinner", 201), Err(401));
        group.describe(ME, "D1", None, "noon", 202).unwrap();
        assert_eq!(group.describe(ME, "D2", None, "late", 203), Err(409));
        group.describe(ME, "D2", Some("D1"), "", 203).unwrap();
        assert_eq!(group.description, None);
    }

    #[test]
    fn invites_join_reset_and_leaving_keeps_an_admin() {
        let mut groups = Groups::default();
        let jid = groups.new_jid(ME, 100);
        groups.by_jid.insert(jid.clone(), group());
        assert_eq!(groups.new_jid(ME, 100), "4915100000000-101@g.us");
        let group = groups.get_mut(&jid).unwrap();
        assert_eq!(group.invite_for(ALICE), Err(401));
        let old = group.invite_for(ME).unwrap().to_owned();
        let new = group.reset_invite(ME).unwrap().to_owned();
        assert_ne!(old, new);
        let carol = "4915100000003@s.whatsapp.net";
        assert_eq!(groups.join(carol, &old), Err(404));
        assert_eq!(groups.join(carol, &new), Ok(jid.clone()));
        assert_eq!(groups.join(carol, &new), Err(409));
        let group = groups.get_mut(&jid).unwrap();
        group.leave(ME).unwrap();
        assert_eq!(group.leave(ME), Err(401));
        assert!(
            group.role(ALICE).unwrap().admin,
            "the oldest participant took over"
        );
        assert_eq!(groups.get("1-2@g.us").map(|_| ()), Err(404));
    }
}
