//! Go version strings, parsed and ordered exactly as Go's `internal/gover` and `go/version` do.
//!
//! Two spellings exist in Go: the bare form (`1.21.3`, used by `internal/gover`, go.mod's
//! `go` line, `.go-version`) and the toolchain-name form (`go1.21.3`, used by `go/version`,
//! `$GOROOT/VERSION`, GOTOOLCHAIN and go.mod's `toolchain` line). [`GoVersion`] holds the
//! parsed bare form; [`compare`] and friends take bare strings, the `go_*` functions take
//! toolchain names. This module is the only place that knows the ordering rules.

use std::cmp::Ordering;
use std::fmt;

/// A parsed Go version: `major[.minor[.patch]][kind[pre]]`.
///
/// The numbers are kept as their decimal strings (compared as big decimals), as Go does, so no
/// version string can overflow. An invalid string parses to `None`; Go's "zero Version".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct GoVersion {
    pub major: String,
    pub minor: String,
    pub patch: String,
    pub kind: String,
    pub pre: String,
}

impl GoVersion {
    /// Parses a bare version (`1.21.3`, not `go1.21.3`). `None` where Go's Parse gives the zero
    /// Version.
    pub fn parse(x: &str) -> Option<GoVersion> {
        let mut v = GoVersion::default();
        let (major, rest) = cut_int(x)?;
        v.major = major.to_string();
        if rest.is_empty() {
            // "1" means 1.0.0.
            v.minor = "0".into();
            v.patch = "0".into();
            return Some(v);
        }
        let rest = rest.strip_prefix('.')?;
        let (minor, rest) = cut_int(rest)?;
        v.minor = minor.to_string();
        if rest.is_empty() {
            // Before Go 1.21 a missing patch means .0; from 1.21 on it is the language version.
            if cmp_int(&v.minor, "21") == Ordering::Less {
                v.patch = "0".into();
            }
            return Some(v);
        }
        if let Some(rest) = rest.strip_prefix('.') {
            let (patch, rest) = cut_int(rest)?;
            v.patch = patch.to_string();
            if !rest.is_empty() {
                let (kind, pre) = parse_prerelease(rest)?;
                v.kind = kind.to_string();
                v.pre = pre.to_string();
            }
            return Some(v);
        }
        let (kind, pre) = parse_prerelease(rest)?;
        v.kind = kind.to_string();
        v.pre = pre.to_string();
        Some(v)
    }

    /// Parses a toolchain name (`go1.21.3`, `go1.21.3-bigcorp`).
    pub fn parse_go(x: &str) -> Option<GoVersion> {
        GoVersion::parse(strip_go(x)?)
    }

    /// True for a language version such as `1.21` (no patch, no prerelease).
    pub fn is_lang(&self) -> bool {
        self.patch.is_empty() && self.kind.is_empty() && self.pre.is_empty()
    }

    /// True for a prerelease (`1.22rc1`, `1.9.2rc2`).
    pub fn is_prerelease(&self) -> bool {
        !self.kind.is_empty()
    }

    /// The language version, Go's `Lang`: `1.21.3` → `1.21`, `1.0.2` → `1`.
    pub fn lang(&self) -> String {
        if self.minor.is_empty() || (self.major == "1" && self.minor == "0") {
            return self.major.clone();
        }
        format!("{}.{}", self.major, self.minor)
    }

    /// Whether `self` belongs to the `major.minor` family named by `family` (`1.22` holds
    /// `1.22rc1`, `1.22.0`, `1.22.10`).
    pub fn in_family(&self, family: &GoVersion) -> bool {
        self.major == family.major && self.minor == family.minor
    }

