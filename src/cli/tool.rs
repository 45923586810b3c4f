//! `gowarden tool list|remove|names`: the tool cache ([`crate::tools::cache`]).

use serde::Serialize;

use super::ExitStatus;
use super::args::{ToolCommand, ToolListArgs, ToolNamesArgs, ToolRemoveArgs};
use crate::tools::cache;

pub fn run(c: ToolCommand) -> ExitStatus {
    match c {
        ToolCommand::List(a) => list(&a),
        ToolCommand::Remove(a) => remove(&a),
        ToolCommand::Names(a) => names(&a),
    }
}

fn cached() -> Result<Vec<cache::Cached>, String> {
    let Some(root) = cache::root() else {
        return Err("no cache dir: set HOME or XDG_CACHE_HOME".into());
    };
    cache::list(&root).map_err(|e| e.to_string())
}

/// `gowarden tool list --json` (docs/tools.md): the cache dir and each cached tool.
#[derive(Serialize)]
struct ToolList<'a> {
    dir: Option<std::path::PathBuf>,
    tools: Vec<CachedJson<'a>>,
}

#[derive(Serialize)]
struct CachedJson<'a> {
    bytes: u64,
    dir: &'a std::path::Path,
    go: &'a str,
    name: &'a str,
    package: &'a str,
    pinned_by: &'a str,
    platform: &'a str,
    version: &'a str,
}

impl<'a> CachedJson<'a> {
    fn of(c: &'a cache::Cached) -> CachedJson<'a> {
        CachedJson {
            bytes: c.bytes,
            dir: &c.dir,
            go: &c.go,
            name: &c.name,
            package: &c.package,
            pinned_by: &c.pinned_by,
            platform: &c.platform,
            version: &c.version,
        }
    }
}

fn list(a: &ToolListArgs) -> ExitStatus {
    let entries = match cached() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gowarden tool list: {e}");
            return ExitStatus::Error;
        }
    };
    if a.json {
        let tools = entries.iter().map(CachedJson::of).collect();
        super::print_json(&ToolList {
            dir: cache::root(),
            tools,
        });
        return ExitStatus::Success;
    }
    if entries.is_empty() {
        println!("no tools are cached (each is built on its first run)");
    }
    for c in &entries {
        println!(
            "{} {} ({}, {} {}) {}",
            c.name,
            c.version,
            c.package,
            c.go,
            c.platform,
            c.dir.display()
        );
        println!("  pinned by: {}", c.pinned_by);
    }
    ExitStatus::Success
}

fn remove(a: &ToolRemoveArgs) -> ExitStatus {
    let entries = match cached() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gowarden tool remove: {e}");
            return ExitStatus::Error;
        }
    };
    let mut status = ExitStatus::Success;
    let mut chosen: Vec<&cache::Cached> = Vec::new();
    if a.all {
        chosen.extend(&entries);
    }
    for t in &a.tools {
        let (name, version) = match t.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (t.as_str(), None),
        };
        let matching: Vec<&cache::Cached> = entries
            .iter()
            .filter(|c| c.name == name && version.is_none_or(|v| c.version == v))
            .collect();
        if matching.is_empty() {
            eprintln!(
                "gowarden tool remove: {t} is not cached (`gowarden tool list` shows what is)"
            );
            status = ExitStatus::Failure;
        }
        chosen.extend(matching);
    }
    for c in chosen {
        match cache::remove(c) {
            Ok(()) => println!("removed {} {} ({})", c.name, c.version, c.dir.display()),
            Err(e) => {
                eprintln!("gowarden tool remove: {e}");
                status = ExitStatus::Error;
            }
        }
    }
    status
}

fn names(a: &ToolNamesArgs) -> ExitStatus {
    use crate::policy::{PolicyOrigin, load};
    let loaded = match &a.policy {
        Some(p) => load::load_file(p, PolicyOrigin::File(p.clone())),
        None => load::load(),
    };
    match loaded {
        Ok(p) => {
            for n in crate::policy::tools::governed(&p) {
                println!("{n}");
            }
            ExitStatus::Success
        }
        Err(e) => {
            eprintln!("gowarden tool names: {e}");
            ExitStatus::Error
        }
    }
}
