//! A tree, described entry by entry as a faithful copy (clone, export/import) must keep it:
//! type, mode, owner, nanosecond mtime, device number, xattrs, symlink target, hard-link
//! structure, content hash, size and allocated blocks (sparseness).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub fn walk(root: &Path, rel: &Path, f: &mut dyn FnMut(&Path, &std::fs::Metadata)) {
    let mut names: Vec<_> = std::fs::read_dir(root.join(rel)).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    for n in names {
        let r = rel.join(&n);
        let md = std::fs::symlink_metadata(root.join(&r)).unwrap();
        f(&r, &md);
        if md.is_dir() {
            walk(root, &r, f);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: u32,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: (i64, i64),
    pub rdev: u64,
    pub xattrs: BTreeMap<String, Vec<u8>>,
    pub link: Option<PathBuf>,
    /// The first path (in walk order) sharing this inode, for hard links.
    pub inode_group: PathBuf,
    pub content: u64,
    pub size: u64,
    pub blocks: Option<u64>,
}

pub fn xattrs(p: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut names = vec![0u8; 65536];
    let n = rustix::fs::llistxattr(p, &mut names).unwrap_or(0);
    for name in names[..n].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if name.starts_with("security.") {
            continue; // SELinux labels are the host's, not the tree's
        }
        let mut v = vec![0u8; 65536];
        let m = rustix::fs::lgetxattr(p, name.as_str(), &mut v).unwrap();
        out.insert(name, v[..m].to_vec());
    }
    out
}

/// Everything about a tree that an archive round trip must keep, by relative path ("" is
/// the root).
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut inodes: BTreeMap<u64, PathBuf> = BTreeMap::new();
    let mut one = |rel: &Path, md: &std::fs::Metadata| {
        let p = root.join(rel);
        let ft = md.file_type();
        let group = if !md.is_dir() && md.nlink() > 1 {
            inodes.entry(md.ino()).or_insert_with(|| rel.to_path_buf()).clone()
        } else {
            rel.to_path_buf()
        };
        let content = if ft.is_file() {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::fs::read(&p).unwrap().hash(&mut h);
            h.finish()
        } else {
            0
        };
        out.insert(
            rel.to_path_buf(),
            Entry {
                kind: md.mode() & libc::S_IFMT,
                mode: md.mode() & 0o7777,
                uid: md.uid(),
                gid: md.gid(),
                mtime: (md.mtime(), md.mtime_nsec()),
                rdev: md.rdev(),
                xattrs: xattrs(&p),
                link: ft.is_symlink().then(|| std::fs::read_link(&p).unwrap()),
                inode_group: group,
                content,
                size: if ft.is_file() || ft.is_symlink() { md.size() } else { 0 },
                blocks: ft.is_file().then(|| md.blocks()),
            },
        );
    };
    let md = std::fs::symlink_metadata(root).unwrap();
    one(Path::new(""), &md);
    walk(root, Path::new(""), &mut one);
    out
}

#[track_caller]
pub fn assert_same(a: &BTreeMap<PathBuf, Entry>, b: &BTreeMap<PathBuf, Entry>) {
    let ka: Vec<_> = a.keys().collect();
    let kb: Vec<_> = b.keys().collect();
    assert_eq!(ka, kb, "different entries");
    for (k, ea) in a {
        assert_eq!(ea, &b[k], "entry {}", k.display());
    }
}
