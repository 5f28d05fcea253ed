//! The profile subcommands (DESIGN.md 8): who is on WhatsApp, pictures, "about" texts, our
//! name, the block list.
//!
//! ```text
//! wawebctl on-whatsapp 4915100000001 "+49 151 00000099"
//! wawebctl picture 4915100000001 -o ada.jpg       (prints the URL, or "no picture")
//! wawebctl set-picture me.png
//! wawebctl about 4915100000001 | wawebctl about   (ours)
//! wawebctl set-about "At the gym" | wawebctl set-name "Ada L."
//! wawebctl block 4915100000003 | wawebctl unblock 4915100000003 | wawebctl blocklist
//! ```

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;
use waweb_proto::methods::{self, Method};
use waweb_proto::{
    AboutParams, AboutResult, BlockParams, BlocklistResult, NoParams, OnWhatsappParams,
    OnWhatsappResult, ProfilePictureParams, ProfilePictureResult, SetAboutParams,
    SetProfilePictureParams, SetPushNameParams,
};

use crate::{Cli, Failure, Session, absolute, output, table};

/// The profile subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Tell which numbers are on WhatsApp (at most 50)
    OnWhatsapp {
        /// Phone numbers or JIDs
        #[arg(required = true, value_name = "NUMBER")]
        numbers: Vec<String>,
    },

    /// Show the URL of a person's or group's profile picture, and download it with -o
    Picture {
        /// A phone number or JID (…@s.whatsapp.net, …@g.us)
        jid: String,
        /// Write the JPEG here (an existing file is replaced)
        #[arg(long, short, value_name = "PATH")]
        output: Option<PathBuf>,
    },

    /// Set our profile picture from a JPEG or PNG (cropped to the middle square)
    SetPicture {
        /// The picture file
        file: PathBuf,
    },

    /// Show someone's "about" text [default: ours]
    About {
        /// A phone number or JID
        jid: Option<String>,
    },

    /// Set our "about" text
    SetAbout {
        /// The text (1-139 characters)
        text: String,
    },

    /// Set our display name (push name)
    SetName {
        /// The name (1-25 characters)
        name: String,
    },

    /// Block a person
    Block {
        /// A phone number or JID
        jid: String,
    },

    /// Unblock a person
    Unblock {
        /// A phone number or JID
        jid: String,
    },

    /// List everyone blocked
    Blocklist,
}

/// Runs one profile subcommand.
pub fn run(cli: &Cli, command: &ProfileCommand, out: &mut dyn Write) -> Result<(), Failure> {
    let mut session = Session::connect(cli)?;
    match command {
        ProfileCommand::OnWhatsapp { numbers } => {
            let params = OnWhatsappParams {
                numbers: numbers.clone(),
            };
            session.on_whatsapp(out, params)
        }
        ProfileCommand::Picture { jid, output } => {
            let output = output.as_deref().map(absolute).transpose()?;
            let params = ProfilePictureParams {
                jid: jid.clone(),
                output: output.clone(),
            };
            let (raw, ProfilePictureResult { url }) =
                session.call::<methods::ProfilePicture>(params)?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            match (url, output) {
                (None, _) => writeln!(out, "{jid} has no profile picture"),
                (Some(url), Some(output)) => writeln!(out, "{url}\nwrote {}", output.display()),
                (Some(url), None) => writeln!(out, "{url}"),
            }
            .map_err(output_error)
        }
        ProfileCommand::SetPicture { file } => {
            let params = SetProfilePictureParams {
                path: absolute(file)?,
            };
            session.done::<methods::SetProfilePicture>(out, params, "profile picture set")
        }
        ProfileCommand::About { jid } => {
            let jid = match jid {
                Some(jid) => jid.clone(),
                None => own_jid(&mut session)?,
            };
            let (raw, AboutResult { text }) =
                session.call::<methods::About>(AboutParams { jid })?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            writeln!(out, "{text}").map_err(output_error)
        }
        ProfileCommand::SetAbout { text } => {
            let params = SetAboutParams { text: text.clone() };
            session.done::<methods::SetAbout>(out, params, "about text set")
        }
        ProfileCommand::SetName { name } => {
            let params = SetPushNameParams { name: name.clone() };
            session.done::<methods::SetPushName>(out, params, &format!("name set to {name}"))
        }
        ProfileCommand::Block { jid } => {
            let params = BlockParams { jid: jid.clone() };
            session.done::<methods::Block>(out, params, &format!("blocked {jid}"))
        }
        ProfileCommand::Unblock { jid } => {
            let params = BlockParams { jid: jid.clone() };
            session.done::<methods::Unblock>(out, params, &format!("unblocked {jid}"))
        }
        ProfileCommand::Blocklist => {
            let (raw, BlocklistResult { jids }) = session.call::<methods::Blocklist>(NoParams)?;
            if session.json {
                return session.print_raw(out, &raw);
            }
            if jids.is_empty() {
                return writeln!(out, "nobody is blocked").map_err(output_error);
            }
            let rows: Vec<Vec<String>> = jids.into_iter().map(|jid| vec![jid]).collect();
            table::write(out, &["JID"], &rows).map_err(output_error)
        }
    }
}

fn output_error(error: std::io::Error) -> Failure {
    output(error)
}

/// Our own JID, from `status`.
fn own_jid(session: &mut Session) -> Result<String, Failure> {
    let (_, status) = session.call::<methods::Status>(NoParams)?;
    status.me.map(|me| me.wid).ok_or_else(|| {
        Failure::new(
            crate::exit::NOT_LOGGED_IN,
            "not logged in (run: wawebctl login)",
        )
    })
}

impl Session {
    fn on_whatsapp(
        &mut self,
        out: &mut dyn Write,
        params: <methods::OnWhatsapp as Method>::Params,
    ) -> Result<(), Failure> {
        let (raw, OnWhatsappResult { results }) = self.call::<methods::OnWhatsapp>(params)?;
        if self.json {
            return self.print_raw(out, &raw);
        }
        let yes_no = |yes: bool| if yes { "yes" } else { "no" }.to_owned();
        let rows: Vec<Vec<String>> = results
            .into_iter()
            .map(|result| {
                vec![
                    result.input,
                    result.jid,
                    yes_no(result.exists),
                    yes_no(result.business),
                ]
            })
            .collect();
        table::write(out, &["NUMBER", "JID", "ON WHATSAPP", "BUSINESS"], &rows)
            .map_err(output_error)
    }
}
