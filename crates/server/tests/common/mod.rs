//! Helpers the server's integration tests share.

pub mod client;
pub mod idp;
pub mod openapi;
