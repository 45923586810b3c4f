//! The reader against small executables of each format built here byte by byte, and a table
//! of every truncation and of corrupted header bytes: each gives an error, never a panic.
//! (tests/it/check_binary.rs compares the reader with `go version -m` on real builds.)

use super::*;

const MODINFO: &str = "path\texample.com/app\nmod\texample.com/app\tv1.0.0\t\n\
                       dep\texample.com/dep\tv1.2.3\th1:abc=\n\
                       build\t-ldflags=\"-s -w\"\nbuild\tCGO_ENABLED=0\n";

fn uvarint_bytes(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
    out
}

/// A go1.18+ blob: header, then the version and the framed module information inline.
fn inline_blob(version: &str, modinfo: &str) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.push(8);
    b.push(2);
    b.resize(32, 0);
    b.extend(uvarint_bytes(version.len() as u64));
    b.extend(version.as_bytes());
    let framed = [&[0x30u8; 16][..], modinfo.as_bytes(), &[0xf9; 16]].concat();
    b.extend(uvarint_bytes(framed.len() as u64));
    b.extend(framed);
    b
}

fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if buf.len() < at + bytes.len() {
        buf.resize(at + bytes.len(), 0);
    }
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

const ELF_BASE: u64 = 0x40_0000;
const BLOB_AT: usize = 0x80;

/// ELF64 little-endian: one writable PT_LOAD over the whole file, and sections
/// `.go.buildinfo` (if `named`) and `.shstrtab`.
fn elf(blob: &[u8], named: bool) -> Vec<u8> {
    let mut f = Vec::new();
    put(&mut f, 0, b"\x7fELF\x02\x01\x01");
    put(&mut f, BLOB_AT, blob);
    let strtab_at = f.len().div_ceil(16) * 16;
    let names = b"\0.go.buildinfo\0.shstrtab\0";
    put(&mut f, strtab_at, names);
    let sh_at = f.len().div_ceil(16) * 16;
    let total = sh_at + 3 * 64;
    // e_phoff, e_shoff, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx
    put(&mut f, 0x20, &64u64.to_le_bytes());
    put(&mut f, 0x28, &(sh_at as u64).to_le_bytes());
    put(&mut f, 0x36, &56u16.to_le_bytes());
    put(&mut f, 0x38, &1u16.to_le_bytes());
    put(&mut f, 0x3a, &64u16.to_le_bytes());
    put(&mut f, 0x3c, &3u16.to_le_bytes());
    put(&mut f, 0x3e, &2u16.to_le_bytes());
    let mut ph = Vec::new();
    ph.extend(1u32.to_le_bytes()); // PT_LOAD
    ph.extend(6u32.to_le_bytes()); // R|W
    ph.extend(0u64.to_le_bytes());
    ph.extend(ELF_BASE.to_le_bytes());
    ph.extend(ELF_BASE.to_le_bytes());
    ph.extend((total as u64).to_le_bytes());
    ph.extend((total as u64).to_le_bytes());
    put(&mut f, 64, &ph);
    let section = |name: u32, stype: u32, addr: u64, off: u64, size: u64| {
        let mut s = Vec::new();
        s.extend(name.to_le_bytes());
        s.extend(stype.to_le_bytes());
        s.extend(0u64.to_le_bytes());
        s.extend(addr.to_le_bytes());
        s.extend(off.to_le_bytes());
        s.extend(size.to_le_bytes());
        s.resize(64, 0);
        s
    };
    let bi_name = if named { 1 } else { 15 };
    put(&mut f, sh_at, &[0; 64]);
    put(
        &mut f,
        sh_at + 64,
        &section(
            bi_name,
            1,
            ELF_BASE + BLOB_AT as u64,
            BLOB_AT as u64,
            blob.len() as u64,
        ),
    );
    put(
        &mut f,
        sh_at + 128,
        &section(15, 3, 0, strtab_at as u64, names.len() as u64),
    );
    f
}

