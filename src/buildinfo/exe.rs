//! Just enough of ELF, PE and Mach-O to find a Go binary's build information, as Go's
//! debug/buildinfo finds it: where the blob should be (*data start*: a section of its own,
//! else the first writable data segment or section) and how a virtual address maps to bytes
//! of the file (the segments, or PE's sections). Every offset is checked against the file,
//! so a truncated or corrupt file is a [`ReadError::Malformed`] naming what broke, never a
//! panic or a read past the end.

use super::{ReadError, Source};

/// An address range of the image and where its bytes are in the file.
#[derive(Debug, Clone)]
struct Map {
    addr: u64,
    /// Bytes present in the file (ELF `p_filesz`, Mach-O `filesize`, PE `SizeOfRawData`).
    size: u64,
    offset: u64,
    /// Mach-O's `__PAGEZERO` covers address 0 and holds nothing.
    skip: bool,
}

/// A parsed executable: its format, where the build info should be, and its address map.
#[derive(Debug)]
pub struct Exe {
    pub format: &'static str,
    /// Address and size of the range to search for the build info blob; size 0: none.
    pub data_start: (u64, u64),
    maps: Vec<Map>,
    /// Subtracted from addresses before looking them up (PE's image base).
    bias: u64,
    /// Where the (first) image starts in the file: non-zero in a fat Mach-O.
    base: u64,
}

impl Exe {
    /// The file window holding `addr`: its file offset and the bytes left in its segment.
    pub fn locate(&self, addr: u64) -> Option<(u64, u64)> {
        let addr = addr.wrapping_sub(self.bias);
        for m in &self.maps {
            if m.size > 0 && m.addr <= addr && addr - m.addr < m.size {
                if m.skip {
                    continue;
                }
                let into = addr - m.addr;
                return Some((
                    self.base.checked_add(m.offset)?.checked_add(into)?,
                    m.size - into,
                ));
            }
        }
        None
    }
}

/// Identifies the format from the first bytes and parses its headers. `NotExecutable` for
/// anything that is not ELF, PE or Mach-O.
pub fn parse(src: &dyn Source) -> Result<Exe, ReadError> {
    let mut ident = [0u8; 16];
    if src.len() < 16 {
        return Err(ReadError::NotExecutable);
    }
    src.read_at(0, &mut ident)?;
    if ident.starts_with(b"\x7fELF") {
        elf(src)
    } else if ident.starts_with(b"MZ") {
        pe(src)
    } else if ident.starts_with(b"\xfe\xed\xfa") || ident[1..].starts_with(b"\xfa\xed\xfe") {
        macho(src, 0)
    } else if ident.starts_with(b"\xca\xfe\xba\xbe") || ident.starts_with(b"\xca\xfe\xba\xbf") {
        fat(src)
    } else {
        Err(ReadError::NotExecutable)
    }
}

/// Bounds-checked reads of fixed-width integers from one format's file.
struct Reader<'a> {
    src: &'a dyn Source,
    format: &'static str,
    big: bool,
}

impl Reader<'_> {
    fn bytes(&self, off: u64, len: u64, what: &str) -> Result<Vec<u8>, ReadError> {
        let end = off.checked_add(len);
        if end.is_none_or(|e| e > self.src.len()) {
            return Err(self.malformed(format!(
                "{what} at offset {off:#x} ({len} bytes) runs past the end of the file \
                 ({} bytes): the file is truncated or corrupt",
                self.src.len()
            )));
        }
        // Header tables are small; a count that would make one huge is corrupt, not a
        // reason to allocate gigabytes.
        if len > 64 << 20 {
            return Err(self.malformed(format!("{what} claims {len} bytes")));
        }
        let mut buf = vec![0; len as usize];
        self.src.read_at(off, &mut buf)?;
        Ok(buf)
    }

    fn malformed(&self, what: String) -> ReadError {
        ReadError::Malformed {
            format: self.format,
            what,
        }
    }

    fn u16(&self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        if self.big {
            u16::from_be_bytes(v)
        } else {
            u16::from_le_bytes(v)
        }
    }

    fn u32(&self, b: &[u8], at: usize) -> u32 {
        let v: [u8; 4] = b[at..at + 4].try_into().expect("4 bytes");
        if self.big {
            u32::from_be_bytes(v)
        } else {
            u32::from_le_bytes(v)
        }
    }

    fn u64(&self, b: &[u8], at: usize) -> u64 {
        let v: [u8; 8] = b[at..at + 8].try_into().expect("8 bytes");
        if self.big {
            u64::from_be_bytes(v)
        } else {
            u64::from_le_bytes(v)
        }
    }

    /// A 4- or 8-byte word, as the class says.
    fn word(&self, b: &[u8], at: usize, wide: bool) -> u64 {
        if wide {
            self.u64(b, at)
        } else {
            u64::from(self.u32(b, at))
        }
    }
}

