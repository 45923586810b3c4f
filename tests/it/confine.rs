//! `[role.NAME.confine]` with a real go: what go starts (a `go run` program, a `go generate`
//! line, a test binary, a `-toolexec` program, a network client) is held by the kernel. Each
//! case runs twice from the same sandbox: as the confined default role, where it must fail
//! the way the kernel fails it (EACCES, nothing written), and as an unconfined role (chosen by
//! an env binding), where the very same command must work. The GOPROXY is a static file
//! server on 127.0.0.1 in this process, serving a module made here.

use crate::common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{REFUSED, Sandbox, assert_has, real_toolchains, run};

const GO: &str = "go1.23.12";

/// A sandbox with the real toolchains, a module pinned to go1.23.12, and a policy whose
/// default role `dev` has `[role.dev.confine]` = `confine`, and whose role `free` (for
/// `GOWARDEN_TEST_ROLE=free`) has none.
fn sandbox(confine: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_policy(&sb.isolated_policy(&format!(
        "{}\n[roles]\ndefault = \"dev\"\n\n[[binding]]\nrole = \"free\"\n\
         env = {{ GOWARDEN_TEST_ROLE = \"free\" }}\n\n[role.free]\n\n[role.dev]\n\n\
         [role.dev.confine]\n{confine}\n",
        common::real_toolchains_search()
    )));
    sb.write_project_file(".go-version", &format!("{}\n", &GO[2..]));
    sb.write_project_file("go.mod", "module example.com/p\n\ngo 1.21\n");
    fs::create_dir_all(sb.root.join("tmp")).unwrap();
    fs::create_dir_all(sb.root.join("outside")).unwrap();
    sb
}

fn gocache() -> PathBuf {
    real_toolchains()[0]
        .1
        .ancestors()
        .nth(3)
        .unwrap()
        .join("gocache")
}

/// go through the shim with go's settings pinned inside the sandbox (the shared build cache
/// aside), as role `dev`, or `free` with `free = true`.
fn go(sb: &Sandbox, free: bool, args: &[&str]) -> Command {
    let mut c = sb.go(args);
    c.env("GOCACHE", gocache())
        .env("GOPATH", sb.home.join("go"))
        .env("GOFLAGS", "-modcacherw")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOTELEMETRY", "off")
        .env("TMPDIR", sb.root.join("tmp"));
    if free {
        c.env("GOWARDEN_TEST_ROLE", "free");
    }
    c
}

/// A main package that writes its first argument (a file path) and reports the error.
const WRITER: &str = r#"package main

import (
	"fmt"
	"os"
)

func main() {
	if err := os.WriteFile(os.Args[1], []byte("written\n"), 0o644); err != nil {
		fmt.Println("write failed:", err)
		os.Exit(3)
	}
	fmt.Println("wrote", os.Args[1])
}
"#;

