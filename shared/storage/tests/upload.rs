//! Streaming uploads against the local S3 (SeaweedFS): multipart for large bodies, the SHA-256
//! of what was stored, and nothing left behind when a body is refused.

use std::collections::HashMap;

use kutse_config::Env;
use kutse_storage::{S3Config, Target, UploadError, stream_object};
use sha2::{Digest, Sha256};

fn config() -> S3Config {
    S3Config::from_env(&mut Env::from_map(HashMap::new()), "kutse-documents")
}

/// `n` chunks of 1 MiB, each filled with its own byte.
fn chunks(n: u8) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Unpin {
    futures::stream::iter((0..n).map(|i| Ok(vec![i; 1024 * 1024])))
}

#[tokio::test]
async fn a_large_body_is_stored_in_parts_with_the_sha256_of_its_bytes() {
    let config = config();
    let client = config.client();
    let key = format!("test/{}", uuid::Uuid::now_v7());
    let target = Target {
        client: &client,
        bucket: &config.bucket,
        key: &key,
        content_type: "application/pdf",
    };
    // 20 MiB: three parts of at most 8 MiB.
    let stored = stream_object(target, chunks(20), 64 * 1024 * 1024)
        .await
        .expect("stored");
    let mut expected = Sha256::new();
    for i in 0..20u8 {
        expected.update(vec![i; 1024 * 1024]);
    }
    assert_eq!(stored.sha256, hex::encode(expected.finalize()));
    assert_eq!(stored.size, 20 * 1024 * 1024);
    let object = client
        .get_object()
        .bucket(&config.bucket)
        .key(&key)
        .send()
        .await
        .expect("object");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), stored.sha256);
    let _ = client
        .delete_object()
        .bucket(&config.bucket)
        .key(&key)
        .send()
        .await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_and_leaves_no_object_or_open_upload() {
    let config = config();
    let client = config.client();
    let key = format!("test/{}", uuid::Uuid::now_v7());
    let target = Target {
        client: &client,
        bucket: &config.bucket,
        key: &key,
        content_type: "application/pdf",
    };
    let refused = stream_object(target, chunks(12), 10 * 1024 * 1024).await;
    assert!(
        matches!(refused, Err(UploadError::TooLarge(_))),
        "{refused:?}"
    );
    let head = client
        .head_object()
        .bucket(&config.bucket)
        .key(&key)
        .send()
        .await;
    assert!(head.is_err(), "no object");
    let open = client
        .list_multipart_uploads()
        .bucket(&config.bucket)
        .prefix(&key)
        .send()
        .await
        .expect("list");
    assert!(
        open.uploads().is_empty(),
        "the multipart upload was aborted"
    );
}
