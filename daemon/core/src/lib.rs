//! waweb-core: the pure half of waweb. It turns bytes into meaning and back, and never touches
//! tokio, files or sockets, so everything here is tested with plain `#[test]`s over bytes.
//!
//! [`crypto`] (keys, HKDF, AES-CBC, HMAC), [`binary`] (the node codec and its token table),
//! [`wire`] (framing, seal and open), [`login`] (the sans-IO login and restore state machine),
//! [`message`] (protobuf `WebMessageInfo` to and from events) and [`media`] (media keys, streaming
//! decrypt and encrypt), [`session`] (what each push means after login). The daemon `wawebd` drives them; the simulator `waweb-sim` uses their
//! server-side halves.

pub mod binary;
pub mod crypto;
pub mod hex;
pub mod login;
pub mod media;
pub mod message;
pub mod session;
pub mod wire;

#[cfg(test)]
mod testing;
