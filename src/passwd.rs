//! `/etc/passwd` and `/etc/group` read directly, as glibc's `files` source reads them, with no
//! NSS code in the process: each file is read once per call that needs it and scanned for
//! every name that call needs. Below both [`crate::identity`] and [`crate::userdirs`] (whose
//! home fallback reads passwd), so neither imports the other's way back.
//!
//! Lines are `name:password:id:...`; empty lines, `#` comments and the `+`/`-` lines of the
//! `compat` source (NIS references, not entries) are skipped. The first entry for a key wins,
//! as in glibc.

use std::io;
use std::path::Path;

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";

/// What the passwd file says about one uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub home: String,
}

/// The first entry of the passwd file at `path` whose uid is `uid`. A missing file has no
/// entries (a minimal container image); any other read error is returned.
pub fn passwd_by_uid(path: &Path, uid: u32) -> io::Result<Option<PasswdEntry>> {
    let text = read_or_empty(path)?;
    Ok(entries(&text).find_map(|line| {
        let mut fields = line.split(|&b| b == b':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (parse_id(id) == Some(uid)).then(|| PasswdEntry {
            name: String::from_utf8_lossy(name).into_owned(),
            home: fields
                .nth(2)
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .unwrap_or_default(),
        })
    }))
}

/// For each of `names`, the gid of the first group entry of that name in the group file at
/// `path` (`None`: the file has no such group). One pass over the file for all of them.
pub fn gids_by_name(path: &Path, names: &[&str]) -> io::Result<Vec<Option<u32>>> {
    let text = read_or_empty(path)?;
    let mut found: Vec<Option<u32>> = vec![None; names.len()];
    let mut left = names.len();
    for line in entries(&text) {
        if left == 0 {
            break;
        }
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(id)) = (fields.next(), fields.nth(1)) else {
            continue;
        };
        // The gid is parsed only on a line of a wanted name: most lines are not.
        let mut gid = None;
        for (i, want) in names.iter().enumerate() {
            if found[i].is_none() && want.as_bytes() == name {
                let Some(g) = *gid.get_or_insert_with(|| parse_id(id)) else {
                    break;
                };
                found[i] = Some(g);
                left -= 1;
            }
        }
    }
    Ok(found)
}

/// A name that can be an entry's first field and be handed to getent as a key rather than an
/// option. Spaces are allowed: directory groups such as sssd's `domain users` have them.
pub fn is_plausible_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '+'])
        && !name.contains(|c: char| c == ':' || c.is_control())
}

fn read_or_empty(path: &Path) -> io::Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The entry lines: each scanned field by field where it is used, so a file of hundreds of
/// lines costs no allocation per line (the default call reads passwd for the audit record's
/// user name).
fn entries(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.is_empty() && !matches!(l[0], b'#' | b'+' | b'-'))
}

fn parse_id(field: &[u8]) -> Option<u32> {
    if field.is_empty() || !field.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(field).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn passwd_first_entry_for_the_uid_skipping_comments_and_compat_lines() {
        let f = file(
            "# comment\n+@netgroup::::::\n-bob:x:1001:1001::/home/bob:/bin/sh\nroot:x:0:0:root:/root:/bin/bash\n\
             broken\nalice:x:1000:1000:Alice:/home/alice:/bin/sh\nalias:x:1000:1000::/other:/bin/sh\n",
        );
        let alice = passwd_by_uid(f.path(), 1000).unwrap().unwrap();
        assert_eq!(
            alice,
            PasswdEntry {
                name: "alice".into(),
                home: "/home/alice".into()
            }
        );
        assert_eq!(passwd_by_uid(f.path(), 0).unwrap().unwrap().name, "root");
        assert_eq!(
            passwd_by_uid(f.path(), 1001).unwrap(),
            None,
            "a compat line"
        );
        assert_eq!(passwd_by_uid(f.path(), 4242).unwrap(), None);
        let missing = Path::new("/nonexistent/gowarden/passwd");
        assert_eq!(passwd_by_uid(missing, 0).unwrap(), None);
    }

    #[test]
    fn group_one_pass_for_every_name_first_entry_wins() {
        let f = file("root:x:0:\nci:x:20:alice,bob\r\nbad:x:notanumber:\nci:x:21:\nstaff:x:50:\n");
        assert_eq!(
            gids_by_name(f.path(), &["staff", "ci", "auditors", "bad"]).unwrap(),
            [Some(50), Some(20), None, None]
        );
        assert_eq!(gids_by_name(f.path(), &[]).unwrap(), []);
    }

    #[test]
    fn plausible_names_exclude_what_getent_would_read_as_options_or_no_file_can_hold() {
        for ok in ["ci", "domain users@corp.example"] {
            assert!(is_plausible_name(ok), "{ok}");
        }
        for bad in ["", "-h", "+nis", "a:b", "a\nb", "a\tb"] {
            assert!(!is_plausible_name(bad), "{bad:?}");
        }
    }
}
