//! imh-exam: delivers and scores the written exam of the Infant Mental Health Endorsement.
//!
//! Pure logic (`bank`) sits in the middle; `store` (sqlx) and `web` (axum) are thin layers at
//! the edges. Imports run downwards: web → store → bank.

pub mod analyze;
pub mod auth;
pub mod bank;
pub mod cli;
pub mod config;
pub mod csv_safe;
pub mod demo;
pub mod demographics;
pub mod escape;
pub mod exam;
pub mod metrics;
pub mod scoring;
pub mod stats;
pub mod store;
pub mod two_factor;
pub mod web;
