//! The one registry of `gowarden check`'s rule ids: what each is about and how to fix what it
//! finds. SARIF's `tool.driver.rules` is built from it ([`super::check_sarif`]); every id a
//! finding of check can carry must be here (the unit test below holds the code to it).

use super::check::{NOT_INSTALLED, VERSION_INVALID, VERSION_MISSING};
use crate::policy::binary::rule as binary;
use crate::policy::matrix::{Severity, rule as matrix};

/// A rule as SARIF and the docs describe it.
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    pub id: &'static str,
    /// The severity its findings have unless the policy or the situation says otherwise.
    pub default: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// What to do about it.
    pub help: &'static str,
}

const fn rule(
    id: &'static str,
    default: Severity,
    summary: &'static str,
    help: &'static str,
) -> RuleDoc {
    RuleDoc {
        id,
        default,
        summary,
        help,
    }
}

use Severity::{Error, Warning};

pub const RULES: &[RuleDoc] = &[
    rule(
        VERSION_MISSING,
        Error,
        "The project has no .go-version file, and the policy requires one.",
        "Write the Go version the project builds with into .go-version at the repository root \
         (e.g. `echo 1.24.9 > .go-version`); the policy's [matrix] require_go_version asks for it.",
    ),
    rule(
        VERSION_INVALID,
        Error,
        "A version file, or a go.mod/go.work go or toolchain line, is not a Go version.",
        "Fix the line the message names: .go-version takes `1.22.10`, `go1.22.10` or `1.22`; \
         go.mod's go and toolchain lines take Go versions (`go 1.22.0`, `toolchain go1.22.10`).",
    ),
    rule(
        NOT_INSTALLED,
        Error,
        "The Go version the project asks for is not installed where the policy looks.",
        "Install it (`gowarden toolchain install VERSION`), or change the version file to a \
         release that is installed and that the matrix allows.",
    ),
    rule(
        matrix::MIN,
        Error,
        "The Go version is below the minimum of the module's tier.",
        "Move the project (or rebuild the binary) to the tier's recommended release; the tier \
         is chosen by the main module's path ([[tier]] modules) or the repository's .gowarden.toml.",
    ),
    rule(
        matrix::BLOCKED,
        Error,
        "The Go release is blocked by the policy ([[blocked]]), in every tier.",
        "Move to another release (the message says which and why the release is blocked).",
    ),
    rule(
        matrix::DEADLINE,
        Error,
        "The Go version is below the tier's recommended version, and its upgrade_by date has passed.",
        "Upgrade to the tier's recommended release: after the deadline the shim refuses older ones.",
    ),
    rule(
        matrix::RECOMMENDED,
        Warning,
        "The Go version is below the tier's recommended version (the deadline has not passed).",
        "Upgrade to the tier's recommended release before the tier's upgrade_by date.",
    ),
    rule(
        matrix::TIER_FILE,
        Error,
        "The repository's .gowarden.toml cannot be read, names no tier, or chooses a looser tier.",
        "Write `tier = \"NAME\"` naming a tier of the policy at least as strict as the one the \
         policy gives the module, or remove the file.",
    ),
    rule(
        matrix::GO_LINE,
        Error,
        "A go.mod or go.work go line is newer than the Go version in use.",
        "Raise the version in use (.go-version) or lower the go line: go refuses to build a \
         module whose go line is newer than itself.",
    ),
    rule(
        matrix::TOOLCHAIN_LINE,
        Error,
        "A go.mod or go.work toolchain line disagrees with .go-version.",
        "Make the toolchain line name the .go-version release, or remove it.",
    ),
    rule(
        binary::GO_VERSION,
        Error,
        "A binary's recorded go version is no Go release the policy can judge.",
        "Rebuild the binary with a released Go toolchain the tier allows.",
    ),
    rule(
        binary::REPLACE,
        Error,
        "A binary was built with a dependency replaced by other code (a replace directive).",
        "Build without the replace directive, or allow the module in [check.binary] allow_replace.",
    ),
    rule(
        binary::VCS_MODIFIED,
        Error,
        "A binary was built from a tree with uncommitted changes (vcs.modified=true).",
        "Rebuild it from a clean checkout of a commit, so the commit holds the code it runs.",
    ),
    rule(
        binary::DECLARED_VERSION,
        Error,
        "A binary of the repository's main module was built by another Go than the repository declares.",
        "Rebuild it through the go shim in the repository, which runs the declared version; or change the declaration if the release is right.",
    ),
    rule(
        binary::SETTING,
        Error,
        "A binary was built without a build setting the policy requires, or with one it forbids.",
        "Rebuild it with the settings [check.binary] require and forbid name (e.g. -trimpath, \
         CGO_ENABLED=0).",
    ),
    rule(
        "mod.go-sum-missing",
        Error,
        "go.mod requires modules but the module has no go.sum.",
        "Run `go mod tidy` in the module and commit the go.sum it writes, so every dependency is checked against its recorded hash.",
    ),
    rule(
        "mod.go-sum-incomplete",
        Error,
        "go.sum lacks the checksum of a module go.mod requires.",
        "Run `go mod tidy` (or `go mod download MODULE`) in the module and commit go.sum.",
    ),
    rule(
        "mod.tidy",
        Error,
        "`go mod tidy -diff` would change go.mod or go.sum.",
        "Run `go mod tidy` in the module and commit the result.",
    ),
    rule(
        "mod.verify",
        Error,
        "`go mod verify` fails: a downloaded module differs from its recorded hash.",
        "Find out why the module cache or go.sum disagrees with the checksum database before building; remove the altered copy (`go clean -modcache`) and download again through the policy's proxy.",
    ),
    rule(
        "mod.replace",
        Error,
        "A replace directive points where the policy does not allow.",
        "Remove the replace directive, or point it at a directory inside the repository or a module [check] replace_modules allows.",
    ),
    rule(
        "mod.gopath",
        Error,
        "Go code is built in GOPATH mode: GO111MODULE=off, or Go files outside any module.",
        "Make the code a module (`go mod init`) and remove GO111MODULE=off.",
    ),
    rule(
        "mod.vendor",
        Error,
        "vendor/modules.txt disagrees with go.mod.",
        "Run `go mod vendor` in the module and commit the vendor directory.",
    ),
    rule(
        "mod.toolchain-line",
        Error,
        "A go.mod or go.work toolchain line the policy forbids.",
        "Remove the toolchain line (`go mod edit -toolchain=none`), or name a version the matrix allows for the module's tier.",
    ),
    rule(
        "config.go-setting",
        Error,
        "A build configuration file sets a Go variable the policy forbids or enforces differently.",
        "Remove the setting, or set the value the policy enforces, as the finding's message says.",
    ),
    rule(
        "config.unpinned-install",
        Error,
        "A tool is installed or run at a moving version (@latest, a branch).",
        "Pin a release (`go install pkg@vX.Y.Z`) or, better, the project's tool directive (`go get -tool pkg@vX.Y.Z`).",
    ),
    rule(
        "config.go-version",
        Error,
        "A build configuration names another Go version than the repository declares, or one the matrix refuses.",
        "Name the version the repository declares (its .go-version or go.mod), as the finding's message says.",
    ),
    rule(
        "tool.unpinned",
        Error,
        "A build file runs a tool the policy governs (gopls, staticcheck, ...) that neither the project nor the policy pins.",
        "Pin the tool in the module (`go get -tool PACKAGE@VERSION`) and run it as `go tool NAME` or through its gowarden shim, or ask for a company-wide pin in the policy's [tools].",
    ),
    rule(
        "config.unreadable",
        Error,
        "A build configuration file cannot be parsed.",
        "Fix the syntax error at the place the message names.",
    ),
];

/// The rule `id`, if check knows it.
pub fn find(id: &str) -> Option<(usize, &'static RuleDoc)> {
    RULES.iter().enumerate().find(|(_, r)| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_id_of_check_is_registered_once() {
        let ids = [
            VERSION_MISSING,
            VERSION_INVALID,
            NOT_INSTALLED,
            matrix::MIN,
            matrix::BLOCKED,
            matrix::DEADLINE,
            matrix::RECOMMENDED,
            matrix::TIER_FILE,
            matrix::GO_LINE,
            matrix::TOOLCHAIN_LINE,
            binary::GO_VERSION,
            binary::REPLACE,
            binary::VCS_MODIFIED,
            binary::SETTING,
            binary::DECLARED_VERSION,
        ];
        let repo: Vec<&str> = crate::policy::checks::RULES.iter().map(|r| r.0).collect();
        for id in ids.iter().chain(&repo) {
            assert!(find(id).is_some(), "{id} is not in RULES");
        }
        assert_eq!(
            RULES.len(),
            ids.len() + repo.len(),
            "RULES holds an id no finding has"
        );
        for r in RULES {
            assert!(
                r.summary.ends_with('.') && r.help.ends_with('.'),
                "{}",
                r.id
            );
        }
    }
}
