//! `memcpy` and `memmove` for the static musl build, which links these in place of musl's.
//!
//! musl's x86_64 `memcpy` is `rep movsq` for the 8-byte words and a single `movsb` per byte
//! for the ends: string instructions with a start-up cost of tens of cycles each, paid on every
//! call. A shim call makes thousands of copies of a few to a few hundred bytes (paths, env
//! values, strings of the policy and the audit record), and musl's `memcpy` was a quarter of
//! its user time (perf, the embedded default policy: 46 µs per go call of 190). Here, copies up
//! to 256 bytes are a few overlapping unaligned loads and stores, and longer ones one
//! `rep movsb`, which CPUs with ERMS/FSRM (Intel since Ivy Bridge, AMD since Zen 3) run at full
//! speed from any alignment.
//!
//! x86_64 only: other architectures keep musl's own (its aarch64 `memcpy` is tuned already).
//!
//! Nothing here may be written as a loop over bytes: the compiler recognises such a loop as a
//! copy and turns it into a call to `memcpy`, which would be this function again. Every path
//! is straight-line code or one string instruction in `asm!`.

use std::ptr::{read_unaligned as load, write_unaligned as store};

/// Copies `n` bytes from `src` to `dst`, as C's `memmove` (the ranges may overlap).
///
/// # Safety
/// `src` must be valid for reads and `dst` for writes of `n` bytes.
#[inline(always)]
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY (every block): the caller's ranges; each load and store is inside them, and
    // every load of a block happens before its first store, so overlapping ranges copy as
    // memmove's do.
    unsafe {
        if n <= 16 {
            if n >= 8 {
                let (a, b) = (load(src as *const u64), load(src.add(n - 8) as *const u64));
                store(dst as *mut u64, a);
                store(dst.add(n - 8) as *mut u64, b);
            } else if n >= 4 {
                let (a, b) = (load(src as *const u32), load(src.add(n - 4) as *const u32));
                store(dst as *mut u32, a);
                store(dst.add(n - 4) as *mut u32, b);
            } else if n > 0 {
                let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
                *dst = a;
                *dst.add(n / 2) = b;
                *dst.add(n - 1) = c;
            }
            return;
        }
        if n <= 32 {
            let (a, b) = (
                load(src as *const u128),
                load(src.add(n - 16) as *const u128),
            );
            store(dst as *mut u128, a);
            store(dst.add(n - 16) as *mut u128, b);
            return;
        }
        if n <= 64 {
            let a = load(src as *const [u128; 2]);
            let b = load(src.add(n - 32) as *const [u128; 2]);
            store(dst as *mut [u128; 2], a);
            store(dst.add(n - 32) as *mut [u128; 2], b);
            return;
        }
        // rep movsb starts slowly: 12-28 ns for 65 to 512 bytes here, against 5-10 ns for
        // 16-byte moves, so paths and strings up to 256 bytes are moved that way too.
        if n <= 128 {
            let a = load(src as *const [u128; 4]);
            let b = load(src.add(n - 64) as *const [u128; 4]);
            store(dst as *mut [u128; 4], a);
            store(dst.add(n - 64) as *mut [u128; 4], b);
            return;
        }
        if n <= 256 {
            let a = load(src as *const [u128; 8]);
            let b = load(src.add(n - 128) as *const [u128; 8]);
            store(dst as *mut [u128; 8], a);
            store(dst.add(n - 128) as *mut [u128; 8], b);
            return;
        }
        if (dst as usize).wrapping_sub(src as usize) >= n {
            // dst is below src or past its end: a forward copy never overwrites a byte before
            // it is read.
            forward(dst, src, n);
        } else {
            backward(dst, src, n);
        }
    }
}

#[inline(always)]
unsafe fn forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: the caller's ranges; rep movsb copies exactly rcx bytes upwards (the direction
    // flag is clear, as the ABI guarantees at every call).
    unsafe {
        std::arch::asm!(
            "rep movsb",
            inout("rcx") n => _,
            inout("rdi") dst => _,
            inout("rsi") src => _,
            options(nostack, preserves_flags)
        );
    }
}

#[inline(always)]
unsafe fn backward(dst: *mut u8, src: *const u8, n: usize) {
    // Downwards from the last byte, for a dst that overlaps the end of src; with the direction
    // flag set rep movsb is slow, but this case (memmove of a Vec's tail up) is rare.
    // SAFETY: the caller's ranges; the direction flag is cleared again before the block ends.
    unsafe {
        std::arch::asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::copy;

    /// Every length up to 300 bytes at every offset pair within 16 bytes, against
    /// `copy_within` (the standard library's memmove), in both directions and overlapping.
    #[test]
    fn copies_as_memmove_does() {
        let pattern: Vec<u8> = (0..700u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..300 {
            for from in 0..16 {
                for to in 0..16 {
                    for shift in [0usize, 320] {
                        let (src_at, dst_at) = (from + shift, to);
                        let mut want = pattern.clone();
                        want.copy_within(src_at..src_at + n, dst_at);
                        let mut got = pattern.clone();
                        let base = got.as_mut_ptr();
                        // SAFETY: both ranges lie inside `got` (700 bytes).
                        unsafe { copy(base.add(dst_at), base.add(src_at), n) };
                        assert_eq!(got, want, "n {n} from {src_at} to {dst_at}");
                        // And the other way round.
                        let mut want = pattern.clone();
                        want.copy_within(dst_at..dst_at + n, src_at);
                        let mut got = pattern.clone();
                        let base = got.as_mut_ptr();
                        // SAFETY: as above.
                        unsafe { copy(base.add(src_at), base.add(dst_at), n) };
                        assert_eq!(got, want, "n {n} from {dst_at} to {src_at}");
                    }
                }
            }
        }
    }

    #[test]
    fn long_copies_into_a_separate_buffer() {
        for n in [65, 1000, 4096, 65537] {
            let src: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            let mut dst = vec![0u8; n + 2];
            // SAFETY: src has n bytes, dst n + 2.
            unsafe { copy(dst.as_mut_ptr().add(1), src.as_ptr(), n) };
            assert_eq!(&dst[1..=n], &src[..], "{n}");
            assert_eq!((dst[0], dst[n + 1]), (0, 0), "{n}");
        }
    }
}