const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const SHT_NOBITS: u32 = 8;

fn elf(src: &dyn Source) -> Result<Exe, ReadError> {
    let mut r = Reader {
        src,
        format: "ELF",
        big: false,
    };
    let ident = r.bytes(0, 16, "the ELF identification")?;
    let wide = match ident[4] {
        1 => false,
        2 => true,
        c => return Err(r.malformed(format!("unknown ELF class {c} (byte 4)"))),
    };
    r.big = match ident[5] {
        1 => false,
        2 => true,
        d => return Err(r.malformed(format!("unknown ELF data encoding {d} (byte 5)"))),
    };
    let h = r.bytes(0, if wide { 64 } else { 52 }, "the ELF header")?;
    let (phoff, shoff, at) = if wide {
        (r.u64(&h, 0x20), r.u64(&h, 0x28), 0x36)
    } else {
        (u64::from(r.u32(&h, 0x1c)), u64::from(r.u32(&h, 0x20)), 0x2a)
    };
    let phentsize = u64::from(r.u16(&h, at));
    let phnum = u64::from(r.u16(&h, at + 2));
    let shentsize = u64::from(r.u16(&h, at + 4));
    let mut shnum = u64::from(r.u16(&h, at + 6));
    let mut shstrndx = u64::from(r.u16(&h, at + 8));
    let (ph_min, sh_min) = if wide { (0x38, 0x40) } else { (0x20, 0x28) };

    let mut maps = Vec::new();
    let mut first_data = None;
    if phnum > 0 {
        if phentsize < ph_min {
            return Err(r.malformed(format!("program header size {phentsize} is too small")));
        }
        let table = r.bytes(phoff, phnum * phentsize, "the program header table")?;
        for i in 0..phnum as usize {
            let p = &table[i * phentsize as usize..];
            let (ptype, flags, offset, vaddr, filesz, memsz) = if wide {
                (
                    r.u32(p, 0),
                    r.u32(p, 4),
                    r.u64(p, 8),
                    r.u64(p, 0x10),
                    r.u64(p, 0x20),
                    r.u64(p, 0x28),
                )
            } else {
                (
                    r.u32(p, 0),
                    r.u32(p, 0x18),
                    u64::from(r.u32(p, 4)),
                    u64::from(r.u32(p, 8)),
                    u64::from(r.u32(p, 0x10)),
                    u64::from(r.u32(p, 0x14)),
                )
            };
            maps.push(Map {
                addr: vaddr,
                size: filesz,
                offset,
                skip: false,
            });
            if first_data.is_none() && ptype == PT_LOAD && flags & (PF_X | PF_W) == PF_W {
                first_data = Some((vaddr, memsz));
            }
        }
    }

    let mut buildinfo_section = None;
    if shoff != 0 {
        if shentsize < sh_min {
            return Err(r.malformed(format!("section header size {shentsize} is too small")));
        }
        // More than 0xff00 sections: the count and the name table's index live in section 0.
        if shnum == 0 || shstrndx == 0xffff {
            let s0 = r.bytes(shoff, sh_min, "section header 0")?;
            if shnum == 0 {
                shnum = r.word(&s0, if wide { 0x20 } else { 0x14 }, wide);
            }
            if shstrndx == 0xffff {
                shstrndx = u64::from(r.u32(&s0, if wide { 0x28 } else { 0x18 }));
            }
        }
        let len = shnum
            .checked_mul(shentsize)
            .ok_or_else(|| r.malformed(format!("{shnum} section headers")))?;
        let table = r.bytes(shoff, len, "the section header table")?;
        let section = |i: usize| -> (u32, u32, u64, u64, u64) {
            let s = &table[i * shentsize as usize..];
            if wide {
                (
                    r.u32(s, 0),
                    r.u32(s, 4),
                    r.u64(s, 0x10),
                    r.u64(s, 0x18),
                    r.u64(s, 0x20),
                )
            } else {
                (
                    r.u32(s, 0),
                    r.u32(s, 4),
                    u64::from(r.u32(s, 0xc)),
                    u64::from(r.u32(s, 0x10)),
                    u64::from(r.u32(s, 0x14)),
                )
            }
        };
        if shstrndx >= shnum {
            return Err(r.malformed(format!(
                "the section name table's index {shstrndx} is not below the section count {shnum}"
            )));
        }
        let (_, strtype, _, stroff, strsize) = section(shstrndx as usize);
        let names = if strtype == SHT_NOBITS {
            Vec::new()
        } else {
            r.bytes(stroff, strsize, "the section name table")?
        };
        for i in 0..shnum as usize {
            let (name, _, addr, _, size) = section(i);
            let name = names.get(name as usize..).unwrap_or_default();
            if name.starts_with(b".go.buildinfo\0") {
                buildinfo_section = Some((addr, size));
                break;
            }
        }
    }
    Ok(Exe {
        format: "ELF",
        data_start: buildinfo_section.or(first_data).unwrap_or((0, 0)),
        maps,
        bias: 0,
        base: 0,
    })
}

