//! Exam delivery's pure core: drawing forms (fair ones where the pool is calibrated), the server's clock, the response log, registrations and
//! their batches, and candidates' comments on items.

pub mod batch;
pub mod chain;
pub mod clock;
pub mod comment;
pub mod fair;
pub mod form;
pub mod limits;
pub mod registration;
