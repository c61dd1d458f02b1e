//! The phone's storage: the only module that knows IndexedDB (through `rexie`).
//!
//! Each record document is stored whole, with its sync state and what the server last
//! acknowledged, in one object: a write either lands completely or not at all.

use std::rc::Rc;

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::JsValue;

const DATABASE: &str = "gatehouse";
const RECORDS: &str = "records";
const META: &str = "meta";

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("indexeddb: {0}")]
    IndexedDb(String),
    #[error("stored value is malformed: {0}")]
    Malformed(String),
}

impl From<rexie::Error> for StorageError {
    fn from(error: rexie::Error) -> Self {
        StorageError::IndexedDb(error.to_string())
    }
}

impl From<serde_wasm_bindgen::Error> for StorageError {
    fn from(error: serde_wasm_bindgen::Error) -> Self {
        StorageError::Malformed(error.to_string())
    }
}

/// One record as stored on the phone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The document ID in text form; the key.
    pub id: String,
    /// `Automerge::save()` of the document.
    #[serde(with = "serde_bytes")]
    pub doc: Vec<u8>,
    /// The persisted Automerge sync state with the server.
    #[serde(with = "serde_bytes")]
    pub sync_state: Vec<u8>,
    /// The heads the server acknowledged as stored.
    pub acked_heads: Vec<serde_bytes::ByteBuf>,
    /// Server time of that acknowledgement.
    pub received_at: Option<i64>,
    /// The user who wrote or opened the record on this phone (older entries: none).
    #[serde(default)]
    pub owner: Option<String>,
    /// Versions the server refused, set aside when the record was corrected.
    #[serde(default)]
    pub set_aside: Vec<SetAside>,
    /// The users of this phone whose follow set names the record (an estate's registry):
    /// it is shown and synced for each of them.
    #[serde(default)]
    pub followers: Vec<String>,
}

/// A version of a record the server refused, kept on the phone for inspection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAside {
    /// `Automerge::save()` of the refused document.
    #[serde(with = "serde_bytes")]
    pub doc: Vec<u8>,
    /// The server's reasons.
    pub problems: Vec<gatehouse_shared::Problem>,
    /// Device time it was set aside.
    pub set_aside_at: i64,
}

#[derive(Serialize, Deserialize)]
struct MetaEntry<T> {
    key: String,
    value: T,
}

/// The open database.
#[derive(Clone)]
pub struct Storage {
    db: Rc<Rexie>,
}

impl Storage {
    pub async fn open() -> Result<Self, StorageError> {
        let db = Rexie::builder(DATABASE)
            .version(1)
            .add_object_store(ObjectStore::new(RECORDS).key_path("id"))
            .add_object_store(ObjectStore::new(META).key_path("key"))
            .build()
            .await?;
        Ok(Self { db: Rc::new(db) })
    }

    /// Writes records; resolves only once the transaction has committed.
    pub async fn put_records(&self, records: &[StoredRecord]) -> Result<(), StorageError> {
        let tx = self
            .db
            .transaction(&[RECORDS], TransactionMode::ReadWrite)?;
        let store = tx.store(RECORDS)?;
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        for record in records {
            let value = record.serialize(&serializer)?;
            store.put(&value, None).await?;
        }
        tx.done().await?;
        Ok(())
    }

    /// Deletes records; resolves once the transaction has committed.
    pub async fn delete_records(&self, ids: &[String]) -> Result<(), StorageError> {
        let tx = self
            .db
            .transaction(&[RECORDS], TransactionMode::ReadWrite)?;
        let store = tx.store(RECORDS)?;
        for id in ids {
            store.delete(JsValue::from_str(id)).await?;
        }
        tx.done().await?;
        Ok(())
    }

    pub async fn all_records(&self) -> Result<Vec<StoredRecord>, StorageError> {
        let tx = self.db.transaction(&[RECORDS], TransactionMode::ReadOnly)?;
        let values = tx.store(RECORDS)?.get_all(None, None).await?;
        values
            .into_iter()
            .map(|v| Ok(serde_wasm_bindgen::from_value(v)?))
            .collect()
    }

    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
        let entry = MetaEntry {
            key: key.to_owned(),
            value,
        }
        .serialize(&serializer)?;
        tx.store(META)?.put(&entry, None).await?;
        tx.done().await?;
        Ok(())
    }

    pub async fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let value = tx.store(META)?.get(JsValue::from_str(key)).await?;
        match value {
            Some(value) if !value.is_undefined() => {
                let entry: MetaEntry<T> = serde_wasm_bindgen::from_value(value)?;
                Ok(Some(entry.value))
            }
            _ => Ok(None),
        }
    }

    /// Stores a browser object as is (a `CryptoKey` stays non-extractable this way).
    pub async fn put_meta_js(&self, key: &str, value: &JsValue) -> Result<(), StorageError> {
        let entry = js_sys::Object::new();
        let set = |name: &str, v: &JsValue| {
            js_sys::Reflect::set(&entry, &JsValue::from_str(name), v)
                .map_err(|e| StorageError::Malformed(format!("{e:?}")))
        };
        set("key", &JsValue::from_str(key))?;
        set("value", value)?;
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?.put(&entry, None).await?;
        tx.done().await?;
        Ok(())
    }

    /// A browser object stored with `put_meta_js`.
    pub async fn meta_js(&self, key: &str) -> Result<Option<JsValue>, StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadOnly)?;
        let entry = tx.store(META)?.get(JsValue::from_str(key)).await?;
        match entry {
            Some(entry) if entry.is_object() => {
                let value = js_sys::Reflect::get(&entry, &JsValue::from_str("value"))
                    .map_err(|e| StorageError::Malformed(format!("{e:?}")))?;
                Ok((!value.is_undefined()).then_some(value))
            }
            _ => Ok(None),
        }
    }

    pub async fn delete_meta(&self, key: &str) -> Result<(), StorageError> {
        let tx = self.db.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?.delete(JsValue::from_str(key)).await?;
        tx.done().await?;
        Ok(())
    }
}
