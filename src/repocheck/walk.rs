//! One walk of the repository: every module (a directory with go.mod), every configuration
//! file the lint reads, and Go files outside any module. Only names are looked at here; each
//! file is read once, later, by the reader for its format.
//!
//! Skipped as go skips them for `./...` (cmd/go/internal/modload, search.go): `.git`,
//! `vendor` and `testdata` directories, and directories starting with `.` or `_` for modules
//! and Go files. Configuration lives in some of those (`.github/workflows`, `.devcontainer`),
//! so hidden directories are still walked for configuration files.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The formats the lint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Make,
    Dockerfile,
    Shell,
    GithubWorkflow,
    GitlabCi,
    Devcontainer,
}

#[derive(Debug, Default)]
pub struct Tree {
    /// Directories holding a go.mod, in walk order (sorted by path).
    pub modules: Vec<PathBuf>,
    pub configs: Vec<(Format, PathBuf)>,
    /// The first Go file of each directory that no go.mod above it (inside the tree) covers.
    pub loose_go_files: Vec<PathBuf>,
}

/// The configuration format of a file, from its name and where it is.
pub fn format_of(rel: &Path) -> Option<Format> {
    let name = rel.file_name()?.to_str()?;
    let parent = rel.parent().and_then(|p| p.to_str()).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    if matches!(name, "Makefile" | "makefile" | "GNUmakefile") || lower.ends_with(".mk") {
        return Some(Format::Make);
    }
    if matches!(name, "Dockerfile" | "Containerfile")
        || name.starts_with("Dockerfile.")
        || name.starts_with("Containerfile.")
        || lower.ends_with(".dockerfile")
        || lower.ends_with(".containerfile")
    {
        return Some(Format::Dockerfile);
    }
    if (parent == ".github/workflows" || parent.ends_with("/.github/workflows"))
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
    {
        return Some(Format::GithubWorkflow);
    }
    if name == ".gitlab-ci.yml" {
        return Some(Format::GitlabCi);
    }
    if name == "devcontainer.json" || name == ".devcontainer.json" {
        return Some(Format::Devcontainer);
    }
    if lower.ends_with(".sh")
        || lower.ends_with(".bash")
        || matches!(
            name,
            ".envrc"
                | ".bashrc"
                | ".bash_profile"
                | ".bash_login"
                | ".profile"
                | ".zshrc"
                | ".zshenv"
                | ".zprofile"
                | ".kshrc"
        )
    {
        return Some(Format::Shell);
    }
    None
}

/// Walks `root`. A directory that cannot be read is an error: a skipped one would hide its
/// files from every rule.
pub fn walk(root: &Path) -> Result<Tree> {
    let mut tree = Tree::default();
    visit(root, root, false, false, &mut tree)?;
    Ok(tree)
}

fn visit(root: &Path, dir: &Path, in_module: bool, hidden: bool, tree: &mut Tree) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("cannot read", dir, &e))?;
    let mut names: Vec<(String, std::fs::FileType)> = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io("cannot read", dir, &e))?;
        let ft = e
            .file_type()
            .map_err(|err| Error::io("cannot stat", &e.path(), &err))?;
        names.push((e.file_name().to_string_lossy().into_owned(), ft));
    }
    names.sort_by(|a, b| a.0.cmp(&b.0));
    // go takes any go.mod that is not a directory; project.rs refuses the odd kinds.
    let has_mod = !hidden && names.iter().any(|(n, ft)| n == "go.mod" && !ft.is_dir());
    if has_mod {
        tree.modules.push(dir.to_path_buf());
    }
    let in_module = in_module || has_mod;
    let mut loose_recorded = false;
    for (name, ft) in &names {
        let path = dir.join(name);
        // A link is followed to a file, never to a directory (go does not walk into linked
        // directories for `./...`, and a link loop would never end); a dangling one is skipped.
        let is_file = ft.is_file()
            || (ft.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
        if ft.is_dir() {
            if matches!(
                name.as_str(),
                ".git" | "vendor" | "testdata" | "node_modules"
            ) {
                continue;
            }
            let hides = hidden || name.starts_with('.') || name.starts_with('_');
            visit(root, &path, in_module, hides, tree)?;
            continue;
        }
        if !is_file {
            continue;
        }
        if !hidden && !in_module && !loose_recorded && name.ends_with(".go") {
            tree.loose_go_files.push(path.clone());
            loose_recorded = true;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if let Some(f) = format_of(rel) {
            tree.configs.push((f, path));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_place() {
        let f = |p: &str| format_of(Path::new(p));
        assert_eq!(f("Makefile"), Some(Format::Make));
        assert_eq!(f("build/go.mk"), Some(Format::Make));
        assert_eq!(f("Dockerfile.release"), Some(Format::Dockerfile));
        assert_eq!(f("svc/Containerfile"), Some(Format::Dockerfile));
        assert_eq!(f(".github/workflows/ci.yaml"), Some(Format::GithubWorkflow));
        assert_eq!(f("docs/ci.yaml"), None);
        assert_eq!(f(".gitlab-ci.yml"), Some(Format::GitlabCi));
        assert_eq!(
            f(".devcontainer/devcontainer.json"),
            Some(Format::Devcontainer)
        );
        assert_eq!(f("scripts/build.sh"), Some(Format::Shell));
        assert_eq!(f(".envrc"), Some(Format::Shell));
        assert_eq!(f("main.go"), None);
    }
}
