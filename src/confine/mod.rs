//! Confinement: a role's `[role.NAME.confine]` applied with Linux's Landlock, so that go and
//! every process it starts (`go run` programs, `go generate` lines, test binaries, cgo's
//! compiler, a `-toolexec` wrapper) are held by the kernel to where they may write, what they
//! may not read, which programs they may execute and which TCP ports they may connect to.
//! Argument rules see the first go call only; this is what holds everything below it.
//!
//! Three steps, so that `gowarden which`/`explain` show exactly what the shim applies:
//! [`for_plan`] works out the [`Confinement`] from the role and go's own settings (no side
//! effects), [`prepare`] judges it against the running kernel's Landlock ABI (refusing under
//! `mode = "enforce"` when something is missing), and [`Prepared::apply`] builds the ruleset
//! and restricts the shim itself, with `no_new_privs`, just before exec: go inherits the
//! domain and nothing it starts can leave it.
//!
//! `policies/README.md` ("`[role.NAME.confine]`") is the user documentation.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use toml::Spanned;

use crate::decision::Plan;
use crate::error::{Error, Result};
use crate::outcome::Refusal;
use crate::policy::LoadedPolicy;

mod apply;
mod carve;
pub mod kernel;

pub use kernel::Kernel;

pub use crate::policy::confine::{ConfineTable, Mode};

/// One path a rule grants, and why it is there (for `which` and the audit record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub path: PathBuf,
    pub why: String,
    /// A dir go itself creates when missing (GOCACHE, GOMODCACHE, GOBIN...): the shim creates
    /// it before the ruleset is built, since a rule needs an existing path.
    pub go_creates: bool,
}

/// A role's confinement, worked out for one invocation.
#[derive(Debug, Clone)]
pub struct Confinement {
    pub role: String,
    /// `file:line` of the `[role.NAME.confine]` table.
    pub location: String,
    pub mode: Mode,
    pub write: Vec<Grant>,
    pub deny_read: Vec<PathBuf>,
    pub execute: Option<Vec<Grant>>,
    pub connect: Option<Vec<u16>>,
}

/// The kernel features each part of a confinement needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// Creating, writing, removing files outside the writable dirs (ABI 1).
    Write,
    /// Truncating files outside the writable dirs (ABI 3); without it `truncate(2)` and
    /// `O_TRUNC` still reach any file the account owns.
    Truncate,
    DenyRead,
    Execute,
    /// TCP connect rules (ABI 4).
    Connect,
}

impl Feature {
    pub fn abi(self) -> i32 {
        match self {
            Feature::Write | Feature::DenyRead | Feature::Execute => 1,
            Feature::Truncate => 3,
            Feature::Connect => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Feature::Write => "write",
            Feature::Truncate => "truncate",
            Feature::DenyRead => "deny_read",
            Feature::Execute => "execute",
            Feature::Connect => "connect",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Feature::Write => "write rules (write)",
            Feature::Truncate => "truncate rules (part of write)",
            Feature::DenyRead => "read rules (deny_read)",
            Feature::Execute => "execute rules (execute)",
            Feature::Connect => "TCP connect rules (connect)",
        }
    }
}

impl Confinement {
    /// The features this confinement asks the kernel for.
    pub fn features(&self) -> Vec<Feature> {
        let mut f = vec![Feature::Write, Feature::Truncate];
        if !self.deny_read.is_empty() {
            f.push(Feature::DenyRead);
        }
        if self.execute.is_some() {
            f.push(Feature::Execute);
        }
        if self.connect.is_some() {
            f.push(Feature::Connect);
        }
        f
    }
}

/// A confinement judged against the running kernel: what will be enforced, what cannot be.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub confinement: Confinement,
    pub kernel: Kernel,
    /// The ABI the ruleset is built for: the kernel's, capped at the newest ABI gowarden
    /// knows (7), so a newer kernel never gets access rights nobody here has tested.
    pub abi: i32,
    pub enforced: Vec<Feature>,
    pub missing: Vec<Feature>,
}

/// The newest Landlock ABI whose access rights gowarden uses (Linux 6.15).
pub const MAX_ABI: i32 = 7;

