//! Helpers the server's integration tests share.

pub mod idp;
pub mod openapi;
