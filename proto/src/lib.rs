//! placeholder

pub mod message;
