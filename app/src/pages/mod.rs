//! One module per route.

pub mod accounts;
pub mod audit;
pub mod dashboard;
pub mod login;
pub mod not_found;
pub mod setup;
