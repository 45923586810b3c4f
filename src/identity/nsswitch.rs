//! `/etc/nsswitch.conf`, read only to learn whether a database has sources besides `files`
//! (`systemd`, `sss`, `ldap`, `extrausers`, `compat`, ...): a name the files lack can exist
//! only there. gowarden never loads those sources itself; getent does ([`super::getent`]).

use std::io;
use std::path::Path;

/// The sources other than `files` that the nsswitch.conf at `path` lists for `database`, in
/// order. Empty when it lists `files` only, has no line for the database, or does not exist
/// (musl systems have none; gowarden then reads the files, as they do).
pub fn other_sources(path: &Path, database: &str) -> io::Result<Vec<String>> {
    #[cfg(test)]
    READS.with(|r| r.set(r.get() + 1));
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(sources(&text, database)
        .into_iter()
        .filter(|s| s != "files")
        .collect())
}

#[cfg(test)]
thread_local! {
    /// How often this thread read an nsswitch.conf: a cache that answers must save the read.
    pub static READS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Every source listed for `database` (the first line for it counts), without the
/// `[STATUS=action]` items between them.
fn sources(text: &str, database: &str) -> Vec<String> {
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        if name.trim() != database {
            continue;
        }
        let mut out = Vec::new();
        let mut word = String::new();
        let mut in_action = false;
        for c in rest.chars().chain(std::iter::once(' ')) {
            match c {
                '[' => in_action = true,
                ']' => in_action = false,
                _ if in_action => {}
                c if c.is_whitespace() => {
                    if !word.is_empty() {
                        out.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        return out;
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_skip_actions_comments_and_other_databases() {
        let text = "# passwd: ldap\npasswd:   files systemd # comment\n\
                    group: files [ NOTFOUND=return ] sss [SUCCESS=merge]extrausers\n\
                    group: ldap\nhosts: files dns\n";
        assert_eq!(sources(text, "passwd"), ["files", "systemd"]);
        assert_eq!(sources(text, "group"), ["files", "sss", "extrausers"]);
        assert!(sources(text, "shadow").is_empty());
    }

    #[test]
    fn other_sources_leave_out_files_and_a_missing_file_means_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nsswitch.conf");
        assert!(other_sources(&p, "group").unwrap().is_empty());
        std::fs::write(&p, "passwd: files\ngroup: compat files ldap\n").unwrap();
        assert!(other_sources(&p, "passwd").unwrap().is_empty());
        assert_eq!(other_sources(&p, "group").unwrap(), ["compat", "ldap"]);
    }
}
