//! getent(1) as the one way to reach NSS sources besides `files`: it runs them in a process of
//! its own, linked against the machine's own C library and modules, so a module that is
//! missing, broken or built for another glibc can fail there but never crash or stall the shim.
//! One process per database answers every key a call needs, within a bounded time.

use std::fmt;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// How long getent may take: enough for a directory server on a slow link, short enough that
/// a dead one costs a go call seconds, not minutes.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Where getent is looked for: fixed paths, never `PATH`, so the program that answers for
/// the directory is the system's.
pub const PLACES: [&str; 2] = ["/usr/bin/getent", "/bin/getent"];

/// Why getent gave no answer.
#[derive(Debug)]
pub enum Failure {
    NotInstalled(Vec<PathBuf>),
    Start(PathBuf, io::Error),
    Timeout(PathBuf, Duration),
    Killed(PathBuf, i32),
    Status(PathBuf, i32),
    Read(PathBuf, io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NotInstalled(places) => {
                let places: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "getent is not installed (looked for {})",
                    places.join(", ")
                )
            }
            Failure::Start(p, e) => write!(f, "{} could not be started: {e}", p.display()),
            Failure::Timeout(p, t) => {
                write!(
                    f,
                    "{} did not answer within {} s",
                    p.display(),
                    t.as_secs_f32()
                )
            }
            Failure::Killed(p, sig) => write!(f, "{} was killed by signal {sig}", p.display()),
            Failure::Status(p, code) => write!(f, "{} failed (exit status {code})", p.display()),
            Failure::Read(p, e) => write!(f, "cannot read the output of {}: {e}", p.display()),
        }
    }
}

/// The first of `places` that is an executable file.
pub fn find(places: &[PathBuf]) -> Result<PathBuf, Failure> {
    use std::os::unix::fs::PermissionsExt;
    places
        .iter()
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .cloned()
        .ok_or_else(|| Failure::NotInstalled(places.to_vec()))
}

/// The entry lines `getent DATABASE KEY...` prints. Exit status 2 (some key not found) is an
/// answer, not a failure: the keys it found are printed, the others are absent.
pub fn query(
    program: &Path,
    database: &str,
    keys: &[&str],
    timeout: Duration,
) -> Result<Vec<u8>, Failure> {
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(program)
        .arg(database)
        .args(keys)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Failure::Start(program.to_path_buf(), e))?;
    let out = read_until_eof(&mut child, deadline)
        .map_err(|e| match e {
            ReadError::Timeout => Failure::Timeout(program.to_path_buf(), timeout),
            ReadError::Io(e) => Failure::Read(program.to_path_buf(), e),
        })
        .and_then(|out| match wait_until(&mut child, deadline) {
            Some(status) => match (status.code(), status.signal()) {
                (Some(0 | 2), _) => Ok(out),
                (Some(code), _) => Err(Failure::Status(program.to_path_buf(), code)),
                (None, Some(sig)) => Err(Failure::Killed(program.to_path_buf(), sig)),
                (None, None) => Err(Failure::Status(program.to_path_buf(), -1)),
            },
            None => Err(Failure::Timeout(program.to_path_buf(), timeout)),
        });
    if out.is_err() {
        let _ = child.kill();
        let _ = child.wait();
    }
    out
}

enum ReadError {
    Timeout,
    Io(io::Error),
}

fn read_until_eof(child: &mut Child, deadline: Instant) -> Result<Vec<u8>, ReadError> {
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadError::Timeout);
        }
        let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(stdout.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => match stdout.read(&mut buf) {
                Ok(0) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadError::Io(e)),
            },
            Err(e) => return Err(ReadError::Io(e.into())),
        }
    }
}

/// The child's exit status once it has closed its output: it is exiting, but a wait must stay
/// bounded all the same.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<std::process::ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_micros(100));
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> PathBuf {
        let p = dir.join("getent");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn answers_with_status_0_or_2_and_passes_database_and_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = script(dir.path(), "echo \"$1|$2|$3\"; exit 2");
        let out = query(&p, "group", &["ci", "domain users"], TIMEOUT).unwrap();
        assert_eq!(out, b"group|ci|domain users\n");
    }

    #[test]
    fn fails_on_other_statuses_signals_timeouts_and_missing_programs() {
        let dir = tempfile::tempdir().unwrap();
        let p = script(dir.path(), "exit 1");
        let e = query(&p, "group", &["ci"], TIMEOUT).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} failed (exit status 1)", p.display())
        );

        let p = script(dir.path(), "kill -9 $$");
        let e = query(&p, "group", &["ci"], TIMEOUT).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{} was killed by signal 9", p.display())
        );

        let p = script(dir.path(), "exec sleep 10");
        let start = Instant::now();
        let e = query(&p, "group", &["ci"], Duration::from_millis(300)).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(3), "bounded");
        assert_eq!(
            e.to_string(),
            format!("{} did not answer within 0.3 s", p.display())
        );

        let none = [
            dir.path().join("nope"),
            PathBuf::from("/nonexistent/getent"),
        ];
        let e = find(&none).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "getent is not installed (looked for {}, /nonexistent/getent)",
                none[0].display()
            )
        );
        assert_eq!(find(&[none[0].clone(), p.clone()]).unwrap(), p);
    }
}