    /// A key whose order is [`GoVersion::cmp_go`]'s, for sorting many versions (a hundred
    /// installed toolchains: their sort by `cmp_go`, string compares, was 160 K instructions
    /// a call). `None` for a version outside what the key can hold (an int past 19 digits,
    /// one with a leading zero, a kind Go does not make): sort those with `cmp_go`.
    pub fn sort_key(&self) -> Option<[u64; 5]> {
        // cmp_int orders by length, then bytes: for ints without leading zeros that is their
        // value, and "" (absent) before every int.
        let int = |x: &str| -> Option<u64> {
            if x.is_empty() {
                return Some(0);
            }
            let ok = x.len() <= 19
                && x.bytes().all(|b| b.is_ascii_digit())
                && (x == "0" || !x.starts_with('0'));
            ok.then(|| x.parse::<u64>().ok().map(|v| v + 1))?
        };
        // Compared only between versions of one major.minor.patch, so both have a patch or
        // neither: with one, the release comes after its prereleases; without, before.
        let kind = match self.kind.as_str() {
            "" if self.patch.is_empty() => 0,
            "" => 4,
            "alpha" => 1,
            "beta" => 2,
            "rc" => 3,
            _ => return None,
        };
        Some([
            int(&self.major)?,
            int(&self.minor)?,
            int(&self.patch)?,
            kind,
            int(&self.pre)?,
        ])
    }

    /// Go's Compare on parsed values.
    pub fn cmp_go(&self, other: &GoVersion) -> Ordering {
        cmp_int(&self.major, &other.major)
            .then_with(|| cmp_int(&self.minor, &other.minor))
            .then_with(|| cmp_int(&self.patch, &other.patch))
            .then_with(|| {
                let c = self.kind.cmp(&other.kind); // "" < alpha < beta < rc
                if c != Ordering::Equal && !self.patch.is_empty() {
                    // For a patch release a prerelease comes before the release itself.
                    if self.kind.is_empty() {
                        return Ordering::Greater;
                    } else if other.kind.is_empty() {
                        return Ordering::Less;
                    }
                }
                c
            })
            .then_with(|| cmp_int(&self.pre, &other.pre))
    }
}

/// Prints the version as parsed, in the bare form: `1.21.3`, `1.22rc1`, `1.21`, `1.9.2rc2`.
///
/// Before Go 1.21 a missing patch means `.0`, and [`GoVersion::parse`] fills it in, so `1.20`
/// displays as `1.20.0` and `1` as `1.0.0`.
///
/// ```
/// use gowarden::version::GoVersion;
///
/// let show = |x: &str| GoVersion::parse(x).unwrap().to_string();
/// assert_eq!(show("1.21.3"), "1.21.3");
/// assert_eq!(show("1.22rc1"), "1.22rc1");
/// assert_eq!(show("1.21"), "1.21");
/// assert_eq!(show("1.20"), "1.20.0");
/// ```
impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.major)?;
        if !self.minor.is_empty() {
            write!(f, ".{}", self.minor)?;
        }
        if !self.patch.is_empty() {
            write!(f, ".{}", self.patch)?;
        }
        write!(f, "{}{}", self.kind, self.pre)
    }
}

/// Go's `gover.Compare` on bare version strings. Invalid strings compare equal to each other
/// and below every valid version.
pub fn compare(x: &str, y: &str) -> Ordering {
    match (GoVersion::parse(x), GoVersion::parse(y)) {
        (Some(a), Some(b)) => a.cmp_go(&b),
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
    }
}

/// Go's `gover.Max`: `x` unless `y` is greater.
pub fn max<'a>(x: &'a str, y: &'a str) -> &'a str {
    if compare(x, y) == Ordering::Less {
        y
    } else {
        x
    }
}

/// Go's `gover.IsValid`.
pub fn is_valid(x: &str) -> bool {
    GoVersion::parse(x).is_some()
}

/// Go's `gover.IsLang`.
pub fn is_lang(x: &str) -> bool {
    GoVersion::parse(x).is_some_and(|v| v.is_lang())
}

/// Go's `gover.Lang`; `""` for an invalid version.
pub fn lang(x: &str) -> String {
    GoVersion::parse(x).map(|v| v.lang()).unwrap_or_default()
}

/// `go/version.Compare` on toolchain names (`go1.21`), ignoring a `-bigcorp` suffix.
pub fn go_compare(x: &str, y: &str) -> Ordering {
    compare(strip_go(x).unwrap_or(""), strip_go(y).unwrap_or(""))
}

/// `go/version.IsValid`.
pub fn go_is_valid(x: &str) -> bool {
    strip_go(x).is_some_and(is_valid)
}

/// `go/version.Lang`: `go1.21.2` → `go1.21`, `""` for an invalid name.
pub fn go_lang(x: &str) -> String {
    match strip_go(x).map(lang) {
        Some(l) if !l.is_empty() => format!("go{l}"),
        _ => String::new(),
    }
}

