//! Go's own test tables for its version rules, run against `gowarden::version`.
//!
//! The rows are copied verbatim from the golang/go repository; each table names the file and
//! commit it came from. Where two versions of a file exist, the newer one is used: its tables
//! are a strict superset of the older ones (rows only added, none changed), and it is the one
//! with Go's current rule that a patch release may have a prerelease (`1.9.2rc2 < 1.9.2`).
//!
//! - `src/internal/gover/gover_test.go` @ fc1cdc327f8df20e8c65e3faf9f279a7f890763d
//!   (the older 438fc12b95027f2db8a525cf297901b9e66c3290 lacks only the `1.9.2rc2`-style rows).
//! - `src/go/version/version_test.go` @ 337f922303a0682701494ab6e09785bc0c14293d
//!   (the older ede79af08d4308a88ca46def9e71498b30f9928c lacks only the `go1.9.2rc2`-style
//!   rows).
//! - `src/cmd/go/internal/gover/gover_test.go` @ 1a45dd796ccb5226033fbaa51f191c6eea1e26e1:
//!   its Compare, Lang, IsLang and IsValid tables are the older internal/gover ones row for
//!   row, so they are covered below; its extra Prev table is not ported, as gowarden has no
//!   `Prev`.
//! - `src/cmd/go/internal/gover/toolchain_test.go` @ 35268a996052ca8716caf94467c2ed61140f3862:
//!   the FromToolchain table, run against [`GoVersion::parse_go`].
//! - The examples in the doc comments of `src/go/version/version.go` @ 337f922 (the last
//!   Compare row, `go1.21.0` == `go1.21.0-bigcorp`, is stated in Compare's doc comment @
//!   2a331957c3393691d3e1427c8d4c1d9c4b976366).
//!
//! Go has no Max table; `max` is checked on every Compare row instead (see `max_follows_compare`).
//!
//! Like Go's `test1`/`test2` helpers, each test reports every failing row, not just the first.

use std::cmp::Ordering;

use gowarden::version::{self, GoVersion};

/// Go's `-1 / 0 / +1` as an [`Ordering`].
fn ord(c: i32) -> Ordering {
    c.cmp(&0)
}

