//! Statistics over the register: cohorts, breakdowns, survival, turnover, multiple systems estimation. Pure, no IO.

// Matrix and tableau code indexes several arrays by the same row and column, as the formulas
// in its papers do; iterator chains there would hide which index is which.
#![allow(clippy::needless_range_loop)]
pub mod breakdown;
pub mod proportion;
pub mod timeseries;
pub mod duration;
pub mod survival;
pub mod profile;
pub mod turnover;
pub mod network;
pub mod person;
pub mod cohort;
pub mod analyses;
pub mod estimate;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
