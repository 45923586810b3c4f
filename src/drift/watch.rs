//! `gowarden drift --watch`: re-checks whenever the user's go env file, a project version file
//! or the policy changes, and reports each new finding (and each one that goes away) as one
//! line on stderr (`--json`: one JSON object per line on stdout), until SIGINT or SIGTERM,
//! which end it with status 0.
//!
//! Directories are watched, not files: editors and `go env -w` replace files by rename, which
//! a watch on the old inode would miss, and a file that does not exist yet (a first
//! `go env -w`, a new `.go-version`) can only be seen appearing from its directory. Where the
//! directory does not exist yet either, its nearest existing ancestor is watched, and the
//! watch set is recomputed after every change. Signals arrive through a signalfd polled with
//! the inotify descriptor: no async runtime, no handler running at an arbitrary point.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::{Finding, Options, Report, check};
use crate::goenv;

/// Quiet time after a change before checking, so a burst of writes gives one check.
const SETTLE_MS: i32 = 150;

pub fn run(opts: &Options, json: bool) -> i32 {
    match watch(opts, json) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("gowarden drift: cannot watch: {e}");
            2
        }
    }
}

fn watch(opts: &Options, json: bool) -> Result<(), String> {
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    // Blocked before anything else, so a signal from now on waits in the signalfd.
    mask.thread_block()
        .map_err(|e| format!("cannot block SIGINT/SIGTERM: {e}"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map_err(|e| format!("signalfd: {e}"))?;
    let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
        .map_err(|e| format!("inotify: {e}"))?;

    // Watches first, then the first check: a change in between is then seen, not lost.
    let mut watched = BTreeSet::new();
    let interesting = add_watches(&inotify, opts, &mut watched);
    let mut report = check(opts);
    emit(&report, &Report::default(), json);
    eprintln!(
        "gowarden drift: watching {} director{} for changes to the go env file, version files \
         and the policy (stop with Ctrl-C)",
        watched.len(),
        if watched.len() == 1 { "y" } else { "ies" }
    );
    let mut interesting = interesting;
    loop {
        let ready = poll(&[inotify.as_fd(), signals.as_fd()], -1)?;
        if ready[1] {
            return Ok(());
        }
        if !ready[0] || !relevant(&inotify, &interesting) {
            continue;
        }
        // Let a burst of writes settle, then check once.
        loop {
            let ready = poll(&[inotify.as_fd(), signals.as_fd()], SETTLE_MS)?;
            if ready[1] {
                return Ok(());
            }
            if !ready[0] {
                break;
            }
            let _ = inotify.read_events();
        }
        let next = check(opts);
        emit(&next, &report, json);
        report = next;
        interesting = add_watches(&inotify, opts, &mut watched);
    }
}

/// Prints what is new in `now` compared with `before`: new findings, findings gone, new
/// errors.
fn emit(now: &Report, before: &Report, json: bool) {
    let new: Vec<&Finding> = now
        .findings
        .iter()
        .filter(|f| !before.findings.contains(f))
        .collect();
    // A check that could not run this time says nothing about its old findings: only a
    // complete report may call one resolved.
    let gone: Vec<&Finding> = if now.errors.is_empty() {
        before
            .findings
            .iter()
            .filter(|f| !now.findings.contains(f))
            .collect()
    } else {
        Vec::new()
    };
    let errors: Vec<&String> = now
        .errors
        .iter()
        .filter(|e| !before.errors.contains(e))
        .collect();
    for (f, event, severity) in new
        .iter()
        .map(|f| (f, "drift", crate::audit::Severity::Warn))
        .chain(
            gone.iter()
                .map(|f| (f, "resolved", crate::audit::Severity::Info)),
        )
    {
        let r = crate::auditing::event(f.line(), event, severity)
            // The category tells a bypass (`path`: a go that runs without the policy) from
            // a setting that drifted, for `gowarden audit report`.
            .attr_str("gowarden.drift.category", f.category.name())
            .attr_str("gowarden.drift.key", f.key.as_str())
            .attr_str("gowarden.drift.expected", f.expected.as_str())
            .attr_str("gowarden.drift.actual", f.actual.as_str());
        if let Err(e) = crate::auditing::append_event(&r) {
            eprintln!("gowarden drift: cannot audit this event: {e}");
        }
    }
    if json {
        let events = new
            .iter()
            .map(|f| Event::finding("drift", f))
            .chain(gone.iter().map(|f| Event::finding("resolved", f)))
            .chain(errors.iter().map(|e| Event {
                event: "error",
                finding: None,
                message: Some(e),
            }));
        for e in events {
            // Through a Value: one line with sorted keys, as these lines have always been.
            let line = serde_json::to_value(&e).unwrap_or_default();
            println!("{line}");
        }
    } else {
        for f in &new {
            eprintln!("gowarden drift: {}", f.line());
        }
        for f in &gone {
            eprintln!("gowarden drift: resolved: {}", f.line());
        }
        for e in &errors {
            eprintln!("gowarden drift: cannot check: {e}");
        }
    }
}

/// Adds watches for every directory that matters now; returns the names whose change matters.
fn add_watches(
    inotify: &Inotify,
    opts: &Options,
    watched: &mut BTreeSet<PathBuf>,
) -> Vec<OsString> {
    // The names whose change can change a finding.
    let mut names: Vec<OsString> = crate::versionfile::watched_names()
        .into_iter()
        .map(OsString::from)
        .collect();
    let mut dirs: Vec<PathBuf> = opts.dir.ancestors().map(Path::to_path_buf).collect();
    // And the subdirectories mise's files live in (`.config/mise.toml`), where they exist.
    for d in opts.dir.ancestors() {
        dirs.extend(
            crate::versionfile::pin_subdirs()
                .into_iter()
                .map(|sub| d.join(sub))
                .filter(|p| p.is_dir()),
        );
    }
    let mut follow = |file: &Path, names: &mut Vec<OsString>| {
        // Every component, so creating a missing parent (`~/.config/go`) counts too.
        names.extend(file.iter().map(OsString::from));
        if let Some(dir) = file.ancestors().skip(1).find(|d| d.is_dir()) {
            dirs.push(dir.to_path_buf());
        }
    };
    if let Some(env_file) = goenv::env_file_path(goenv::process_env) {
        follow(&env_file, &mut names);
    }
    if let Ok(p) = crate::policy::load::load()
        && let Some(path) = p.origin.path()
    {
        follow(path, &mut names);
    }
    let flags = AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_ATTRIB;
    for d in dirs {
        // Re-adding a watched dir is harmless; a dir that vanished is skipped until it returns.
        if inotify.add_watch(&d, flags).is_ok() {
            watched.insert(d);
        }
    }
    names
}

/// Reads pending events; true if any is about a name in `interesting` (or the queue
/// overflowed, which loses names).
fn relevant(inotify: &Inotify, interesting: &[OsString]) -> bool {
    let Ok(events) = inotify.read_events() else {
        return false;
    };
    events.iter().any(|e| {
        e.mask.contains(AddWatchFlags::IN_Q_OVERFLOW)
            || e.name.as_ref().is_some_and(|n| interesting.contains(n))
    })
}

/// poll(2) on `fds` for input; which are readable. `timeout_ms` -1 waits forever. nix's own
/// poll wrapper sits behind a cargo feature this crate does not enable, so libc's is called.
fn poll(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> Result<Vec<bool>, String> {
    let mut pfds: Vec<nix::libc::pollfd> = fds
        .iter()
        .map(|fd| nix::libc::pollfd {
            fd: fd.as_raw_fd(),
            events: nix::libc::POLLIN,
            revents: 0,
        })
        .collect();
    loop {
        // SAFETY: `pfds` is a live, exclusively borrowed array of `pfds.len()` pollfd structs,
        // and every fd in it is borrowed from an owner that outlives this call.
        let n = unsafe {
            nix::libc::poll(
                pfds.as_mut_ptr(),
                pfds.len() as nix::libc::nfds_t,
                timeout_ms,
            )
        };
        if n >= 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("poll: {err}"));
        }
    }
    Ok(pfds
        .iter()
        .map(|p| p.revents & (nix::libc::POLLIN | nix::libc::POLLHUP | nix::libc::POLLERR) != 0)
        .collect())
}

/// One line of `drift --watch --json` (docs/env-and-drift.md): `{"event": "drift" |
/// "resolved", "finding"}` or `{"event": "error", "message"}`.
#[derive(serde::Serialize)]
struct Event<'a> {
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    finding: Option<&'a super::Finding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

impl<'a> Event<'a> {
    fn finding(event: &'static str, f: &'a super::Finding) -> Event<'a> {
        Event {
            event,
            finding: Some(f),
            message: None,
        }
    }
}
