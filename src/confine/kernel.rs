//! What the running kernel offers: its release and Landlock ABI version.

/// The running kernel as far as confinement cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    /// `uname -sr`, e.g. `Linux 6.18.0`.
    pub release: String,
    /// The Landlock ABI version, 0 where Landlock is unavailable.
    pub abi: i32,
    /// Why Landlock is unavailable (`abi == 0`).
    pub unavailable: Option<String>,
}

impl Kernel {
    /// Asks the kernel (`landlock_create_ruleset` with `LANDLOCK_CREATE_RULESET_VERSION`),
    /// which costs one system call.
    pub fn current() -> Kernel {
        let release = release();
        #[cfg(feature = "test-hooks")]
        if let Some(abi) = crate::environ::var(crate::envvars::TEST_LANDLOCK_ABI)
            .and_then(|v| v.parse::<i32>().ok())
        {
            // Lets the test suite play an older kernel (or one without Landlock) on this one.
            let real = Kernel::query(release.clone());
            let abi = abi.min(real.abi);
            return Kernel {
                release,
                abi,
                unavailable: (abi == 0).then(|| "Landlock is not enabled (test hook)".into()),
            };
        }
        Kernel::query(release)
    }

    #[cfg(target_os = "linux")]
    fn query(release: String) -> Kernel {
        use nix::libc;
        const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
        // SAFETY: with a null attribute pointer and size 0, this flag only returns the ABI
        // version; no memory is read or written.
        let v = unsafe {
            libc::syscall(
                libc::SYS_landlock_create_ruleset,
                std::ptr::null::<libc::c_void>(),
                0usize,
                LANDLOCK_CREATE_RULESET_VERSION,
            )
        };
        if v > 0 {
            return Kernel {
                release,
                abi: i32::try_from(v).unwrap_or(i32::MAX),
                unavailable: None,
            };
        }
        let why = match std::io::Error::last_os_error().raw_os_error() {
            Some(libc::EOPNOTSUPP) => {
                "Landlock is built in but not enabled (add landlock to the lsm= boot parameter)"
            }
            Some(libc::ENOSYS) => "the kernel has no Landlock (Linux 5.13+ built with it)",
            _ => "Landlock is unavailable (the system call failed)",
        };
        Kernel {
            release,
            abi: 0,
            unavailable: Some(why.into()),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn query(release: String) -> Kernel {
        Kernel {
            release,
            abi: 0,
            unavailable: Some("Landlock is a Linux feature".into()),
        }
    }

    pub fn describe(&self) -> String {
        self.release.clone()
    }

    /// `Landlock ABI 7`, or `no Landlock (why)`.
    pub fn abi_text(&self) -> String {
        match &self.unavailable {
            Some(why) if self.abi == 0 => format!("no Landlock: {why}"),
            _ => format!("Landlock ABI {}", self.abi),
        }
    }
}

/// `uname -sr` (one system call, no file to open: this runs on every confined go call).
fn release() -> String {
    use nix::libc;
    // SAFETY: uname fills the zeroed struct it is given; its fields are NUL-terminated.
    unsafe {
        let mut u: libc::utsname = std::mem::zeroed();
        if libc::uname(&mut u) != 0 {
            return "an unknown kernel".into();
        }
        let field = |f: &[libc::c_char]| {
            std::ffi::CStr::from_ptr(f.as_ptr())
                .to_string_lossy()
                .into_owned()
        };
        format!("{} {}", field(&u.sysname), field(&u.release))
    }
}
