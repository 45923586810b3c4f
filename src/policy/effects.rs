//! What a go call will *do*, whatever input carries it: the effects a role's `deny` rules can
//! name (`effects = ["build-tool", ...]`, policies/README.md "Effects").
//!
//! A flag rule is one spelling of an effect; go reaches the same effect through its
//! environment, the user's go env file, `$GOROOT/go.env`, GOFLAGS from each, go.work (found
//! upward or named by GOWORK) and go.mod. Every effect is computed from those inputs as go
//! will read them *through the shim*: the environment after the shim's changes ([env],
//! GOROOT), the two go env files read once ([`crate::goenv`]), the command line with GOFLAGS
//! applied ([`crate::gocli`]), go.mod/go.work with go's grammar ([`crate::gomod`]). The
//! sources in cmd/go (1.26.8) are named at each input.
//!
//! The effects:
//! - `build-tool`: a program of the caller's choice runs as part of the build.
//! - `dependency-substitution`: other code is built than the modules go.mod requires.
//! - `checksum-bypass`: downloaded modules are not checked against the checksum database.
//! - `proxy-bypass`: modules are fetched from elsewhere than the policy's proxy.
//! - `install`: a binary is written outside the repository (judged against `install_dirs`:
//!   the rule refuses it only *outside* them, hence the rule name `install-outside`).
//! - `go-env-write`: the go env file changes (per key).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use crate::gocli::{EnvWrite, FlagOrigin, FlagUse, Invocation};
use crate::goenv::{GoEnv, Origin};
use crate::project::ModFile;

/// The go settings that name a program go runs as a build tool, read through cfg.Getenv
/// (environment, go env file, go.env): GOCACHEPROG (cache/default.go, GA in go1.24) runs on
/// every build; CC, CXX, FC, AR, PKG_CONFIG, GCCGO (work/exec.go, gccgo.go) for cgo and gccgo
/// builds. The shim pins each of these too (`shim::plan::pin_decided`).
pub const BUILD_TOOL_KEYS: [&str; 7] = [
    "GOCACHEPROG",
    "CC",
    "CXX",
    "FC",
    "AR",
    "PKG_CONFIG",
    "GCCGO",
];

/// The effects a policy may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BuildTool,
    DependencySubstitution,
    ChecksumBypass,
    ProxyBypass,
    InstallOutside,
    GoEnvWrite,
}

pub const NAMES: &[(&str, Kind)] = &[
    ("build-tool", Kind::BuildTool),
    ("dependency-substitution", Kind::DependencySubstitution),
    ("checksum-bypass", Kind::ChecksumBypass),
    ("proxy-bypass", Kind::ProxyBypass),
    ("install-outside", Kind::InstallOutside),
    ("go-env-write", Kind::GoEnvWrite),
];

impl Kind {
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }
}

/// One effect of the call and the input that carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effect {
    pub kind: Kind,
    /// The input as written and where it came from: ``GOCACHEPROG=/x (the go env file F:3)``.
    pub input: String,
    /// `install`: the directory written, `None` where go cannot say (`-exec`).
    pub target: Option<PathBuf>,
    /// `go-env-write`: the key.
    pub key: Option<String>,
}

impl Effect {
    fn new(kind: Kind, input: String) -> Effect {
        Effect {
            kind,
            input,
            target: None,
            key: None,
        }
    }
}

/// The go.mod and go.work go will use, and where the repository is.
#[derive(Debug, Clone, Copy)]
pub struct Files<'a> {
    /// The directory go starts in (after `-C`).
    pub dir: &'a Path,
    pub go_work: Option<&'a ModFile>,
    pub go_mod: Option<&'a ModFile>,
    /// GOWORK from the environment go gets (cmd/go reads it with os.Getenv only).
    pub gowork: Option<&'a OsStr>,
}

