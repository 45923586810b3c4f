//! The process environment, read once and looked up by binary search.
//!
//! A shim call asks for about eighty variables (gowarden's own, go's settings, the XDG dirs,
//! the version managers'), and `std::env::var_os` answers each by locking the environment,
//! copying the name into a C string and letting libc's `getenv` compare it with every entry:
//! with the ten variables of the overhead bench that was an eighth of a default call's
//! instructions, and a developer's shell has five times as many. Here the entries are
//! listed once, in the order the process got them (what the exec hands on), with a sorted
//! order beside them for lookups; values are borrowed, never copied. Every entry is kept for
//! the exec, as a direct exec of go would get it: a name set twice, and a string without
//! `=` (no variable; lookups never see it), go on as they came.
//!
//! Borrowing is sound because gowarden never changes its own environment: what a child
//! gets is built apart (`shim::run::exec`), and `std::env::set_var`/`remove_var` are refused
//! by clippy.toml.

use std::ffi::{CStr, OsStr, c_char};
use std::os::unix::ffi::OsStrExt;
use std::sync::OnceLock;

/// One entry of the environment as the process got it: `NAME=value`, or a string without
/// `=` (then its name and value are empty).
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    whole: &'static CStr,
    name: &'static [u8],
    value: &'static [u8],
}

impl Entry {
    /// The variable's name; empty for an entry that is no variable.
    pub fn name(&self) -> &'static OsStr {
        OsStr::from_bytes(self.name)
    }

    pub fn is_variable(&self) -> bool {
        !self.name.is_empty()
    }

    pub fn value(&self) -> &'static OsStr {
        OsStr::from_bytes(self.value)
    }

    /// The entry as the kernel takes it in an `envp`.
    pub fn as_c_str(&self) -> &'static CStr {
        self.whole
    }
}

struct Environ {
    entries: Vec<Entry>,
    /// Positions in `entries`, ordered by name; among equal names in environment order, so
    /// a lookup finds the first, as `getenv` does.
    by_name: Vec<u32>,
}

unsafe extern "C" {
    static environ: *const *const c_char;
}

fn environ_now() -> &'static Environ {
    static ENV: OnceLock<Environ> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut entries = Vec::new();
        // SAFETY: `environ` is the NULL-terminated array of NUL-terminated strings the process
        // started with (libc keeps it; std reads it the same way). Nothing in gowarden
        // changes the environment (see the module doc), so the array and its strings live,
        // unchanged, until the process ends or execs.
        unsafe {
            let mut p = environ;
            while !p.is_null() && !(*p).is_null() {
                let whole = CStr::from_ptr(*p);
                // As std's `vars_os`: the name ends at the first `=` after its first byte, and
                // an entry without one is not a variable.
                let bytes = whole.to_bytes();
                let (name, value): (&[u8], &[u8]) =
                    match bytes.iter().skip(1).position(|&b| b == b'=') {
                        Some(at) => (&bytes[..at + 1], &bytes[at + 2..]),
                        None => (&[], &[]),
                    };
                entries.push(Entry { whole, name, value });
                p = p.add(1);
            }
        }
        let mut by_name: Vec<u32> = (0..entries.len() as u32)
            .filter(|&i| entries[i as usize].is_variable())
            .collect();
        by_name.sort_by(|&a, &b| {
            let (a, b) = (&entries[a as usize], &entries[b as usize]);
            a.name.cmp(b.name)
        });
        Environ { entries, by_name }
    })
}

/// The value of `name`, as `std::env::var_os` gives it, borrowed.
pub fn var_os(name: &str) -> Option<&'static OsStr> {
    let env = environ_now();
    let key = name.as_bytes();
    let name_of = |i: u32| env.entries[i as usize].name;
    let first = env.by_name.partition_point(|&i| name_of(i) < key);
    let &i = env.by_name.get(first)?;
    (name_of(i) == key).then(|| env.entries[i as usize].value())
}

/// The value of `name` where it is set and UTF-8, as `std::env::var(name).ok()` gives it.
pub fn var(name: &str) -> Option<&'static str> {
    var_os(name)?.to_str()
}

/// Every entry, in the order the process got them, variables or not.
pub fn entries() -> &'static [Entry] {
    &environ_now().entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree_with_std() {
        let mut names: Vec<_> = std::env::vars_os().map(|(k, _)| k).collect();
        names.extend(["", "=", "NO_SUCH_VARIABLE_GOWARDEN", "PAT", "PATHX"].map(Into::into));
        for name in names {
            let Some(name) = name.to_str() else { continue };
            assert_eq!(var_os(name), std::env::var_os(name).as_deref(), "{name:?}");
            assert_eq!(var(name), std::env::var(name).ok().as_deref(), "{name:?}");
        }
        let listed: Vec<_> = entries()
            .iter()
            .filter(|e| e.is_variable())
            .map(|e| (e.name().to_owned(), e.value().to_owned()))
            .collect();
        assert_eq!(listed, std::env::vars_os().collect::<Vec<_>>());
    }
}