#[test]
fn a_go_run_program_cannot_write_outside_the_allowed_dirs() {
    let sb = sandbox("");
    sb.write_project_file("main.go", WRITER);
    let target = sb.root.join("outside/x");
    let inside = sb.project.join("inside.txt");
    let t = target.to_str().unwrap();

    let r = run(go(&sb, false, &["run", ".", t]));
    assert_eq!(
        r.status(),
        1,
        "go run reports the program's failure: {r:?}",
        r = r.stderr
    );
    assert_has(&r.stdout, &["write failed", "permission denied"]);
    assert!(!target.exists(), "the confined program wrote {t}");
    // The module root is writable: the same program writes there.
    let r = run(go(&sb, false, &["run", ".", inside.to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(fs::read_to_string(&inside).unwrap(), "written\n");

    let r = run(go(&sb, true, &["run", ".", t]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(fs::read_to_string(&target).unwrap(), "written\n");
}

#[test]
fn a_go_generate_line_cannot_install_into_a_system_bin_dir() {
    let sb = sandbox("");
    // Stands for /usr/local/bin: a dir the account may write but the role may not.
    let bin = sb.root.join("usr-local-bin");
    fs::create_dir_all(&bin).unwrap();
    let target = bin.join("x");
    sb.write_project_file(
        "gen.go",
        &format!(
            "package main\n\n//go:generate cp gen.go {}\n\nfunc main() {{}}\n",
            target.display()
        ),
    );
    let r = run(go(&sb, false, &["generate", "."]));
    assert_ne!(r.status(), 0, "{}", r.stderr);
    assert_has(&r.stderr, &["Permission denied"]);
    assert!(!target.exists());

    let r = run(go(&sb, true, &["generate", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(target.is_file());
}

#[test]
fn a_test_binary_cannot_read_a_denied_credential_but_reads_its_siblings() {
    let sb = sandbox("deny_read = [\"~/.config/gopls\", \"~/.gitconfig\"]");
    let cred = sb.home.join(".config/gopls/credentials.json");
    fs::create_dir_all(cred.parent().unwrap()).unwrap();
    fs::write(&cred, "{\"token\":\"s3cret\"}").unwrap();
    fs::write(sb.home.join(".gitconfig"), "[user]\n").unwrap();
    let sibling = sb.home.join(".config/other/settings");
    fs::create_dir_all(sibling.parent().unwrap()).unwrap();
    fs::write(&sibling, "visible").unwrap();
    sb.write_project_file("p.go", "package p\n");
    sb.write_project_file(
        "p_test.go",
        &format!(
            r#"package p

import (
	"os"
	"testing"
)

func TestSibling(t *testing.T) {{
	b, err := os.ReadFile({sibling:?})
	if err != nil || string(b) != "visible" {{
		t.Fatalf("sibling: %q %v", b, err)
	}}
}}

func TestCredential(t *testing.T) {{
	b, err := os.ReadFile({cred:?})
	if err != nil {{
		t.Fatalf("credential: %v", err)
	}}
	t.Logf("read %d bytes", len(b))
}}

func TestGitconfig(t *testing.T) {{
	if _, err := os.ReadFile({gitconfig:?}); err != nil {{
		t.Fatalf("gitconfig: %v", err)
	}}
}}
"#,
            sibling = sibling.to_str().unwrap(),
            cred = cred.to_str().unwrap(),
            gitconfig = sb.home.join(".gitconfig").to_str().unwrap(),
        ),
    );
    let r = run(go(&sb, false, &["test", "-count=1", "-v", "."]));
    assert_ne!(r.status(), 0, "{}", r.stdout);
    assert_has(
        &r.stdout,
        &[
            "--- PASS: TestSibling",
            "--- FAIL: TestCredential",
            "credentials.json: permission denied",
            "--- FAIL: TestGitconfig",
        ],
    );

    let r = run(go(&sb, true, &["test", "-count=1", "-v", "."]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["--- PASS: TestCredential", "read 18 bytes"]);
}

/// Denied paths reached through links, with HOME itself a link: the kernel judges the file
/// reached, so what is denied is each link's target (a linked file, a path below a linked
/// dir), and the targets' siblings stay readable.
#[test]
fn a_denied_path_behind_links_is_denied_at_its_target_and_its_siblings_stay_readable() {
    let sb = sandbox("deny_read = [\"~/.gitconfig\", \"~/.config/gopls\", \"~/.netrc\"]");
    let dotfiles = sb.home.join("dotfiles");
    fs::create_dir_all(dotfiles.join("config/gopls")).unwrap();
    fs::create_dir_all(dotfiles.join("config/other")).unwrap();
    fs::write(dotfiles.join("gitconfig"), "[user]\n").unwrap();
    fs::write(dotfiles.join("vimrc"), "set nu\n").unwrap();
    fs::write(dotfiles.join("config/gopls/token"), "s3cret").unwrap();
    fs::write(dotfiles.join("config/other/settings"), "visible").unwrap();
    std::os::unix::fs::symlink("dotfiles/gitconfig", sb.home.join(".gitconfig")).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("config"), sb.home.join(".config")).unwrap();
    let linked_home = sb.root.join("home-link");
    std::os::unix::fs::symlink(&sb.home, &linked_home).unwrap();
    sb.write_project_file("p.go", "package p\n");
    let read = |name: &str, path: &Path| {
        format!(
            "func Test{name}(t *testing.T) {{\n\tif _, err := os.ReadFile({:?}); err != nil \
             {{\n\t\tt.Fatal(err)\n\t}}\n}}\n\n",
            path.to_str().unwrap()
        )
    };
    sb.write_project_file(
        "p_test.go",
        &format!(
            "package p\n\nimport (\n\t\"os\"\n\t\"testing\"\n)\n\n{}{}{}{}",
            read("Gitconfig", &dotfiles.join("gitconfig")),
            read("Token", &dotfiles.join("config/gopls/token")),
            read("Vimrc", &dotfiles.join("vimrc")),
            read("Settings", &linked_home.join(".config/other/settings")),
        ),
    );
    let mut confined = go(&sb, false, &["test", "-count=1", "-v", "."]);
    confined.env("HOME", &linked_home);
    let r = run(confined);
    assert_ne!(r.status(), 0, "{}", r.stdout);
    assert_has(
        &r.stdout,
        &[
            "--- FAIL: TestGitconfig",
            "gitconfig: permission denied",
            "--- FAIL: TestToken",
            "token: permission denied",
            "--- PASS: TestVimrc",
            "--- PASS: TestSettings",
        ],
    );

    let mut free = go(&sb, true, &["test", "-count=1", "-v", "."]);
    free.env("HOME", &linked_home);
    let r = run(free);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_has(
        &r.stdout,
        &["--- PASS: TestGitconfig", "--- PASS: TestToken"],
    );
}

#[test]
fn a_toolexec_or_cc_program_outside_the_executable_set_is_refused_by_the_kernel() {
    let sb = sandbox("execute = [\"/usr/bin\", \"/bin\"]");
    let tools = sb.root.join("tools");
    fs::create_dir_all(&tools).unwrap();
    let wrap = tools.join("wrap");
    let log = sb.project.join("toolexec.log");
    fs::write(
        &wrap,
        format!("#!/bin/sh\necho \"$1\" >> {}\nexec \"$@\"\n", log.display()),
    )
    .unwrap();
    fs::set_permissions(&wrap, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    sb.write_project_file("main.go", "package main\n\nfunc main() {}\n");
    let toolexec = format!("-toolexec={}", wrap.display());

    // A plain build needs only the toolchain: it works confined.
    let r = run(go(&sb, false, &["build", "-a", "-o", "/dev/null", "."]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let r = run(go(
        &sb,
        false,
        &["build", "-a", &toolexec, "-o", "/dev/null", "."],
    ));
    assert_ne!(r.status(), 0);
    assert_has(&r.stderr, &["permission denied"]);
    assert!(!log.exists(), "the wrapper ran");

    // cgo's compiler, substituted through CC.
    sb.write_project_file(
        "cgo/main.go",
        "package main\n\n// int one(void) { return 1; }\nimport \"C\"\n\nfunc main() { _ = C.one() }\n",
    );
    let mut c = go(&sb, false, &["build", "-o", "/dev/null", "./cgo"]);
    c.env("CC", &wrap).env("CGO_ENABLED", "1");
    let r = run(c);
    assert_ne!(r.status(), 0);
    assert_has(&r.stderr, &["permission denied"]);
    assert!(!log.exists(), "the CC wrapper ran");

    let r = run(go(
        &sb,
        true,
        &["build", "-a", &toolexec, "-o", "/dev/null", "."],
    ));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert!(fs::read_to_string(&log).unwrap().contains("compile"));
}

/// A static file server on 127.0.0.1 (any free port), serving `root` until dropped.
struct FileServer {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl FileServer {
    fn start(root: PathBuf) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            // Bounded: a test makes a handful of requests.
            for conn in listener.incoming().take(500) {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(mut conn) = conn else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let file = root.join(path.trim_start_matches('/'));
                let reply = match fs::read(&file) {
                    Ok(body) if file.is_file() => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend(body);
                        r
                    }
                    _ => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = conn.write_all(&reply);
            }
        });
        FileServer { port, stop }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A GOPROXY directory (laid out like `$GOMODCACHE/cache/download`) holding one module,
/// `example.com/dep@v1.0.0`, with package `dep` (func Answer() int).
fn proxy_dir(root: &Path) -> PathBuf {
    let dir = root.join("proxy");
    let v = dir.join("example.com/dep/@v");
    fs::create_dir_all(&v).unwrap();
    let gomod = "module example.com/dep\n\ngo 1.21\n";
    fs::write(v.join("list"), "v1.0.0\n").unwrap();
    fs::write(
        v.join("v1.0.0.info"),
        "{\"Version\":\"v1.0.0\",\"Time\":\"2024-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    fs::write(v.join("v1.0.0.mod"), gomod).unwrap();
    let mut zip = zip::ZipWriter::new(fs::File::create(v.join("v1.0.0.zip")).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in [
        ("go.mod", gomod),
        ("dep.go", "package dep\n\nfunc Answer() int { return 42 }\n"),
    ] {
        zip.start_file(format!("example.com/dep@v1.0.0/{name}"), opts)
            .unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    dir
}

/// A listener on another loopback port that answers every connection with "hello".
fn other_listener() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().take(50).flatten() {
            let _ = c.write_all(b"hello");
        }
    });
    port
}

const DIALER: &str = r#"package main

import (
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	c, err := net.Dial("tcp", os.Args[1])
	if err != nil {
		fmt.Println("dial failed:", err)
		os.Exit(3)
	}
	b, _ := io.ReadAll(c)
	fmt.Printf("got %s\n", b)
}
"#;

#[test]
fn go_mod_download_reaches_the_proxy_port_while_other_ports_are_refused() {
    let sb0 = Sandbox::new();
    let server = FileServer::start(proxy_dir(&sb0.root));
    let other = other_listener();
    let sb = sandbox(&format!("connect = [{}]", server.port));
    let proxy = format!("http://127.0.0.1:{}", server.port);
    sb.write_project_file("main.go", DIALER);
    let addr = format!("127.0.0.1:{other}");

    let mut c = go(
        &sb,
        false,
        &["mod", "download", "-json", "example.com/dep@v1.0.0"],
    );
    c.env("GOPROXY", &proxy);
    let r = run(c);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert!(
        sb.home
            .join("go/pkg/mod/example.com/dep@v1.0.0/dep.go")
            .is_file(),
        "{}",
        r.stdout
    );

    let r = run(go(&sb, false, &["run", ".", &addr]));
    assert_eq!(r.status(), 1, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["dial failed", "permission denied"]);

    let r = run(go(&sb, true, &["run", ".", &addr]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["got hello"]);
    drop(server);
}

#[test]
fn an_ordinary_build_test_and_tidy_of_a_module_with_dependencies_is_unaffected() {
    let sb0 = Sandbox::new();
    let server = FileServer::start(proxy_dir(&sb0.root));
    let sb = sandbox(&format!(
        // git: go stamps the build with the VCS state of the repository it is in (this
        // checkout); the dynamic loader git needs is a default.
        "deny_read = [\"~/.ssh\"]\nexecute = [\"/usr/bin/git\", \"/usr/lib/git-core\"]\nconnect = [{}]",
        server.port
    ));
    fs::create_dir_all(sb.home.join(".ssh")).unwrap();
    fs::write(sb.home.join(".ssh/id_ed25519"), "key").unwrap();
    let proxy = format!("http://127.0.0.1:{}", server.port);
    sb.write_project_file(
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/dep\"\n)\n\nfunc main() { fmt.Println(dep.Answer()) }\n",
    );
    sb.write_project_file(
        "main_test.go",
        "package main\n\nimport (\n\t\"testing\"\n\n\t\"example.com/dep\"\n)\n\nfunc TestAnswer(t *testing.T) {\n\tif dep.Answer() != 42 {\n\t\tt.Fatal(dep.Answer())\n\t}\n}\n",
    );
    for args in [
        &["mod", "tidy"][..],
        &["build", "-o", "app", "."],
        &["test", "-count=1", "./..."],
        &["vet", "./..."],
    ] {
        let mut c = go(&sb, false, args);
        c.env("GOPROXY", &proxy);
        let r = run(c);
        assert_eq!(r.status(), 0, "go {args:?}: {}{}", r.stdout, r.stderr);
    }
    assert!(
        fs::read_to_string(sb.project.join("go.mod"))
            .unwrap()
            .contains("example.com/dep v1.0.0")
    );
    assert!(sb.project.join("go.sum").is_file());
    let out = Command::new(sb.project.join("app")).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    drop(server);
}

#[test]
fn enforce_refuses_on_a_kernel_without_what_the_role_needs_and_best_effort_says_what_it_enforced() {
    let sb = sandbox("connect = [443]");
    sb.write_project_file("main.go", WRITER);
    let target = sb.root.join("outside/x");
    let t = target.to_str().unwrap();
    let log = sb.home.join(".local/state/gowarden/audit.jsonl");

    // ABI 3 (Linux 6.2): no TCP rules.
    let mut c = go(&sb, false, &["run", ".", t]);
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "3");
    let r = run(c);
    assert_eq!(r.status(), REFUSED, "{}", r.stderr);
    assert_has(
        &r.stderr,
        &[
            "role dev's confinement",
            "needs Landlock ABI 4",
            "has Landlock ABI 3",
            "TCP connect rules (connect) (ABI 4)",
            "mode = \"best-effort\"",
        ],
    );
    assert!(!target.exists());
    let text = fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().last().unwrap().contains("role.dev.confine"),
        "{text}"
    );

    // best-effort on the same kernel: go runs, writes are still held, connect is not.
    let policy = fs::read_to_string(sb.user_policy_path()).unwrap();
    sb.write_policy(&policy.replace("connect = [443]", "connect = [443]\nmode = \"best-effort\""));
    let mut c = go(&sb, false, &["run", ".", t]);
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "3");
    let r = run(c);
    assert_eq!(r.status(), 1, "{}{}", r.stdout, r.stderr);
    assert_has(&r.stdout, &["permission denied"]);
    let text = fs::read_to_string(&log).unwrap();
    let last = text.lines().last().unwrap();
    assert_has(
        last,
        &[
            "landlock ABI 3",
            "mode best-effort: enforced: write, truncate; NOT enforced: connect",
            "gowarden.confinement.rules",
        ],
    );
    let mut c = sb.gowarden(&["which"]);
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "3");
    let r = run(c);
    assert_has(
        &r.stdout,
        &["NOT enforced: connect", "connect tcp ports 443"],
    );

    // No Landlock at all: best-effort runs unconfined and says so.
    let mut c = go(&sb, false, &["run", ".", t]);
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "0");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert!(target.is_file());
    let text = fs::read_to_string(&log).unwrap();
    assert_has(
        text.lines().last().unwrap(),
        &["enforced: nothing; NOT enforced: write, truncate, connect"],
    );
}

#[test]
fn which_explain_and_doctor_show_the_confinement_in_force() {
    let sb = sandbox("deny_read = [\"~/.netrc\"]\nexecute = [\"/usr/bin/git\"]\nconnect = [443]");
    let r = run(sb.gowarden(&["which"]));
    assert_eq!(r.status(), 0, "{}", r.stderr);
    let abi = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    assert_has(
        &r.stdout,
        &[
            &format!("confinement: landlock ABI 7 (Linux {}", abi.trim()),
            "role dev, mode enforce: enforced: write, truncate, deny_read, execute, connect",
            &format!("write {} (module or workspace root)", sb.project.display()),
            &format!(
                "write {} (GOMODCACHE)",
                sb.home.join("go/pkg/mod").display()
            ),
            &format!("deny {}", sb.home.join(".netrc").display()),
            "execute /usr/bin/git (execute)",
            "connect tcp ports 443",
        ],
    );
    let r = run(sb.gowarden(&["which", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["confinement"]["abi"], 7);
    assert_eq!(v["confinement"]["connect"][0], 443);
    assert_eq!(v["confinement"]["mode"], "enforce");

    let r = run(sb.gowarden(&["explain", "--", "build", "."]));
    assert_has(
        &r.stdout,
        &["confinement: landlock ABI 7", "connect tcp ports 443"],
    );
    let mut c = sb.gowarden(&["explain", "--", "build", "."]);
    c.env("GOWARDEN_TEST_ROLE", "free");
    let r = run(c);
    assert_has(
        &r.stdout,
        &["confinement: none (role free has no [role.free.confine])"],
    );

    let r = run(sb.gowarden(&["doctor"]));
    assert_has(&r.stdout, &["has Landlock ABI 7 (gowarden uses up to 7)"]);
    let r = run(sb.gowarden(&["doctor", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["landlock"]["landlock_abi"], 7, "{}", r.stdout);
    let mut c = sb.gowarden(&["doctor"]);
    c.env("GOWARDEN_TEST_LANDLOCK_ABI", "0");
    assert_has(&run(c).stdout, &["has no Landlock"]);
}

#[test]
fn the_policy_check_names_a_bad_confine_key_with_its_line() {
    let sb = sandbox("connect = [0]");
    let r = run(sb.gowarden(&["which"]));
    assert_ne!(r.status(), 0);
    assert_has(
        &r.stderr,
        &["[role.dev.confine] connect: 0 is not a TCP port"],
    );
    let sb = sandbox("deny_read = [\"relative/path\"]");
    let r = run(sb.gowarden(&["which"]));
    assert_has(
        &r.stderr,
        &["deny_read: \"relative/path\" must be absolute"],
    );
    let sb = sandbox("writ = []");
    let r = run(sb.gowarden(&["which"]));
    assert_has(&r.stderr, &["unknown field `writ`"]);
}

/// The shipped example's roles (its version matrix and `[env]` aside: they are about other
/// things, and the matrix blocks the go1.23 this suite runs) with a real go: the developer's
/// confinement keeps a `go run` program from the credentials and from writing outside.
#[test]
fn the_enterprise_examples_developer_is_confined() {
    let example = include_str!("../../policies/examples/enterprise.toml");
    let start = example.find("\n[roles]").expect("the example has [roles]");
    let end = example
        .find("# ── Environment")
        .expect("the example has [env]");
    let sb = sandbox("");
    sb.write_policy(&sb.isolated_policy(&format!(
        "{}{}",
        common::real_toolchains_search(),
        &example[start..end]
    )));
    fs::create_dir_all(sb.home.join(".ssh")).unwrap();
    let key = sb.home.join(".ssh/id_ed25519");
    fs::write(&key, "key").unwrap();
    sb.write_project_file(
        "main.go",
        "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n)\n\nfunc main() {\n\t_, err := os.ReadFile(os.Args[1])\n\tfmt.Println(\"read:\", err)\n\tfmt.Println(\"write:\", os.WriteFile(os.Args[2], nil, 0o644))\n}\n",
    );
    let outside = sb.root.join("outside/x");
    // The example's developer denies checksum bypass (GOSUMDB=off): this program needs no
    // module, so the checksum database is simply never asked.
    let mut c = go(
        &sb,
        false,
        &["run", ".", key.to_str().unwrap(), outside.to_str().unwrap()],
    );
    c.env_remove("GOSUMDB");
    let r = run(c);
    assert_eq!(r.status(), 0, "{}", r.stderr);
    assert_has(
        &r.stdout,
        &[
            "read: open ",
            "id_ed25519: permission denied",
            "write: open ",
            "outside/x: permission denied",
        ],
    );
    assert!(!outside.exists());
    let r = run(sb.gowarden(&["which"]));
    assert_has(
        &r.stdout,
        &["role developer, mode best-effort: enforced: write, truncate, deny_read"],
    );
}

/// Runs `go run ./reader FILE` (go found on PATH: the shim, inside the confined tree, as gopls
/// and go generate lines run it) and prints what it printed.
const NESTED: &str = r#"package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	out, err := exec.Command("go", "run", "./reader", os.Args[1]).CombinedOutput()
	fmt.Printf("nested go: %s", out)
	if err != nil {
		fmt.Println("nested go failed:", err)
		os.Exit(4)
	}
}
"#;

const READER: &str = r#"package main

import (
	"fmt"
	"os"
)

func main() {
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("read failed:", err)
		return
	}
	fmt.Printf("read %d bytes\n", len(b))
}
"#;

#[test]
fn a_go_the_confined_tree_runs_works_and_is_confined_as_tightly() {
    // Every go shim call confines the go it starts; one started inside an already confined
    // tree (gopls's go list, a program that runs go) must still run, and what the outer layer
    // denies stays denied to what the inner go runs.
    let sb = sandbox("deny_read = [\"~/.config/gopls\", \"~/.netrc\"]");
    let cred = sb.home.join(".config/gopls/credentials.json");
    fs::create_dir_all(cred.parent().unwrap()).unwrap();
    fs::write(&cred, "{\"token\":\"s3cret\"}").unwrap();
    let sibling = sb.home.join(".config/other.json");
    fs::write(&sibling, "{}").unwrap();
    sb.write_project_file("main.go", NESTED);
    sb.write_project_file("reader/main.go", READER);

    let r = run(go(&sb, false, &["run", ".", cred.to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "nested go: read failed: open {}: permission denied\n",
            cred.display()
        )
    );
    let r = run(go(&sb, false, &["run", ".", sibling.to_str().unwrap()]));
    assert_eq!(r.status(), 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "nested go: read 2 bytes\n");
}
