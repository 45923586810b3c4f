//! The hot path: what runs when gowarden is invoked as `go` or `gofmt`.
//!
//! [`plan`] does every decision and returns a [`Plan`] (or a [`Refusal`]) without side effects,
//! so `gowarden which` and `explain` show exactly what the shim would do; [`run`] then execs.
//! Nothing here prints on success: go's stdout and stderr must be go's alone.

use std::ffi::{CString, OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::policy::{self, LoadedPolicy};
use crate::project::{Project, Wanted};
use crate::resolve::{self, Inputs, Request};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};

/// Counts nested shim invocations, so a loop ends in an error rather than forever.
pub const DEPTH_ENV: &str = "GOWARDEN_DEPTH";
/// Legitimate nesting (go → -toolexec wrapper → go) is shallow; anything deeper is a loop.
const MAX_DEPTH: u32 = 8;

/// The tool the shim stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Go,
    Gofmt,
}

impl Tool {
    pub fn from_argv0(argv0: &OsStr) -> Option<Tool> {
        let name = Path::new(argv0).file_name()?;
        match name.as_bytes() {
            b"go" => Some(Tool::Go),
            b"gofmt" => Some(Tool::Gofmt),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Tool::Go => "go",
            Tool::Gofmt => "gofmt",
        }
    }
}

/// An environment variable the shim sets or removes for go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvChange {
    pub key: String,
    pub from: Option<OsString>,
    /// `None` removes the variable.
    pub to: Option<OsString>,
}

/// Everything the shim decided for one invocation.
#[derive(Debug)]
pub struct Plan {
    pub tool: Tool,
    pub args: Vec<OsString>,
    pub policy: LoadedPolicy,
    pub project: Project,
    pub request: Request,
    pub toolchain: Toolchain,
    /// Every toolchain discovery found (for explanations).
    pub installed: Vec<Toolchain>,
    pub env: Vec<EnvChange>,
}

impl Plan {
    pub fn binary(&self) -> PathBuf {
        self.toolchain.go_binary(self.tool.name())
    }
}

/// Why the shim will not run go: one message, the rule that refused, exit status 1.
#[derive(Debug)]
pub struct Refusal {
    /// A short identifier for the audit record (`toolchain-not-installed`, a policy rule id).
    pub rule: String,
    pub message: String,
    /// The toolchain (`go1.22.3`) whose installation would lift this refusal, set only where
    /// the policy's `[toolchains] auto_install` lets the shim install it ([`run`] does).
    pub install: Option<String>,
}

impl Refusal {
    pub fn new(rule: &str, message: impl Into<String>) -> Refusal {
        Refusal {
            rule: rule.to_string(),
            message: message.into(),
            install: None,
        }
    }
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal::new("error", e.message())
    }
}

/// Decides what to run for `tool args` in `cwd`, reading the process environment.
pub fn plan(tool: Tool, args: Vec<OsString>, cwd: &Path) -> Result<Plan, Refusal> {
    let policy = policy::load::load()?;
    let start = match tool {
        Tool::Go => crate::gocli::chdir_flag(&args).map(|d| cwd.join(d)),
        Tool::Gofmt => None,
    }
    .unwrap_or_else(|| cwd.to_path_buf());
    let files: Vec<&str> = policy
        .policy
        .resolve
        .files
        .iter()
        .map(|f| f.get_ref().as_str())
        .collect();
    let wanted = Wanted {
        go_version: files.contains(&".go-version"),
        tool_versions: files.contains(&".tool-versions"),
        go_work: files.contains(&"go.work"),
        go_mod: files.contains(&"go.mod"),
    };
    let project = Project::discover(&start, wanted, std::env::var_os("GOWORK").as_deref())?;
    let switch = std::env::var(resolve::SWITCH_VERSION_ENV).ok();
    let env_override = std::env::var(resolve::VERSION_ENV).ok();
    let default = policy.policy.toolchains.default.as_ref().map(|d| {
        (
            d.get_ref().as_str(),
            policy.origin.file_name(),
            policy.line_of(d.span().start),
        )
    });
    let request = resolve::resolve(
        &project,
        &Inputs {
            switch_version: switch.as_deref().filter(|s| !s.is_empty()),
            env_override: env_override.as_deref(),
            allow_env_override: policy.policy.resolve.allow_env_override,
            policy_default: default,
        },
    )?;
    let installed = toolchain::discover(
        &policy.policy.toolchains,
        &DiscoveryEnv::from_process(effective_gomodcache()),
    );
    let self_id = toolchain::self_identity();
    let chosen = toolchain::select(&request, &installed, |t| {
        !toolchain::is_self(&t.go_binary(tool.name()), self_id)
    })
    .cloned();
    let Some(toolchain) = chosen else {
        let mut refusal = not_installed(&request, &installed);
        if let (true, resolve::VersionSpec::Exact(v)) =
            (policy.policy.toolchains.auto_install, &request.spec)
        {
            refusal.install = Some(format!("go{v}"));
        }
        return Err(refusal);
    };
    let env = child_env(&policy, &toolchain);
    Ok(Plan {
        tool,
        args,
        policy,
        project,
        request,
        toolchain,
        installed,
        env,
    })
}

