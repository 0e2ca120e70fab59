//! Reads source files (CSV/TSV, XLSX, JSON Lines; any encoding) through a manifest into records, assertions and diagnostics.
