//! Local files that come from outside or that certdesk keeps for the user.
//!
//! - Reads of outside input are bounded: a size limit checked before reading and enforced while
//!   reading (a file may grow, `/dev/zero` has no size), and only kinds of file that end — a FIFO
//!   that never closes or a device would otherwise hang the reader.
//! - The data and configuration directories are private: created 0700, refused when another user
//!   owns them or when others may write in them (someone could swap the database or point a
//!   profile's endpoint elsewhere), and tightened to 0700 when only readable by others.
//! - Files certdesk creates for the user (database, its -wal/-shm, exports) are 0600.
//!
//! Knows nothing of what the bytes mean. The permission rules are Unix ones; elsewhere the
//! directory checks are limited to "is a directory".

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Which kinds of file a read accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// Regular files only (the importer: a FIFO or device is never a certificate).
    RegularFiles,
    /// Regular files and pipes (command-line inputs, so that `--ids-from <(grep …)` works; a pipe
    /// ends when its writer does, and the size limit still holds).
    RegularFilesAndPipes,
}

/// Why an outside file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The OS refused (missing, no permission, …).
    Io(std::io::Error),
    /// Not a kind of file the read accepts (a directory, a FIFO, a device, a socket).
    NotAFile {
        /// What it is, in words.
        kind: &'static str,
    },
    /// Larger than the limit.
    TooLarge {
        /// The size when the file system knows it (`None`: found while reading).
        size: Option<u64>,
        /// The limit.
        limit: u64,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotAFile { kind } => {
                write!(f, "it is {kind}, not a regular file")
            }
            ReadError::TooLarge {
                size: Some(size),
                limit,
            } => write!(f, "it is {size} bytes, more than the {limit} bytes allowed"),
            ReadError::TooLarge { size: None, limit } => {
                write!(f, "it holds more than the {limit} bytes allowed")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// The kind of a file, in words, when it is not a regular file.
fn odd_kind(file_type: std::fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if file_type.is_char_device() {
            return Some("a character device");
        }
        if file_type.is_block_device() {
            return Some("a block device");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

fn accepted(file_type: std::fs::FileType, accept: Accept) -> Result<(), ReadError> {
    let Some(kind) = odd_kind(file_type) else {
        return Ok(());
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if accept == Accept::RegularFilesAndPipes && file_type.is_fifo() {
            return Ok(());
        }
    }
    let _ = accept;
    Err(ReadError::NotAFile { kind })
}

/// Reads at most `limit` bytes of `path`, refusing other kinds of file than `accept` allows and
/// anything larger (by its size before reading, and by what reading finds). The bytes are
/// zeroized when dropped (the file may hold a key).
pub fn read_bounded(
    path: &Path,
    limit: u64,
    accept: Accept,
) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let metadata = std::fs::metadata(path).map_err(ReadError::Io)?;
    accepted(metadata.file_type(), accept)?;
    if metadata.is_file() && metadata.len() > limit {
        return Err(ReadError::TooLarge {
            size: Some(metadata.len()),
            limit,
        });
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    if accept == Accept::RegularFiles {
        // Opening a FIFO for reading waits for a writer: should the path have become one since
        // the check above, the non-blocking open returns at once and the check below refuses it.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path).map_err(ReadError::Io)?;
    accepted(file.metadata().map_err(ReadError::Io)?.file_type(), accept)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// Why a private directory cannot be used.
#[derive(Debug)]
pub struct DirError {
    /// The directory.
    pub path: PathBuf,
    /// What is wrong, and what to do.
    pub problem: String,
}

impl fmt::Display for DirError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

impl std::error::Error for DirError {}

/// Makes sure `dir` exists as a directory only its owner — the user running certdesk — can
/// enter: creates it 0700 (parents as the umask says), tightens a 0755-style one to 0700, and
/// refuses one that belongs to another user or that others may write in.
pub fn ensure_private_dir(dir: &Path) -> Result<(), DirError> {
    let error = |problem: String| DirError {
        path: dir.to_path_buf(),
        problem,
    };
    match std::fs::metadata(dir) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| error(format!("cannot create it: {e}")))?;
            }
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700);
            }
            match builder.create(dir) {
                Ok(()) => {}
                // Another certdesk made it in between: check that one below like any other.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(error(format!("cannot create it: {e}"))),
            }
        }
        Err(e) => return Err(error(format!("cannot use it: {e}"))),
    }
    check_private_dir(dir)
}

