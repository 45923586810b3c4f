//! The integration tests: one test binary (linked once, not once per file), one module per
//! command or area. Filter by module: `cargo test --features test-hooks --test it check::`.
//! How to add a test and how snapshots are reviewed: docs/testing.md.

mod common;

// The shim: resolution, toolchains, roles, the environment, messages.
mod env_enforce;
mod fresh_inputs;
mod nested_go;
mod policy_cache;
mod policy_messages;
mod roles;
mod shim_resolution;
mod tiers_gomod;

// Real Go behind the shim.
mod confine;
mod e2e_real_go;
mod effects_differential;
mod effects_record;
mod tools;
mod version_tables;

// `gowarden check`, `policy check`, the version matrix.
mod check;
mod check_binary;
mod check_sarif;
mod matrix;
mod repo_check;
mod repo_check_go;
mod repo_lint;

// `gowarden drift`, `toolchain`.
mod drift;
mod toolchain_install;

// The audit trail and `audit report`.
mod audit_collector;
mod audit_lib;
mod audit_shim;
mod audit_users;
mod report;

// The command line, installation, shipped policies and images, as users meet them.
mod cli;
mod hosts;
mod images;
mod install_sh;
mod quickstart;
mod shipped_policies;
