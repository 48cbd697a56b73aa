//! The `mockafka` binary: a local Kafka cluster on loopback (`cargo run --release`).
//!
//! See `mockafka --help` for flags and the stdin control commands.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use mockafka::cluster::{
    BrokerId, Cluster, ClusterBuilder, Compression, RecordView, TimestampType, TopicSpec,
};

const HELP: &str = "\
mockafka: an in-memory Kafka cluster speaking the real wire protocol

USAGE:
    mockafka [OPTIONS]

OPTIONS:
    --brokers N               number of brokers, ids 0..N-1 (default 3)
    --host HOST               listen and advertised host (default 127.0.0.1)
    --base-port PORT          broker i listens on PORT+i; 0 = ephemeral ports (default 9092)
    --partitions N            partitions of auto-created topics (default 1)
    --topic NAME[:PARTITIONS] create a topic at start (repeatable; default partitions as above)
    --no-auto-create          do not create unknown topics on Metadata requests
    --log-level LEVEL         tracing filter for stderr logs, e.g. debug or mockafka_cluster=trace
                              (default warn)
    -h, --help                print this help

On start it prints `bootstrap.servers=HOST:PORT,...` and then `mockafka ready` on stdout.
It stops on Ctrl-C or SIGTERM.

STDIN COMMANDS (one per line; each answered with a line `ok ...` or `error: ...`):
    stop-broker ID                       stop a broker; its partitions fail over
    restart-broker ID                    restart a stopped broker on its old port
    move-leader TOPIC PARTITION BROKER   make BROKER the partition's leader
    create-topic NAME PARTITIONS         create a topic
    delete-topic NAME                    delete a topic
    add-partitions NAME TOTAL            grow a topic to TOTAL partitions
    delete-records TOPIC PARTITION OFFSET  move the log start offset (-1: high watermark)
    partition TOPIC PARTITION            answers `ok leader=ID epoch=E log_start=S high_watermark=H`
    records TOPIC PARTITION              answers `ok JSON`: a list of records, each
                                         {offset, timestamp, timestamp_type, key, value,
                                         headers: [[key, value]], codec}; bytes as hex or null
    group GROUP                          answers `ok state=S generation=G coordinator=ID members=N`
    committed GROUP TOPIC PARTITION      answers `ok offset=O` (-1 when nothing is committed)
    move-coordinator GROUP BROKER        make BROKER the group's coordinator
";

