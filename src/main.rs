//! Entry point: one binary, two parts, chosen by the name it was invoked as (as rustup does).
//! `go` and `gofmt` run the shim; any other name runs the `gowarden` CLI.
//!
//! `no_main` keeps Rust's runtime start-up out of the way: it would set SIGPIPE to "ignore",
//! which the exec'd go would inherit, so a `go list | head` would behave differently through
//! the shim. std still reads argv and the environment on Linux without it.
#![no_main]

use std::ffi::OsString;

#[unsafe(no_mangle)]
pub extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_else(|| OsString::from("gowarden"));
    let rest: Vec<OsString> = args.collect();
    match gowarden::shim::Tool::from_argv0(&argv0) {
        Some(tool) => gowarden::shim::run(tool, argv0, rest),
        None => gowarden::cli::main(rest),
    }
}
