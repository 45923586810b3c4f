//! Readers for the files that configure Go builds, one per format, each returning what the
//! file says about Go: the variables it sets for go, the container images it builds on, the
//! Go versions it asks a CI action for, and the commands it runs in a shell.

pub mod devcontainer;
pub mod dockerfile;
pub mod make;
pub mod shell;
pub mod workflow;
pub mod yaml;

use std::path::Path;

use super::walk::Format;
use super::{CommandUse, Place};
use crate::error::{Error, Result};

/// Which CI system runs the file: its role binding may differ from a developer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    Any,
    GithubActions,
    GitlabCi,
}

/// `KEY=value` as the file sets it for the commands it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub at: Place,
}

/// A Go version the file pins something to: a container image, a CI action's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub kind: PinKind,
    /// As written: `golang:1.22-alpine`, `1.22.x`.
    pub value: String,
    pub at: Place,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinKind {
    /// A container image reference (only `golang` images are judged).
    Image,
    /// `actions/setup-go` `go-version`.
    SetupGo,
    /// The devcontainer Go feature's `version`.
    DevcontainerFeature,
}

#[derive(Debug, Default)]
pub struct Read {
    pub runner: Option<Runner>,
    pub settings: Vec<Setting>,
    pub pins: Vec<Pin>,
    pub commands: Vec<CommandUse>,
    /// The file cannot be parsed: where and why.
    pub errors: Vec<(Place, String)>,
}

/// Reads one configuration file. `Err` only where it cannot be read at all; a file that does
/// not parse is an error in the result (a finding), never a silently skipped file.
pub fn read(format: Format, path: &Path) -> Result<Read> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, &e))?;
    let text = String::from_utf8_lossy(&bytes);
    let lines = Lines::new(&text);
    let mut out = Read {
        runner: Some(Runner::Any),
        ..Read::default()
    };
    match format {
        Format::Shell => shell_into(&mut out, path, &text, 0, &|o| lines.place(path, o)),
        Format::Make => make::read(&mut out, path, &text, &lines),
        Format::Dockerfile => dockerfile::read(&mut out, path, &text, &lines),
        Format::GithubWorkflow => {
            out.runner = Some(Runner::GithubActions);
            workflow::read_github(&mut out, path, &text)
        }
        Format::GitlabCi => {
            out.runner = Some(Runner::GitlabCi);
            workflow::read_gitlab(&mut out, path, &text)
        }
        Format::Devcontainer => devcontainer::read(&mut out, path, &text, &lines),
    }
    Ok(out)
}

/// Reads `text` as shell (its offsets start at `base` in the file, mapped by `place`): its
/// settings and commands.
pub fn shell_into(
    out: &mut Read,
    _path: &Path,
    text: &str,
    base: usize,
    place: &dyn Fn(usize) -> Place,
) {
    for c in shell::parse(text) {
        for (key, value, at) in shell::settings(&c) {
            out.settings.push(Setting {
                key,
                value,
                at: place(base + at),
            });
        }
        if let Some(first) = c.words.first() {
            out.commands.push(CommandUse {
                word: first.text.clone(),
                args: c.words[1..].iter().map(|w| w.text.clone()).collect(),
                at: place(base + first.start),
            });
        }
    }
}

/// Line starts of a text, to turn byte offsets into 1-based line and column (in characters).
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let end = offset.min(self.text.len());
        let col = self
            .text
            .get(start..end)
            .map_or(end - start, |s| s.chars().count())
            + 1;
        (line, col)
    }

    pub fn place(&self, path: &Path, offset: usize) -> Place {
        let (line, col) = self.line_col(offset);
        Place::at(path, line, col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_run_in_shell_contexts_with_their_places() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("Dockerfile");
        std::fs::write(
            &p,
            "FROM golang:1.22\nRUN apt-get update && \\\n    apt-get install -y protobuf-compiler\nRUN [\"buf\", \"generate\"]\n",
        )
        .unwrap();
        let r = read(Format::Dockerfile, &p).unwrap();
        let got: Vec<(String, usize, usize)> = r
            .commands
            .iter()
            .map(|c| (c.word.clone(), c.at.line, c.at.column))
            .collect();
        assert_eq!(
            got,
            vec![
                ("apt-get".to_string(), 2, 5),
                ("apt-get".to_string(), 3, 5),
                ("buf".to_string(), 4, 5)
            ]
        );
        assert_eq!(r.commands[1].args, ["install", "-y", "protobuf-compiler"]);
    }
}
