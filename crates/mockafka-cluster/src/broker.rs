//! One listener per broker: the accept loop and the broker's stop signal.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::debug;

use crate::cluster::Shared;
use crate::connection;

/// A broker as the cluster knows it: its address, and while it runs, its stop signal and
/// accept task.
#[derive(Debug)]
pub(crate) struct BrokerSlot {
    pub(crate) id: i32,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) running: Option<RunningBroker>,
}

/// A running broker's handles.
#[derive(Debug)]
pub(crate) struct RunningBroker {
    /// Set to `true` to stop the broker: its accept task and every connection task
    /// `select!` on it, close their sockets and end.
    pub(crate) stop: watch::Sender<bool>,
    /// The accept task; it ends after all its connection tasks have ended.
    pub(crate) task: Option<JoinHandle<()>>,
}

impl RunningBroker {
    /// Signals the stop and hands back the task to await.
    pub(crate) fn stop(mut self) -> Option<JoinHandle<()>> {
        self.stop.send_replace(true);
        self.task.take()
    }
}

/// Binds the broker's listener (a std listener, so this works outside a runtime's task).
///
/// # Errors
/// The bind error.
pub(crate) fn bind(host: &str, port: u16) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Starts the accept task of broker `id` on a bound listener.
///
/// # Errors
/// When the listener cannot be registered with the runtime.
pub(crate) fn start(
    shared: Arc<Shared>,
    id: i32,
    listener: std::net::TcpListener,
) -> std::io::Result<RunningBroker> {
    let listener = TcpListener::from_std(listener)?;
    let (stop, stop_rx) = watch::channel(false);
    let task = tokio::spawn(accept_loop(shared, id, listener, stop_rx));
    Ok(RunningBroker {
        stop,
        task: Some(task),
    })
}

async fn accept_loop(
    shared: Arc<Shared>,
    id: i32,
    listener: TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) if shared.faults.refuses_connections(id) => {
                    debug!(broker = id, %peer, "refused connection (fault)");
                    drop(socket);
                }
                Ok((socket, peer)) => {
                    debug!(broker = id, %peer, "accepted connection");
                    let _ = socket.set_nodelay(true);
                    connections.spawn(connection::run(
                        Arc::clone(&shared),
                        id,
                        socket,
                        peer,
                        stop.clone(),
                    ));
                }
                Err(e) => {
                    // Out of file descriptors and the like: this connection is lost, the
                    // listener goes on.
                    debug!(broker = id, error = %e, "accept failed");
                    tokio::task::yield_now().await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
    debug!(broker = id, "broker stopped");
}
