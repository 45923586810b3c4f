//! Every environment variable gowarden reads for itself, declared once: the code reads them by
//! these names, and docs/environment.md lists exactly this table (a test compares the two).
//! go's own settings (`GOFLAGS`, `GOPROXY`, ... the keys of `go env`) are read as go reads
//! them, through [`crate::goenv`], and are go's to document.

/// Who a variable is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// gowarden's own switches.
    Gowarden,
    /// Set by go, or by a user for go, and read by gowarden too.
    Go,
    /// Where files are: the XDG base directories, HOME, PATH.
    Place,
    /// The install dirs of the version managers discovery searches.
    VersionManager,
    /// Read only by a build with the `test-hooks` feature, never by a release.
    TestHook,
}

/// One variable: its name, its group and what it does, as docs/environment.md says it.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub group: Group,
    pub what: &'static str,
}

pub const POLICY: &str = "GOWARDEN_POLICY";
pub const GO_VERSION: &str = "GOWARDEN_GO_VERSION";
pub const DEPTH: &str = "GOWARDEN_DEPTH";
pub const LOG: &str = "GOWARDEN_LOG";
pub const LOG_FILE: &str = "GOWARDEN_LOG_FILE";
pub const SWITCH_VERSION: &str = "GOTOOLCHAIN_INTERNAL_SWITCH_VERSION";
pub const GOTOOLCHAIN: &str = "GOTOOLCHAIN";
pub const GOWORK: &str = "GOWORK";
pub const GOENV: &str = "GOENV";
pub const PATH: &str = "PATH";
pub const HOME: &str = "HOME";
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
pub const XDG_STATE_HOME: &str = "XDG_STATE_HOME";
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
pub const XDG_RUNTIME_DIR: &str = "XDG_RUNTIME_DIR";
pub const GOENV_ROOT: &str = "GOENV_ROOT";
pub const ASDF_DATA_DIR: &str = "ASDF_DATA_DIR";
pub const MISE_DATA_DIR: &str = "MISE_DATA_DIR";
pub const TEST_SYSTEM_POLICY: &str = "GOWARDEN_TEST_SYSTEM_POLICY";
pub const TEST_SYSTEM_CACHE: &str = "GOWARDEN_TEST_SYSTEM_CACHE";
pub const TEST_TODAY: &str = "GOWARDEN_TEST_TODAY";
pub const TEST_LANDLOCK_ABI: &str = "GOWARDEN_TEST_LANDLOCK_ABI";

use Group::*;

pub const VARS: &[Var] = &[
    Var {
        name: POLICY,
        group: Gowarden,
        what: "the user policy file, where the system policy allows one (`allow_user_policy`)",
    },
    Var {
        name: GO_VERSION,
        group: Gowarden,
        what: "the Go version for one command, where the policy allows it \
               (`[resolve] allow_env_override`)",
    },
    Var {
        name: DEPTH,
        group: Gowarden,
        what: "the shim's nesting guard (`PID:N`), set by the shim for the go it runs",
    },
    Var {
        name: LOG,
        group: Gowarden,
        what: "diagnostics: a `tracing` filter such as `debug`, printed to stderr",
    },
    Var {
        name: LOG_FILE,
        group: Gowarden,
        what: "diagnostics go to this file instead of stderr",
    },
    Var {
        name: SWITCH_VERSION,
        group: Go,
        what: "go handing over to a named toolchain; honoured where callers may choose the \
               version",
    },
    Var {
        name: GOTOOLCHAIN,
        group: Go,
        what: "a caller's own choice, which the shim replaces (`[toolchains] gotoolchain`) and \
               warns about",
    },
    Var {
        name: GOWORK,
        group: Go,
        what: "which go.work counts (`off`, a path, or a search), as go reads it",
    },
    Var {
        name: GOENV,
        group: Go,
        what: "the user's go env file, as go finds it",
    },
    Var {
        name: PATH,
        group: Place,
        what: "the `go` a shell runs (doctor, drift) and toolchains in absolute entries",
    },
    Var {
        name: HOME,
        group: Place,
        what: "the base of every default below",
    },
    Var {
        name: XDG_CONFIG_HOME,
        group: Place,
        what: "the user policy's default place and go's env file",
    },
    Var {
        name: XDG_DATA_HOME,
        group: Place,
        what: "gowarden's toolchains dir",
    },
    Var {
        name: XDG_STATE_HOME,
        group: Place,
        what: "the audit log, once-a-day warning stamps, drift checkpoints",
    },
    Var {
        name: XDG_CACHE_HOME,
        group: Place,
        what: "the GOROOT overlays, the policy snapshots",
    },
    Var {
        name: XDG_RUNTIME_DIR,
        group: Place,
        what: "the user and group name cache",
    },
    Var {
        name: GOENV_ROOT,
        group: VersionManager,
        what: "goenv's versions, searched for toolchains",
    },
    Var {
        name: ASDF_DATA_DIR,
        group: VersionManager,
        what: "asdf's installs, searched for toolchains",
    },
    Var {
        name: MISE_DATA_DIR,
        group: VersionManager,
        what: "mise's installs, searched for toolchains",
    },
    Var {
        name: TEST_SYSTEM_POLICY,
        group: TestHook,
        what: "moves the system policy",
    },
    Var {
        name: TEST_SYSTEM_CACHE,
        group: TestHook,
        what: "moves the system policy's snapshot dir (with the system policy moved only)",
    },
    Var {
        name: TEST_TODAY,
        group: TestHook,
        what: "moves today (`YYYY-MM-DD`) for `upgrade_by` deadlines",
    },
    Var {
        name: TEST_LANDLOCK_ABI,
        group: TestHook,
        what: "plays a kernel with an older Landlock ABI",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = env!("CARGO_MANIFEST_DIR");

    /// docs/environment.md lists exactly the table, in its order.
    #[test]
    fn the_docs_list_exactly_the_registry() {
        let doc = std::fs::read_to_string(format!("{ROOT}/docs/environment.md")).unwrap();
        let listed: Vec<(&str, &str)> = doc
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("| `")?;
                let (name, rest) = rest.split_once("` |")?;
                Some((name, rest.trim().trim_end_matches('|').trim()))
            })
            .collect();
        let declared: Vec<(&str, &str)> = VARS.iter().map(|v| (v.name, v.what)).collect();
        assert_eq!(listed, declared);
    }

    /// No code reads a variable by a name written anywhere else: every `var("X")` and
    /// `var_os("X")` literal outside this file is a bug.
    #[test]
    fn no_variable_is_read_by_a_literal_name() {
        let mut found = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(format!("{ROOT}/src"))];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("envvars.rs") {
                    let text = std::fs::read_to_string(&p).unwrap();
                    for (i, line) in text.lines().enumerate() {
                        if ["var(\"", "var_os(\""].iter().any(|c| line.contains(c)) {
                            found.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert_eq!(found, Vec::<String>::new());
    }
}
