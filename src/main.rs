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

/// The static musl build's `memcpy` and `memmove` (src/memcopy.rs says why). Defined here, in
/// the binary's own objects, the linker never pulls musl's from libc.a: both at once, since
/// musl's x86_64 `memmove` jumps into its `memcpy`.
#[cfg(all(target_env = "musl", target_arch = "x86_64"))]
mod libc_mem {
    /// # Safety
    /// As C's memcpy.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the C contract of memcpy is the contract of copy (and more).
        unsafe { gowarden::memcopy::copy(dst, src, n) };
        dst
    }

    /// # Safety
    /// As C's memmove.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the C contract of memmove is the contract of copy.
        unsafe { gowarden::memcopy::copy(dst, src, n) };
        dst
    }
}

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
