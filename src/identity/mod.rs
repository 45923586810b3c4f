//! Who is running go: numeric ids from the kernel, names from `/etc/passwd` and `/etc/group`
//! read directly, and from getent(1) only for a name those files lack where
//! `/etc/nsswitch.conf` lists other sources for its database.
//!
//! There is no NSS code in gowarden. glibc's NSS loads modules (`libnss_systemd`, sssd, ldap)
//! into the process: a statically linked glibc binary that does so segfaults (measured on
//! stock Debian 12, whose nsswitch.conf says `files systemd`, for any name missing from the
//! files), a dynamic one pays the loader and glibc's start-up on every go call, and in either a
//! directory server that is down stalls the call. The release build is static musl
//! (scripts/build-release.sh), whose own lookups see only the files. So:
//! - the uid and the gids (real gid first, then `getgroups`, read on first use) come from the
//!   kernel and are always exact; a `uids`/`gids` binding needs no name at all;
//! - names are resolved only when a caller needs them (a `users` or `groups` binding), all the
//!   names the call may need in one pass of each file ([`Identity::expect_names`]);
//! - a name the files lack, where nsswitch.conf lists another source for that database, is
//!   asked of getent ([`getent`]): one process for all missing names of a database, within
//!   [`getent::TIMEOUT`]. It runs the machine's own NSS in a process of its own, so a broken
//!   module fails there. If getent is missing, fails or times out the name is unresolved and
//!   the binding fails closed: a caller must not slip into a laxer role because a directory
//!   server is down;
//! - getent's answers are kept for a minute in a file of the user's own ([`cache`]), so a CI
//!   job's go calls share one; a call the cache answers does not read nsswitch.conf (the
//!   cache holds for the same nsswitch.conf, passwd and group files only);
//! - the audit record's `user.name` is the passwd file's name of the uid, or a name already
//!   resolved for a binding ([`name_for_record`]): never a lookup that can crash or stall.
//!
//! Group membership is the process's own: `getgroups` lists the groups the login session was
//! given, so a group added in the directory after login counts only from the next login,
//! exactly as for file permissions. A group binding resolves the *group name* to its gid and
//! tests that gid, so nothing is looked up per group the user is in.

pub mod cache;
mod getent;
mod nsswitch;

