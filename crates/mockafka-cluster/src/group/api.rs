//! The groups part of the [`Cluster`] handle: inspection of groups and committed offsets,
//! moving a group's coordinator, and awaitable helpers that wait for a group state with a
//! deadline (woken by every change, never by polling).

use std::time::Duration;

use kafka_protocol::messages::BrokerId;

use super::{CommittedOffsetView, GroupState, GroupView};
use crate::{Cluster, ClusterError};

impl Cluster {
    /// The ids of every group the cluster knows (with members, or committed offsets).
    pub fn group_ids(&self) -> Vec<String> {
        self.shared().groups.read(|c| c.group_ids())
    }

    /// A group's state, protocol, generation, members and their assignments; `None` if the
    /// group does not exist.
    pub fn group(&self, group_id: &str) -> Option<GroupView> {
        self.shared().groups.read(|c| c.view(group_id))
    }

    /// The offset `group_id` committed for a partition, if any.
    pub fn committed_offset(
        &self,
        group_id: &str,
        topic: &str,
        partition: i32,
    ) -> Option<CommittedOffsetView> {
        self.shared()
            .groups
            .read(|c| c.committed(group_id, topic, partition))
    }

    /// Every offset `group_id` committed: (topic, partition, offset), sorted.
    pub fn committed_offsets(&self, group_id: &str) -> Vec<(String, i32, CommittedOffsetView)> {
        self.shared().groups.read(|c| c.committed_offsets(group_id))
    }

    /// The broker that coordinates `group_id` (FindCoordinator's answer).
    pub fn group_coordinator(&self, group_id: &str) -> BrokerId {
        BrokerId(self.shared().groups.read(|c| c.coordinator_for(group_id)))
    }

    /// Moves the coordinator of `group_id` to `broker`, with every group that shares its
    /// `__consumer_offsets` partition, as a partition leader change does in Kafka: requests
    /// to the old coordinator get NOT_COORDINATOR, parked JoinGroup/SyncGroup requests are
    /// answered NOT_COORDINATOR, a rebalance in progress is lost, and the group comes back
    /// at its last completed generation. Committed offsets are kept.
    ///
    /// # Errors
    /// [`ClusterError::UnknownBroker`], or [`ClusterError::BrokerState`] if `broker` is
    /// stopped.
    pub fn move_group_coordinator(
        &self,
        group_id: &str,
        broker: BrokerId,
    ) -> Result<(), ClusterError> {
        let live = self.shared().live_ids();
        if !live.contains(&broker.0) {
            if broker.0 >= 0
                && usize::try_from(broker.0).is_ok_and(|b| b < self.shared().broker_count())
            {
                return Err(ClusterError::BrokerState {
                    broker: broker.0,
                    running: false,
                });
            }
            return Err(ClusterError::UnknownBroker { broker: broker.0 });
        }
        self.shared()
            .groups
            .update(|c, now| c.move_coordinator(now, group_id, broker.0));
        Ok(())
    }

    /// Waits until `pred` holds for the group (checked now and after every change), and
    /// returns the group as it then was.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`] if it does not hold within `timeout` (tokio time).
    pub async fn wait_for_group(
        &self,
        group_id: &str,
        timeout: Duration,
        pred: impl Fn(&GroupView) -> bool,
    ) -> Result<GroupView, ClusterError> {
        let groups = &self.shared().groups;
        let mut changes = groups.subscribe();
        let wait = async {
            loop {
                changes.borrow_and_update();
                if let Some(v) = groups.read(|c| c.view(group_id)).filter(|v| pred(v)) {
                    return v;
                }
                if changes.changed().await.is_err() {
                    // The cluster is gone: nothing will change any more.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClusterError::Timeout {
                after: timeout,
                waiting_for: format!("group {group_id}"),
            })
    }

    /// Waits until the group is Stable with exactly `members` members, each with its
    /// assignment.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), mockafka_cluster::ClusterError> {
    /// use std::time::Duration;
    /// use mockafka_cluster::{Cluster, ClusterError};
    ///
    /// let cluster = Cluster::builder().topic("first", 3).start().await?;
    /// // ... start consumers in group "group1" against cluster.bootstrap_servers() ...
    /// assert!(cluster.group("group1").is_none());
    /// let waited = cluster.wait_group_stable("group1", 2, Duration::from_millis(20)).await;
    /// assert!(matches!(waited, Err(ClusterError::Timeout { .. })));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// [`ClusterError::Timeout`].
    pub async fn wait_group_stable(
        &self,
        group_id: &str,
        members: usize,
        timeout: Duration,
    ) -> Result<GroupView, ClusterError> {
        self.wait_for_group(group_id, timeout, |g| {
            g.state == GroupState::Stable && g.members.len() == members
        })
        .await
    }

    /// Waits until the group is Stable and `member_id` owns every (topic, partition) given.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`].
    pub async fn wait_member_owns(
        &self,
        group_id: &str,
        member_id: &str,
        partitions: &[(&str, i32)],
        timeout: Duration,
    ) -> Result<GroupView, ClusterError> {
        self.wait_for_group(group_id, timeout, |g| {
            g.state == GroupState::Stable
                && partitions.iter().all(|(t, p)| g.owns(member_id, t, *p))
        })
        .await
    }

    /// Waits until the group has committed at least `offset` for the partition.
    ///
    /// # Errors
    /// [`ClusterError::Timeout`].
    pub async fn wait_committed(
        &self,
        group_id: &str,
        topic: &str,
        partition: i32,
        offset: i64,
        timeout: Duration,
    ) -> Result<CommittedOffsetView, ClusterError> {
        let groups = &self.shared().groups;
        let mut changes = groups.subscribe();
        let wait = async {
            loop {
                changes.borrow_and_update();
                if let Some(o) = groups
                    .read(|c| c.committed(group_id, topic, partition))
                    .filter(|o| o.offset >= offset)
                {
                    return o;
                }
                if changes.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| ClusterError::Timeout {
                after: timeout,
                waiting_for: format!("offset {offset} of {topic}-{partition} in group {group_id}"),
            })
    }

    /// Deletes an Empty group and its committed offsets, as DeleteGroups does.
    ///
    /// # Errors
    /// [`ClusterError::Kafka`] with GROUP_ID_NOT_FOUND or NON_EMPTY_GROUP.
    pub fn delete_group(&self, group_id: &str) -> Result<(), ClusterError> {
        let id = group_id.to_string();
        let e = self
            .shared()
            .groups
            .update(|c, _| c.delete_groups(std::slice::from_ref(&id)));
        match e.into_iter().next().flatten() {
            None => Ok(()),
            Some(code) => Err(ClusterError::Group { code, group_id: id }),
        }
    }
}
