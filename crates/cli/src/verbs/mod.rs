//! One module per part of the engine, each holding its verbs' command-line arguments next to
//! their implementation.

pub mod access;
pub mod apikey;
pub mod backup;
pub mod bench;
pub mod demo;
pub mod detect;
pub mod init;
pub mod keys;
pub mod log;
pub mod policy;
pub mod serve;
pub mod tokens;
pub mod verify;
