//! Typed server functions, one module per domain: each a thin call into a service or the backend;
//! the data they exchange lives in `crate::model`.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod certs;
pub mod health;
pub mod overview;
pub mod quic;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod users;
