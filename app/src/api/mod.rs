//! Typed server functions, one module per domain, with the DTOs they exchange.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod overview;
