//! The log of API calls the emulator answered (admin calls are not logged).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One API call as `GET /_emulator/calls` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallRecord {
    /// 1-based, in arrival order; keeps counting after the log is cleared.
    pub seq: u64,
    /// The `Action` parameter ("" when absent).
    pub action: String,
    /// All request parameters (query and form body).
    pub params: BTreeMap<String, String>,
    /// The HTTP status answered; 0 when the connection was dropped.
    pub status: u16,
    /// The error code answered, if any.
    pub code: Option<String>,
    /// Whether an injected fault applied to this call.
    pub faulted: bool,
    pub request_id: String,
}

/// Bounded so a long-running emulator does not grow without limit.
const MAX_RECORDS: usize = 10_000;

#[derive(Default)]
pub struct CallLog {
    records: std::collections::VecDeque<CallRecord>,
    next_seq: u64,
}

impl CallLog {
    /// The sequence number for the next call.
    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    pub fn push(&mut self, record: CallRecord) {
        if self.records.len() == MAX_RECORDS {
            self.records.pop_front();
        }
        // Calls finish out of order (latency faults); keep the log in seq order.
        let at = self.records.partition_point(|r| r.seq < record.seq);
        self.records.insert(at, record);
    }

    pub fn list(&self) -> Vec<CallRecord> {
        self.records.iter().cloned().collect()
    }

    pub fn clear(&mut self) {
        self.records.clear();
    }
}
