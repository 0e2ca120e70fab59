//! Record linkage: blocking, comparison, Fellegi-Sunter scoring with EM, clustering. Pure, no IO.
//!
//! The stages, each a module over plain data: [`spec`] (what to compare), [`prepare`] (records to
//! columns), [`block`] (candidate pairs), [`compare`] (agreement levels), [`fs`] (m/u, EM,
//! scores, explanations), [`cluster`] (persons without chaining; [`competition`] weighs a
//! record's candidates in one list against each other), [`ids`] (stable person ids, decisions),
//! [`pipeline`] (the run), [`metrics`] (evaluation) and [`simulate`] (a register with known
//! truth); [`vocab`] resolves places and occupations across languages. Name matching enters
//! through the [`namekey::NameMatcher`] seam.

pub mod block;
pub mod cluster;
pub mod competition;
pub mod compare;
pub mod fs;
pub mod ids;
pub mod metrics;
pub mod namekey;
pub mod pipeline;
pub mod prepare;
pub mod simulate;
pub mod spec;
pub mod vocab;

pub use ids::{Decision, DecisionKind, IdEvent};
pub use namekey::{FoldingMatcher, NameMatcher, NamePart};
pub use pipeline::{Blocked, LinkInputs, LinkOutcome, Linker, blocking_recall, link};
pub use spec::{FieldKind, FieldSpec, LinkSpec, LinkType};
