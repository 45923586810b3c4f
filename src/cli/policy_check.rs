//! `gowarden policy check FILE`: lints a policy before it is rolled out.
//!
//! Reports the schema error (serde stops at the first, with file, line and column), else every
//! problem validation finds: the matrix lint lists all of its problems at once. Then the
//! rollout checks ([`crate::policy::lint`]): errors count as problems, warnings are printed and
//! do not fail. Ownership and permissions are not checked: the file is being prepared, not yet
//! installed. Exit 0 clean (warnings allowed), 1 problems, 2 the file cannot be read.

use super::ExitStatus;
use super::args::PolicyCheckArgs;
use crate::policy::lint::{self, Severity};
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
            let advice = lint::rollout(&loaded, crate::date::Date::today_utc());
            let mut warnings = 0;
            for adv in &advice {
                match adv.level {
                    Severity::Error => problems.push(format!("invalid policy {}", adv.problem)),
                    Severity::Warning => {
                        warnings += 1;
                        println!("warning: {}", adv.problem);
                    }
                }
            }
            if problems.is_empty() {
                let (m, _) = matrix::compile(&loaded);
                println!(
                    "{}: ok ({} tier{}, {} blocked release{}){}",
                    path.display(),
                    m.tiers.len(),
                    if m.tiers.len() == 1 { "" } else { "s" },
                    m.blocked.len(),
                    if m.blocked.len() == 1 { "" } else { "s" },
                    match warnings {
                        0 => String::new(),
                        1 => " with 1 warning".into(),
                        n => format!(" with {n} warnings"),
                    }
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
