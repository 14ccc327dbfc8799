//! One module per route.

pub mod accounts;
pub mod audit;
pub mod certificates;
pub mod dashboard;
pub mod health;
pub mod identity;
pub mod login;
pub mod not_found;
pub mod quic;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod users;
pub mod welcome;
