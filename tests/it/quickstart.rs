//! The README as a newcomer meets it: its quick start, read from README.md at test time and run
//! exactly as written in a login shell with a fresh HOME (install.sh builds the release binary,
//! `--go 1.23.12` installs a first toolchain, a first project runs), its test command, and the
//! links from README.md, docs/ and policies/README.md.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Sandbox, go_arch, run};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn readme() -> String {
    fs::read_to_string(Path::new(REPO).join("README.md")).unwrap()
}

/// The fenced block right after the README line that starts with `marker`, whose opening fence
/// must be "```" + `lang`: its lines, each ending in a newline.
fn block_after(text: &str, marker: &str, lang: &str) -> String {
    let mut lines = text.lines();
    let found = lines.by_ref().any(|l| l.starts_with(marker));
    assert!(found, "README.md has no line starting with {marker:?}");
    assert_eq!(
        lines.next(),
        Some(format!("```{lang}").as_str()),
        "the block after {marker:?} opens with ```{lang}"
    );
    let mut out = String::new();
    for l in lines {
        if l == "```" {
            return out;
        }
        out.push_str(l);
        out.push('\n');
    }
    panic!("the block after {marker:?} is not closed");
}

/// A file:// module proxy holding the real go1.23.12's zip (from the cache
/// `scripts/fetch-go-toolchains.sh` fills), the version install.sh pins.
fn local_proxy_with_go1_23_12(root: &Path) -> PathBuf {
    let zip = common::real_toolchain_zip("go1.23.12");
    let dir = root.join("proxy/golang.org/toolchain/@v");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(&zip, dir.join(zip.file_name().unwrap())).unwrap();
    root.join("proxy")
}

/// `bash -l -c COMMANDS` in `dir` from an empty environment but for `env`: a new terminal.
fn login_bash(dir: &Path, commands: &str, env: &[(&str, &Path)]) -> common::FakeRun {
    let mut c = Command::new("bash");
    // -e: a step that fails stops the walk, as a reader would stop.
    c.args(["-l", "-e", "-c", commands])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(tc) = std::env::var_os("RUSTUP_TOOLCHAIN") {
        c.env("RUSTUP_TOOLCHAIN", tc);
    }
    run(c)
}