struct Args {
    builder: ClusterBuilder,
    log_level: String,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut builder = Cluster::builder().base_port(9092);
    let mut log_level = "warn".to_owned();
    let mut default_partitions = 1;
    let mut topics: Vec<(String, Option<i32>)> = Vec::new();
    fn value(flag: &str, v: Option<String>) -> Result<String, String> {
        v.ok_or_else(|| format!("{flag} needs a value"))
    }
    fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, String> {
        let v = value(flag, v)?;
        v.parse()
            .map_err(|_| format!("{flag}: `{v}` is not a valid number"))
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--brokers" => {
                let n: usize = number(&arg, args.next())?;
                if n == 0 {
                    return Err("--brokers must be at least 1".to_owned());
                }
                builder = builder.brokers(n);
            }
            "--host" => builder = builder.host(value(&arg, args.next())?),
            "--base-port" => builder = builder.base_port(number(&arg, args.next())?),
            "--partitions" => {
                default_partitions = number(&arg, args.next())?;
                if default_partitions < 1 {
                    return Err("--partitions must be at least 1".to_owned());
                }
                builder = builder.default_partitions(default_partitions);
            }
            "--topic" => {
                let spec = value(&arg, args.next())?;
                let (name, parts) = match spec.split_once(':') {
                    Some((n, p)) => (
                        n.to_owned(),
                        Some(
                            p.parse()
                                .map_err(|_| format!("--topic {spec}: bad partition count"))?,
                        ),
                    ),
                    None => (spec, None),
                };
                topics.push((name, parts));
            }
            "--no-auto-create" => builder = builder.auto_create_topics(false),
            "--log-level" => log_level = value(&arg, args.next())?,
            other => return Err(format!("unknown argument `{other}` (see --help)")),
        }
    }
    for (name, parts) in topics {
        builder = builder.topic_spec(TopicSpec::new(name, parts.unwrap_or(default_partitions)));
    }
    Ok(Some(Args { builder, log_level }))
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn run_command(cluster: &Cluster, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let int = |s: &str| {
        s.parse::<i64>()
            .map_err(|_| format!("`{s}` is not a number"))
    };
    let i32_of = |s: &str| {
        s.parse::<i32>()
            .map_err(|_| format!("`{s}` is not a number"))
    };
    let err = |e: mockafka::cluster::ClusterError| e.to_string();
    match words.as_slice() {
        ["stop-broker", id] => {
            cluster
                .stop_broker(BrokerId(i32_of(id)?))
                .await
                .map_err(err)?;
            Ok("ok".to_owned())
        }
        ["restart-broker", id] => {
            cluster
                .restart_broker(BrokerId(i32_of(id)?))
                .await
                .map_err(err)?;
            Ok("ok".to_owned())
        }
        ["move-leader", topic, partition, broker] => {
            cluster
                .move_leader(topic, i32_of(partition)?, BrokerId(i32_of(broker)?))
                .map_err(err)?;
            Ok("ok".to_owned())
        }
        ["create-topic", name, partitions] => {
            cluster
                .create_topic(TopicSpec::new(*name, i32_of(partitions)?))
                .map_err(err)?;
            Ok("ok".to_owned())
        }
        ["delete-topic", name] => {
            cluster.delete_topic(name).map_err(err)?;
            Ok("ok".to_owned())
        }
        ["add-partitions", name, total] => {
            cluster.add_partitions(name, i32_of(total)?).map_err(err)?;
            Ok("ok".to_owned())
        }
        ["delete-records", topic, partition, offset] => {
            let low = cluster
                .delete_records(topic, i32_of(partition)?, int(offset)?)
                .map_err(err)?;
            Ok(format!("ok low_watermark={low}"))
        }
        ["partition", topic, partition] => {
            let p = cluster.partition(topic, i32_of(partition)?).map_err(err)?;
            Ok(format!(
                "ok leader={} epoch={} log_start={} high_watermark={}",
                p.leader.map_or(-1, |b| b.0),
                p.leader_epoch,
                p.log_start_offset,
                p.high_watermark
            ))
        }
        ["records", topic, partition] => {
            let records = cluster.records(topic, i32_of(partition)?).map_err(err)?;
            let items: Vec<String> = records.iter().map(record_json).collect();
            Ok(format!("ok [{}]", items.join(",")))
        }
        ["group", group] => {
            let g = cluster.group(group);
            Ok(format!(
                "ok state={} generation={} coordinator={} members={}",
                g.as_ref().map_or("Dead", |g| g.state.as_str()),
                g.as_ref().map_or(-1, |g| g.generation),
                cluster.group_coordinator(group).0,
                g.map_or(0, |g| g.members.len())
            ))
        }
        ["committed", group, topic, partition] => {
            let o = cluster.committed_offset(group, topic, i32_of(partition)?);
            Ok(format!("ok offset={}", o.map_or(-1, |o| o.offset)))
        }
        ["move-coordinator", group, broker] => {
            cluster
                .move_group_coordinator(group, BrokerId(i32_of(broker)?))
                .map_err(err)?;
            Ok("ok".to_owned())
        }
        [] => Err("empty command".to_owned()),
        _ => Err(format!("unknown command `{line}` (see --help)")),
    }
}

fn hex(bytes: Option<&[u8]>) -> String {
    match bytes {
        None => "null".to_owned(),
        Some(b) => {
            let mut s = String::with_capacity(b.len() * 2 + 2);
            s.push('"');
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s.push('"');
            s
        }
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn record_json(r: &RecordView) -> String {
    let headers: Vec<String> = r
        .headers
        .iter()
        .map(|(k, v)| format!("[{},{}]", json_string(k), hex(v.as_deref())))
        .collect();
    let codec = match r.batch.compression {
        Some(Compression::None) => "none",
        Some(Compression::Gzip) => "gzip",
        Some(Compression::Snappy) => "snappy",
        Some(Compression::Lz4) => "lz4",
        Some(Compression::Zstd) => "zstd",
        _ => "unknown",
    };
    let timestamp_type = match r.timestamp_type {
        TimestampType::LogAppendTime => "LogAppendTime",
        _ => "CreateTime",
    };
    format!(
        "{{\"offset\":{},\"timestamp\":{},\"timestamp_type\":\"{timestamp_type}\",\"key\":{},\"value\":{},\"headers\":[{}],\"codec\":\"{codec}\"}}",
        r.offset,
        r.timestamp,
        hex(r.key.as_deref()),
        hex(r.value.as_deref()),
        headers.join(",")
    )
}

async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mockafka: {e}");
            return ExitCode::from(2);
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mockafka: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let cluster = match args.builder.start().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("mockafka: {e}");
                return ExitCode::FAILURE;
            }
        };
        say(&format!(
            "bootstrap.servers={}",
            cluster.bootstrap_servers()
        ));
        say("mockafka ready");

        // stdin is read on a plain thread (a blocking read must not hold up shutdown).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(16);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        let signal = terminate_signal();
        tokio::pin!(signal);
        let mut stdin_open = true;
        loop {
            tokio::select! {
                _ = &mut signal => break,
                line = rx.recv(), if stdin_open => match line {
                    Some(line) if line.trim().is_empty() => {}
                    Some(line) => match run_command(&cluster, line.trim()).await {
                        Ok(answer) => say(&answer),
                        Err(e) => say(&format!("error: {e}")),
                    },
                    None => stdin_open = false,
                },
            }
        }
        cluster.shutdown().await;
        ExitCode::SUCCESS
    })
}