const SCN_CNT_INITIALIZED_DATA: u32 = 0x40;
const SCN_MEM_READ: u32 = 0x4000_0000;
const SCN_MEM_WRITE: u32 = 0x8000_0000;
const SCN_ALIGN_32BYTES: u32 = 0x60_0000;

fn pe(src: &dyn Source) -> Result<Exe, ReadError> {
    let r = Reader {
        src,
        format: "PE",
        big: false,
    };
    let dos = r.bytes(0, 0x40, "the DOS header")?;
    let pe_at = u64::from(r.u32(&dos, 0x3c));
    let sig = r.bytes(pe_at, 24, "the PE signature and COFF header")?;
    if &sig[..4] != b"PE\0\0" {
        // An MZ file that is not PE (DOS program, or a text file starting "MZ").
        return Err(ReadError::NotExecutable);
    }
    let nsections = u64::from(r.u16(&sig, 4 + 2));
    let opt_size = u64::from(r.u16(&sig, 4 + 16));
    let opt = r.bytes(pe_at + 24, opt_size, "the PE optional header")?;
    let image_base = match (opt.len() >= 2).then(|| r.u16(&opt, 0)) {
        Some(0x10b) if opt.len() >= 32 => u64::from(r.u32(&opt, 28)),
        Some(0x20b) if opt.len() >= 32 => r.u64(&opt, 24),
        Some(m) => {
            return Err(r.malformed(format!(
                "PE optional header magic {m:#x} ({opt_size} bytes) is neither PE32 nor PE32+"
            )));
        }
        None => 0,
    };
    let table = r.bytes(
        pe_at + 24 + opt_size,
        nsections * 40,
        "the PE section table",
    )?;
    let mut maps = Vec::new();
    let mut data_start = (0, 0);
    for i in 0..nsections as usize {
        let s = &table[i * 40..];
        let (vsize, va, raw_size, raw_ptr, ch) = (
            r.u32(s, 8),
            r.u32(s, 12),
            r.u32(s, 16),
            r.u32(s, 20),
            r.u32(s, 36),
        );
        maps.push(Map {
            addr: u64::from(va),
            size: u64::from(raw_size),
            offset: u64::from(raw_ptr),
            skip: false,
        });
        if data_start.1 == 0
            && va != 0
            && raw_size != 0
            && ch & !SCN_ALIGN_32BYTES == SCN_CNT_INITIALIZED_DATA | SCN_MEM_READ | SCN_MEM_WRITE
        {
            data_start = (u64::from(va).wrapping_add(image_base), u64::from(vsize));
        }
    }
    Ok(Exe {
        format: "PE",
        data_start,
        maps,
        bias: image_base,
        base: 0,
    })
}

const LC_SEGMENT: u32 = 0x1;
const LC_SEGMENT_64: u32 = 0x19;

