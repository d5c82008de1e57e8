//! S3-compatible object storage: configuration, client, readiness check, and streaming uploads
//! ([`upload`]).
//!
//! Works with any S3 (AWS, MinIO, SeaweedFS, Ceph). Path-style addressing (`endpoint/bucket/key`)
//! is used because self-hosted servers rarely have per-bucket DNS names.

pub mod upload;

pub use upload::{Stored, Target, UploadError, stream_object};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use kutse_config::{Env, Secret};

/// Where objects go.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// `S3_ENDPOINT`: the server's URL (default the local SeaweedFS, `http://127.0.0.1:8333`).
    pub endpoint: String,
    /// `S3_REGION` (default `us-east-1`; SeaweedFS and MinIO accept any).
    pub region: String,
    /// `S3_ACCESS_KEY_ID` / `S3_SECRET_ACCESS_KEY`.
    pub access_key_id: String,
    pub secret_access_key: Secret,
    /// `S3_BUCKET`: the service's bucket; it must exist (`make stack` creates the local ones).
    pub bucket: String,
}

impl S3Config {
    /// Reads the `S3_*` settings; `default_bucket` is the service's own bucket name.
    pub fn from_env(env: &mut Env, default_bucket: &str) -> Self {
        let endpoint = env.string("S3_ENDPOINT", "http://127.0.0.1:8333");
        if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
            env.fail("S3_ENDPOINT", "must be an http(s) URL".to_owned());
        }
        Self {
            endpoint,
            region: env.string("S3_REGION", "us-east-1"),
            access_key_id: env.string("S3_ACCESS_KEY_ID", "kutse"),
            secret_access_key: env.secret("S3_SECRET_ACCESS_KEY", "kutse-local-secret"),
            bucket: env.string("S3_BUCKET", default_bucket),
        }
    }

    /// A client for this configuration.
    pub fn client(&self) -> Client {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(
                self.access_key_id.clone(),
                self.secret_access_key.expose().to_owned(),
                None,
                None,
                "kutse-config",
            ))
            .force_path_style(true)
            .build();
        Client::from_conf(config)
    }
}

/// The readiness check of a service that keeps objects in `bucket`, for
/// `Service::with_check("storage", …)`: [`check`], run on every probe.
pub fn readiness(
    client: Client,
    bucket: String,
) -> impl Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>
+ Send
+ Sync
+ 'static {
    move || {
        let client = client.clone();
        let bucket = bucket.clone();
        Box::pin(async move { check(&client, &bucket).await })
    }
}

/// Opens an object for reading, as a stream of its bytes.
pub async fn open_object(
    client: &Client,
    bucket: &str,
    key: &str,
) -> Result<aws_sdk_s3::primitives::ByteStream, String> {
    client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(|object| object.body)
        .map_err(|e| {
            format!(
                "reading {bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })
}

/// Deletes an object (an upload whose record could not be written, say).
pub async fn delete_object(client: &Client, bucket: &str, key: &str) -> Result<(), String> {
    client
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "deleting {bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })
}

/// Readiness: the bucket exists and our credentials may use it.
pub async fn check(client: &Client, bucket: &str) -> Result<(), String> {
    client
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "bucket {bucket}: {}",
                aws_sdk_s3::error::DisplayErrorContext(e)
            )
        })
}
