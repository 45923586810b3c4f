//! `gowarden toolchain list | install | remove`: the toolchains the shim can choose from, and
//! gowarden's own (see `crate::install` for how installs are fetched and verified).

use std::path::{Path, PathBuf};

use crate::install::{self, RemoveError, Source, Verbosity};
use crate::policy::{self, LoadedPolicy};
use crate::toolchain::{self, DiscoveryEnv, Toolchain};

const USAGE: &str = "\
Usage:
  gowarden toolchain list
  gowarden toolchain install [--dir DIR] VERSION
  gowarden toolchain install [--dir DIR] VERSION --archive FILE --sha256 HEX
  gowarden toolchain remove [--dir DIR] VERSION
";

pub fn run(args: &[String]) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return 2;
    };
    let parsed = match Args::parse(rest) {
        Ok(a) => a,
        Err(msg) => return usage(sub, &msg),
    };
    match sub.as_str() {
        "list" => list(&parsed),
        "install" => install_cmd(&parsed),
        "remove" => remove_cmd(&parsed),
        other => {
            eprintln!("gowarden toolchain: unknown command {other:?}\n\n{USAGE}");
            2
        }
    }
}

fn usage(sub: &str, msg: &str) -> i32 {
    super::usage_error(&format!("toolchain {sub}"), msg)
}

#[derive(Default)]
struct Args {
    dir: Option<PathBuf>,
    archive: Option<PathBuf>,
    sha256: Option<String>,
    version: Option<String>,
}

impl Args {
    fn parse(args: &[String]) -> Result<Args, String> {
        let mut a = Args::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match flag {
                "--dir" => a.dir = Some(PathBuf::from(value("--dir")?)),
                "--archive" => {
                    // Absolute, so the marker says where the archive was.
                    let file = PathBuf::from(value("--archive")?);
                    a.archive = Some(std::path::absolute(&file).unwrap_or(file));
                }
                "--sha256" => a.sha256 = Some(value("--sha256")?),
                f if f.starts_with('-') => return Err(format!("unknown flag {f:?}")),
                v if a.version.is_none() => a.version = Some(v.to_string()),
                v => return Err(format!("unexpected argument {v:?}")),
            }
        }
        Ok(a)
    }

    fn dir(&self) -> crate::error::Result<PathBuf> {
        match &self.dir {
            Some(d) => {
                std::path::absolute(d).map_err(|e| crate::error::Error::io("cannot resolve", d, &e))
            }
            None => install::default_dir(),
        }
    }
}

fn discover(policy: &LoadedPolicy) -> Vec<Toolchain> {
    toolchain::discover(
        &policy.policy.toolchains,
        &DiscoveryEnv::from_process(crate::shim::effective_gomodcache()),
    )
}

fn list(args: &Args) -> i32 {
    if args.version.is_some()
        || args.archive.is_some()
        || args.sha256.is_some()
        || args.dir.is_some()
    {
        return usage("list", "takes no arguments");
    }
    let policy = match policy::load::load() {
        Ok(p) => p,
        Err(e) => return fail(&e.to_string()),
    };
    let found = discover(&policy);
    if found.is_empty() {
        println!("no Go toolchains found; install one with `gowarden toolchain install VERSION`");
        return 0;
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
    0
}

fn install_cmd(args: &Args) -> i32 {
    let Some(written) = &args.version else {
        return usage("install", "needs a VERSION, e.g. 1.22.10");
    };
    let name = match install::toolchain_name(written) {
        Ok(n) => n,
        Err(e) => return usage("install", e.message()),
    };
    let dir = match args.dir() {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    match matrix_refusal(&name) {
        Ok(None) => {}
        Ok(Some(why)) => return fail(&format!("not installing {name}: {why}")),
        Err(e) => return fail(&e.to_string()),
    }
    let result = match (&args.archive, &args.sha256) {
        (Some(file), Some(hex)) => match install::parse_sha256(hex) {
            Ok(sha256) => install::install(
                &dir,
                &name,
                &Source::Archive { file, sha256 },
                Verbosity::Cli,
            ),
            Err(e) => return usage("install", e.message()),
        },
        (Some(_), None) => {
            return usage(
                "install",
                "--archive needs --sha256 HEX (the SHA-256 go.dev/dl lists for the file)",
            );
        }
        (None, Some(_)) => return usage("install", "--sha256 goes with --archive FILE"),
        (None, None) => install_from_proxy(&dir, &name),
    };
    match result {
        Ok(done) if done.fresh => {
            println!(
                "installed {} in {} ({})",
                done.name,
                done.goroot.display(),
                done.source
            );
            0
        }
        Ok(done) => {
            println!(
                "{} is already installed in {} ({})",
                done.name,
                done.goroot.display(),
                done.source
            );
            0
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

fn remove_cmd(args: &Args) -> i32 {
    let Some(written) = &args.version else {
        return usage("remove", "needs a VERSION, e.g. 1.22.10");
    };
    if args.archive.is_some() || args.sha256.is_some() {
        return usage("remove", "takes no --archive or --sha256");
    }
    let name = match install::toolchain_name(written) {
        Ok(n) => n,
        Err(e) => return usage("remove", e.message()),
    };
    let dir = match args.dir() {
        Ok(d) => d,
        Err(e) => return fail(&e.to_string()),
    };
    match install::remove(&dir, &name) {
        Ok(path) => {
            println!("removed {name} ({})", path.display());
            0
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

fn fail(msg: &str) -> i32 {
    eprintln!("gowarden: {msg}");
    1
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
        go_version: false,
        tool_versions: false,
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