use std::cell::{OnceCell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::passwd as files;
pub use crate::passwd::{GROUP, PASSWD};
pub const NSSWITCH: &str = "/etc/nsswitch.conf";

/// The identity of the calling process.
#[derive(Debug)]
pub struct Identity {
    uid: u32,
    gid: u32,
    /// The real gid first, then the supplementary groups, without duplicates; read on first
    /// use (glibc's `getgroups` wrapper also reads `/proc/sys/kernel/ngroups_max`).
    gids: OnceCell<Vec<u32>>,
    source: Source,
    names: RefCell<Names>,
}

/// Where names come from.
#[derive(Debug)]
enum Source {
    System(Databases),
    /// Given names, for tests and tools that already know them: no lookups at all.
    Fixed {
        user: Option<String>,
        groups: Vec<(String, u32)>,
    },
}

/// The files and programs a [`Source::System`] identity reads names from.
#[derive(Debug, Clone)]
struct Databases {
    passwd: PathBuf,
    group: PathBuf,
    nsswitch: PathBuf,
    getent: Vec<PathBuf>,
    timeout: Duration,
    /// Where getent's answers are kept; `None`: nowhere (no HOME, no XDG dirs).
    cache: Option<PathBuf>,
}

impl Databases {
    fn system() -> Databases {
        Databases {
            passwd: PathBuf::from(PASSWD),
            group: PathBuf::from(GROUP),
            nsswitch: PathBuf::from(NSSWITCH),
            getent: getent::PLACES.iter().map(PathBuf::from).collect(),
            timeout: getent::TIMEOUT,
            cache: cache::place(),
        }
    }
}

/// `Ok(None)`: no such user or group in any source; `Err`: why it could not be resolved.
type Answer<T> = std::result::Result<Option<T>, String>;

/// The names a call may need, and the answers so far.
#[derive(Debug, Default)]
struct Names {
    want_user: bool,
    want_groups: Vec<String>,
    user: Option<Answer<String>>,
    groups: Vec<(String, Answer<u32>)>,
}

/// The user name resolved for a binding in this process (uid, name), for the audit record.
static RESOLVED_USER: OnceLock<(u32, Option<String>)> = OnceLock::new();

impl Identity {
    /// The real uid, real gid and (when first needed) the supplementary groups of this
    /// process. No lookup.
    pub fn current() -> Identity {
        Identity {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            gids: OnceCell::new(),
            source: Source::System(Databases::system()),
            names: RefCell::default(),
        }
    }

    /// An identity with the names given instead of looked up: `groups` maps group names to
    /// gids for [`Identity::in_group_named`].
    pub fn fixed(
        uid: u32,
        gid: u32,
        supplementary: Vec<u32>,
        user: Option<&str>,
        groups: &[(&str, u32)],
    ) -> Identity {
        let source = Source::Fixed {
            user: user.map(str::to_string),
            groups: groups.iter().map(|(n, g)| (n.to_string(), *g)).collect(),
        };
        Identity {
            uid,
            gid,
            gids: OnceCell::from(with_primary(gid, supplementary)),
            source,
            names: RefCell::default(),
        }
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The real (primary) gid.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Every group the process is in: the real gid first, then the supplementary groups.
    pub fn gids(&self) -> &[u32] {
        self.gids.get_or_init(|| {
            let supplementary = nix::unistd::getgroups()
                .map(|g| g.into_iter().map(|g| g.as_raw()).collect())
                // getgroups only fails for a list longer than NGROUPS_MAX, which the kernel
                // never hands out; without it the primary group is still known.
                .unwrap_or_default();
            with_primary(self.gid, supplementary)
        })
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.gids().contains(&gid)
    }

    /// Declares the names this call may ask for, so that the first question answers them all
    /// with one pass of each file and at most one getent per database. Costs nothing itself.
    pub fn expect_names<'a>(&self, user: bool, groups: impl IntoIterator<Item = &'a str>) {
        let mut names = self.names.borrow_mut();
        names.want_user |= user;
        for g in groups {
            if !names.want_groups.iter().any(|w| w == g) {
                names.want_groups.push(g.to_string());
            }
        }
    }

    /// The user name of the uid. `Ok(None)`: no source knows the uid (a container running as
    /// an unnamed uid); `Err`: a source that might know it did not answer.
    pub fn user_name(&self) -> Result<Option<String>> {
        if let Source::Fixed { user, .. } = &self.source {
            return Ok(user.clone());
        }
        self.expect_names(true, []);
        self.resolve();
        let names = self.names.borrow();
        match names.user.as_ref().expect("resolved") {
            Ok(name) => Ok(name.clone()),
            Err(e) => Err(Error::new(e.clone())),
        }
    }

    /// Whether the process is in the group called `name`. `Ok(false)` for a group no source
    /// knows; `Err` when a source that might know it did not answer.
    pub fn in_group_named(&self, name: &str) -> Result<bool> {
        let gid = match &self.source {
            Source::Fixed { groups, .. } => groups.iter().find(|(n, _)| n == name).map(|g| g.1),
            Source::System(_) => {
                self.expect_names(false, [name]);
                self.resolve();
                let names = self.names.borrow();
                let (_, answer) = names
                    .groups
                    .iter()
                    .find(|(n, _)| n == name)
                    .expect("resolved");
                answer.clone().map_err(Error::new)?
            }
        };
        Ok(gid.is_some_and(|g| self.in_group(g)))
    }

    /// Answers every name asked for and not yet answered: the files first, then the cache and
    /// getent for what they lack, where nsswitch.conf lists other sources.
    fn resolve(&self) {
        let Source::System(db) = &self.source else {
            return;
        };
        let mut guard = self.names.borrow_mut();
        let names = &mut *guard;
        let user_pending = names.want_user && names.user.is_none();
        let groups_pending: Vec<String> = names
            .want_groups
            .iter()
            .filter(|g| !names.groups.iter().any(|(n, _)| n == *g))
            .cloned()
            .collect();
        if !user_pending && groups_pending.is_empty() {
            return;
        }

        // The files, one pass each.
        let mut user_missing = false;
        if user_pending {
            names.user = match files::passwd_by_uid(&db.passwd, self.uid) {
                Ok(Some(e)) => Some(Ok(Some(e.name))),
                Ok(None) => {
                    user_missing = true;
                    None
                }
                Err(e) => Some(Err(format!("cannot read {}: {e}", db.passwd.display()))),
            };
        }
        let mut groups_missing: Vec<String> = Vec::new();
        let keys: Vec<&str> = groups_pending
            .iter()
            .map(String::as_str)
            .filter(|g| files::is_plausible_name(g))
            .collect();
        for g in groups_pending
            .iter()
            .filter(|g| !files::is_plausible_name(g))
        {
            names.groups.push((g.clone(), Ok(None)));
        }
        if !keys.is_empty() {
            match files::gids_by_name(&db.group, &keys) {
                Ok(gids) => {
                    for (name, gid) in keys.iter().zip(gids) {
                        match gid {
                            Some(g) => names.groups.push((name.to_string(), Ok(Some(g)))),
                            None => groups_missing.push(name.to_string()),
                        }
                    }
                }
                Err(e) => {
                    let why = format!("cannot read {}: {e}", db.group.display());
                    for name in &keys {
                        names.groups.push((name.to_string(), Err(why.clone())));
                    }
                }
            }
        }
        if !user_missing && groups_missing.is_empty() {
            self.remember_user(names);
            return;
        }

        // The cache first: it holds only getent's answers, given while nsswitch.conf (the
        // same file by its stamp) listed other sources, so when it answers every name the
        // files lack, nsswitch.conf need not be read (a group binding's every call on Debian,
        // whose `files systemd` sends a group the files lack to getent).
        let stamp = OnceCell::new();
        let stamp = || {
            stamp
                .get_or_init(|| cache::stamp(&[&db.nsswitch, &db.passwd, &db.group]))
                .as_str()
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut kept = db
            .cache
            .as_deref()
            .map(|p| cache::load(p, self.uid, stamp, now))
            .unwrap_or_default();
        if (!user_missing || kept.user(self.uid).is_some())
            && groups_missing.iter().all(|g| kept.group(g).is_some())
        {
            if user_missing {
                names.user = kept.user(self.uid).cloned().map(Ok);
            }
            for g in groups_missing {
                let gid = kept.group(&g).flatten();
                names.groups.push((g, Ok(gid)));
            }
            self.remember_user(names);
            return;
        }

        // Other sources, where nsswitch.conf lists any.
        let sources = |database: &str| {
            nsswitch::other_sources(&db.nsswitch, database)
                .map_err(|e| format!("cannot read {}: {e}", db.nsswitch.display()))
        };
        let passwd_sources = if user_missing {
            sources("passwd")
        } else {
            Ok(Vec::new())
        };
        let group_sources = if groups_missing.is_empty() {
            Ok(Vec::new())
        } else {
            sources("group")
        };
        let mut ask_user = false;
        if user_missing {
            match &passwd_sources {
                Ok(s) if s.is_empty() => names.user = Some(Ok(None)),
                Ok(_) => ask_user = true,
                Err(e) => names.user = Some(Err(e.clone())),
            }
        }
        let ask_groups: Vec<String> = match &group_sources {
            Ok(s) if s.is_empty() => {
                for g in groups_missing.drain(..) {
                    names.groups.push((g, Ok(None)));
                }
                Vec::new()
            }
            Ok(_) => groups_missing,
            Err(e) => {
                for g in groups_missing.drain(..) {
                    names.groups.push((g, Err(e.clone())));
                }
                Vec::new()
            }
        };
        if !ask_user && ask_groups.is_empty() {
            self.remember_user(names);
            return;
        }

        // The cache's answers (loaded above), then getent for what it lacks.
        let mut learnt = false;
        let program = OnceCell::new();
        let program = || program.get_or_init(|| getent::find(&db.getent));
        if ask_user {
            let answer = match kept.user(self.uid) {
                Some(name) => Ok(name.clone()),
                None => match program().as_ref().map_err(|e| e.to_string()).and_then(|p| {
                    getent::query(p, "passwd", &[&self.uid.to_string()], db.timeout)
                        .map_err(|e| e.to_string())
                }) {
                    Ok(out) => {
                        let name = user_in_getent_output(&out, self.uid);
                        kept.users.push((self.uid, name.clone()));
                        learnt = true;
                        Ok(name)
                    }
                    Err(failure) => Err(format!(
                        "cannot resolve the user name of uid {}: {} has no entry for it and {} \
                         lists {} for passwd, but {failure}",
                        self.uid,
                        db.passwd.display(),
                        db.nsswitch.display(),
                        passwd_sources.as_deref().unwrap_or_default().join(", ")
                    )),
                },
            };
            names.user = Some(answer);
        }
        let unknown: Vec<&str> = ask_groups
            .iter()
            .map(String::as_str)
            .filter(|g| match kept.group(g) {
                Some(gid) => {
                    names.groups.push((g.to_string(), Ok(gid)));
                    false
                }
                None => true,
            })
            .collect();
        if !unknown.is_empty() {
            let answer = program().as_ref().map_err(|e| e.to_string()).and_then(|p| {
                getent::query(p, "group", &unknown, db.timeout).map_err(|e| e.to_string())
            });
            match answer {
                Ok(out) => {
                    for (name, gid) in unknown.iter().zip(gids_in_getent_output(&out, &unknown)) {
                        kept.groups.push((name.to_string(), gid));
                        names.groups.push((name.to_string(), Ok(gid)));
                    }
                    learnt = true;
                }
                Err(failure) => {
                    let sources = group_sources.as_deref().unwrap_or_default().join(", ");
                    for name in unknown {
                        names.groups.push((
                            name.to_string(),
                            Err(format!(
                                "cannot resolve group {name:?}: {} has no such group and {} \
                                 lists {sources} for group, but {failure}",
                                db.group.display(),
                                db.nsswitch.display(),
                            )),
                        ));
                    }
                }
            }
        }
        if learnt && let Some(path) = &db.cache {
            // Only an optimisation: a cache that cannot be written means getent next time.
            let _ = cache::store(path, self.uid, stamp(), now, &kept);
        }
        self.remember_user(names);
    }

    fn remember_user(&self, names: &Names) {
        if let Some(Ok(name)) = &names.user {
            let _ = RESOLVED_USER.set((self.uid, name.clone()));
        }
    }
}

/// The user name for the audit record of `uid`: the name a binding already resolved in this
/// process, else the passwd file's. Never getent, so never a stall.
pub fn name_for_record(uid: u32) -> Option<String> {
    if let Some((u, name)) = RESOLVED_USER.get()
        && *u == uid
    {
        return name.clone();
    }
    files::passwd_by_uid(Path::new(PASSWD), uid)
        .ok()
        .flatten()
        .map(|e| e.name)
}

/// The name on the passwd line of `getent passwd UID` whose uid field is `uid`.
fn user_in_getent_output(out: &[u8], uid: u32) -> Option<String> {
    let text = String::from_utf8_lossy(out);
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        let name = f.next()?;
        (f.nth(1)?.parse() == Ok(uid)).then(|| name.to_string())
    })
}

/// For each of `names`, the gid on the `getent group NAME...` line of that exact name (getent
/// reads an all-digit key as a gid, whose line has another name: not an answer).
fn gids_in_getent_output(out: &[u8], names: &[&str]) -> Vec<Option<u32>> {
    let text = String::from_utf8_lossy(out);
    names
        .iter()
        .map(|want| {
            text.lines().find_map(|l| {
                let mut f = l.split(':');
                (f.next()? == *want).then_some(())?;
                f.nth(1)?.parse().ok()
            })
        })
        .collect()
}

fn with_primary(gid: u32, supplementary: Vec<u32>) -> Vec<u32> {
    let mut gids = vec![gid];
    for g in supplementary {
        if !gids.contains(&g) {
            gids.push(g);
        }
    }
    gids
}

#[cfg(test)]
mod tests;