fn macho(src: &dyn Source, base: u64) -> Result<Exe, ReadError> {
    let mut r = Reader {
        src,
        format: "Mach-O",
        big: true,
    };
    let magic = r.bytes(base, 4, "the Mach-O magic")?;
    let (wide, big) = match magic[..] {
        [0xfe, 0xed, 0xfa, 0xce] => (false, true),
        [0xfe, 0xed, 0xfa, 0xcf] => (true, true),
        [0xce, 0xfa, 0xed, 0xfe] => (false, false),
        [0xcf, 0xfa, 0xed, 0xfe] => (true, false),
        _ => return Err(ReadError::NotExecutable),
    };
    r.big = big;
    let hsize = if wide { 32 } else { 28 };
    let h = r.bytes(base, hsize, "the Mach-O header")?;
    let ncmds = r.u32(&h, 16);
    let sizeofcmds = u64::from(r.u32(&h, 20));
    let cmds = r.bytes(base + hsize, sizeofcmds, "the Mach-O load commands")?;
    let mut maps = Vec::new();
    let mut section = None;
    let mut first_rw = None;
    let mut at = 0usize;
    for i in 0..ncmds {
        let bad = |what: &str| {
            r.malformed(format!(
                "load command {i} at offset {:#x}: {what}",
                base + hsize + at as u64
            ))
        };
        if at + 8 > cmds.len() {
            return Err(bad("runs past sizeofcmds"));
        }
        let cmd = r.u32(&cmds, at);
        let size = r.u32(&cmds, at + 4) as usize;
        if size < 8 || at + size > cmds.len() {
            return Err(bad(&format!("size {size} does not fit in sizeofcmds")));
        }
        let c = &cmds[at..at + size];
        let seg = match cmd {
            LC_SEGMENT_64 if size >= 72 => Some((
                &c[8..24],
                r.u64(c, 24),
                r.u64(c, 32),
                r.u64(c, 40),
                r.u64(c, 48),
                r.u32(c, 56),
                r.u32(c, 60),
                r.u32(c, 64),
                72usize,
                80usize,
            )),
            LC_SEGMENT if size >= 56 => Some((
                &c[8..24],
                u64::from(r.u32(c, 24)),
                u64::from(r.u32(c, 28)),
                u64::from(r.u32(c, 32)),
                u64::from(r.u32(c, 36)),
                r.u32(c, 40),
                r.u32(c, 44),
                r.u32(c, 48),
                56,
                68,
            )),
            LC_SEGMENT | LC_SEGMENT_64 => return Err(bad("segment command too short")),
            _ => None,
        };
        if let Some((name, vmaddr, vmsize, fileoff, filesize, maxprot, prot, nsects, hlen, slen)) =
            seg
        {
            maps.push(Map {
                addr: vmaddr,
                size: filesize,
                offset: fileoff,
                skip: name.starts_with(b"__PAGEZERO\0"),
            });
            const RW: u32 = 3;
            if first_rw.is_none() && vmaddr != 0 && filesize != 0 && prot == RW && maxprot == RW {
                first_rw = Some((vmaddr, vmsize));
            }
            let nsects = nsects as usize;
            if hlen + nsects.saturating_mul(slen) > size {
                return Err(bad(&format!("{nsects} sections do not fit in the command")));
            }
            for s in 0..nsects {
                let sec = &c[hlen + s * slen..];
                if section.is_none() && sec.starts_with(b"__go_buildinfo\0") {
                    section = Some(if wide {
                        (r.u64(sec, 32), r.u64(sec, 40))
                    } else {
                        (u64::from(r.u32(sec, 32)), u64::from(r.u32(sec, 36)))
                    });
                }
            }
        }
        at += size;
    }
    Ok(Exe {
        format: "Mach-O",
        data_start: section.or(first_rw).unwrap_or((0, 0)),
        maps,
        bias: 0,
        base,
    })
}

/// A universal (fat) Mach-O: go reads its first architecture. Java class files share the
/// magic; anything that does not hold a Mach-O is not an executable.
fn fat(src: &dyn Source) -> Result<Exe, ReadError> {
    let r = Reader {
        src,
        format: "Mach-O",
        big: true,
    };
    let h = r.bytes(0, 8, "the fat header")?;
    let wide = h[3] == 0xbf;
    let narch = r.u32(&h, 4);
    // Java class files have a version here, never a small count of architectures.
    if narch == 0 || narch > 64 {
        return Err(ReadError::NotExecutable);
    }
    let arch = r.bytes(8, if wide { 32 } else { 20 }, "the first fat arch")?;
    let offset = if wide {
        r.u64(&arch, 8)
    } else {
        u64::from(r.u32(&arch, 8))
    };
    macho(src, offset)
}
