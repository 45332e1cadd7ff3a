//! Compare-and-set claims: how Switchboard takes "the best document" when
//! several instances want it at the same moment.

use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{Hint, ReturnDocument, UpdateModifications};

use crate::error::Error;

/// How often one claim may lose its candidate to a concurrent claim before
/// it gives up (each loss means another caller just succeeded).
const MAX_CLAIMS: usize = 256;

/// One claim: the best document by `sort` among those matching `query`,
/// updated only if its `seq_field` is unchanged and it still matches.
pub(super) struct Claim {
    pub query: Document,
    pub sort: Document,
    pub hint: Option<Document>,
    /// A field every successful claim changes (a counter or a lock id).
    pub seq_field: &'static str,
    pub update: UpdateModifications,
    pub projection: Option<Document>,
    pub return_document: ReturnDocument,
}

/// Reads the best candidate, then claims it only if nobody claimed it in
/// between, retrying with the next best otherwise; answers the claimed
/// document before or after the update, as asked. A sorted
/// findOneAndUpdate alone is not enough: not every server re-sorts after a
/// concurrent write to the chosen document (SecantusDB does not).
pub(super) async fn claim<T>(coll: &Collection<T>, c: Claim) -> Result<Option<T>, Error>
where
    T: Send + Sync + serde::de::DeserializeOwned,
{
    let raw = coll.clone_with_type::<Document>();
    for _ in 0..MAX_CLAIMS {
        let mut find = raw.find_one(c.query.clone()).sort(c.sort.clone());
        if let Some(hint) = &c.hint {
            find = find.hint(Hint::Keys(hint.clone()));
        }
        let Some(candidate) = find.await? else {
            return Ok(None);
        };
        let mut guard = c.query.clone();
        guard.insert("_id", candidate.get("_id").cloned().unwrap_or(Bson::Null));
        guard.insert(
            c.seq_field,
            candidate
                .get(c.seq_field)
                .cloned()
                .unwrap_or_else(|| Bson::Document(doc! {"$exists": false})),
        );
        let mut update = coll
            .find_one_and_update(guard, c.update.clone())
            .return_document(c.return_document.clone());
        if let Some(p) = &c.projection {
            update = update.projection(p.clone());
        }
        if let Some(claimed) = update.await? {
            return Ok(Some(claimed));
        }
    }
    Ok(None)
}