/// PE32+: one initialised, readable, writable section (.data) holding the blob.
fn pe(blob: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    put(&mut f, 0, b"MZ");
    put(&mut f, 0x3c, &0x40u32.to_le_bytes());
    put(&mut f, 0x40, b"PE\0\0");
    put(&mut f, 0x44, &0x8664u16.to_le_bytes());
    put(&mut f, 0x46, &1u16.to_le_bytes());
    put(&mut f, 0x54, &240u16.to_le_bytes());
    let opt = 0x58;
    put(&mut f, opt, &0x20bu16.to_le_bytes());
    put(&mut f, opt + 24, &0x1_4000_0000u64.to_le_bytes());
    let sect = opt + 240;
    put(&mut f, sect, b".data\0\0\0");
    put(&mut f, sect + 8, &(blob.len() as u32).to_le_bytes());
    put(&mut f, sect + 12, &0x1000u32.to_le_bytes());
    put(&mut f, sect + 16, &(blob.len() as u32).to_le_bytes());
    put(&mut f, sect + 20, &0x200u32.to_le_bytes());
    put(&mut f, sect + 36, &0xc000_0040u32.to_le_bytes());
    put(&mut f, 0x200, blob);
    f
}

/// Mach-O 64 little-endian: a __DATA segment over the file with a __go_buildinfo section.
fn macho(blob: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    let blob_at = 0x100usize;
    put(&mut f, 0, &[0xcf, 0xfa, 0xed, 0xfe]);
    put(&mut f, 16, &1u32.to_le_bytes());
    put(&mut f, 20, &152u32.to_le_bytes());
    let c = 32;
    put(&mut f, c, &0x19u32.to_le_bytes());
    put(&mut f, c + 4, &152u32.to_le_bytes());
    put(&mut f, c + 8, b"__DATA");
    let vm = 0x1_0000_0000u64;
    let total = (blob_at + blob.len()) as u64;
    put(&mut f, c + 24, &vm.to_le_bytes());
    put(&mut f, c + 32, &0x1000u64.to_le_bytes());
    put(&mut f, c + 40, &0u64.to_le_bytes());
    put(&mut f, c + 48, &total.to_le_bytes());
    put(&mut f, c + 56, &3u32.to_le_bytes());
    put(&mut f, c + 60, &3u32.to_le_bytes());
    put(&mut f, c + 64, &1u32.to_le_bytes());
    let s = c + 72;
    put(&mut f, s, b"__go_buildinfo\0\0__DATA");
    put(&mut f, s + 32, &(vm + blob_at as u64).to_le_bytes());
    put(&mut f, s + 40, &(blob.len() as u64).to_le_bytes());
    put(&mut f, s + 48, &(blob_at as u32).to_le_bytes());
    put(&mut f, blob_at, blob);
    f
}

fn want() -> BuildInfo {
    let mut bi = modinfo::parse(MODINFO).unwrap();
    bi.go_version = "go1.24.13".into();
    bi
}

#[test]
fn reads_each_format() {
    let blob = inline_blob("go1.24.13", MODINFO);
    for (name, file) in [
        ("elf", elf(&blob, true)),
        ("elf without the named section", elf(&blob, false)),
        ("pe", pe(&blob)),
        ("macho", macho(&blob)),
    ] {
        assert_eq!(read_bytes(&file[..]), Ok(want()), "{name}");
    }
    assert_eq!(want().setting("CGO_ENABLED"), Some("0"));
    assert_eq!(want().deps[0].sum, "h1:abc=");
}

#[test]
fn reads_the_pointer_form_of_go_before_1_18() {
    // Header pointers to two Go string headers (data pointer, length), all in the blob.
    let base = ELF_BASE + BLOB_AT as u64;
    let version = b"go1.16.15";
    let framed = [&[0x30u8; 16][..], MODINFO.as_bytes(), &[0xf9; 16]].concat();
    let mut b = MAGIC.to_vec();
    b.push(8);
    b.push(0);
    let (vhdr, mhdr, vdata) = (32u64, 48u64, 64u64);
    let mdata = vdata + version.len() as u64;
    b.extend((base + vhdr).to_le_bytes());
    b.extend((base + mhdr).to_le_bytes());
    b.extend((base + vdata).to_le_bytes());
    b.extend((version.len() as u64).to_le_bytes());
    b.extend((base + mdata).to_le_bytes());
    b.extend((framed.len() as u64).to_le_bytes());
    b.extend(version);
    b.extend(&framed);
    let bi = read_bytes(&elf(&b, true)[..]).unwrap();
    assert_eq!(bi.go_version, "go1.16.15");
    assert_eq!(bi.path, "example.com/app");
}

