//! Exam delivery's pure core: drawing forms, the server's clock, the response log, registrations and
//! their batches.

pub mod batch;
pub mod chain;
pub mod clock;
pub mod form;
pub mod limits;
pub mod registration;
