//! [`SeedClient`] for kafka-python: each client is one `tests/python/seed_driver.py`
//! process, run by the interpreter in `MOCKAFKA_PYTHON` (the virtualenv's python), that
//! turns one JSON request per stdin line into kafka-python calls and answers on stdout.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::Mutex;

use super::{
    ConsumerCfg, Got, Meta, ProducerCfg, Res, ResetError, SeedClient, SeedConsumer, SeedProducer,
    Send, SendId,
};

/// One driver process; producers and consumers are handles inside it.
#[derive(Debug, Clone)]
pub(crate) struct PythonClient {
    driver: Arc<Mutex<Driver>>,
}

#[derive(Debug)]
struct Driver {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// The interpreter to use: `MOCKAFKA_PYTHON`, else the repository's `.venv`.
pub(crate) fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOCKAFKA_PYTHON") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

impl PythonClient {
    /// Starts a driver.
    pub(crate) async fn start() -> Res<PythonClient> {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/seed_driver.py");
        let mut child = Command::new(python())
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", python().display()))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(PythonClient {
            driver: Arc::new(Mutex::new(Driver {
                child,
                stdin,
                stdout,
            })),
        })
    }

    /// Sends one request and waits for its answer. `Ok(Err(kind))` is a reset failure.
    async fn call_raw(&self, req: Value) -> Res<Result<Value, ResetError>> {
        let mut d = self.driver.lock().await;
        let mut line = serde_json::to_string(&req)?;
        line.push('\n');
        d.stdin.write_all(line.as_bytes()).await?;
        d.stdin.flush().await?;
        let mut answer = String::new();
        if d.stdout.read_line(&mut answer).await? == 0 {
            let status = d.child.wait().await?;
            return Err(format!("seed_driver.py exited ({status}) on {req}").into());
        }
        let v: Value = serde_json::from_str(&answer)?;
        if let Some(ok) = v.get("ok") {
            return Ok(Ok(ok.clone()));
        }
        match v.get("kind").and_then(Value::as_str) {
            Some("no_offset") => Ok(Err(ResetError::NoOffset)),
            Some("out_of_range") => Ok(Err(ResetError::OutOfRange)),
            _ => Err(format!("kafka-python: {} (request {req})", v["err"]).into()),
        }
    }

    async fn call(&self, req: Value) -> Res<Value> {
        match self.call_raw(req.clone()).await? {
            Ok(v) => Ok(v),
            Err(e) => Err(format!("kafka-python: {e:?} (request {req})").into()),
        }
    }
}

/// A `KafkaProducer` in the driver.
#[derive(Debug)]
pub(crate) struct PythonProducer {
    client: PythonClient,
    id: u64,
}

/// A `KafkaConsumer` in the driver.
#[derive(Debug)]
pub(crate) struct PythonConsumer {
    client: PythonClient,
    id: u64,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl SeedClient for PythonClient {
    type Producer = PythonProducer;
    type Consumer = PythonConsumer;

    fn name(&self) -> &'static str {
        "python"
    }

    async fn producer(&self, bootstrap: &str, cfg: &ProducerCfg) -> Res<PythonProducer> {
        let id = self
            .call(json!({"op": "producer", "bootstrap": bootstrap, "cfg": cfg}))
            .await?;
        Ok(PythonProducer {
            client: self.clone(),
            id: id.as_u64().ok_or("bad id")?,
        })
    }

    async fn consumer(&self, bootstrap: &str, cfg: &ConsumerCfg) -> Res<PythonConsumer> {
        let id = self
            .call(json!({"op": "consumer", "bootstrap": bootstrap, "cfg": cfg}))
            .await?;
        Ok(PythonConsumer {
            client: self.clone(),
            id: id.as_u64().ok_or("bad id")?,
        })
    }
}

impl SeedProducer for PythonProducer {
    async fn send(&mut self, record: &Send) -> Res<SendId> {
        let v = self
            .client
            .call(json!({"op": "send", "id": self.id, "record": record}))
            .await?;
        Ok(v.as_u64().ok_or("bad send id")?)
    }

    async fn get(&mut self, send: SendId, timeout: Duration) -> Res<Meta> {
        let v = self
            .client
            .call(json!({"op": "get", "id": self.id, "send": send, "timeout_ms": ms(timeout)}))
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    async fn try_get(&mut self, send: SendId) -> Res<Option<Meta>> {
        let v = self
            .client
            .call(json!({"op": "try_get", "id": self.id, "send": send}))
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    async fn flush(&mut self) -> Res<()> {
        self.client
            .call(json!({"op": "flush", "id": self.id}))
            .await?;
        Ok(())
    }

    async fn close(self) -> Res<()> {
        self.client
            .call(json!({"op": "close", "id": self.id}))
            .await?;
        Ok(())
    }
}

impl PythonConsumer {
    async fn call(&self, op: &str, mut args: Value) -> Res<Value> {
        args["op"] = json!(op);
        args["id"] = json!(self.id);
        self.client.call(args).await
    }
}

impl SeedConsumer for PythonConsumer {
    async fn subscribe(&mut self, topics: &[&str]) -> Res<()> {
        self.call("subscribe", json!({"topics": topics})).await?;
        Ok(())
    }

    async fn subscribe_pattern(&mut self, pattern: &str) -> Res<()> {
        self.call("subscribe_pattern", json!({"pattern": pattern}))
            .await?;
        Ok(())
    }

    async fn assign(&mut self, partitions: &[(&str, i32)]) -> Res<()> {
        self.call("assign", json!({"partitions": partitions}))
            .await?;
        Ok(())
    }

    async fn poll(&mut self, timeout: Duration) -> Res<Result<Vec<Got>, ResetError>> {
        let req = json!({"op": "poll", "id": self.id, "timeout_ms": ms(timeout)});
        match self.client.call_raw(req).await? {
            Ok(v) => Ok(Ok(serde_json::from_value(v)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn iterate(&mut self) -> Res<Vec<Got>> {
        Ok(serde_json::from_value(
            self.call("iterate", json!({})).await?,
        )?)
    }

    async fn commit(&mut self) -> Res<()> {
        self.call("commit", json!({})).await?;
        Ok(())
    }

    async fn commit_offsets(&mut self, offsets: &[(&str, i32, i64)]) -> Res<()> {
        self.call("commit_offsets", json!({"offsets": offsets}))
            .await?;
        Ok(())
    }

    async fn committed(&mut self, topic: &str, partition: i32) -> Res<Option<i64>> {
        let v = self
            .call("committed", json!({"topic": topic, "partition": partition}))
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    async fn position(&mut self, topic: &str, partition: i32) -> Res<i64> {
        let v = self
            .call("position", json!({"topic": topic, "partition": partition}))
            .await?;
        Ok(serde_json::from_value(v)?)
    }

    async fn assignment(&mut self) -> Res<BTreeSet<(String, i32)>> {
        Ok(serde_json::from_value(
            self.call("assignment", json!({})).await?,
        )?)
    }

    async fn seek(&mut self, topic: &str, partition: i32, offset: i64) -> Res<()> {
        self.call(
            "seek",
            json!({"topic": topic, "partition": partition, "offset": offset}),
        )
        .await?;
        Ok(())
    }

    async fn close(self) -> Res<()> {
        self.call("close", json!({})).await?;
        Ok(())
    }
}
