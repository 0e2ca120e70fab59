//! Statistics over the register: cohorts, breakdowns, survival, turnover, multiple systems estimation. Pure, no IO.
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
