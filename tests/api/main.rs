//! HTTP and storage tests: one binary, every test run on SQLite and on PostgreSQL.

mod helpers;

mod auth;
mod bank_import;
mod cli;
mod delivery;
mod demo;
mod exam_http;
mod kill;
mod rating_http;
mod registration;
mod scoring;
