//! Statistics over the register: cohorts, breakdowns, survival, turnover, multiple systems estimation. Pure, no IO.
