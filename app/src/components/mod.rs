//! Reusable pieces of the console's pages.

pub mod chart;
pub mod events;
pub mod form;
pub mod format;
pub mod layout;
pub mod notice;
pub mod page;
pub mod resource;
pub mod table;
