//! Typed server functions, one module per domain, with the DTOs they exchange.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod health;
pub mod overview;
pub mod sessions;
pub mod shares;
pub mod users;