impl Prepared {
    /// One line for the audit record: `landlock ABI 7 (Linux 6.18.0): write, truncate, ...`.
    pub fn summary(&self) -> String {
        let names = |f: &[Feature]| f.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ");
        let mut s = format!(
            "landlock ABI {} ({}), role {}, mode {}: enforced: {}",
            self.abi,
            self.kernel.describe(),
            self.confinement.role,
            self.confinement.mode.as_str(),
            if self.enforced.is_empty() {
                "nothing".to_string()
            } else {
                names(&self.enforced)
            }
        );
        if !self.missing.is_empty() {
            let _ = write!(s, "; NOT enforced: {}", names(&self.missing));
        }
        s
    }

    /// The rules, one line each (for `which`, `explain` and the audit record).
    pub fn rules(&self) -> Vec<String> {
        let c = &self.confinement;
        let mut out = Vec::new();
        for g in &c.write {
            out.push(format!("write {} ({})", g.path.display(), g.why));
        }
        for d in &c.deny_read {
            out.push(format!("deny {}", d.display()));
        }
        match &c.execute {
            Some(list) => {
                for g in list {
                    out.push(format!("execute {} ({})", g.path.display(), g.why));
                }
            }
            None => out.push("execute anything".into()),
        }
        match &c.connect {
            Some(ports) => out.push(format!(
                "connect tcp ports {}",
                ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => out.push("connect anywhere".into()),
        }
        out
    }

    /// Builds the ruleset and restricts this process (and so the go it execs) to it, with
    /// `no_new_privs`. Nothing is done where the kernel enforces nothing (best-effort on a
    /// kernel without Landlock: the record already says so).
    pub fn apply(&self) -> std::result::Result<(), String> {
        if self.enforced.is_empty() {
            return Ok(());
        }
        apply::apply(self)
    }
}

/// `which`/`explain` lines for the confinement of the plan's role (or `role`): the kernel,
/// what is enforced and every rule, or the refusal the shim would make.
pub fn describe_for(plan: &Plan, role: Option<&str>) -> Vec<String> {
    let name = match role.or(plan.role.as_ref().map(|r| r.name.as_str())) {
        Some(n) => n,
        None => return Vec::new(),
    };
    match for_role(plan, name).and_then(|c| c.map(prepare).transpose()) {
        Ok(None) => vec![format!(
            "confinement: none (role {name} has no [role.{name}.confine])"
        )],
        Ok(Some(p)) => {
            let mut out = vec![format!("confinement: {}", p.summary())];
            out.extend(p.rules().into_iter().map(|r| format!("  rule:      {r}")));
            out
        }
        Err(r) => vec![format!("confinement: go would be refused: {}", r.message)],
    }
}

/// `gowarden doctor`'s line about the kernel's Landlock support.
pub fn doctor_line() -> String {
    let k = Kernel::current();
    if k.abi == 0 {
        return format!(
            "note: {} has {}: roles with [role.NAME.confine] are refused there under mode = \
             \"enforce\" and run unconfined under \"best-effort\"",
            k.describe(),
            k.abi_text()
        );
    }
    let missing: Vec<&str> = [
        Feature::Write,
        Feature::Truncate,
        Feature::DenyRead,
        Feature::Execute,
        Feature::Connect,
    ]
    .iter()
    .filter(|f| f.abi() > k.abi)
    .map(|f| f.what())
    .collect();
    let mut s = format!(
        "ok: {} has Landlock ABI {} (gowarden uses up to {MAX_ABI})",
        k.describe(),
        k.abi
    );
    if !missing.is_empty() {
        let _ = write!(s, "; missing: {}", missing.join(", "));
    }
    s
}

/// Adds the confinement in force to an audit record: `gowarden.confinement` (one line: ABI,
/// kernel, what is and is not enforced) and `gowarden.confinement.rules` (every rule).
pub fn audit_attrs(r: crate::audit::Record, p: &Prepared) -> crate::audit::Record {
    r.attr_str("gowarden.confinement", p.summary())
        .attr_str("gowarden.confinement.rules", p.rules().join("; "))
}

/// Judges `c` against the running kernel. Under `mode = "enforce"`, a kernel that lacks any
/// feature the confinement needs is a refusal naming the kernel, its ABI and what is missing.
pub fn prepare(c: Confinement) -> std::result::Result<Prepared, Refusal> {
    prepare_on(c, Kernel::current())
}

pub fn prepare_on(c: Confinement, kernel: Kernel) -> std::result::Result<Prepared, Refusal> {
    let abi = kernel.abi.min(MAX_ABI);
    let (enforced, missing): (Vec<Feature>, Vec<Feature>) =
        c.features().into_iter().partition(|f| f.abi() <= abi);
    if c.mode == Mode::Enforce && !missing.is_empty() {
        let need = missing.iter().map(|f| f.abi()).max().unwrap_or(1);
        let what = missing
            .iter()
            .map(|f| format!("{} (ABI {})", f.what(), f.abi()))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(Refusal::new(
            &format!("role.{}.confine", c.role),
            format!(
                "go was not run: role {}'s confinement ({}, mode = \"enforce\") needs Landlock \
                 ABI {need}; {} has {}, so these are missing: {what}. Run on a kernel with \
                 Landlock ABI {need} or newer (Linux 6.7+ has 4), or set mode = \
                 \"best-effort\" there to run with what the kernel enforces",
                c.role,
                c.location,
                kernel.describe(),
                kernel.abi_text(),
            ),
        ));
    }
    Ok(Prepared {
        confinement: c,
        kernel,
        abi,
        enforced,
        missing,
    })
}

/// The confinement of the plan's role, `None` where the role has none (or there are no
/// roles). Works out the default writable dirs from go's settings as go will see them: the
/// plan's environment changes applied, then the user's go env file and `$GOROOT/go.env`.
pub fn for_plan(plan: &Plan) -> std::result::Result<Option<Confinement>, Refusal> {
    let Some(role) = &plan.role else {
        return Ok(None);
    };
    for_role(plan, &role.name)
}

/// [`for_plan`] for another role (`gowarden explain --role`).
pub fn for_role(plan: &Plan, role_name: &str) -> std::result::Result<Option<Confinement>, Refusal> {
    let policy = &plan.policy;
    let Some((role, _)) = policy.role(role_name) else {
        return Ok(None);
    };
    let Some(table) = &role.confine else {
        return Ok(None);
    };
    let env = |key: &str| -> Option<OsString> {
        match plan.env.iter().find(|c| c.key == key) {
            Some(c) => c.to.clone(),
            None => crate::goenv::process_env(key),
        }
    };
    let inputs = Inputs {
        env: &env,
        goroot: &plan.toolchain.goroot,
        project_root: plan.project.root(),
        install_dirs: role.install_dirs.as_ref().map(|d| {
            d.get_ref()
                .iter()
                .map(|s| s.get_ref().as_str())
                .collect::<Vec<_>>()
        }),
        audit_log: crate::auditing::settings(policy)
            .ok()
            .flatten()
            .map(|s| s.log.path),
    };
    compile(policy, role_name, table, &inputs)
        .map(Some)
        .map_err(|e| {
            let mut r = Refusal::new(&format!("role.{role_name}.confine"), e.message());
            r.role = plan.role.clone().map(Box::new);
            r
        })
}

/// What [`compile`] reads besides the policy.
pub struct Inputs<'a> {
    pub env: &'a dyn Fn(&str) -> Option<OsString>,
    pub goroot: &'a Path,
    pub project_root: &'a Path,
    pub install_dirs: Option<Vec<&'a str>>,
    pub audit_log: Option<PathBuf>,
}

/// Works out the confinement of `role_name` from its table and go's settings.
pub fn compile(
    policy: &LoadedPolicy,
    role_name: &str,
    table: &Spanned<ConfineTable>,
    inputs: &Inputs<'_>,
) -> Result<Confinement> {
    let t = table.get_ref();
    let env = inputs.env;
    let home = non_empty(env("HOME")).map(PathBuf::from);
    let expand = |raw: &str| -> Result<PathBuf> {
        if let Some(rest) = raw
            .strip_prefix("~/")
            .or(if raw == "~" { Some("") } else { None })
        {
            let h = home.clone().ok_or_else(|| {
                Error::new(format!(
                    "[role.{role_name}.confine] {raw:?}: HOME is not set, so ~ cannot be expanded"
                ))
            })?;
            return Ok(h.join(rest));
        }
        Ok(PathBuf::from(raw))
    };
    let goenv = crate::goenv::GoEnv::load(env, Some(inputs.goroot))?;
    let get = |key: &str| {
        goenv
            .get(key)
            .map(|(v, _)| v)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let mut write = Vec::new();
    let add = |list: &mut Vec<Grant>, path: PathBuf, why: &str| {
        // Only absolute paths: go refuses relative GOCACHE/GOMODCACHE/GOBIN itself, and a
        // relative rule would depend on the working directory.
        if path.is_absolute() && !list.iter().any(|g| g.path == path) {
            list.push(Grant {
                go_creates: !matches!(
                    why,
                    "write" | "execute" | "install_dirs" | "/dev/null" | "the terminal"
                ),
                path,
                why: why.to_string(),
            });
        }
    };
    let cache_dir = match non_empty(env("XDG_CACHE_HOME")).map(PathBuf::from) {
        Some(d) if d.is_absolute() => Some(d),
        _ => home.as_ref().map(|h| h.join(".cache")),
    };
    let gocache = match get("GOCACHE") {
        Some(c) if c.as_os_str() == "off" => None,
        Some(c) => Some(c),
        None => cache_dir.map(|d| d.join("go-build")),
    };
    let tmp = get("GOTMPDIR")
        .or_else(|| non_empty(env("TMPDIR")).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    if t.default_write {
        add(
            &mut write,
            inputs.project_root.to_path_buf(),
            "module or workspace root",
        );
        if let Some(c) = &gocache {
            add(&mut write, c.clone(), "GOCACHE");
        }
        let modcache = get("GOMODCACHE").or_else(|| {
            match get("GOPATH") {
                Some(p) => std::env::split_paths(&p).next(),
                None => home.as_ref().map(|h| h.join("go")),
            }
            .map(|p| p.join("pkg").join("mod"))
        });
        if let Some(m) = modcache {
            add(&mut write, m, "GOMODCACHE");
        }
        add(&mut write, tmp.clone(), "GOTMPDIR/TMPDIR: go's work dir");
        // go install's target (GOBIN, else GOPATH/bin) where the role's install_dirs allow
        // it (the install_dirs rule refuses the rest); it alone is created when missing, so
        // the shim never makes a system dir such as /opt/ci/bin.
        let gobin = goenv.gobin();
        match &inputs.install_dirs {
            Some(dirs) => {
                let dirs = dirs.iter().map(|d| expand(d)).collect::<Result<Vec<_>>>()?;
                if let Some(bin) = gobin.filter(|b| dirs.iter().any(|d| b.starts_with(d))) {
                    add(&mut write, bin, "GOBIN: go install");
                }
                for d in dirs {
                    add(&mut write, d, "install_dirs");
                }
            }
            None => {
                if let Some(bin) = gobin {
                    add(&mut write, bin, "GOBIN: go install");
                }
            }
        }
        if let Some(dir) = goenv.user_file().and_then(Path::parent) {
            add(
                &mut write,
                dir.to_path_buf(),
                "go env -w and telemetry (the go env file's dir)",
            );
        }
        if let Some(dir) = inputs.audit_log.as_deref().and_then(Path::parent) {
            // A go started inside the confinement (a -toolexec wrapper's `go`) comes back
            // through the shim, which must append its record; the chain makes edits evident.
            add(
                &mut write,
                dir.to_path_buf(),
                "the audit log, for shims started inside",
            );
        }
    }
    for w in &t.write {
        add(&mut write, expand(w.get_ref())?, "write");
    }
    add(&mut write, PathBuf::from("/dev/null"), "/dev/null");
    for tty in ttys() {
        add(&mut write, tty, "the terminal");
    }
    let mut deny_read = Vec::new();
    let mut dirs = DenyDirs::default();
    for d in &t.deny_read {
        let p = dirs.resolve(&expand(d.get_ref())?);
        if !deny_read.contains(&p) {
            deny_read.push(p);
        }
    }
    let execute = match &t.execute {
        None => None,
        Some(list) => {
            let mut ex = Vec::new();
            add(
                &mut ex,
                inputs.goroot.to_path_buf(),
                "GOROOT: go and its tools",
            );
            if let Ok(me) = std::env::current_exe() {
                add(&mut ex, me, "the gowarden shim");
            }
            if let Some(c) = &gocache {
                add(&mut ex, c.clone(), "GOCACHE: go run/go tool binaries");
            }
            add(&mut ex, tmp, "GOTMPDIR/TMPDIR: test and go run binaries");
            if let Some(ld) = DYNAMIC_LOADER {
                add(&mut ex, PathBuf::from(ld), "the dynamic loader");
            }
            for e in list.get_ref() {
                add(&mut ex, expand(e.get_ref())?, "execute");
            }
            Some(ex)
        }
    };
    let connect = t.connect.as_ref().map(|ports| {
        ports
            .get_ref()
            .iter()
            // validate() has checked the range.
            .filter_map(|p| u16::try_from(*p.get_ref()).ok())
            .collect()
    });
    Ok(Confinement {
        role: role_name.to_string(),
        location: format!(
            "[role.{role_name}.confine] at {}",
            policy.location(&table.span())
        ),
        mode: t.mode,
        write,
        deny_read,
        execute,
        connect,
    })
}

/// The ELF interpreter every dynamically linked program (git, gcc) needs to start; the kernel
/// opens it for execution like the program itself.
const DYNAMIC_LOADER: Option<&str> = if cfg!(all(target_arch = "x86_64", target_env = "gnu")) {
    Some("/lib64/ld-linux-x86-64.so.2")
} else if cfg!(all(target_arch = "aarch64", target_env = "gnu")) {
    Some("/lib/ld-linux-aarch64.so.1")
} else {
    None
};

/// The terminal(s) on stdin/stdout/stderr, and /dev/tty: programs reopen them (a password
/// prompt, a progress bar), which needs write access to the device file.
fn ttys() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for fd in 0..3 {
        // isatty first: a call without a terminal (CI, an editor) makes no lookup in /proc.
        // SAFETY: isatty(3) of a descriptor number; a closed one is simply no terminal.
        if unsafe { nix::libc::isatty(fd) } != 1 {
            continue;
        }
        if let Ok(p) = std::fs::read_link(format!("/proc/self/fd/{fd}"))
            && (p.starts_with("/dev/pts") || p.starts_with("/dev/tty"))
            && !out.contains(&p)
        {
            out.push(p);
        }
    }
    if !out.is_empty() {
        out.push(PathBuf::from("/dev/tty"));
    }
    out
}

/// A denied path as the kernel sees it: Landlock judges the file reached, so a denied
/// `~/.gitconfig` that is a link to `~/dotfiles/gitconfig` must deny the target. The longest
/// existing prefix is resolved; a path that does not exist yet stays as written below it.
pub fn resolve_existing_prefix(p: &Path) -> PathBuf {
    let mut existing = p.to_path_buf();
    let mut rest: Vec<OsString> = Vec::new();
    loop {
        if let Ok(real) = crate::rawfs::canonicalize(&existing) {
            let mut out = real;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

/// The directories denied paths lie in, each opened and resolved once: the enterprise
/// example's six denied paths lie in two (HOME and ~/.config), and each resolution from the
/// whole path cost a failed open, an open of the directory and its getcwd.
#[derive(Default)]
struct DenyDirs {
    /// A directory as written, and where it is open and really is (`None`: it could not be
    /// opened or resolved, so paths in it take [`resolve_existing_prefix`]'s way).
    seen: Vec<(PathBuf, Option<(std::os::fd::OwnedFd, PathBuf)>)>,
}

impl DenyDirs {
    /// [`resolve_existing_prefix`], by way of the directory `p` lies in: an entry of a
    /// resolved directory that does not exist, or exists and is no link, lies at the
    /// directory's real path joined with its name, which is what the whole path resolves to.
    /// A link (its target is what is denied) and anything unusual take the long way.
    fn resolve(&mut self, p: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let (Some(dir), Some(std::path::Component::Normal(name))) =
            (p.parent(), p.components().next_back())
        else {
            return resolve_existing_prefix(p);
        };
        let Ok(c_name) = std::ffi::CString::new(name.as_bytes()) else {
            return resolve_existing_prefix(p);
        };
        let Some((dir_fd, dir_real)) = self.dir(dir) else {
            return resolve_existing_prefix(p);
        };
        let flags = nix::libc::O_PATH | nix::libc::O_NOFOLLOW;
        match crate::rawfs::openat(Some(dir_fd), &c_name, flags) {
            Err(e) if e.raw_os_error() == Some(nix::libc::ENOENT) => dir_real.join(name),
            Ok(fd)
                if nix::sys::stat::fstat(std::os::fd::AsFd::as_fd(&fd))
                    .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT != nix::libc::S_IFLNK) =>
            {
                dir_real.join(name)
            }
            _ => resolve_existing_prefix(p),
        }
    }

    fn dir(&mut self, dir: &Path) -> Option<(&std::os::fd::OwnedFd, &PathBuf)> {
        let i = match self.seen.iter().position(|(d, _)| d == dir) {
            Some(i) => i,
            None => {
                let opened = crate::rawfs::open_path(dir).ok().and_then(|fd| {
                    let real = crate::rawfs::real_path(&fd, dir)?;
                    Some((fd, real))
                });
                self.seen.push((dir.to_path_buf(), opened));
                self.seen.len() - 1
            }
        };
        self.seen[i].1.as_ref().map(|(fd, real)| (fd, real))
    }
}

fn non_empty(v: Option<OsString>) -> Option<OsString> {
    v.filter(|v| !v.is_empty())
}
