//! Entry point: one binary, two parts, chosen by the name it was invoked as (as rustup does).
//! `go` and `gofmt` run the shim; `gowarden…` runs the CLI; any other name (`gopls`, `dlv`,
//! a tool of the policy's `[tools]`) is a tool shim.
//!
//! `no_main` keeps Rust's runtime start-up out of the way: it would set SIGPIPE to "ignore",
//! which the exec'd go would inherit, so a `go list | head` would behave differently through
//! the shim. argv is taken from `main`'s own parameters: std reads it by itself only on glibc
//! (from `.init_array`); on musl, the release build, `std::env::args_os()` is empty without
//! Rust's runtime start-up, and the shim would never see that it was called as `go`.
#![no_main]

use std::ffi::{CStr, OsString, c_char, c_int};
use std::os::unix::ffi::OsStringExt;

mod arena;

#[global_allocator]
static ALLOC: arena::Arena = arena::Arena;

#[unsafe(no_mangle)]
/// # Safety
/// Called by the C runtime only, with `argc` valid NUL-terminated strings in `argv`.
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // SAFETY: the C runtime passes argc valid, NUL-terminated strings in argv, alive for the
    // whole process.
    let mut args = (0..usize::try_from(argc).unwrap_or(0)).map(|i| unsafe {
        let arg = *argv.add(i);
        OsString::from_vec(CStr::from_ptr(arg).to_bytes().to_vec())
    });
    let argv0 = args.next().unwrap_or_else(|| OsString::from("gowarden"));
    let rest: Vec<OsString> = args.collect();
    if let Some(tool) = gowarden::shim::Tool::from_argv0(&argv0) {
        return gowarden::shim::run(tool, argv0, rest);
    }
    match gowarden::shim::tool::name_from_argv0(&argv0) {
        Some(name) => gowarden::shim::tool::run(name, argv0, rest),
        None => gowarden::cli::main(rest),
    }
}
