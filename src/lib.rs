//! gowarden governs the Go toolchain on developer machines, devcontainers and CI runners.
//!
//! One binary plays two parts, chosen by the name it is invoked as (see `main.rs`): as `go` or
//! `gofmt` it is the *shim* ([`shim`]), which resolves the toolchain a project asks for,
//! applies the company policy and execs the real tool; as `gowarden` it is the admin CLI
//! ([`cli`]). All logic lives in this library so that tests and the CLI share it.

pub mod atomic_file;
pub mod audit;
pub mod auditing;
pub mod buildinfo;
pub mod cli;
pub mod confine;
pub mod date;
pub mod decision;
pub mod diag;
pub mod dirat;
pub mod drift;
pub mod environ;
pub mod envvars;
pub mod error;
pub mod gocli;
pub mod goenv;
pub mod gomod;
pub mod hex;
pub mod identity;
pub mod install;
pub mod location;
#[cfg(target_arch = "x86_64")]
pub mod memcopy;
pub mod outcome;
pub mod passwd;
pub mod path_lookup;
pub mod policy;
pub mod project;
pub mod rawfs;
pub mod repocheck;
pub mod report;
pub mod resolve;
pub mod shim;
pub mod stamp;
pub mod toolchain;
pub mod tools;
pub mod userdirs;
pub mod version;
pub mod versionfile;
pub mod warn_once;
pub mod wildcard;

#[cfg(test)]
mod layering;
