//! `gowarden toolchain list | install | remove`: the toolchains the shim can choose from, and
//! gowarden's own (see `crate::install` for how installs are fetched and verified).

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ExitStatus;
use super::args::{InstallArgs, RemoveArgs, ToolchainCommand, ToolchainListArgs};
use crate::install::{self, RemoveError, Source, Verbosity};
use crate::policy::{self, LoadedPolicy};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};

pub fn run(command: ToolchainCommand) -> ExitStatus {
    match command {
        ToolchainCommand::List(a) => list(&a),
        ToolchainCommand::Install(a) => install_cmd(&a),
        ToolchainCommand::Remove(a) => remove_cmd(&a),
    }
}

fn usage(sub: &str, msg: &str) -> ExitStatus {
    eprintln!("gowarden toolchain {sub}: {msg} (see `gowarden toolchain {sub} --help`)");
    ExitStatus::Error
}

/// `--dir`, absolute; else gowarden's own toolchains dir.
fn target_dir(dir: Option<&Path>) -> crate::error::Result<PathBuf> {
    match dir {
        Some(d) => {
            std::path::absolute(d).map_err(|e| crate::error::Error::io("cannot resolve", d, &e))
        }
        None => install::default_dir(),
    }
}

/// `gowarden toolchain list --json`: docs/cli.md documents this shape.
#[derive(Serialize)]
struct ListJson<'a> {
    toolchains: Vec<ListEntry<'a>>,
}

#[derive(Serialize)]
struct ListEntry<'a> {
    version: &'a str,
    goroot: &'a Path,
    found_in: String,
    installed_by_gowarden: bool,
}

fn discover(policy: &LoadedPolicy) -> Vec<Toolchain> {
    toolchain::discover(
        &policy.policy.toolchains.search(),
        &DiscoveryEnv::from_process(crate::goenv::effective_gomodcache()),
    )
}