/// The checks of [`ensure_private_dir`] on a directory that exists.
pub fn check_private_dir(dir: &Path) -> Result<(), DirError> {
    let error = |problem: String| DirError {
        path: dir.to_path_buf(),
        problem,
    };
    let metadata = std::fs::metadata(dir).map_err(|e| error(format!("cannot use it: {e}")))?;
    if !metadata.is_dir() {
        return Err(error("it is not a directory".into()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(error(format!(
                "it belongs to user id {}, not to you (user id {me}); certdesk keeps its data only in a directory of your own",
                metadata.uid()
            )));
        }
        let mode = metadata.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(error(format!(
                "other users may write in it (mode {mode:04o}); certdesk refuses it — make it private with `chmod 700 {}`",
                dir.display()
            )));
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| error(format!("cannot make it private (chmod 700): {e}")))?;
        }
    }
    Ok(())
}

/// Refuses a file (e.g. `profiles.toml`) that another user owns or others may write; a missing
/// file is fine.
pub fn check_private_file(path: &Path) -> Result<(), DirError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let Ok(metadata) = std::fs::metadata(path) else {
            return Ok(());
        };
        let error = |problem: String| DirError {
            path: path.to_path_buf(),
            problem,
        };
        let me = rustix::process::geteuid().as_raw();
        if metadata.uid() != me {
            return Err(error(format!(
                "it belongs to user id {}, not to you (user id {me})",
                metadata.uid()
            )));
        }
        let mode = metadata.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(error(format!(
                "other users may write it (mode {mode:04o}); make it private with `chmod 600 {}`",
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Creates `path` empty with mode 0600 when it does not exist, or sets an existing one's mode to
/// 0600. SQLite then creates the database's -wal and -shm files with the same mode.
pub fn make_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    restrict(&file)
}

/// Sets an open file's mode to 0600 (a file that existed before keeps its old mode otherwise).
fn restrict(file: &std::fs::File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Sets the mode of `path` to 0600 when it exists (the database's -wal and -shm left by an older
/// certdesk).
pub fn restrict_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::OpenOptions::new().read(true).open(path) {
        Ok(file) => restrict(&file),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to `path` (an export the user chose), readable by the user only.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    restrict(&file)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    }

    #[test]
    fn bounded_reads_refuse_large_files_and_odd_kinds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let small = dir.path().join("small");
        std::fs::write(&small, b"hello").expect("write");
        assert_eq!(
            read_bounded(&small, 5, Accept::RegularFiles)
                .expect("read")
                .as_slice(),
            b"hello"
        );
        assert!(matches!(
            read_bounded(&small, 4, Accept::RegularFiles),
            Err(ReadError::TooLarge {
                size: Some(5),
                limit: 4
            })
        ));
        assert!(matches!(
            read_bounded(dir.path(), 4, Accept::RegularFiles),
            Err(ReadError::NotAFile {
                kind: "a directory"
            })
        ));
        #[cfg(unix)]
        {
            let started = std::time::Instant::now();
            let err = read_bounded(Path::new("/dev/zero"), 1024, Accept::RegularFiles)
                .expect_err("/dev/zero");
            assert!(
                matches!(
                    err,
                    ReadError::NotAFile {
                        kind: "a character device"
                    }
                ),
                "{err:?}"
            );
            let err = read_bounded(Path::new("/dev/zero"), 1024, Accept::RegularFilesAndPipes)
                .expect_err("/dev/zero");
            assert!(matches!(err, ReadError::NotAFile { .. }), "{err:?}");
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
        }
    }

    #[cfg(unix)]
    #[test]
    fn private_dirs_are_created_0700_and_loose_ones_refused_or_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("a/b/certdesk");
        ensure_private_dir(&data).expect("create");
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        ensure_private_dir(&data).expect("tighten");
        assert_eq!(mode(&data), 0o700);
        for loose in [0o777, 0o770, 0o702] {
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(loose)).expect("chmod");
            let err = ensure_private_dir(&data).expect_err("loose dir");
            assert!(err.to_string().contains("other users may write"), "{err}");
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let file = data.join("x.csv");
        write_private_file(&file, b"a,b\n").expect("write");
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        make_private_file(&file).expect("restrict");
        assert_eq!(mode(&file), 0o600);
        assert_eq!(std::fs::read(&file).expect("read"), b"a,b\n", "kept");
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_of_another_user_is_refused() {
        // `/` belongs to root: for anyone else it is another user's directory. Root (CI runs as
        // root) gives a directory of its own away to `nobody` instead.
        let root = tempfile::tempdir().expect("tempdir");
        let foreign = if rustix::process::geteuid().is_root() {
            let dir = root.path().join("foreign");
            std::fs::create_dir(&dir).expect("mkdir");
            rustix::fs::chown(
                &dir,
                Some(rustix::fs::Uid::from_raw(65534)),
                Some(rustix::fs::Gid::from_raw(65534)),
            )
            .expect("chown as root");
            dir
        } else {
            PathBuf::from("/")
        };
        let err = check_private_dir(&foreign).expect_err("foreign");
        assert!(err.to_string().contains("not to you"), "{err}");
        let err = ensure_private_dir(&foreign).expect_err("foreign");
        assert!(err.to_string().contains("belongs to user id"), "{err}");
    }
}
