//! Project-pinned tools: gopls, linters and debuggers run at the version the project declares
//! (docs/tools.md).
//!
//! A tool shim (`gopls`, `staticcheck`, `golangci-lint`, `dlv`, and every tool the policy's
//! `[tools]` names) is a link to the one binary. It finds the project's pin ([`crate::policy::tools::pins`]: the
//! go.mod `tool` directive, a `tools.go` blank import, the policy's company-wide pin), builds
//! that exact version once through the go shim into a content-addressed cache ([`cache`]), and
//! execs the cached binary from then on.

pub mod cache;
pub mod semver;

/// The tools every install links, with the package a project pins for each. Any other name
/// is governed once the policy's `[tools]` names it.
pub const BUILTIN: &[(&str, &str)] = &[
    ("gopls", "golang.org/x/tools/gopls"),
    ("staticcheck", "honnef.co/go/tools/cmd/staticcheck"),
    (
        "golangci-lint",
        "github.com/golangci/golangci-lint/v2/cmd/golangci-lint",
    ),
    ("dlv", "github.com/go-delve/delve/cmd/dlv"),
];

/// Names the binary answers to as itself, never as a tool.
pub fn is_reserved(name: &str) -> bool {
    name == "go" || name == "gofmt" || name.starts_with("gowarden")
}

/// A built-in tool's name for an argv[0] (`/usr/local/share/gowarden/shims/gopls`).
pub fn builtin_from_argv0(argv0: &std::ffi::OsStr) -> Option<&'static str> {
    let name = std::path::Path::new(argv0).file_name()?.to_str()?;
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

/// The binary name go gives package `pkg` (cmd/go `load.DefaultExecName`): its last element,
/// or the one before a major-version suffix (`.../cmd/golangci-lint` for `.../v2`).
pub fn exec_name(pkg: &str) -> &str {
    let mut parts = pkg.rsplit('/');
    let last = parts.next().unwrap_or(pkg);
    let is_major = last.len() > 1
        && last.starts_with('v')
        && last[1..].bytes().all(|b| b.is_ascii_digit())
        && !last[1..].starts_with('0')
        && last != "v1";
    match (is_major, parts.next()) {
        (true, Some(prev)) => prev,
        _ => last,
    }
}

/// Whether `name` may name a tool: what a file name in the shims dir can be.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_names_as_go_gives_them() {
        assert_eq!(exec_name("golang.org/x/tools/gopls"), "gopls");
        assert_eq!(exec_name("golang.org/x/tools/cmd/stringer"), "stringer");
        assert_eq!(exec_name("example.com/tool/v2"), "tool");
        assert_eq!(exec_name("example.com/v1"), "v1");
        assert_eq!(exec_name("gopkg.in/yaml"), "yaml");
    }
}
