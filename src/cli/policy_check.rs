//! `gowarden policy check FILE`: lints a policy before it is rolled out.
//!
//! Reports the schema error (serde stops at the first, with file, line and column), else every
//! problem validation finds: the matrix lint lists all of its problems at once. Ownership and
//! permissions are not checked: the file is being prepared, not yet installed. Exit 0 clean,
//! 1 problems, 2 the file cannot be read.

use super::ExitStatus;
use super::args::PolicyCheckArgs;
use crate::policy::load::{self, PolicyOrigin};
use crate::policy::{matrix, validate};

pub fn run(a: &PolicyCheckArgs) -> ExitStatus {
    let path = a.file.clone();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gowarden policy check: cannot read {}: {e}", path.display());
            return ExitStatus::Error;
        }
    };
    let problems = match load::parse_unvalidated(text, PolicyOrigin::File(path.clone())) {
        Err(e) => vec![e.message().to_string()],
        Ok(loaded) => {
            let mut problems: Vec<String> = validate::validate_base(&loaded)
                .err()
                .map(|e| e.message().to_string())
                .into_iter()
                .collect();
            problems.extend(
                matrix::lint(&loaded)
                    .iter()
                    .map(|p| format!("invalid policy {p}")),
            );
            if problems.is_empty() {
                let (m, _) = matrix::compile(&loaded);
                println!(
                    "{}: ok ({} tier{}, {} blocked release{})",
                    path.display(),
                    m.tiers.len(),
                    if m.tiers.len() == 1 { "" } else { "s" },
                    m.blocked.len(),
                    if m.blocked.len() == 1 { "" } else { "s" },
                );
                return ExitStatus::Success;
            }
            problems
        }
    };
    for p in &problems {
        println!("{p}");
    }
    println!(
        "{}: {} problem{}",
        path.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    ExitStatus::Failure
}
