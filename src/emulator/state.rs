//! Images and their shares, and their persistence to a JSON state file.
//!
//! Changes are serialised by one async lock and written to the state file
//! (temp file + rename) *before* they become visible, so the file never lags
//! behind what a client was told succeeded, and a failed write changes nothing.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The status every image starts in and the only one that can be shared.
pub const AVAILABLE: &str = "available";

/// One custom image as the emulator keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub status: String,
    pub accounts: BTreeSet<String>,
}

/// An image as the admin API and the state file show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageView {
    pub image_id: String,
    pub status: String,
    pub accounts: Vec<String>,
}

/// All images, keyed by image ID.
pub type Images = BTreeMap<String, Image>;

#[derive(Serialize, Deserialize)]
struct StateFile {
    images: Vec<ImageView>,
}

/// The emulator's data: images and shares, optionally persisted.
pub struct Store {
    images: Mutex<Images>,
    /// Serialises changes so that file writes happen in the order of changes.
    writer: tokio::sync::Mutex<()>,
    state_file: Option<PathBuf>,
}

impl Store {
    /// Loads `state_file` when it exists, then adds `initial_images` that are
    /// missing (status available), and writes the result back.
    pub async fn open(state_file: Option<PathBuf>, initial_images: &[String]) -> io::Result<Store> {
        let mut images = match &state_file {
            Some(path) => load(path).await?,
            None => Images::new(),
        };
        for image_id in initial_images {
            images.entry(image_id.clone()).or_insert_with(|| Image {
                status: AVAILABLE.to_owned(),
                accounts: BTreeSet::new(),
            });
        }
        if let Some(path) = &state_file {
            save(path, &images).await?;
        }
        Ok(Store {
            images: Mutex::new(images),
            writer: tokio::sync::Mutex::new(()),
            state_file,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Images> {
        // A panic while holding this lock cannot leave the map half-changed:
        // changes are applied by swapping in a finished copy.
        self.images
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the images under the lock.
    pub fn read<R>(&self, f: impl FnOnce(&Images) -> R) -> R {
        f(&self.lock())
    }

    /// Applies `change` to a copy of the images; when it succeeds (and made a
    /// change), persists the copy and makes it current. `change` returns
    /// `Ok((value, changed))`.
    pub async fn update<R, E>(
        &self,
        change: impl FnOnce(&mut Images) -> Result<(R, bool), E>,
    ) -> Result<Result<R, E>, io::Error> {
        let _writer = self.writer.lock().await;
        let mut next = self.lock().clone();
        let (value, changed) = match change(&mut next) {
            Ok(outcome) => outcome,
            Err(error) => return Ok(Err(error)),
        };
        if changed {
            if let Some(path) = &self.state_file {
                save(path, &next).await?;
            }
            *self.lock() = next;
        }
        Ok(Ok(value))
    }

    pub fn views(&self) -> Vec<ImageView> {
        self.read(views)
    }
}

pub fn view(image_id: &str, image: &Image) -> ImageView {
    ImageView {
        image_id: image_id.to_owned(),
        status: image.status.clone(),
        accounts: image.accounts.iter().cloned().collect(),
    }
}

pub fn views(images: &Images) -> Vec<ImageView> {
    images.iter().map(|(id, image)| view(id, image)).collect()
}

async fn load(path: &Path) -> io::Result<Images> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Images::new()),
        Err(error) => return Err(error),
    };
    let file: StateFile = serde_json::from_str(&text).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("state file {}: {error}", path.display()),
        )
    })?;
    Ok(file
        .images
        .into_iter()
        .map(|view| {
            (
                view.image_id,
                Image {
                    status: view.status,
                    accounts: view.accounts.into_iter().collect(),
                },
            )
        })
        .collect())
}

/// Writes the state atomically: a temp file next to the target, then rename.
async fn save(path: &Path, images: &Images) -> io::Result<()> {
    let body = serde_json::to_vec_pretty(&StateFile {
        images: views(images),
    })
    .map_err(io::Error::other)?;
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "state path has no file name")
    })?;
    let mut temp_name = file_name.to_owned();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    let temp = path.with_file_name(temp_name);
    let result = async {
        let mut file = tokio::fs::File::create(&temp).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, &body).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temp, path).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn persists_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(path.clone()), &["image-a".into()])
            .await
            .unwrap();
        store
            .update(|images| {
                images
                    .get_mut("image-a")
                    .unwrap()
                    .accounts
                    .insert("2100".into());
                Ok::<_, ()>(((), true))
            })
            .await
            .unwrap()
            .unwrap();
        let reloaded = Store::open(Some(path), &[]).await.unwrap();
        assert_eq!(reloaded.views(), store.views());
        assert_eq!(reloaded.views()[0].accounts, vec!["2100".to_owned()]);
    }

    #[tokio::test]
    async fn a_failed_change_changes_nothing() {
        let store = Store::open(None, &["image-a".into()]).await.unwrap();
        let outcome = store
            .update(|images| {
                images.clear();
                Err::<((), bool), _>("refused")
            })
            .await
            .unwrap();
        assert_eq!(outcome, Err("refused"));
        assert_eq!(store.views().len(), 1);
    }
}
