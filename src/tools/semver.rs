//! Module versions as go orders them (golang.org/x/mod/semver), for the pin a workspace's
//! modules agree on (MVS takes the highest) and for checking a pin is a version at all.

use std::cmp::Ordering;

/// Whether `v` is a canonical module version go accepts in a `require` line:
/// `vMAJOR.MINOR.PATCH` with an optional `-prerelease` (pseudo-versions included) and
/// `+incompatible`.
pub fn is_valid(v: &str) -> bool {
    parse(v).is_some()
}

struct Parsed<'a> {
    nums: [u64; 3],
    pre: &'a str,
}

fn parse(v: &str) -> Option<Parsed<'_>> {
    let rest = v.strip_prefix('v')?;
    let rest = rest.strip_suffix("+incompatible").unwrap_or(rest);
    let (core, pre) = match rest.split_once('-') {
        Some((c, p)) if !p.is_empty() => (c, p),
        Some(_) => return None,
        None => (rest, ""),
    };
    let mut nums = [0u64; 3];
    let mut parts = core.split('.');
    for n in &mut nums {
        let p = parts.next()?;
        if p.is_empty()
            || !p.bytes().all(|b| b.is_ascii_digit())
            || (p.len() > 1 && p.starts_with('0'))
        {
            return None;
        }
        *n = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    if !pre
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return None;
    }
    Some(Parsed { nums, pre })
}

/// semver.Compare; an invalid version sorts below every valid one.
pub fn compare(a: &str, b: &str) -> Ordering {
    match (parse(a), parse(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => x.nums.cmp(&y.nums).then_with(|| match (x.pre, y.pre) {
            ("", "") => Ordering::Equal,
            ("", _) => Ordering::Greater,
            (_, "") => Ordering::Less,
            (p, q) => compare_pre(p, q),
        }),
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let num = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
                let o = match (num(x), num(y)) {
                    (true, true) => x.len().cmp(&y.len()).then(x.cmp(y)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_go() {
        assert!(is_valid("v0.23.0"));
        assert!(is_valid("v0.47.1-0.20260707181000-a299dadba899"));
        assert!(is_valid("v2.0.0+incompatible"));
        for bad in ["latest", "0.23.0", "v1.2", "v01.2.3", "v1.2.3-", "master"] {
            assert!(!is_valid(bad), "{bad}");
        }
        assert_eq!(compare("v0.30.0", "v0.20.0"), Ordering::Greater);
        assert_eq!(compare("v1.0.0-rc.1", "v1.0.0"), Ordering::Less);
        assert_eq!(compare("v1.0.0-rc.2", "v1.0.0-rc.10"), Ordering::Less);
        assert_eq!(compare("v0.10.0", "v0.9.0"), Ordering::Greater);
    }
}