/// `go1.21-bigcorp` → `1.21`; `None` without the `go` prefix.
fn strip_go(v: &str) -> Option<&str> {
    let v = v.split('-').next().unwrap_or(v);
    v.strip_prefix("go")
}

fn parse_prerelease(x: &str) -> Option<(&str, &str)> {
    let letters = x.bytes().take_while(|b| !b.is_ascii_digit()).count();
    if letters == 0 || !x[..letters].bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let (kind, rest) = x.split_at(letters);
    if rest.is_empty() {
        return Some((kind, ""));
    }
    let (pre, rest) = cut_int(rest)?;
    if !rest.is_empty() {
        return None;
    }
    Some((kind, pre))
}

/// The leading decimal of `x` and the rest; `None` for no digits or a needless leading zero.
fn cut_int(x: &str) -> Option<(&str, &str)> {
    let n = x.bytes().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || (x.as_bytes()[0] == b'0' && n != 1) {
        return None;
    }
    Some(x.split_at(n))
}

/// Compares two decimal strings as numbers (Go's `gover.CmpInt`).
fn cmp_int(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// What a version source asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSpec {
    /// Exactly this release or prerelease.
    Exact(GoVersion),
    /// The newest installed release of this `major.minor` (`1.22` in `.go-version`).
    Family(GoVersion),
    /// The newest installed toolchain at least this version (a `go` line).
    AtLeast(GoVersion),
    /// The newest installed stable release.
    Newest,
}

impl VersionSpec {
    /// Parses a version as written in `.go-version`, `.tool-versions`, the policy and the
    /// environment: `1.22.10`, `go1.22.10`, `1.22` (a family), `1.23rc1`. `None` otherwise.
    pub fn parse(written: &str) -> Option<VersionSpec> {
        let bare = written.strip_prefix("go").unwrap_or(written);
        let v = GoVersion::parse(bare)?;
        let dots = bare.bytes().filter(|&b| b == b'.').count();
        match dots {
            0 => None, // `1` alone is too vague to choose a toolchain by
            1 if v.kind.is_empty() => Some(VersionSpec::Family(v)),
            _ => Some(VersionSpec::Exact(v)),
        }
    }

    /// Whether an installed toolchain of version `v` satisfies this spec.
    pub fn matches(&self, v: &GoVersion) -> bool {
        match self {
            VersionSpec::Exact(want) => v.cmp_go(want).is_eq(),
            VersionSpec::Family(f) => v.in_family(f),
            VersionSpec::AtLeast(min) => v.cmp_go(min).is_ge(),
            VersionSpec::Newest => true,
        }
    }
}

impl fmt::Display for VersionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSpec::Exact(v) => write!(f, "go{v}"),
            VersionSpec::Family(v) => write!(f, "go{}.{}.x", v.major, v.minor),
            VersionSpec::AtLeast(v) => write!(f, "go{v} or newer"),
            VersionSpec::Newest => f.write_str("the newest installed release"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sort_key_orders_as_cmp_go_does() {
        let texts = [
            "1",
            "1.0.0",
            "1.9.2rc2",
            "1.9.2",
            "1.20",
            "1.20rc1",
            "1.20.0",
            "1.21",
            "1.21alpha1",
            "1.21beta2",
            "1.21rc1",
            "1.21rc2",
            "1.21rc10",
            "1.21.0",
            "1.21.1",
            "1.21.9",
            "1.21.10",
            "1.22alpha1",
            "1.100.0",
            "2",
            "2.0.0",
            "0.1",
            "9999999999999999999.1",
        ];
        let versions: Vec<GoVersion> = texts
            .iter()
            .map(|t| GoVersion::parse(t).unwrap_or_else(|| panic!("{t}")))
            .collect();
        for a in &versions {
            for b in &versions {
                assert_eq!(
                    a.sort_key().unwrap().cmp(&b.sort_key().unwrap()),
                    a.cmp_go(b),
                    "{a} against {b}"
                );
            }
        }
        let mut past = GoVersion::parse("1.21.0").unwrap();
        past.patch = "1".repeat(20);
        assert_eq!(past.sort_key(), None);
        past.patch = "01".into();
        assert_eq!(past.sort_key(), None);
    }
}