#[test]
fn the_quick_start_runs_as_written_in_a_login_shell_with_a_fresh_home() {
    let text = readme();
    let commands = block_after(&text, "<!-- quickstart:", "sh");
    assert!(
        commands.starts_with("./install.sh "),
        "the quick start begins with the install: {commands}"
    );
    let sb = Sandbox::new();
    let home = sb.root.join("newcomer");
    fs::create_dir(&home).unwrap();
    let real_home = PathBuf::from(std::env::var_os("HOME").expect("HOME"));
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".cargo"));
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| real_home.join(".rustup"));
    // What rustup's installer leaves in ~/.profile (its `. "$HOME/.cargo/env"`, with this
    // machine's CARGO_HOME): the reader has cargo, and nothing else of this machine's.
    fs::write(
        home.join(".profile"),
        format!(
            "export PATH=\"{}:$PATH\"\n",
            cargo_home.join("bin").display()
        ),
    )
    .unwrap();
    // The test build's target dir: install.sh's release build is the one already built there.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    // Where `--go 1.23.12` fetches from: a file:// proxy, so no network is needed.
    let proxy = local_proxy_with_go1_23_12(&sb.root);
    let goproxy = PathBuf::from(format!("file://{}", proxy.display()));
    let env: [(&str, &Path); 5] = [
        ("HOME", &home),
        ("CARGO_HOME", &cargo_home),
        ("RUSTUP_HOME", &rustup_home),
        ("CARGO_TARGET_DIR", target_dir),
        ("GOPROXY", &goproxy),
    ];
    let r = login_bash(Path::new(REPO), &commands, &env);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);

    // install.sh's report, then exactly what the README says the rest prints.
    let (install, rest) = r
        .stdout
        .split_once("install.sh: done; to use it in this shell run: ")
        .unwrap_or_else(|| panic!("install.sh did not finish:\n{}", r.stdout));
    let rest = rest.split_once('\n').unwrap().1;
    let home_s = home.display().to_string();
    let expected = block_after(&text, "<!-- quickstart output -->", "text")
        .replace('~', &home_s)
        .replace("linux/amd64", &format!("linux/{}", go_arch()));
    assert_eq!(rest, expected, "stderr:\n{}", r.stderr);
    let zip = format!("v0.0.1-go1.23.12.linux-{}.zip", go_arch());
    for want in [
        "install.sh: building gowarden: cargo build --release --locked".to_string(),
        format!(
            "install.sh: fetching {}/golang.org/toolchain/@v/{zip}",
            goproxy.display()
        ),
        format!("installed go1.23.12 in {home_s}/.local/share/gowarden/toolchains/go1.23.12"),
        format!("install.sh: installed {home_s}/.local/share/man/man1/gowarden.1"),
        "no problems found".to_string(),
    ] {
        assert!(install.contains(&want), "no {want:?} in:\n{install}");
    }
    assert!(
        r.stderr
            .contains("go: creating new go.mod: module example.com/hello\n"),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.lines().any(|l| l.starts_with("gowarden")),
        "the shim prints nothing when all is well:\n{}",
        r.stderr
    );

    // The binary as install.sh builds it (scripts/build-release.sh: static musl on Linux
    // x86_64/aarch64, as .ci/run installs the target).
    let (built, _) = common::release_build_in(target_dir);
    assert_eq!(
        fs::read(home.join(".local/bin/gowarden")).unwrap(),
        fs::read(&built).unwrap(),
        "the installed binary is the release build"
    );

    // A new terminal, the next day: the shims first, gowarden on PATH, the project's go.
    let project = home.join("src/hello");
    let r = login_bash(
        &project,
        "command -v go gowarden && go version && go run .",
        &env[..1],
    );
    assert_eq!(
        r.stdout,
        format!(
            "{home_s}/.local/share/gowarden/shims/go\n{home_s}/.local/bin/gowarden\n\
             go version go1.23.12 linux/{}\nhello, governed world\n",
            go_arch()
        ),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn the_readme_test_command_is_the_one_ci_runs() {
    const COMMAND: &str = "scripts/fetch-go-toolchains.sh && cargo test --features test-hooks";
    let text = readme();
    let (_, after) = text
        .split_once("\n## Run the tests\n")
        .expect("README.md has a \"Run the tests\" section");
    let block = after
        .split_once("```sh\n")
        .and_then(|(_, b)| b.split_once("\n```"))
        .map(|(b, _)| b)
        .expect("a sh block in \"Run the tests\"");
    assert_eq!(block, COMMAND);
    let ci = fs::read_to_string(Path::new(REPO).join(".ci/run")).unwrap();
    assert_eq!(
        ci.lines().rev().find(|l| !l.trim().is_empty()),
        Some(COMMAND)
    );
}

/// Headings and links of a markdown file, outside fenced code blocks.
fn headings_and_links(text: &str) -> (Vec<String>, Vec<String>) {
    let (mut headings, mut links) = (Vec::new(), Vec::new());
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            headings.push(h.trim_start_matches('#').trim().to_string());
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let tail = &rest[i + 2..];
            let end = tail.find(')').expect("a link is closed on its line");
            links.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    (headings, links)
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn links_in_the_readme_and_docs_lead_somewhere() {
    let repo = Path::new(REPO);
    let mut files = vec![repo.join("README.md"), repo.join("policies/README.md")];
    for e in fs::read_dir(repo.join("docs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "md") {
            files.push(p);
        }
    }
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in &files {
        let (_, links) = headings_and_links(&fs::read_to_string(file).unwrap());
        for link in links {
            if link.starts_with("http://") || link.starts_with("https://") {
                continue;
            }
            let (path, frag) = link.split_once('#').unwrap_or((&link, ""));
            let target = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            checked += 1;
            if !target.exists() {
                broken.push(format!("{}: {link}: no such file", file.display()));
                continue;
            }
            if !frag.is_empty() {
                let (headings, _) = headings_and_links(&fs::read_to_string(&target).unwrap());
                if !headings.iter().any(|h| anchor(h) == frag) {
                    broken.push(format!("{}: {link}: no such heading", file.display()));
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} links found");
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
