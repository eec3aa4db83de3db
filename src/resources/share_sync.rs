//! Converging an image's share list: the add/remove diff, batching into
//! ModifyImageSharePermission calls, and what the cloud holds when a batch
//! fails part-way.
//!
//! Batch `i` carries the `i`-th chunk of up to 50 additions *and* the `i`-th
//! chunk of up to 50 removals, so a change of `a` additions and `r` removals
//! takes exactly `max(ceil(a/50), ceil(r/50))` calls, and none when both are
//! empty.

use std::collections::BTreeSet;

use tokio::time::Instant;

use crate::provider::api::ShareApi;
use crate::volcengine::ecs::{ModifyImageSharePermission, ACTION_MODIFY, MAX_ACCOUNTS_PER_CALL};
use crate::volcengine::{CallContext, Error};

/// Accounts to add and to remove, each sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareDiff {
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl ShareDiff {
    /// `add = desired − current`, `remove = current − desired`.
    pub fn between(current: &BTreeSet<String>, desired: &BTreeSet<String>) -> Self {
        ShareDiff {
            add: desired.difference(current).cloned().collect(),
            remove: current.difference(desired).cloned().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// The calls this diff takes: `max(ceil(add/50), ceil(remove/50))`.
    pub fn call_count(&self) -> usize {
        self.add
            .len()
            .div_ceil(MAX_ACCOUNTS_PER_CALL)
            .max(self.remove.len().div_ceil(MAX_ACCOUNTS_PER_CALL))
    }

    /// The requests, pairing the i-th add chunk with the i-th remove chunk.
    pub fn batches(&self, image_id: &str) -> Vec<ModifyImageSharePermission> {
        let mut adds = self.add.chunks(MAX_ACCOUNTS_PER_CALL);
        let mut removes = self.remove.chunks(MAX_ACCOUNTS_PER_CALL);
        (0..self.call_count())
            .map(|_| ModifyImageSharePermission {
                image_id: image_id.to_owned(),
                add: adds.next().map(<[String]>::to_vec).unwrap_or_default(),
                remove: removes.next().map(<[String]>::to_vec).unwrap_or_default(),
            })
            .collect()
    }
}

/// A convergence that stopped before the end.
#[derive(Debug)]
pub struct SyncFailure {
    pub error: Error,
    /// What the image is shared with now: the starting set with the completed
    /// batches applied. A failed batch is taken as not applied; Terraform
    /// refreshes before the next plan, which corrects this if the service
    /// applied it after all (e.g. the connection dropped after the change).
    pub held: BTreeSet<String>,
    /// Batches that completed before the failure, and how many there were.
    pub completed: usize,
    pub total: usize,
}

/// Sends the batches that turn `current` into `desired`, stopping at the first
/// failure, at cancellation, or at the deadline (checked between batches; the
/// client checks them within a call). Returns the number of calls made.
pub async fn converge(
    api: &dyn ShareApi,
    ctx: &CallContext,
    image_id: &str,
    current: &BTreeSet<String>,
    desired: &BTreeSet<String>,
) -> Result<usize, SyncFailure> {
    let diff = ShareDiff::between(current, desired);
    let batches = diff.batches(image_id);
    let total = batches.len();
    tracing::debug!(
        image_id,
        add = diff.add.len(),
        remove = diff.remove.len(),
        batches = total,
        "converging image shares"
    );
    let mut held = current.clone();
    for (index, batch) in batches.iter().enumerate() {
        let stop = if ctx.cancel.is_cancelled() {
            Some(Error::Cancelled {
                action: ACTION_MODIFY.to_owned(),
            })
        } else if Instant::now() >= ctx.deadline {
            Some(Error::Timeout {
                action: ACTION_MODIFY.to_owned(),
                attempts: 0,
            })
        } else {
            None
        };
        if let Some(error) = stop {
            tracing::debug!(image_id, completed = index, total, %error, "stopping between batches");
            return Err(SyncFailure {
                error,
                held,
                completed: index,
                total,
            });
        }
        tracing::debug!(
            image_id,
            batch = index + 1,
            of = total,
            add = batch.add.len(),
            remove = batch.remove.len(),
            "ModifyImageSharePermission batch"
        );
        if let Err(error) = api.modify(ctx, batch).await {
            tracing::debug!(
                image_id,
                batch = index + 1,
                of = total,
                code = error.code().unwrap_or("-"),
                request_id = error.request_id().unwrap_or("-"),
                "batch failed"
            );
            return Err(SyncFailure {
                error,
                held,
                completed: index,
                total,
            });
        }
        held.extend(batch.add.iter().cloned());
        for account in &batch.remove {
            held.remove(account);
        }
    }
    Ok(total)
}

/// An in-memory [`ShareApi`] for unit tests: one image map, a call log and
/// an optional failure at a given Modify call.
#[cfg(test)]
pub(crate) mod fake {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::volcengine::ecs::ImageShares;
    use crate::volcengine::ApiError;

    #[derive(Default)]
    pub struct FakeApi {
        pub images: Mutex<BTreeMap<String, BTreeSet<String>>>,
        pub modify_calls: Mutex<Vec<ModifyImageSharePermission>>,
        pub describe_calls: Mutex<usize>,
        /// Fail the Modify call with this 0-based index (counting all calls).
        pub fail_modify_at: Mutex<Option<(usize, String)>>,
    }

    pub fn api_error(status: u16, code: &str, action: &str) -> Error {
        Error::Api(ApiError {
            status,
            code: code.into(),
            message: format!("{code} happened"),
            request_id: "fake-request-id".into(),
            action: action.into(),
        })
    }

    impl FakeApi {
        pub fn with_image(image_id: &str, accounts: impl IntoIterator<Item = String>) -> Self {
            let api = FakeApi::default();
            api.images
                .lock()
                .unwrap()
                .insert(image_id.into(), accounts.into_iter().collect());
            api
        }

        pub fn shares(&self, image_id: &str) -> Option<BTreeSet<String>> {
            self.images.lock().unwrap().get(image_id).cloned()
        }

        pub fn modify_count(&self) -> usize {
            self.modify_calls.lock().unwrap().len()
        }
    }

    #[async_trait]
    impl ShareApi for FakeApi {
        async fn describe(&self, _ctx: &CallContext, image_id: &str) -> Result<ImageShares, Error> {
            *self.describe_calls.lock().unwrap() += 1;
            let images = self.images.lock().unwrap();
            let accounts = images.get(image_id).cloned().ok_or_else(|| {
                api_error(404, "InvalidImage.NotFound", "DescribeImageSharePermission")
            })?;
            Ok(ImageShares {
                image_id: image_id.into(),
                total_count: accounts.len() as u64,
                accounts,
            })
        }

        async fn modify(
            &self,
            _ctx: &CallContext,
            request: &ModifyImageSharePermission,
        ) -> Result<(), Error> {
            assert!(
                request.add.len() <= MAX_ACCOUNTS_PER_CALL
                    && request.remove.len() <= MAX_ACCOUNTS_PER_CALL
            );
            assert!(
                !(request.add.is_empty() && request.remove.is_empty()),
                "empty Modify call"
            );
            let index = {
                let mut calls = self.modify_calls.lock().unwrap();
                calls.push(request.clone());
                calls.len() - 1
            };
            if let Some((at, code)) = self.fail_modify_at.lock().unwrap().clone() {
                if at == index {
                    return Err(api_error(500, &code, ACTION_MODIFY));
                }
            }
            let mut images = self.images.lock().unwrap();
            let shares = images
                .get_mut(&request.image_id)
                .ok_or_else(|| api_error(404, "InvalidImage.NotFound", ACTION_MODIFY))?;
            shares.extend(request.add.iter().cloned());
            for account in &request.remove {
                shares.remove(account);
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeApi;
    use super::*;
    use proptest::prelude::*;
    use std::time::Duration;

    fn accounts(range: std::ops::Range<u64>) -> BTreeSet<String> {
        range.map(|i| (2_100_000_000 + i).to_string()).collect()
    }

    fn ctx() -> CallContext {
        CallContext::with_timeout(Duration::from_secs(60))
    }

    #[test]
    fn pairs_adds_and_removes_in_the_same_call() {
        let diff = ShareDiff::between(&accounts(0..120), &accounts(100..230));
        assert_eq!((diff.add.len(), diff.remove.len()), (110, 100));
        let batches = diff.batches("image-a");
        assert_eq!(batches.len(), 3);
        assert_eq!((batches[0].add.len(), batches[0].remove.len()), (50, 50));
        assert_eq!((batches[1].add.len(), batches[1].remove.len()), (50, 50));
        assert_eq!((batches[2].add.len(), batches[2].remove.len()), (10, 0));
        assert!(ShareDiff::between(&accounts(0..5), &accounts(0..5))
            .batches("image-a")
            .is_empty());
    }

    #[tokio::test]
    async fn create_120_takes_three_calls() {
        let api = FakeApi::with_image("image-a", []);
        let calls = converge(&api, &ctx(), "image-a", &BTreeSet::new(), &accounts(0..120))
            .await
            .unwrap();
        assert_eq!(calls, 3);
        assert_eq!(api.modify_count(), 3);
        assert_eq!(api.shares("image-a").unwrap(), accounts(0..120));
    }

    #[tokio::test]
    async fn failure_at_batch_k_reports_what_the_cloud_holds() {
        let api = FakeApi::with_image("image-a", accounts(0..60));
        *api.fail_modify_at.lock().unwrap() = Some((1, "InternalError".into()));
        let desired = accounts(60..200); // add 140, remove 60 → 3 batches
        let failure = converge(&api, &ctx(), "image-a", &accounts(0..60), &desired)
            .await
            .unwrap_err();
        assert_eq!((failure.completed, failure.total), (1, 3));
        assert_eq!(failure.held, api.shares("image-a").unwrap());
        assert_eq!(failure.error.code(), Some("InternalError"));
        // Converging again from what is held sends only the remainder.
        *api.fail_modify_at.lock().unwrap() = None;
        let remainder = ShareDiff::between(&failure.held, &desired).call_count();
        assert_eq!(remainder, 2);
        converge(&api, &ctx(), "image-a", &failure.held, &desired)
            .await
            .unwrap();
        assert_eq!(api.shares("image-a").unwrap(), desired);
        assert_eq!(api.modify_count(), 2 + 2);
    }

    #[tokio::test]
    async fn cancellation_and_deadline_stop_between_batches() {
        let api = FakeApi::with_image("image-a", []);
        let cancelled = ctx();
        cancelled.cancel.cancel();
        let failure = converge(
            &api,
            &cancelled,
            "image-a",
            &BTreeSet::new(),
            &accounts(0..10),
        )
        .await
        .unwrap_err();
        assert!(matches!(failure.error, Error::Cancelled { .. }));
        assert_eq!(api.modify_count(), 0);
        let expired = CallContext::new(Instant::now(), Default::default());
        let failure = converge(
            &api,
            &expired,
            "image-a",
            &BTreeSet::new(),
            &accounts(0..10),
        )
        .await
        .unwrap_err();
        assert!(matches!(failure.error, Error::Timeout { .. }));
        assert!(failure.held.is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn converges_in_the_minimum_number_of_calls(
            current in prop::collection::btree_set(0u64..400, 0..180),
            desired in prop::collection::btree_set(0u64..400, 0..180),
            fail_at in prop::option::of(0usize..5),
        ) {
            let name = |s: &BTreeSet<u64>| s.iter().map(|i| i.to_string()).collect::<BTreeSet<_>>();
            let (current, desired) = (name(&current), name(&desired));
            let diff = ShareDiff::between(&current, &desired);
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
            let api = FakeApi::with_image("image-p", current.clone());
            *api.fail_modify_at.lock().unwrap() = fail_at.map(|k| (k, "InternalError".to_owned()));
            let result = rt.block_on(converge(&api, &ctx(), "image-p", &current, &desired));
            match result {
                Ok(calls) => {
                    prop_assert_eq!(calls, diff.call_count());
                    prop_assert_eq!(api.shares("image-p").unwrap(), desired);
                }
                Err(failure) => {
                    prop_assert_eq!(Some(failure.completed), fail_at);
                    prop_assert_eq!(failure.held, api.shares("image-p").unwrap());
                }
            }
            let expected = diff.add.len().div_ceil(50).max(diff.remove.len().div_ceil(50));
            prop_assert_eq!(diff.call_count(), expected);
        }
    }
}
