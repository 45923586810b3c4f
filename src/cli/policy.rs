//! `gowarden policy check FILE`: whether a policy file would load, before it is installed
//! (install.sh runs it on `--policy FILE`, since a broken system policy refuses every `go`).

use std::path::Path;

use crate::policy::PolicyOrigin;
use crate::policy::load::load_file;

pub fn run(args: &[String]) -> i32 {
    match args {
        [check, file] if check == "check" => {
            let path = Path::new(file);
            match load_file(path, PolicyOrigin::File(path.to_path_buf())) {
                Ok(p) => {
                    let name = p.policy.policy.name.as_deref().unwrap_or("unnamed");
                    println!("ok: {file} is a valid policy ({name})");
                    0
                }
                Err(e) => {
                    eprintln!("gowarden: {e}");
                    1
                }
            }
        }
        _ => super::usage_error("policy", "usage: gowarden policy check FILE"),
    }
}
