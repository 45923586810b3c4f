//! devcontainer.json, read as the JSON-with-comments (and trailing commas) the Dev Containers
//! spec allows: `containerEnv`/`remoteEnv`, `image`, the Go feature's `version`, and the
//! lifecycle commands (a string runs in a shell, an array directly, an object each of its
//! values in parallel).

use std::path::Path;

use jsonc_parser::ast::{Object, Value};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use super::{Lines, Pin, PinKind, Read, Setting, shell_into};
use crate::repocheck::CommandUse;

const LIFECYCLE: &[&str] = &[
    "initializeCommand",
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
    "postAttachCommand",
];

fn command(out: &mut Read, path: &Path, v: &Value<'_>, lines: &Lines<'_>) {
    let place = |o: usize| lines.place(path, o);
    match v {
        // The string's offsets inside its quotes (escapes aside, which commands rarely hold).
        Value::StringLit(s) => shell_into(out, path, &s.value, s.range.start + 1, &place),
        Value::Array(a) => {
            let words: Vec<String> = a
                .elements
                .iter()
                .filter_map(|e| e.as_string_lit().map(|s| s.value.to_string()))
                .collect();
            if let Some((first, args)) = words.split_first() {
                out.commands.push(CommandUse {
                    word: first.clone(),
                    args: args.to_vec(),
                    at: place(a.range.start),
                });
            }
        }
        Value::Object(o) => {
            for p in &o.properties {
                command(out, path, &p.value, lines);
            }
        }
        _ => {}
    }
}

fn env(out: &mut Read, path: &Path, o: Option<&Object<'_>>, lines: &Lines<'_>) {
    let Some(o) = o else { return };
    for p in &o.properties {
        if let Some(s) = p.value.as_string_lit() {
            out.settings.push(Setting {
                key: p.name.as_str().to_string(),
                value: s.value.to_string(),
                at: lines.place(path, p.range.start),
            });
        }
    }
}

pub fn read(out: &mut Read, path: &Path, text: &str, lines: &Lines<'_>) {
    let parsed = match parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            out.errors.push((
                lines.place(path, e.range().start),
                format!("not valid JSON with comments: {}", e.kind()),
            ));
            return;
        }
    };
    let Some(Value::Object(root)) = parsed.value else {
        out.errors.push((
            lines.place(path, 0),
            "not a devcontainer.json: the top level is not an object".into(),
        ));
        return;
    };
    env(out, path, root.get_object("containerEnv"), lines);
    env(out, path, root.get_object("remoteEnv"), lines);
    if let Some(img) = root.get_string("image") {
        out.pins.push(Pin {
            kind: PinKind::Image,
            value: img.value.to_string(),
            at: lines.place(path, img.range.start + 1),
        });
    }
    if let Some(features) = root.get_object("features") {
        for p in &features.properties {
            let id = p.name.as_str();
            let base = id.split([':', '@']).next().unwrap_or(id);
            if !base.ends_with("/features/go") {
                continue;
            }
            if let Some(v) = p.value.as_object().and_then(|o| o.get_string("version")) {
                out.pins.push(Pin {
                    kind: PinKind::DevcontainerFeature,
                    value: v.value.to_string(),
                    at: lines.place(path, v.range.start + 1),
                });
            }
        }
    }
    for key in LIFECYCLE {
        if let Some(p) = root.get(key) {
            command(out, path, &p.value, lines);
        }
    }
}
