//! Record linkage: blocking, comparison, Fellegi-Sunter scoring with EM, clustering. Pure, no IO.