#[test]
fn no_modinfo_framing_means_no_module_information() {
    let mut b = MAGIC.to_vec();
    b.extend([8, 2]);
    b.resize(32, 0);
    b.extend([8]);
    b.extend(b"go1.22.1");
    b.extend([0]);
    let bi = read_bytes(&elf(&b, true)[..]).unwrap();
    assert_eq!(bi.go_version, "go1.22.1");
    assert_eq!(bi.main, None);
    assert_eq!(
        bi.to_go_json(),
        json!({"GoVersion": "go1.22.1", "Main": {}})
    );
}

#[test]
fn files_that_are_not_go_binaries() {
    assert_eq!(
        read_bytes(&b"#!/bin/sh\necho hello\n"[..]),
        Err(ReadError::NotExecutable)
    );
    assert_eq!(read_bytes(&b"short"[..]), Err(ReadError::NotExecutable));
    // A Java class file shares the fat Mach-O magic.
    let class = [&[0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x41][..], &[0; 32]].concat();
    assert_eq!(read_bytes(&class[..]), Err(ReadError::NotExecutable));
    // An ELF whose data holds no magic: not Go.
    let no_magic = elf(&[0u8; 64], true);
    assert_eq!(
        read_bytes(&no_magic[..]),
        Err(ReadError::NotGo { format: "ELF" })
    );
    // A misaligned magic does not count.
    let mut shifted = vec![0u8; 3];
    shifted.extend(inline_blob("go1.24.13", MODINFO));
    assert_eq!(
        read_bytes(&elf(&shifted, true)[..]),
        Err(ReadError::NotGo { format: "ELF" })
    );
    // An empty version string: not a Go executable, as go says.
    assert_eq!(
        read_bytes(&elf(&inline_blob("", MODINFO), true)[..]),
        Err(ReadError::NotGo { format: "ELF" })
    );
}

#[test]
fn a_broken_modinfo_line_is_named() {
    let file = elf(&inline_blob("go1.24.13", "path\tp\nmod\tonly-one\n"), true);
    let e = read_bytes(&file[..]).unwrap_err();
    assert_eq!(
        e,
        ReadError::Modinfo {
            line: 2,
            message: "expected 2 or 3 columns; got 1".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "corrupt Go build information: line 2 of its module information: expected 2 or 3 \
         columns; got 1"
    );
}

/// Every prefix of each file is read without a panic; each is an error (or, where only
/// bytes nothing reads are cut, the whole answer).
#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let blob = inline_blob("go1.24.13", MODINFO);
    for (name, file) in [
        ("elf", elf(&blob, true)),
        ("pe", pe(&blob)),
        ("macho", macho(&blob)),
    ] {
        for n in 0..file.len() {
            match read_bytes(&file[..n]) {
                Err(ReadError::NotExecutable) => assert!(n < 64, "{name} cut at {n}"),
                Err(ReadError::Malformed { format, what }) => {
                    assert!(!what.is_empty());
                    assert!(["ELF", "PE", "Mach-O"].contains(&format));
                }
                Err(e) => panic!("{name} cut at {n}: unexpected {e:?}"),
                Ok(bi) => panic!("{name} cut at {n} read as {bi:?}"),
            }
        }
    }
}

/// Each header byte set to 0x00, 0x7f, 0x80 and 0xff in turn: any answer but a panic (or a
/// huge allocation) is acceptable.
#[test]
fn corrupted_header_bytes_never_panic() {
    let blob = inline_blob("go1.24.13", MODINFO);
    for file in [elf(&blob, true), pe(&blob), macho(&blob)] {
        let upto = file.len().min(0x180);
        for i in 0..upto {
            for v in [0x00, 0x7f, 0x80, 0xff] {
                let mut f = file.clone();
                f[i] = v;
                let _ = read_bytes(&f[..]);
            }
        }
    }
}

#[test]
fn a_blob_length_past_its_segment_is_malformed() {
    let mut blob = inline_blob("go1.24.13", MODINFO);
    blob[32] = 0xff;
    blob[33] = 0x7f;
    let e = read_bytes(&elf(&blob, true)[..]).unwrap_err();
    assert!(
        matches!(&e, ReadError::Malformed { what, .. } if what.contains("go version")),
        "{e:?}"
    );
}