/// What the policy's `[env]` itself sets: its patterns and proxies are not bypasses.
#[derive(Debug, Clone, Default)]
pub struct Allowed {
    /// Patterns of [env] enforce/defaults GOPRIVATE and GONOSUMDB.
    pub nosumdb: Vec<String>,
    /// Patterns of [env] enforce/defaults GOPRIVATE and GONOPROXY.
    pub noproxy: Vec<String>,
    /// Patterns of [env] enforce/defaults GOINSECURE.
    pub insecure: Vec<String>,
    /// Entries of [env] enforce/defaults GOPROXY; `None`: the toolchain's go.env default.
    pub proxies: Option<Vec<String>>,
}

impl Allowed {
    pub fn from_policy(env: &crate::policy::schema::Env) -> Allowed {
        let values = |key: &str| -> Vec<String> {
            [env.enforce.get(key), env.defaults.get(key)]
                .into_iter()
                .flatten()
                .flat_map(|v| split_list(v.get_ref()))
                .collect()
        };
        let proxies = values("GOPROXY");
        Allowed {
            nosumdb: [values("GOPRIVATE"), values("GONOSUMDB")].concat(),
            noproxy: [values("GOPRIVATE"), values("GONOPROXY")].concat(),
            insecure: values("GOINSECURE"),
            proxies: (!proxies.is_empty()).then_some(proxies),
        }
    }
}

/// Commands that neither build, load packages nor fetch modules: only their command line
/// (flags, `go env -w`) can carry an effect. `go env` must stay runnable to see and repair a
/// configuration the other commands refuse.
fn loads_nothing(inv: &Invocation) -> bool {
    let w: Vec<&str> = inv.command.iter().map(String::as_str).collect();
    matches!(
        w.as_slice(),
        [] | ["version"]
            | ["env"]
            | ["help", ..]
            | ["bug"]
            | ["telemetry"]
            | ["fmt"]
            | ["mod", "edit"]
            | ["mod", "init"]
            | ["work", "edit"]
            | ["work", "init"]
            | ["work", "use"]
    ) || inv.help
}

/// `go install pkg@v` / `go run pkg@v` ignore the go.mod and go.work around them (modload
/// `ForceUseModules` with `RootMode = NoRoot`).
fn ignores_module_files(inv: &Invocation) -> bool {
    (inv.is(&["install"]) || inv.is(&["run"]))
        && inv.positionals.iter().any(|p| {
            let p = p.to_string_lossy();
            p.contains('@') && !p.starts_with('.') && !p.starts_with('/') && !p.ends_with(".go")
        })
}

