//! The binary's allocator: a bump arena in front of the system allocator.
//!
//! A shim process lives well under a millisecond and then execs. Under musl's allocator it
//! mapped and unmapped pages about sixty times per go call (37 mmap + 25 munmap of the 182
//! syscalls of an enterprise-policy call). The arena is a zero-initialised static (in .bss:
//! no syscall to get it, pages faulted in as they are touched, exactly as mmap'd memory would
//! be), handed out by bumping an offset; freeing the most recent block gives it back and
//! realloc grows the most recent block in place (the common pattern of a growing Vec or
//! String), anything else is simply not reused. Past the arena, allocations go to the system
//! allocator, so a long-running CLI command (drift --watch, unpacking a toolchain) keeps at
//! most ARENA bytes of memory it cannot reuse.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Far more than a shim call allocates (the enterprise example's parse and decision take
/// well under a megabyte), and only the pages touched cost memory.
const ARENA: usize = 8 << 20;

#[repr(C, align(4096))]
struct Region(UnsafeCell<[u8; ARENA]>);

// SAFETY: the bytes are handed out in disjoint blocks by the atomic offset below.
unsafe impl Sync for Region {}

static REGION: Region = Region(UnsafeCell::new([0; ARENA]));
/// The offset of the first free byte.
static NEXT: AtomicUsize = AtomicUsize::new(0);

pub struct Arena;

fn base() -> usize {
    REGION.0.get() as usize
}

fn offset_of(ptr: *mut u8) -> Option<usize> {
    let p = ptr as usize;
    (p >= base() && p < base() + ARENA).then(|| p - base())
}

unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut cur = NEXT.load(Ordering::Relaxed);
        loop {
            let start = (base() + cur).next_multiple_of(layout.align()) - base();
            let end = start + layout.size();
            if end > ARENA {
                // SAFETY: the caller's layout, passed on.
                return unsafe { System.alloc(layout) };
            }
            match NEXT.compare_exchange_weak(cur, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (base() + start) as *mut u8,
                Err(now) => cur = now,
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match offset_of(ptr) {
            Some(off) => {
                // The most recent block goes back; any other stays used.
                let _ = NEXT.compare_exchange(
                    off + layout.size(),
                    off,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
            }
            // SAFETY: a block the system allocator gave out, with its layout.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(off) = offset_of(ptr) else {
            // SAFETY: a block the system allocator gave out, with its layout.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        let old_end = off + layout.size();
        let new_end = off + new_size;
        if new_end <= ARENA
            && NEXT
                .compare_exchange(old_end, new_end, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return ptr;
        }
        if new_size <= layout.size() {
            return ptr;
        }
        // SAFETY: align and new_size come from a valid layout grown by the caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for alloc.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are valid for the old size and do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size());
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}
