//! The go command-line grammar: command words, flags, `-C`, GOFLAGS.
//!
//! The one place that knows how `go` itself reads its arguments (see GO_FACTS.md §4), so that
//! the shim's resolution and the policy's argument rules see exactly what go will see.

use std::ffi::OsString;
use std::path::PathBuf;

/// Parents of two-word commands (`go mod edit`, `go work use`).
const TWO_WORD_PARENTS: &[&str] = &["mod", "work"];

/// How many leading arguments are command words (`build` → 1, `mod edit` → 2).
pub fn command_word_count(args: &[OsString]) -> usize {
    match args.first().and_then(|a| a.to_str()) {
        None => 0,
        Some(first) if first.starts_with('-') => 0,
        Some(first) if TWO_WORD_PARENTS.contains(&first) => match args.get(1) {
            Some(second) if !second.to_string_lossy().starts_with('-') => 2,
            _ => 1,
        },
        Some(_) => 1,
    }
}

/// The directory named by a `-C dir` flag, which go honours only as the first argument after
/// the command words (`-C d`, `--C d`, `-C=d`, `--C=d`), before it selects a toolchain.
pub fn chdir_flag(args: &[OsString]) -> Option<PathBuf> {
    let words = command_word_count(args);
    let flag = args.get(words)?.to_str()?;
    let name_value = flag.strip_prefix("--").or_else(|| flag.strip_prefix('-'))?;
    if name_value == "C" {
        return args.get(words + 1).map(PathBuf::from);
    }
    name_value.strip_prefix("C=").map(PathBuf::from)
}
