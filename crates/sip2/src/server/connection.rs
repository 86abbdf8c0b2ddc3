//! One station's connection: read a line, let the session decide, write the answer in one
//! write. Timeouts, the line limit, shutdown and an administrator's disconnect end it.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio::time::timeout;
use tracing::debug;

use super::config::ServerConfig;
use super::line::{Line, LineReader};
use super::port::Sip2Backend;
use super::registry::Registry;
use super::session::{Action, Session};

pub(crate) struct Connection<B: ?Sized> {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub id: u64,
    pub backend: Arc<B>,
    pub config: Arc<ServerConfig>,
    pub registry: Arc<Registry>,
    pub kick: Arc<Notify>,
    pub shutdown: watch::Receiver<bool>,
}

impl<B: Sip2Backend + ?Sized> Connection<B> {
    /// Serves the connection until the station leaves, misbehaves, times out, is
    /// disconnected or the server shuts down. A request being answered is finished first.
    pub(crate) async fn run(self) {
        let Connection {
            stream,
            peer,
            id,
            backend,
            config,
            registry,
            kick,
            mut shutdown,
        } = self;
        let _ = stream.set_nodelay(true);
        let (read_half, mut write_half) = stream.into_split();
        let mut reader = LineReader::new(read_half, config.line_limit());
        let mut session = Session::new(backend, config.clone(), peer);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let line = tokio::select! {
                biased;
                _ = shutdown.changed() => break,
                () = kick.notified() => {
                    debug!(%peer, "station disconnected by an administrator");
                    break;
                }
                read = timeout(config.read_timeout, reader.next_line()) => read,
            };
            let line = match line {
                Err(_elapsed) => {
                    debug!(%peer, "read timeout; closing");
                    break;
                }
                Ok(Err(error)) => {
                    debug!(%peer, %error, "read failed; closing");
                    break;
                }
                Ok(Ok(Line::Closed)) => break,
                Ok(Ok(Line::TooLong)) => {
                    debug!(%peer, "line over the limit; closing");
                    break;
                }
                Ok(Ok(Line::Complete(line))) => line,
            };
            let action = session.handle(&line).await;
            registry.set_station(id, session.station_id());
            let (bytes, close) = match action {
                Action::Nothing => continue,
                Action::Close => break,
                Action::Reply(bytes) => (bytes, false),
                Action::ReplyAndClose(bytes) => (bytes, true),
            };
            // One write per response: the sip2 crate parses whatever one read returns.
            match timeout(config.write_timeout, write_half.write_all(&bytes)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    debug!(%peer, %error, "write failed; closing");
                    break;
                }
                Err(_elapsed) => {
                    debug!(%peer, "write timeout; closing");
                    break;
                }
            }
            if close {
                break;
            }
        }
        let _ = timeout(config.write_timeout, write_half.shutdown()).await;
    }
}
