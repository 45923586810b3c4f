//! The company policy: what it says ([`schema`]), where it comes from and whether it can be
//! trusted ([`load`]).
//!
//! Policy is data: every rule the shim applies lives in TOML, and code here only implements
//! the mechanisms. The default policy (`policies/default.toml`) is embedded in the binary so a
//! fresh install works with no files at all.

pub mod binary;
pub mod checks;
pub mod confine;
pub mod effects;
pub mod env;
pub mod lint;
pub mod load;
pub mod matrix;
pub mod roles;
pub mod rules;
pub mod schema;
pub mod snapshot;
pub mod tools;
pub mod validate;

pub use load::{LoadedPolicy, PolicyOrigin};
pub use schema::Policy;