/// Every effect of `inv` under `goenv` (the environment and files go gets through the shim).
/// `raw_goflags` is the effective GOFLAGS text, for `go doc`, which does not take GOFLAGS as
/// its flags but does apply `-modfile` and `-overlay` from it (GO_FACTS.md, go1.26.8).
pub fn effects<E: Fn(&str) -> Option<OsString>>(
    inv: &Invocation,
    goenv: &GoEnv<E>,
    raw_goflags: Option<&str>,
    files: Files<'_>,
    allowed: &Allowed,
) -> Vec<Effect> {
    let mut out = Vec::new();
    let described = |key: &str| -> Option<(String, String)> {
        let (v, o) = goenv.get(key)?;
        if v.is_empty() {
            return None;
        }
        let v = v.to_string_lossy().into_owned();
        Some((v.clone(), format!("{key}={v} ({})", origin(&o))))
    };
    let flag = |f: &FlagUse, goflags_at: Option<&str>| -> String {
        let mut s = match &f.value {
            Some(v) if !f.written.contains('=') => {
                format!("`{} {}`", f.written, v.to_string_lossy())
            }
            _ => format!("`{}`", f.written),
        };
        if f.origin == FlagOrigin::GoFlags {
            s.push_str(&format!(" from $GOFLAGS{}", goflags_at.unwrap_or("")));
        }
        s
    };
    let goflags_at = goenv
        .get("GOFLAGS")
        .map(|(_, o)| format!(" ({})", origin(&o)));
    let goflags_at = goflags_at.as_deref();
    let doc_goflags: Vec<FlagUse> = if inv.is(&["doc"]) {
        doc_flags(raw_goflags)
    } else {
        Vec::new()
    };
    let all_flags = || inv.flags.iter().chain(doc_goflags.iter());

    // build-tool: flags. -toolexec (work/build.go, every tool step), -exec (run/test,
    // work.FindExecCmd), -vettool (vet), -overlay (fsys.Init: other files compiled),
    // -compiler=gccgo (GCCGO runs), -ldflags -extld/-extldflags -fuse-ld (cmd/link runs the
    // named external linker).
    for f in all_flags() {
        let hit = match f.name.as_str() {
            "toolexec" | "exec" | "vettool" | "fixtool" | "overlay" => {
                f.value.as_ref().is_some_and(|v| !v.is_empty())
            }
            "compiler" => f.value.as_deref() == Some(OsStr::new("gccgo")),
            "ldflags" => f
                .value
                .as_ref()
                .is_some_and(|v| ldflags_choose_linker(&v.to_string_lossy())),
            _ => false,
        };
        if hit {
            out.push(Effect::new(Kind::BuildTool, flag(f, goflags_at)));
        }
    }
    if !loads_nothing(inv) {
        // build-tool: a program named by a go setting (BUILD_TOOL_KEYS).
        for key in BUILD_TOOL_KEYS {
            if let Some((_, input)) = described(key) {
                out.push(Effect::new(Kind::BuildTool, input));
            }
        }
    }

    // dependency-substitution.
    for f in all_flags() {
        if f.name == "modfile" {
            out.push(Effect::new(
                Kind::DependencySubstitution,
                flag(f, goflags_at),
            ));
        }
    }
    let repo = RepoRoot::new(files);
    let edits = |name: &'static str| inv.flag_uses(name).collect::<Vec<_>>();
    if inv.is(&["mod", "edit"]) || inv.is(&["work", "edit"]) {
        for f in edits("replace") {
            out.push(Effect::new(
                Kind::DependencySubstitution,
                flag(f, goflags_at),
            ));
        }
    }
    if inv.is(&["work", "edit"]) {
        for f in edits("use") {
            let dir = f.value.as_deref().map(|v| files.dir.join(v));
            if dir.is_some_and(|d| !repo.contains(&d)) {
                out.push(Effect::new(
                    Kind::DependencySubstitution,
                    flag(f, goflags_at),
                ));
            }
        }
    }
    if inv.is(&["work", "use"]) || inv.is(&["work", "init"]) {
        for p in &inv.positionals {
            if !repo.contains(&files.dir.join(p)) {
                out.push(Effect::new(
                    Kind::DependencySubstitution,
                    format!(
                        "`go {} {}`: a directory outside the repository ({})",
                        inv.command.join(" "),
                        p.to_string_lossy(),
                        repo.root().display()
                    ),
                ));
            }
        }
    }
    if !loads_nothing(inv) && !ignores_module_files(inv) {
        // modload.FindGoWork: GOWORK names the workspace file; its use and replace lines
        // choose the modules built, whatever go.mod says.
        if let Some(g) = files
            .gowork
            .filter(|g| !matches!(g.to_str(), Some("" | "off" | "auto")))
            && !repo.contains(Path::new(g))
        {
            out.push(Effect::new(
                Kind::DependencySubstitution,
                format!(
                    "GOWORK={} (the environment): a workspace outside the repository ({})",
                    g.to_string_lossy(),
                    repo.root().display()
                ),
            ));
        }
        if let Some(w) = files.go_work {
            let at = |line: usize| format!("{}:{line}", w.path.display());
            if files.gowork.is_none() && !repo.contains(&w.path) {
                out.push(Effect::new(
                    Kind::DependencySubstitution,
                    format!(
                        "the workspace {} outside the repository ({})",
                        w.path.display(),
                        repo.root().display()
                    ),
                ));
            }
            for u in &w.uses {
                let dir = crate::gomod::resolve_dir(&w.path, &u.value);
                if !repo.contains(&dir) {
                    out.push(Effect::new(
                        Kind::DependencySubstitution,
                        format!("use {} ({})", u.value, at(u.line)),
                    ));
                }
            }
            // modload: go.work replacements override those of every go.mod.
            for r in &w.replaces {
                out.push(Effect::new(
                    Kind::DependencySubstitution,
                    format!("replace {} => {} ({})", r.old, r.new, at(r.line)),
                ));
            }
        }
        if let Some(m) = files.go_mod.filter(|_| files.go_work.is_none()) {
            // A replace in go.mod is reviewed with the module, except one that points to a
            // directory outside the repository: that code is not in the change.
            for r in &m.replaces {
                if r.new_is_dir
                    && crate::gomod::is_directory_path(&r.new)
                    && !repo.contains(&crate::gomod::resolve_dir(&m.path, &r.new))
                {
                    out.push(Effect::new(
                        Kind::DependencySubstitution,
                        format!(
                            "replace {} => {} ({}:{}): a directory outside the repository",
                            r.old,
                            r.new,
                            m.path.display(),
                            r.line
                        ),
                    ));
                }
            }
        }
    }

    // checksum-bypass and proxy-bypass (modfetch/sumdb.go useSumDB, modfetch/repo.go lookup,
    // cfg.go: GONOSUMDB and GONOPROXY default to GOPRIVATE).
    if !loads_nothing(inv) {
        for f in all_flags() {
            if f.name == "insecure" && f.bool_value() != Some(false) {
                out.push(Effect::new(Kind::ChecksumBypass, flag(f, goflags_at)));
            }
        }
        if let Some((v, input)) = described("GOSUMDB")
            && v == "off"
        {
            out.push(Effect::new(Kind::ChecksumBypass, input));
        }
        let with_default = |key: &str| described(key).or_else(|| described("GOPRIVATE"));
        if let Some((v, input)) = with_default("GONOSUMDB")
            && uncovered(&v, &allowed.nosumdb)
        {
            out.push(Effect::new(Kind::ChecksumBypass, input));
        }
        if let Some((v, input)) = described("GOINSECURE")
            && uncovered(&v, &allowed.insecure)
        {
            out.push(Effect::new(Kind::ChecksumBypass, input));
        }
        if let Some((v, input)) = with_default("GONOPROXY")
            && uncovered(&v, &allowed.noproxy)
        {
            out.push(Effect::new(Kind::ProxyBypass, input));
        }
        // GOPROXY entries beyond the policy's own (or, without one, the toolchain's go.env
        // default): `direct` fetches from the origin, another URL is another proxy.
        // The distribution's go.env (golang/go `go.env`: GOPROXY=https://proxy.golang.org,
        // direct) falls back to `direct` on a 404 only; a caller's `direct` fetches everything
        // from the origin. Any other value in a toolchain's go.env was put there by whoever
        // owns the toolchain, and counts as the caller's.
        if let Some((v, input)) = described("GOPROXY") {
            let from_distribution = matches!(
                goenv.get("GOPROXY"),
                Some((ref value, Origin::GorootGoEnv { .. }))
                    if crate::goenv::distribution_default("GOPROXY").is_some_and(|d| value == d)
            );
            let allowed_proxies = allowed.proxies.clone().unwrap_or_else(|| {
                goenv
                    .goroot_entry("GOPROXY")
                    .map(|(_, e)| split_list(&e.value.to_string_lossy()))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| p != "direct")
                    .collect()
            });
            let beyond = split_list(&v)
                .iter()
                .any(|p| p != "off" && !allowed_proxies.contains(p));
            if beyond && !(from_distribution && allowed.proxies.is_none()) {
                out.push(Effect::new(Kind::ProxyBypass, input));
            }
        }
    }

    // install: where binaries are written (modload.BinDir, work/build.go -o).
    if inv.is(&["install"]) && !inv.help {
        let mut e = Effect::new(Kind::InstallOutside, "`go install`".into());
        e.target = goenv.gobin();
        e.input = match &e.target {
            Some(t) => format!("`go install` into {}", t.display()),
            None => "`go install` (no install directory)".into(),
        };
        out.push(e);
    }
    if (inv.is(&["build"]) || inv.is(&["test"]))
        && !inv.help
        && let Some(o) = inv.last_flag("o")
        && let Some(v) = o.value.as_deref()
        && v != OsStr::new("/dev/null")
    {
        let target = files.dir.join(v);
        let names_dir = v.as_encoded_bytes().ends_with(b"/") || target.is_dir();
        let dir = if names_dir {
            target
        } else {
            target.parent().map(Path::to_path_buf).unwrap_or(target)
        };
        // Build outputs inside the repository are the work itself, not an install.
        if !repo.contains(&dir) {
            let mut e = Effect::new(Kind::InstallOutside, flag(o, goflags_at));
            e.target = Some(dir);
            out.push(e);
        }
    }
    if inv.is(&["run"]) || inv.is(&["test"]) {
        for f in inv.flag_uses("exec") {
            out.push(Effect::new(
                Kind::InstallOutside,
                format!(
                    "{}: the -exec program may write anywhere",
                    flag(f, goflags_at)
                ),
            ));
        }
    }

    // go-env-write (envcmd: -w/-u rewrite the go env file; GOFLAGS=-w counts).
    let op_keys: Vec<(&str, String)> = match &inv.env_write {
        Some(EnvWrite::Set(pairs)) => pairs.iter().map(|(k, _)| ("-w", k.clone())).collect(),
        Some(EnvWrite::Unset(keys)) => keys.iter().map(|k| ("-u", k.clone())).collect(),
        None => Vec::new(),
    };
    for (op, key) in op_keys {
        let mut e = Effect::new(Kind::GoEnvWrite, format!("`go env {op}` of {key}"));
        e.key = Some(key);
        out.push(e);
    }
    out
}