/// Panics listing every failure, Go `t.Errorf` style.
fn check(name: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{name}: {} row(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_compare(name: &str, table: &[(&str, &str, i32)], f: fn(&str, &str) -> Ordering) {
    let mut failures = Vec::new();
    for &(x, y, want) in table {
        let got = f(x, y);
        if got != ord(want) {
            failures.push(format!(
                "{name}({x:?}, {y:?}) = {got:?}, want {:?}",
                ord(want)
            ));
        }
        // Not in Go's tables, but implied by them: swapping the arguments flips the answer.
        let got = f(y, x);
        if got != ord(want).reverse() {
            failures.push(format!(
                "{name}({y:?}, {x:?}) = {got:?}, want {:?}",
                ord(want).reverse()
            ));
        }
    }
    check(name, failures);
}

fn check_fn<W, T>(name: &str, table: &[(&str, W)], f: fn(&str) -> T)
where
    W: std::fmt::Debug,
    T: PartialEq<W> + std::fmt::Debug,
{
    let mut failures = Vec::new();
    for (x, want) in table {
        let got = f(x);
        if got != *want {
            failures.push(format!("{name}({x:?}) = {got:?}, want {want:?}"));
        }
    }
    check(name, failures);
}

// ---------------------------------------------------------------------------------------------
// src/internal/gover/gover_test.go @ fc1cdc327f8df20e8c65e3faf9f279a7f890763d
// ---------------------------------------------------------------------------------------------

const GOVER_COMPARE: &[(&str, &str, i32)] = &[
    ("", "", 0),
    ("x", "x", 0),
    ("", "x", 0),
    ("1", "1.1", -1),
    ("1.5", "1.6", -1),
    ("1.5", "1.10", -1),
    ("1.6", "1.6.1", -1),
    ("1.19", "1.19.0", 0),
    ("1.19rc1", "1.19", -1),
    ("1.20", "1.20.0", 0),
    ("1.20rc1", "1.20", -1),
    ("1.21", "1.21.0", -1),
    ("1.21", "1.21rc1", -1),
    ("1.21rc1", "1.21.0", -1),
    ("1.6", "1.19", -1),
    ("1.19", "1.19.1", -1),
    ("1.19rc1", "1.19", -1),
    ("1.19rc1", "1.19.1", -1),
    ("1.19rc1", "1.19rc2", -1),
    ("1.19.0", "1.19.1", -1),
    ("1.19rc1", "1.19.0", -1),
    ("1.19alpha3", "1.19beta2", -1),
    ("1.19beta2", "1.19rc1", -1),
    ("1.9.2rc2", "1.9.2", -1),
    ("1.9.2rc2", "1.9.2rc3", -1),
    ("1.9.2beta2", "1.9.2rc3", -1),
    ("1.9.2alpha1", "1.9.2beta2", -1),
    ("1.1", "1.99999999999999998", -1),
    ("1.99999999999999998", "1.99999999999999999", -1),
];

/// Go's `Version{Major, Minor, Patch, Kind, Pre}`; all empty is Go's zero Version (invalid).
type Fields = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const GOVER_PARSE: &[(&str, Fields)] = &[
    ("1", ("1", "0", "0", "", "")),
    ("1.2", ("1", "2", "0", "", "")),
    ("1.2.3", ("1", "2", "3", "", "")),
    ("1.2rc3", ("1", "2", "", "rc", "3")),
    ("1.20", ("1", "20", "0", "", "")),
    ("1.21", ("1", "21", "", "", "")),
    ("1.21rc3", ("1", "21", "", "rc", "3")),
    ("1.21.0", ("1", "21", "0", "", "")),
    ("1.24", ("1", "24", "", "", "")),
    ("1.24rc3", ("1", "24", "", "rc", "3")),
    ("1.24.0", ("1", "24", "0", "", "")),
    ("1.9.2rc2", ("1", "9", "2", "rc", "2")),
    ("1.8.5rc4", ("1", "8", "5", "rc", "4")),
    ("1.8.2beta2", ("1", "8", "2", "beta", "2")),
    ("1.999testmod", ("1", "999", "", "testmod", "")),
    (
        "1.99999999999999999",
        ("1", "99999999999999999", "", "", ""),
    ),
];

const GOVER_LANG: &[(&str, &str)] = &[
    ("1.2rc3", "1.2"),
    ("1.2.3", "1.2"),
    ("1.2", "1.2"),
    ("1", "1"),
    ("1.9.2rc2", "1.9"),
    ("1.8.5rc4", "1.8"),
    ("1.999testmod", "1.999"),
];

const GOVER_IS_LANG: &[(&str, bool)] = &[
    ("1.2rc3", false),
    ("1.2.3", false),
    ("1.9.2rc2", false),
    ("1.8.5rc5", false),
    ("1.999testmod", false),
    ("1.22", true),
    ("1.21", true),
    ("1.20", false), // == 1.20.0
    ("1.19", false), // == 1.20.0
    ("1.3", false),  // == 1.3.0
    ("1.2", false),  // == 1.2.0
    ("1", false),    // == 1.0.0
];

const GOVER_IS_VALID: &[(&str, bool)] = &[
    ("1.2rc3", true),
    ("1.2.3", true),
    ("1.999testmod", true),
    ("1.600+auto", false),
    ("1.22", true),
    ("1.21.0", true),
    ("1.21rc2", true),
    ("1.21", true),
    ("1.20.0", true),
    ("1.20", true),
    ("1.19", true),
    ("1.8.5rc5", true),
    ("1.9.2rc2", true),
    ("1.9.2beta1", true),
    ("1.9.2alpha", true),
    ("1.3", true),
    ("1.2", true),
    ("1", true),
];

#[test]
fn gover_compare() {
    check_compare("Compare", GOVER_COMPARE, version::compare);
}

#[test]
fn gover_parse() {
    let mut failures = Vec::new();
    for &(x, want) in GOVER_PARSE {
        let got = GoVersion::parse(x).unwrap_or_default();
        let got_fields = (
            got.major.as_str(),
            got.minor.as_str(),
            got.patch.as_str(),
            got.kind.as_str(),
            got.pre.as_str(),
        );
        if got_fields != want {
            failures.push(format!("Parse({x:?}) = {got_fields:?}, want {want:?}"));
        }
    }
    check("Parse", failures);
}

#[test]
fn gover_lang() {
    check_fn("Lang", GOVER_LANG, version::lang);
}

#[test]
fn gover_is_lang() {
    check_fn("IsLang", GOVER_IS_LANG, version::is_lang);
}

#[test]
fn gover_is_valid() {
    check_fn("IsValid", GOVER_IS_VALID, version::is_valid);
}

// ---------------------------------------------------------------------------------------------
// src/go/version/version_test.go @ 337f922303a0682701494ab6e09785bc0c14293d
// ---------------------------------------------------------------------------------------------

const GO_VERSION_COMPARE: &[(&str, &str, i32)] = &[
    ("", "", 0),
    ("x", "x", 0),
    ("", "x", 0),
    ("1", "1.1", 0),
    ("go1", "go1.1", -1),
    ("go1.5", "go1.6", -1),
    ("go1.5", "go1.10", -1),
    ("go1.6", "go1.6.1", -1),
    ("go1.19", "go1.19.0", 0),
    ("go1.19rc1", "go1.19", -1),
    ("go1.20", "go1.20.0", 0),
    ("go1.20", "go1.20.0-bigcorp", 0),
    ("go1.20rc1", "go1.20", -1),
    ("go1.21", "go1.21.0", -1),
    ("go1.21", "go1.21.0-bigcorp", -1),
    ("go1.21", "go1.21rc1", -1),
    ("go1.21rc1", "go1.21.0", -1),
    ("go1.6", "go1.19", -1),
    ("go1.19", "go1.19.1", -1),
    ("go1.19rc1", "go1.19", -1),
    ("go1.19rc1", "go1.19", -1),
    ("go1.19rc1", "go1.19.1", -1),
    ("go1.19rc1", "go1.19rc2", -1),
    ("go1.19.0", "go1.19.1", -1),
    ("go1.19rc1", "go1.19.0", -1),
    ("go1.19alpha3", "go1.19beta2", -1),
    ("go1.19beta2", "go1.19rc1", -1),
    ("go1.1", "go1.99999999999999998", -1),
    ("go1.9.2rc2", "go1.9.2", -1),
    ("go1.9.2rc2", "go1.9.2rc3", -1),
    ("go1.9.2beta2", "go1.9.2rc3", -1),
    ("go1.9.2alpha1", "go1.9.2beta2", -1),
    ("go1.99999999999999998", "go1.99999999999999999", -1),
];

const GO_VERSION_LANG: &[(&str, &str)] = &[
    ("bad", ""),
    ("go1.2rc3", "go1.2"),
    ("go1.2.3", "go1.2"),
    ("go1.2", "go1.2"),
    ("go1", "go1"),
    ("go222", "go222.0"),
    ("go1.8.2rc", "go1.8"),
    ("go1.999testmod", "go1.999"),
];

const GO_VERSION_IS_VALID: &[(&str, bool)] = &[
    ("", false),
    ("1.2.3", false),
    ("go1.2rc3", true),
    ("go1.2.3", true),
    ("go1.999testmod", true),
    ("go1.600+auto", false),
    ("go1.22", true),
    ("go1.21.0", true),
    ("go1.21rc2", true),
    ("go1.21", true),
    ("go1.20.0", true),
    ("go1.20", true),
    ("go1.19", true),
    ("go1.3", true),
    ("go1.2", true),
    ("go1.9.2rc2", true),
    ("go1.9.2+rc2", false),
    ("go1", true),
];

#[test]
fn go_version_compare() {
    check_compare(
        "go/version.Compare",
        GO_VERSION_COMPARE,
        version::go_compare,
    );
}

#[test]
fn go_version_lang() {
    check_fn("go/version.Lang", GO_VERSION_LANG, version::go_lang);
}

#[test]
fn go_version_is_valid() {
    check_fn(
        "go/version.IsValid",
        GO_VERSION_IS_VALID,
        version::go_is_valid,
    );
}

// ---------------------------------------------------------------------------------------------
// The examples in the doc comments of src/go/version/version.go
// @ 337f922303a0682701494ab6e09785bc0c14293d (Lang and Compare).
// ---------------------------------------------------------------------------------------------

const GO_VERSION_DOC_LANG: &[(&str, &str)] = &[
    ("go1.21rc2", "go1.21"),
    ("go1.21.2", "go1.21"),
    ("go1.21", "go1.21"),
    ("go1", "go1"),
    ("bad", ""),
    ("1.21", ""),
];

const GO_VERSION_DOC_COMPARE: &[(&str, &str, i32)] = &[
    ("go1.21rc1", "go1.21", 1),
    ("go1.21rc1", "go1.21.0", -1),
    ("go1.22rc1", "go1.22", 1),
    ("go1.22rc1", "go1.22.0", -1),
    ("go1.20rc1", "go1.21", -1),
    ("go1.19rc1", "go1.19", -1),
    ("go1.18", "go1.18rc1", 1),
    ("go1.8.5rc4", "go1.8.5rc5", -1),
    ("go1.8.5rc5", "go1.8.5", -1),
    ("go1.9.2rc2", "go1.9.2", -1),
    ("go1.9.2rc2", "go1.9", 1),
    // Compare's doc comment @ 2a331957c3393691d3e1427c8d4c1d9c4b976366.
    ("go1.21.0", "go1.21.0-bigcorp", 0),
];

#[test]
fn go_version_doc_examples() {
    check_fn("go/version.Lang", GO_VERSION_DOC_LANG, version::go_lang);
    check_compare(
        "go/version.Compare",
        GO_VERSION_DOC_COMPARE,
        version::go_compare,
    );
}

// ---------------------------------------------------------------------------------------------
// src/cmd/go/internal/gover/toolchain_test.go @ 35268a996052ca8716caf94467c2ed61140f3862
// ---------------------------------------------------------------------------------------------

/// FromToolchain: toolchain name → bare version, `""` where it is not a Go toolchain name.
const FROM_TOOLCHAIN: &[(&str, &str)] = &[
    ("go1.2.3", "1.2.3"),
    ("1.2.3", ""),
    ("go1.2.3+bigcorp", ""),
    ("go1.2.3-bigcorp", "1.2.3"),
    ("go1.2.3-bigcorp more text", "1.2.3"),
    ("gccgo-go1.23rc4", ""),
    ("gccgo-go1.23rc4-bigdwarf", ""),
];

#[test]
fn from_toolchain() {
    check_fn("FromToolchain", FROM_TOOLCHAIN, |x| {
        GoVersion::parse_go(x)
            .map(|v| v.to_string())
            .unwrap_or_default()
    });
}

// ---------------------------------------------------------------------------------------------
// Max: Go has no table for it; every Compare row above fixes what Max must return.
// ---------------------------------------------------------------------------------------------

#[test]
fn max_follows_compare() {
    let mut failures = Vec::new();
    for &(x, y, c) in GOVER_COMPARE {
        // Max returns y only when x < y; on a tie it returns x.
        let (want_xy, want_yx) = match ord(c) {
            Ordering::Less => (y, y),
            Ordering::Greater => (x, x),
            Ordering::Equal => (x, y),
        };
        let got = version::max(x, y);
        if got != want_xy {
            failures.push(format!("Max({x:?}, {y:?}) = {got:?}, want {want_xy:?}"));
        }
        let got = version::max(y, x);
        if got != want_yx {
            failures.push(format!("Max({y:?}, {x:?}) = {got:?}, want {want_yx:?}"));
        }
    }
    check("Max", failures);
}