fn list(a: &ToolchainListArgs) -> ExitStatus {
    let policy = match policy::load::load() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("gowarden toolchain list: {e}");
            return ExitStatus::Error;
        }
    };
    let found = discover(&policy);
    if a.json {
        let v = ListJson {
            toolchains: found
                .iter()
                .map(|t| ListEntry {
                    version: &t.name,
                    goroot: &t.goroot,
                    found_in: t.found_in.to_string(),
                    installed_by_gowarden: install::read_marker(&t.goroot).is_some(),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return ExitStatus::Success;
    }
    if found.is_empty() {
        println!("no Go toolchains found; install one with `gowarden toolchain install VERSION`");
        return ExitStatus::Success;
    }
    let width = found.iter().map(|t| t.name.len()).max().unwrap_or(0);
    for t in &found {
        let by = if install::read_marker(&t.goroot).is_some() {
            ", installed by gowarden"
        } else {
            ""
        };
        println!(
            "{:width$}  {}  ({}{by})",
            t.name,
            t.goroot.display(),
            t.found_in
        );
    }
    ExitStatus::Success
}

fn install_cmd(args: &InstallArgs) -> ExitStatus {
    let written = &args.version;
    let name = match crate::resolve::VersionSpec::parse(written) {
        // `1.24`: the newest patch release, named before anything is fetched.
        Some(crate::resolve::VersionSpec::Family(lang)) if args.archive.is_none() => {
            match newest_release(&lang) {
                Ok(name) => {
                    println!(
                        "{written} is a language version: installing its newest release, {name}"
                    );
                    name
                }
                Err(e) => return fail(&e.to_string()),
            }
        }
        _ => match install::toolchain_name(written) {
            Ok(n) => n,
            Err(e) => return usage("install", e.message()),
        },
    };
    let dir = match target_dir(args.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    match matrix_refusal(&name) {
        Ok(None) => {}
        Ok(Some(why)) => return fail(&format!("not installing {name}: {why}")),
        Err(e) => return fail(&e.to_string()),
    }
    // clap has made sure --archive and --sha256 come together.
    let result = match (&args.archive, &args.sha256) {
        (Some(file), Some(hex)) => match install::parse_sha256(hex) {
            Ok(sha256) => {
                // Absolute, so the marker says where the archive was.
                let file = std::path::absolute(file).unwrap_or_else(|_| file.clone());
                install::install(
                    &dir,
                    &name,
                    &Source::Archive {
                        file: &file,
                        sha256,
                    },
                    Verbosity::Cli,
                )
            }
            Err(e) => return usage("install", e.message()),
        },
        _ => install_from_proxy(&dir, &name),
    };
    match result {
        Ok(done) if done.fresh => {
            println!(
                "installed {} in {} ({})",
                done.name,
                done.goroot.display(),
                done.source
            );
            ExitStatus::Success
        }
        Ok(done) => {
            println!(
                "{} is already installed in {} ({})",
                done.name,
                done.goroot.display(),
                done.source
            );
            ExitStatus::Success
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn install_from_proxy(dir: &Path, name: &str) -> crate::error::Result<install::Installed> {
    let policy = policy::load::load()?;
    let found = discover(&policy);
    let bootstrap = install::find_bootstrap(&found).ok_or_else(|| install::no_bootstrap(name))?;
    let env = install::policy_env(&policy, bootstrap)?;
    install::install(
        dir,
        name,
        &Source::Proxy {
            bootstrap,
            env: &env,
        },
        Verbosity::Cli,
    )
}

fn remove_cmd(args: &RemoveArgs) -> ExitStatus {
    let written = &args.version;
    let name = match install::toolchain_name(written) {
        Ok(n) => n,
        Err(e) => return usage("remove", e.message()),
    };
    let dir = match target_dir(args.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    match install::remove(&dir, &name) {
        Ok(path) => {
            println!("removed {name} ({})", path.display());
            ExitStatus::Success
        }
        Err(RemoveError::Other(e)) => fail(&e.to_string()),
        Err(RemoveError::NotFound) => {
            // Say where the shim does find it, since that is what the user will run into.
            let elsewhere: Vec<String> = policy::load::load()
                .map(|p| discover(&p))
                .unwrap_or_default()
                .into_iter()
                .filter(|t| t.name == name)
                .map(|t| format!("{} ({})", t.goroot.display(), t.found_in))
                .collect();
            if elsewhere.is_empty() {
                fail(&format!("{name} is not installed in {}", dir.display()))
            } else {
                fail(&format!(
                    "{name} is not in gowarden's toolchains dir {}; it is at {}, which gowarden \
                     did not install: remove it with whatever installed it",
                    dir.display(),
                    elsewhere.join(", ")
                ))
            }
        }
    }
}

fn fail(msg: &str) -> ExitStatus {
    eprintln!("gowarden: {msg}");
    ExitStatus::Failure
}

/// Why the version matrix would refuse `name` (`go1.22.3`): a blocked release anywhere, or a
/// release below the minimum of the tier of the project in the working directory. Such a
/// toolchain is not installed: nothing could run it.
fn matrix_refusal(name: &str) -> crate::error::Result<Option<String>> {
    use crate::policy::matrix::{self, Severity};
    use crate::resolve::{Request, Source as VersionSource, VersionSpec};
    let policy = policy::load::load()?;
    let (matrix, _) = matrix::compile(&policy);
    let Some(version) = crate::version::GoVersion::parse_go(name) else {
        return Ok(None);
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let all = crate::project::Wanted {
        formats: crate::versionfile::Formats::NONE,
        go_work: false,
        go_mod: true,
    };
    // Outside a readable project there is no tier: only [[blocked]] applies.
    let project = crate::project::Project::discover(&cwd, all, None).unwrap_or_default();
    let module = project.go_mod.as_ref().and_then(|m| m.module.as_ref());
    let tier = matrix.choose_tier(&project, module).unwrap_or(None);
    let request = Request {
        spec: VersionSpec::Exact(version.clone()),
        written: name.to_string(),
        source: VersionSource::Install,
    };
    let today = crate::date::Date::today_utc();
    Ok(matrix
        .judge(&version, name, &request, tier.as_ref(), today)
        .into_iter()
        .find(|f| f.severity == Severity::Error && f.rule != "matrix.deadline")
        .map(|f| f.message))
}

/// The newest release of language version `lang` (`1.24` → `go1.24.13`) that the module
/// proxy serves as a `golang.org/toolchain` module for this platform, asked of the bootstrap
/// go under the policy's `[env]` (its GOPROXY), as the install itself will fetch it.
fn newest_release(lang: &crate::version::GoVersion) -> crate::error::Result<String> {
    use crate::error::Error;
    let family = format!("{}.{}", lang.major, lang.minor);
    let policy = policy::load::load()?;
    let found = discover(&policy);
    let bootstrap = install::find_bootstrap(&found).ok_or_else(|| {
        Error::new(format!(
            "{family} is a language version, and finding its newest release needs a go ≥ 1.21 \
             to ask the module proxy, but there is none; install a release from its archive: \
             `gowarden toolchain install {family}.N --archive FILE --sha256 HEX` (go.dev/dl \
             lists the releases, their archives and SHA-256s)"
        ))
    })?;
    let env = install::policy_env(&policy, bootstrap)?;
    let mut cmd = std::process::Command::new(bootstrap.go_binary("go"));
    for c in &env {
        match &c.to {
            Some(v) => cmd.env(&c.key, v),
            None => cmd.env_remove(&c.key),
        };
    }
    let out = cmd
        .args(["list", "-m", "-versions", "golang.org/toolchain"])
        // Outside any module, and with nothing from GOFLAGS that could change the query.
        .current_dir("/")
        .env("GOFLAGS", "")
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env("GO111MODULE", "on")
        .env_remove("GOROOT")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            Error::new(format!(
                "cannot run {}: {e}",
                bootstrap.go_binary("go").display()
            ))
        })?;
    if !out.status.success() {
        return Err(Error::new(format!(
            "cannot list the releases of {family} from the module proxy with {}: {}; name the \
             release instead (e.g. {family}.0)",
            bootstrap.name,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let platform = format!(".{}", toolchain::go_platform());
    let newest = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|v| v.strip_prefix("v0.0.1-")?.strip_suffix(platform.as_str()))
        .filter_map(|name| Some((crate::version::GoVersion::parse_go(name)?, name.to_string())))
        .filter(|(v, _)| v.in_family(lang) && !v.is_prerelease() && !v.is_lang())
        .max_by(|a, b| a.0.cmp_go(&b.0))
        .map(|(_, name)| name);
    newest.ok_or_else(|| {
        Error::new(format!(
            "the module proxy has no release of {family} for {} (asked with {}); name a \
             release that exists (go.dev/dl lists them)",
            toolchain::go_platform(),
            bootstrap.name
        ))
    })
}