/// The checks of a deny rule with `effects` that serde cannot make: known names, and
/// nothing else that would make the rule mean two things (flags, values).
pub fn validate_rule(
    rule: &crate::policy::roles::DenyRule,
) -> Result<(), (std::ops::Range<usize>, String)> {
    for e in &rule.effects {
        if Kind::from_name(e.get_ref()).is_none() {
            let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
            return Err((
                e.span(),
                format!(
                    "effects: {:?} is not an effect; effects: {}",
                    e.get_ref(),
                    names.join(", ")
                ),
            ));
        }
    }
    if let Some(f) = rule.flags.first() {
        return Err((
            f.span(),
            "has both effects and flags: make them two rules, so each refusal names what it is \
             about"
                .into(),
        ));
    }
    if let Some(v) = &rule.values {
        return Err((v.span(), "values needs flags, not effects".into()));
    }
    if let Some(k) = rule.env_keys.first()
        && !rule.effects.iter().any(|e| e.get_ref() == "go-env-write")
    {
        return Err((
            k.span(),
            "env_keys with effects narrow the \"go-env-write\" effect: list it in effects".into(),
        ));
    }
    Ok(())
}

/// `-extld` (or `-extldflags` with `-fuse-ld`/`-B`) in an -ldflags value: the linker runs a
/// program of the caller's choice (cmd/link `-extld`, gcc's `-fuse-ld`).
fn ldflags_choose_linker(v: &str) -> bool {
    // A leading `pattern=` limits the flags to some packages; they still apply there.
    let args = v.split_whitespace();
    let mut prev_extldflags = false;
    for a in args {
        let a = a.trim_matches(['\'', '"']);
        let bare = a.trim_start_matches('-');
        let name = bare.split('=').next().unwrap_or("");
        let name = name.rsplit('=').next().unwrap_or(name);
        if name == "extld" || a.contains("-extld=") || a.ends_with("-extld") {
            return true;
        }
        if prev_extldflags && (a.contains("-fuse-ld") || a.starts_with("-B")) {
            return true;
        }
        if a.contains("-extldflags") && (a.contains("-fuse-ld") || a.contains("-B")) {
            return true;
        }
        prev_extldflags = name == "extldflags" || a.ends_with("-extldflags");
    }
    false
}

