//! HTTP and storage tests: one binary, every test run on SQLite and on PostgreSQL.

mod helpers;

mod abuse;
mod analytic;
mod appeals;
mod auth;
mod backup;
mod bank_import;
mod calibration;
mod caps;
mod cli;
mod clock;
mod comments;
mod config_file;
mod connections;
mod console;
mod csv_downloads;
mod delivery;
mod demo;
mod disk_full;
mod equating;
mod exam_http;
mod exam_pages;
mod integrity;
mod kill;
mod observability;
mod rater_quality;
mod rating_http;
mod registration;
mod report;
mod results;
mod route_roles;
mod scoring;
mod studies_committee;
mod studies_panel;
mod two_factor;
