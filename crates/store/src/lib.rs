//! The register: an embedded SQLite database in the project folder, with migrations.
