//! The embedded data folder holds pupils' records and the development signing
//! key, so only the account running the platform may read it: the folder is
//! created 0700 and the files in it 0600, and the platform refuses to start on
//! a folder other accounts can read or enter, saying how to fix it. (SQLite
//! creates a database's `-wal` and `-shm` files with the database file's own
//! permissions, so creating the database file 0600 covers them.)

use std::path::Path;

/// Makes `folder` (and its parents) if missing, private to this account; an
/// existing folder must already be private.
pub fn private_folder(folder: &Path) -> Result<(), String> {
    if !folder.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(folder).map_err(|e| format!("cannot create the data folder {}: {e}", folder.display()))?;
    }
    check_private_folder(folder)
}

/// Refuses a folder that accounts other than its owner can read, write or enter.
#[cfg(unix)]
pub fn check_private_folder(folder: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(folder)
        .map_err(|e| format!("cannot read the data folder {}: {e}", folder.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "the data folder {} can be opened by other accounts on this machine (mode {:o}) and it holds \
             pupils' records: make it private with `chmod 700 {}` and start again",
            folder.display(),
            mode & 0o777,
            folder.display()
        ));
    }
    Ok(())
}

/// On systems without Unix permissions the folder's access list is the operator's.
#[cfg(not(unix))]
pub fn check_private_folder(_folder: &Path) -> Result<(), String> {
    Ok(())
}

/// Creates `file` empty and private to this account if it is missing, and
/// narrows an existing one to its owner.
pub fn private_file(file: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(file).map_err(|e| format!("cannot create {}: {e}", file.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("cannot make {} private: {e}", file.display()))?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_folder_and_its_database_are_readable_by_their_owner_only() {
        let parent = tempfile::tempdir().unwrap();
        let folder = parent.path().join("data");
        private_folder(&folder).unwrap();
        assert_eq!(mode(&folder), 0o700);
        let database = folder.join("pupils.db");
        private_file(&database).unwrap();
        assert_eq!(mode(&database), 0o600);
    }

    #[test]
    fn a_data_folder_others_can_read_is_refused_with_the_fix() {
        let parent = tempfile::tempdir().unwrap();
        let folder = parent.path().join("data");
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        let refused = private_folder(&folder).unwrap_err();
        assert!(refused.contains("mode 755") && refused.contains("chmod 700"), "{refused}");
    }

    #[test]
    fn a_database_file_others_could_read_is_narrowed_to_its_owner() {
        let folder = tempfile::tempdir().unwrap();
        let database = folder.path().join("pupils.db");
        std::fs::write(&database, b"").unwrap();
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&database).unwrap();
        assert_eq!(mode(&database), 0o600);
    }
}
