//! The carve against the one it replaced (std's listing, `canonicalize`, each denied path
//! resolved from its whole path), which is kept here as the reference: on a layout with a
//! HOME reached through a link, a denied link, denied paths that exist and one that does
//! not, files, fifos and directories, both must add the same rules.

use super::*;
use crate::confine::carve::{Adder, is_at_or_below};
use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::os::unix::fs::symlink;
use std::rc::Rc;

/// An entry the reference carve grants: where to open it (its directory, its name) and
/// what it gets.
struct Carved {
    dir: Rc<OwnedFd>,
    name: CString,
    access: BitFlags<AccessFs>,
    is_dir: bool,
}

/// The ruleset the shim built before, rule for rule (the code as it was, with its
/// listing by nix's `Dir`, std's `canonicalize` and `real_path` for every rule).
fn reference(
    ruleset: RawFd,
    file_access: BitFlags<AccessFs>,
    rules: Vec<Rule>,
    denies: &[PathBuf],
) -> Adder {
    let mut adder = Adder::new(ruleset, file_access);
    let mut carved = BTreeMap::new();
    for r in rules {
        let fd = match crate::rawfs::open_path(&r.path) {
            Ok(fd) => fd,
            Err(_) if r.go_creates => {
                let _ = std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o777)
                    .create(&r.path);
                match crate::rawfs::open_path(&r.path) {
                    Ok(fd) => fd,
                    Err(_) => continue,
                }
            }
            Err(_) => continue,
        };
        let is_dir = nix::sys::stat::fstat(fd.as_fd())
            .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR);
        if !denies.is_empty() {
            let real = crate::rawfs::real_path(&fd, &r.path)
                .unwrap_or_else(|| r.path.canonicalize().unwrap_or_else(|_| r.path.clone()));
            let below: Vec<&Path> = denies
                .iter()
                .map(PathBuf::as_path)
                .filter(|d| d.starts_with(&real))
                .collect();
            if below.iter().any(|d| *d == real) {
                continue;
            }
            if is_dir && !below.is_empty() {
                let below: Vec<&[u8]> = below.iter().map(|d| d.as_os_str().as_bytes()).collect();
                reference_carve(
                    &mut carved,
                    &Rc::new(fd),
                    real.as_os_str().as_bytes(),
                    r.access,
                    &below,
                );
                continue;
            }
        }
        adder.add(&fd, r.access, is_dir, &r.path).unwrap();
    }
    for (path, c) in carved {
        let flags = nix::libc::O_PATH | nix::libc::O_NOFOLLOW;
        let Ok(fd) = crate::rawfs::openat(Some(&c.dir), &c.name, flags) else {
            continue;
        };
        adder
            .add(&fd, c.access, c.is_dir, &OsStr::from_bytes(&path))
            .unwrap();
    }
    adder
}

fn reference_carve(
    carved: &mut BTreeMap<Vec<u8>, Carved>,
    fd: &Rc<OwnedFd>,
    real: &[u8],
    access: BitFlags<AccessFs>,
    below: &[&[u8]],
) {
    let base = if real.ends_with(b"/") {
        real.to_vec()
    } else {
        [real, b"/"].concat()
    };
    let next: Vec<&[u8]> = below
        .iter()
        .filter_map(|d| d.strip_prefix(base.as_slice()))
        .map(|rest| rest.split(|&b| b == b'/').next().unwrap_or(rest))
        .collect();
    let Ok(listing) =
        crate::rawfs::openat(Some(fd), c".", nix::libc::O_RDONLY | nix::libc::O_DIRECTORY)
    else {
        return;
    };
    let Ok(mut dir) = nix::dir::Dir::from_fd(listing) else {
        return;
    };
    for e in dir.iter() {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let is_dir = match e.file_type() {
            Some(nix::dir::Type::Symlink) => continue,
            Some(t) => t == nix::dir::Type::Directory,
            None => match nix::sys::stat::fstatat(
                fd.as_fd(),
                name,
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            ) {
                Ok(st) if st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFLNK => continue,
                Ok(st) => st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR,
                Err(_) => continue,
            },
        };
        let child_real = [base.as_slice(), bytes].concat();
        if next.contains(&bytes) {
            let deeper: Vec<&[u8]> = below
                .iter()
                .copied()
                .filter(|d| is_at_or_below(d, &child_real))
                .collect();
            if !is_dir || deeper.contains(&child_real.as_slice()) {
                continue;
            }
            let Ok(child) =
                crate::rawfs::openat(Some(fd), name, nix::libc::O_PATH | nix::libc::O_NOFOLLOW)
            else {
                continue;
            };
            reference_carve(carved, &Rc::new(child), &child_real, access, &deeper);
            continue;
        }
        let entry = carved.entry(child_real).or_insert_with(|| Carved {
            dir: Rc::clone(fd),
            name: name.to_owned(),
            access: BitFlags::empty(),
            is_dir,
        });
        entry.access |= access;
    }
}

