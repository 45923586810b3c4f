//! The audit log: one tamper-evident record per go invocation (work in progress; the full
//! format description comes with the complete module).

mod escape;

pub use escape::{
    REDACTED, Redactor, decode_bytes, decode_os, encode_bytes, encode_os, glob_match,
    redact_url_userinfo, redact_url_userinfo_str,
};
