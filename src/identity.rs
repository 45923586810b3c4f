//! Who is running go: numeric ids from the kernel, names through NSS only when asked for.
//!
//! The uid and the gids (real gid first, then the supplementary groups from `getgroups`, read
//! only when a caller asks for them) are a few system calls and always exact. Names go through NSS (`getpwuid_r`,
//! `getgrnam_r` via `nix::unistd::{User, Group}`), which on company machines means LDAP or
//! SSSD and may be slow or down, so each is looked up at most once and only when a caller
//! needs it: role bindings by `users`/`groups`, the audit record's `user.name`.
//!
//! Group membership is the process's own: `getgroups` lists the groups the login session was
//! given, so a group added in LDAP after login counts only from the next login, exactly as for
//! file permissions. A group binding is matched by resolving the *group name* to its gid
//! (`getgrnam`) and testing that gid, so no lookup is made per group the user is in.
//!
//! gowarden is linked dynamically against the C library, so NSS modules (sssd, ldap, systemd)
//! load as for any other program. A statically linked build would see only `/etc/passwd` and
//! `/etc/group`; bind roles by `uids`/`gids` there.

use std::cell::OnceCell;

use nix::unistd::{Gid, Group, Uid, User};

use crate::error::{Error, Result};

/// The identity of the calling process.
#[derive(Debug)]
pub struct Identity {
    uid: u32,
    gid: u32,
    /// The real gid first, then the supplementary groups, without duplicates; read on first
    /// use (glibc's `getgroups` wrapper also reads `/proc/sys/kernel/ngroups_max`).
    gids: OnceCell<Vec<u32>>,
    names: Names,
    user_name: OnceCell<std::result::Result<Option<String>, String>>,
}

/// Where names come from.
#[derive(Debug)]
enum Names {
    Nss,
    /// Given names, for tests and tools that already know them: no NSS lookups at all.
    Fixed {
        user: Option<String>,
        groups: Vec<(String, u32)>,
    },
}

impl Identity {
    /// The real uid, real gid and (when first needed) the supplementary groups of this
    /// process. No NSS lookup.
    pub fn current() -> Identity {
        Identity {
            uid: Uid::current().as_raw(),
            gid: Gid::current().as_raw(),
            gids: OnceCell::new(),
            names: Names::Nss,
            user_name: OnceCell::new(),
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
        let names = Names::Fixed {
            user: user.map(str::to_string),
            groups: groups.iter().map(|(n, g)| (n.to_string(), *g)).collect(),
        };
        Identity::build(uid, gid, supplementary, names)
    }

    fn build(uid: u32, gid: u32, supplementary: Vec<u32>, names: Names) -> Identity {
        Identity {
            uid,
            gid,
            gids: OnceCell::from(with_primary(gid, supplementary)),
            names,
            user_name: OnceCell::new(),
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
                .map(|g| g.into_iter().map(Gid::as_raw).collect())
                // getgroups only fails for a list longer than NGROUPS_MAX, which the kernel
                // never hands out; without it the primary group is still known.
                .unwrap_or_default();
            with_primary(self.gid, supplementary)
        })
    }

    pub fn in_group(&self, gid: u32) -> bool {
        self.gids().contains(&gid)
    }

    /// The user name of the uid (NSS, looked up once). `Ok(None)`: no such user in NSS (a
    /// container running as an unnamed uid); `Err`: NSS itself failed.
    pub fn user_name(&self) -> Result<Option<&str>> {
        let cached = self.user_name.get_or_init(|| match &self.names {
            Names::Fixed { user, .. } => Ok(user.clone()),
            Names::Nss => User::from_uid(Uid::from_raw(self.uid))
                .map(|u| u.map(|u| u.name))
                .map_err(|e| e.desc().to_string()),
        });
        match cached {
            Ok(name) => Ok(name.as_deref()),
            Err(e) => Err(Error::new(format!(
                "cannot look up the user name of uid {} (NSS): {e}",
                self.uid
            ))),
        }
    }

    /// Whether the process is in the group called `name` (its gid from NSS). `Ok(false)` for
    /// a group NSS does not know; `Err` when NSS itself failed.
    pub fn in_group_named(&self, name: &str) -> Result<bool> {
        let gid = match &self.names {
            Names::Fixed { groups, .. } => groups.iter().find(|(n, _)| n == name).map(|g| g.1),
            Names::Nss => Group::from_name(name)
                .map_err(|e| {
                    Error::new(format!("cannot look up group {name:?} (NSS): {}", e.desc()))
                })?
                .map(|g| g.gid.as_raw()),
        };
        Ok(gid.is_some_and(|g| self.in_group(g)))
    }

    /// The name of each of [`Identity::gids`] (`None` where NSS has none), for display. Makes
    /// one NSS lookup per group: not for the hot path.
    pub fn group_names(&self) -> Vec<(u32, Option<String>)> {
        self.gids()
            .iter()
            .map(|&gid| {
                let name = match &self.names {
                    Names::Fixed { groups, .. } => groups
                        .iter()
                        .find(|(_, g)| *g == gid)
                        .map(|(n, _)| n.clone()),
                    Names::Nss => Group::from_gid(Gid::from_raw(gid))
                        .ok()
                        .flatten()
                        .map(|g| g.name),
                };
                (gid, name)
            })
            .collect()
    }
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
mod tests {
    use super::*;

    #[test]
    fn current_matches_the_kernel() {
        let me = Identity::current();
        assert_eq!(me.uid(), nix::unistd::getuid().as_raw());
        assert_eq!(me.gid(), nix::unistd::getgid().as_raw());
        assert_eq!(me.gids()[0], me.gid());
        for g in nix::unistd::getgroups().unwrap() {
            assert!(me.in_group(g.as_raw()), "supplementary gid {g} missing");
        }
    }

    #[test]
    fn names_through_nss_agree_with_the_passwd_and_group_databases() {
        let me = Identity::current();
        let want = User::from_uid(Uid::current()).unwrap().map(|u| u.name);
        assert_eq!(me.user_name().unwrap().map(str::to_string), want);
        if let Some(group) = Group::from_gid(Gid::current()).unwrap() {
            assert!(me.in_group_named(&group.name).unwrap());
            assert!(me.group_names().contains(&(me.gid(), Some(group.name))));
        }
        assert!(!me.in_group_named("gowarden-no-such-group").unwrap());
    }

    #[test]
    fn fixed_identity_dedups_gids_and_needs_no_nss() {
        let id = Identity::fixed(
            1000,
            100,
            vec![100, 20, 20, 30],
            Some("alice"),
            &[("ci", 20), ("other", 40)],
        );
        assert_eq!(id.gids(), [100, 20, 30]);
        assert_eq!(id.user_name().unwrap(), Some("alice"));
        assert!(id.in_group_named("ci").unwrap());
        assert!(!id.in_group_named("other").unwrap());
        assert!(!id.in_group_named("unknown").unwrap());
        assert_eq!(
            id.group_names(),
            [(100, None), (20, Some("ci".to_string())), (30, None)]
        );
        let anonymous = Identity::fixed(4242, 4242, vec![], None, &[]);
        assert_eq!(anonymous.user_name().unwrap(), None);
    }
}