#[test]
fn the_carve_adds_the_same_rules_as_the_one_it_replaced() {
    let t = tempfile::tempdir().unwrap();
    let root = t.path().canonicalize().unwrap();
    let real_home = root.join("users/u");
    let mk = |p: &str| std::fs::create_dir_all(real_home.join(p)).unwrap();
    let touch = |p: &str| std::fs::write(real_home.join(p), "x").unwrap();
    for d in [
        ".ssh/keys",
        ".config/other",
        ".config/go",
        "dotfiles",
        "project/sub",
        ".cache",
    ] {
        mk(d);
    }
    for f in [
        ".ssh/id",
        ".netrc",
        "dotfiles/gitconfig",
        "dotfiles/vimrc",
        "notes",
        ".config/other/x",
    ] {
        touch(f);
    }
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    std::fs::create_dir_all(root.join("other")).unwrap();
    nix::unistd::mkfifo(&real_home.join("fifo"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    // HOME as the user sees it: a link to the real one.
    let home = root.join("home");
    symlink(&real_home, &home).unwrap();
    symlink("dotfiles/gitconfig", real_home.join(".gitconfig")).unwrap();
    symlink(root.join("other"), real_home.join(".config/linked")).unwrap();
    symlink("nowhere", real_home.join(".dangling")).unwrap();

    // Denied: an existing dir, an existing file, a link (its target is what is denied),
    // a path that does not exist, one in a dir that does not exist, a linked dir, a dangling link.
    let denied = [
        ".ssh",
        ".netrc",
        ".gitconfig",
        ".config/gopls",
        ".aws/credentials",
        ".config/linked",
        ".dangling",
        ".ssh/keys",
    ];
    let mut dirs = crate::confine::DenyDirs::default();
    let denies: Vec<PathBuf> = denied
        .iter()
        .map(|d| {
            let p = home.join(d);
            let fast = dirs.resolve(&p);
            assert_eq!(fast, crate::confine::resolve_existing_prefix(&p), "{d}");
            fast
        })
        .collect();
    assert!(
        denies.contains(&real_home.join("dotfiles/gitconfig")),
        "{denies:?}"
    );
    assert!(denies.contains(&root.join("other")), "{denies:?}");
    assert!(
        denies.contains(&real_home.join(".config/gopls")),
        "{denies:?}"
    );

    let abi = ABI::V1;
    let read = AccessFs::ReadFile | AccessFs::ReadDir;
    let write = AccessFs::from_write(abi);
    let rules = || {
        let rule = |path: PathBuf, access, go_creates| Rule {
            path,
            access,
            go_creates,
        };
        vec![
            // The read rule on everything (the tempdir stands in for `/`).
            rule(root.clone(), read, false),
            rule(home.clone(), write | read, false),
            rule(home.join("project"), write | read, false),
            rule(root.join("tmp"), write | read, false),
            rule(home.join(".cache/go-build"), write | read, true),
            rule(home.join(".ssh"), write | read, false),
            rule(home.join(".config/go"), write | read, false),
            rule(home.join("missing"), write | read, false),
            rule(PathBuf::from("/dev/null"), write | read, false),
        ]
    };
    let ruleset = create_ruleset(write | read, false).unwrap();
    let fd = ruleset.as_raw_fd();
    let file_access = AccessFs::from_file(abi);
    let now = add_file_rules(fd, file_access, rules(), &denies).unwrap();
    let before = reference(fd, file_access, rules(), &denies);
    // The same rules; the order they are added in does not matter to the kernel.
    let (mut now_sorted, mut before_sorted) = (now.log.clone(), before.log.clone());
    now_sorted.sort();
    before_sorted.sort();
    assert_eq!(now_sorted, before_sorted);
    assert_eq!(now.added, now.log.len());
    // And what it adds is the carve: the denied paths and the dirs above them get no rule,
    // their siblings do.
    let paths: Vec<&str> = now.log.iter().map(|(p, _, _)| p.as_str()).collect();
    let named = |p: &Path| format!("{:?}", p.as_os_str());
    for gone in [
        root.clone(),
        real_home.clone(),
        real_home.join(".ssh"),
        real_home.join(".netrc"),
        real_home.join("dotfiles/gitconfig"),
        root.join("other"),
    ] {
        assert!(
            !paths.contains(&named(&gone).as_str()),
            "{gone:?} in {paths:?}"
        );
    }
    for kept in [
        root.join("tmp"),
        real_home.join("notes"),
        real_home.join("fifo"),
        real_home.join("dotfiles/vimrc"),
        real_home.join(".config/other"),
        real_home.join("project"),
        real_home.join(".cache"),
    ] {
        assert!(
            paths.contains(&named(&kept).as_str()),
            "{kept:?} not in {paths:?}"
        );
    }
}