/// The environment changes go runs with: the chosen GOROOT (a stale one must not mix
/// toolchains), GOTOOLCHAIN per policy, and the nesting depth.
fn child_env(policy: &LoadedPolicy, toolchain: &Toolchain) -> Vec<EnvChange> {
    let mut changes = Vec::new();
    let mut set = |key: &str, to: Option<OsString>| {
        let from = std::env::var_os(key);
        if from != to {
            changes.push(EnvChange {
                key: key.to_string(),
                from,
                to,
            });
        }
    };
    set("GOROOT", Some(toolchain.goroot.clone().into_os_string()));
    let gt = &policy.policy.toolchains.gotoolchain;
    if gt != "inherit" {
        set("GOTOOLCHAIN", Some(OsString::from(gt)));
    }
    set(DEPTH_ENV, Some(OsString::from((depth() + 1).to_string())));
    changes
}

fn depth() -> u32 {
    std::env::var(DEPTH_ENV)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// The module cache as go computes it: GOMODCACHE, else the first GOPATH entry's pkg/mod,
/// else `$HOME/go/pkg/mod`. Reads the process environment only; a value set only in the go env
/// file is picked up by `gowarden which` through the full go env reader.
pub(crate) fn effective_gomodcache() -> Option<PathBuf> {
    if let Some(c) = std::env::var_os("GOMODCACHE").filter(|c| !c.is_empty()) {
        return Some(PathBuf::from(c));
    }
    if let Some(first) = std::env::var_os("GOPATH")
        .filter(|p| !p.is_empty())
        .and_then(|p| std::env::split_paths(&p).next())
    {
        return Some(first.join("pkg").join("mod"));
    }
    dirs::home_dir().map(|h| h.join("go").join("pkg").join("mod"))
}

fn not_installed(request: &Request, installed: &[Toolchain]) -> Refusal {
    let found = if installed.is_empty() {
        "none".to_string()
    } else {
        installed
            .iter()
            .map(|t| format!("{} ({})", t.name, t.goroot.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let get = match &request.spec {
        resolve::VersionSpec::Exact(v) => format!("run `gowarden toolchain install {v}`"),
        resolve::VersionSpec::Family(v) | resolve::VersionSpec::AtLeast(v) => format!(
            "run `gowarden toolchain install <version>` with a release matching {v}, e.g. the \
             newest patch release"
        ),
        resolve::VersionSpec::Newest => "run `gowarden toolchain install <version>`".to_string(),
    };
    Refusal::new(
        "toolchain-not-installed",
        format!(
            "no installed Go toolchain matches {} (asked for by {}); found: {found}; to get it, \
             {get}, or change the version file",
            request.spec, request.source
        ),
    )
}

/// The shim's entry point. Returns only on failure, with the exit status.
pub fn run(tool: Tool, argv0: OsString, args: Vec<OsString>) -> i32 {
    if depth() >= MAX_DEPTH {
        return refuse(&Refusal::new(
            "recursion",
            format!(
                "the go shim has called itself {MAX_DEPTH} times (${DEPTH_ENV}); a `go` in a \
                 toolchain's bin dir or a wrapper on PATH leads back to the shim: run \
                 `gowarden doctor`"
            ),
        ));
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            return refuse(&Refusal::new(
                "error",
                format!("cannot read the working directory: {e}"),
            ));
        }
    };
    let plan = match plan(tool, args.clone(), &cwd) {
        Ok(p) => p,
        Err(Refusal {
            install: Some(name),
            ..
        }) => match crate::install::auto_install(&name) {
            Ok(()) => match plan(tool, args, &cwd) {
                Ok(p) => p,
                Err(r) => return refuse(&r),
            },
            Err(e) => {
                return refuse(&Refusal::new(
                    "auto-install-failed",
                    format!("cannot install {name} ([toolchains] auto_install): {e}"),
                ));
            }
        },
        Err(r) => return refuse(&r),
    };
    exec(&plan, &argv0)
}

fn refuse(r: &Refusal) -> i32 {
    eprintln!("gowarden: {}", r.message);
    1
}

/// Replaces this process with the real tool: same argv[0] and arguments, the environment with
/// the plan's changes. The signal mask and dispositions are inherited untouched (main.rs keeps
/// Rust's runtime from changing SIGPIPE), so go sees the signals its caller sent.
fn exec(plan: &Plan, argv0: &OsStr) -> i32 {
    let binary = plan.binary();
    let to_c = |s: &OsStr| CString::new(s.as_bytes()).ok();
    let mut argv = Vec::with_capacity(plan.args.len() + 1);
    argv.push(to_c(argv0).unwrap_or_else(|| c"go".to_owned()));
    for a in &plan.args {
        // Arguments come from our own argv, which cannot hold NUL bytes.
        argv.extend(to_c(a));
    }
    let mut envp = Vec::new();
    for (k, v) in std::env::vars_os() {
        if plan.env.iter().any(|c| k.as_bytes() == c.key.as_bytes()) {
            continue;
        }
        let mut kv = k.into_vec();
        kv.push(b'=');
        kv.extend_from_slice(v.as_bytes());
        envp.extend(CString::new(kv).ok());
    }
    for c in &plan.env {
        if let Some(to) = &c.to {
            let mut kv = c.key.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(to.as_bytes());
            envp.extend(CString::new(kv).ok());
        }
    }
    let Some(path) = to_c(binary.as_os_str()) else {
        return refuse(&Refusal::new("error", "toolchain path holds a NUL byte"));
    };
    let err = nix::unistd::execve(&path, &argv, &envp).unwrap_err();
    refuse(&Refusal::new(
        "exec-failed",
        format!("cannot run {}: {err}", binary.display()),
    ))
}
