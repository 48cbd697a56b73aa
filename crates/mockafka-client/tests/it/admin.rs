//! Group listing and description, which need a group coordinator: checked against the
//! fake broker, which plays one.

use mockafka_client::Admin;

use crate::fake::Fake;

#[tokio::test]
async fn groups_are_listed_and_described_through_the_coordinator(
) -> Result<(), Box<dyn std::error::Error>> {
    let fake = Fake::start(1).await;
    let admin = Admin::builder()
        .bootstrap_servers([fake.addr.as_str()])
        .build()
        .await?;
    let groups = admin.list_groups().await?;
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].group_id, "group1");
    assert_eq!(groups[0].protocol_type, "consumer");
    assert_eq!(groups[0].state.as_deref(), Some("Stable"));

    let d = admin.describe_groups(&["group1", "other"]).await?;
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].state, "Stable");
    assert_eq!(d[0].protocol, "range");
    assert_eq!(d[0].coordinator, 0);
    assert_eq!(d[0].members.len(), 1);
    assert_eq!(d[0].members[0].member_id, "m-1");
    assert_eq!(&d[0].members[0].assignment[..], b"\x00\x01");
    assert_eq!(d[1].group_id, "other");
    assert_eq!(d[1].state, "Dead");
    assert!(d[1].members.is_empty());
    Ok(())
}