/// `-modfile`/`-overlay` in the effective GOFLAGS, as `go doc` applies them.
fn doc_flags(raw: Option<&str>) -> Vec<FlagUse> {
    let Some(raw) = raw else { return Vec::new() };
    let Ok(entries) = crate::gocli::split_goflags(raw) else {
        return Vec::new();
    };
    entries
        .into_iter()
        .filter_map(|e| {
            let bare = e.strip_prefix("--").or_else(|| e.strip_prefix('-'))?;
            let (name, value) = bare.split_once('=')?;
            matches!(name, "modfile" | "overlay").then(|| FlagUse {
                name: name.to_string(),
                written: e.to_string(),
                value: Some(value.into()),
                origin: FlagOrigin::GoFlags,
                forwarded: false,
            })
        })
        .collect()
}

/// A comma-separated GOPRIVATE-style list (`|` too for GOPROXY), empty entries dropped.
fn split_list(v: &str) -> Vec<String> {
    v.split([',', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a pattern list names modules beyond `allowed`: a pattern is covered when it is one
/// of them, or is a plain path the allowed globs already match (module.MatchPrefixPatterns).
fn uncovered(list: &str, allowed: &[String]) -> bool {
    split_list(list).iter().any(|p| {
        !allowed.iter().any(|a| {
            a == p || (!p.contains(['*', '?', '[']) && crate::policy::effects::prefix_glob(a, p))
        })
    })
}

/// module.MatchPrefixPatterns for one pattern: the glob matches `path` or one of its
/// `/`-prefixes, element by element.
pub fn prefix_glob(pattern: &str, path: &str) -> bool {
    let n = pattern.split('/').count();
    let elems: Vec<&str> = path.split('/').collect();
    if elems.len() < n {
        return false;
    }
    let prefix = elems[..n].join("/");
    glob::Pattern::new(pattern)
        .map(|g| {
            g.matches_with(
                &prefix,
                glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: false,
                },
            )
        })
        .unwrap_or(false)
}

fn origin(o: &Origin) -> String {
    crate::policy::env::describe(o)
}

/// The repository: the nearest directory with `.git` above go's start directory, else the
/// directory of go.work, else of go.mod, else the start directory. Looked up only when a path
/// must be placed.
struct RepoRoot<'a> {
    files: Files<'a>,
    root: std::cell::OnceCell<PathBuf>,
}

impl<'a> RepoRoot<'a> {
    fn new(files: Files<'a>) -> RepoRoot<'a> {
        RepoRoot {
            files,
            root: std::cell::OnceCell::new(),
        }
    }

    fn root(&self) -> &Path {
        self.root.get_or_init(|| {
            let dir = canonical(self.files.dir);
            for d in dir.ancestors() {
                if d.join(".git").exists() {
                    return d.to_path_buf();
                }
            }
            self.files
                .go_mod
                .and_then(|m| m.path.parent())
                .map(canonical)
                .unwrap_or(dir)
        })
    }

    fn contains(&self, p: &Path) -> bool {
        canonical(p).starts_with(self.root())
    }
}

/// The path with links resolved as far as it exists (a directory named by `go work use`
/// may not exist yet), lexically cleaned beyond.
fn canonical(p: &Path) -> PathBuf {
    let p = crate::gomod::clean(p);
    for a in p.ancestors() {
        if let Ok(c) = a.canonicalize() {
            let rest = p.strip_prefix(a).unwrap_or(Path::new(""));
            return c.join(rest);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linker_choice_in_ldflags() {
        assert!(ldflags_choose_linker("-extld=/tmp/x"));
        assert!(ldflags_choose_linker("-s -w -extld /tmp/x"));
        assert!(ldflags_choose_linker("--extld=/tmp/x"));
        assert!(ldflags_choose_linker("main=-extld=/tmp/x"));
        assert!(ldflags_choose_linker("-extldflags=-fuse-ld=/tmp/x"));
        assert!(ldflags_choose_linker("-extldflags '-fuse-ld=/tmp/x'"));
        assert!(!ldflags_choose_linker("-s -w -X main.v=1"));
        assert!(!ldflags_choose_linker("-extldflags=-static"));
    }

    #[test]
    fn patterns_beyond_the_allowed_ones() {
        let allowed = vec!["corp.example/*".to_string()];
        assert!(!uncovered("corp.example/*", &allowed));
        assert!(!uncovered("corp.example/pay", &allowed));
        assert!(!uncovered("corp.example/pay/x,,", &allowed));
        assert!(uncovered("*", &allowed));
        assert!(uncovered("corp.example/*,github.com/x", &allowed));
        assert!(uncovered("corp.*", &allowed));
        assert!(uncovered("x", &[]));
    }
}
