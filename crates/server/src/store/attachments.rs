//! Attachment files and their metadata.

use uuid::Uuid;

use super::{AuditEntry, Result};
use crate::attachments::Attachment;

#[async_trait::async_trait]
pub trait AttachmentStore: Send + Sync + 'static {
    async fn insert_attachment(&self, attachment: &Attachment, audit: &AuditEntry) -> Result<()>;
    /// The file with its bytes.
    async fn find_attachment(&self, id: Uuid) -> Result<Option<Attachment>>;
    /// Metadata only (`data` left empty), for checking a form's references.
    async fn find_attachments(&self, ids: &[Uuid]) -> Result<Vec<Attachment>>;
}

#[derive(sqlx::FromRow)]
pub(super) struct AttachmentRow {
    id: Uuid,
    uploader_id: Uuid,
    request_id: Option<Uuid>,
    name: String,
    content_type: String,
    size: i64,
    sha256: Vec<u8>,
    data: Vec<u8>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            uploader_id: r.uploader_id,
            request_id: r.request_id,
            name: r.name,
            content_type: r.content_type,
            size: u64::try_from(r.size).unwrap_or(0),
            sha256: r.sha256,
            data: r.data,
            created_at: r.created_at,
        }
    }
}

macro_rules! attachments_sql {
    ($store:ty, $begin_write:literal, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::AttachmentStore for $store {
            #[tracing::instrument(skip_all)]
            async fn insert_attachment(
                &self,
                a: &$crate::attachments::Attachment,
                audit: &$crate::store::AuditEntry,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer.begin_with($begin_write).await?;
                sqlx::query(
                    "INSERT INTO attachments (id, uploader_id, request_id, name, content_type, \
                     size, sha256, data, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(a.id)
                .bind(a.uploader_id)
                .bind(a.request_id)
                .bind(&a.name)
                .bind(&a.content_type)
                .bind(i64::try_from(a.size).unwrap_or(i64::MAX))
                .bind(&a.sha256)
                .bind(&a.data)
                .bind(a.created_at)
                .execute(&mut *tx)
                .await?;
                $crate::store::audit::append_in_tx!(tx, audit);
                tx.commit().await?;
                Ok(())
            }

            #[tracing::instrument(skip_all)]
            async fn find_attachment(
                &self,
                id: uuid::Uuid,
            ) -> $crate::store::Result<Option<$crate::attachments::Attachment>> {
                let row: Option<$crate::store::attachments::AttachmentRow> = sqlx::query_as(
                    "SELECT id, uploader_id, request_id, name, content_type, size, sha256, data, \
                     created_at FROM attachments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            #[tracing::instrument(skip_all)]
            async fn find_attachments(
                &self,
                ids: &[uuid::Uuid],
            ) -> $crate::store::Result<Vec<$crate::attachments::Attachment>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                // The bytes are left out: an empty blob literal keeps the row shape.
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "SELECT id, uploader_id, request_id, name, content_type, size, sha256, \
                     sha256 AS data, created_at FROM attachments WHERE id IN (",
                );
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                list.push_unseparated(")");
                let rows: Vec<$crate::store::attachments::AttachmentRow> =
                    query.build_query_as().fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        let mut a: $crate::attachments::Attachment = r.into();
                        a.data = Vec::new();
                        a
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use attachments_sql;
