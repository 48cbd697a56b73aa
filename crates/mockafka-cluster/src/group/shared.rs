//! The coordinator as the cluster shares it: one lock, a change counter that the
//! awaitable inspection helpers watch, and the timer task that runs the deadlines.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use kafka_protocol::ResponseError;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::coordinator::GroupCoordinator;
use super::GroupConfig;

/// Whether an API accepts the empty group id: Kafka allows it for OffsetCommit,
/// OffsetFetch, DescribeGroups and DeleteGroups (for old clients and admin tools).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EmptyGroupId {
    Allowed,
    Invalid,
}

/// Every group and committed offset of a cluster.
#[derive(Debug)]
pub(crate) struct Groups {
    /// Guards every group and committed offset. A plain `std` mutex, never held across
    /// `.await`: parked JoinGroup/SyncGroup requests wait on a `oneshot` outside it.
    state: Mutex<GroupCoordinator>,
    /// Bumped after every change; `Cluster::wait_for_group` and friends wait on it.
    changed: watch::Sender<u64>,
    /// Wakes the timer task when a request may have set an earlier deadline, or on stop.
    timer: Notify,
    /// Set when the cluster stops: the timer task ends.
    stopped: AtomicBool,
}

impl Groups {
    pub(crate) fn new(config: GroupConfig, brokers: &[i32]) -> Self {
        Self {
            state: Mutex::new(GroupCoordinator::new(config, brokers)),
            changed: watch::Sender::new(0),
            timer: Notify::new(),
            stopped: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GroupCoordinator> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a change at the cluster's `now` (tokio's clock, so tests can pause it), then
    /// wakes the watchers and the timer.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut GroupCoordinator, Instant) -> R) -> R {
        let r = {
            let mut c = self.lock();
            f(&mut c, Instant::now())
        };
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
        self.timer.notify_one();
        r
    }

    /// Reads the state.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&GroupCoordinator) -> R) -> R {
        f(&self.lock())
    }

    /// Kafka's `validateGroupStatus`: INVALID_GROUP_ID for an empty group id where the API
    /// needs one, then NOT_COORDINATOR unless `broker` coordinates `group_id`.
    pub(crate) fn check(
        &self,
        group_id: &str,
        broker: i32,
        empty: EmptyGroupId,
    ) -> Option<ResponseError> {
        if group_id.is_empty() && empty == EmptyGroupId::Invalid {
            return Some(ResponseError::InvalidGroupId);
        }
        (self.read(|c| c.coordinator_for(group_id)) != broker)
            .then_some(ResponseError::NotCoordinator)
    }

    /// A receiver that sees every change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Starts the cluster's one timer task: it sleeps until the earliest deadline of any
    /// group (or until a request may have set an earlier one) and runs what is due. It
    /// holds only this `Arc` and ends on [`Groups::stop`].
    pub(crate) fn spawn_timer(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let groups = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                if groups.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let notified = groups.timer.notified();
                let next = {
                    let mut c = groups.lock();
                    c.expire(Instant::now())
                };
                groups.changed.send_modify(|v| *v = v.wrapping_add(1));
                match next {
                    Some(deadline) => {
                        tokio::select! {
                            () = tokio::time::sleep_until(deadline) => {}
                            () = notified => {}
                        }
                    }
                    None => notified.await,
                }
            }
        })
    }

    /// Stops the timer task.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.timer.notify_one();
    }
}
