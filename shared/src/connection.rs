//! The life of the device's sync connection, sans I/O: when to open and close the socket,
//! when to say hello and ping, and how long to wait before trying again.
//!
//! The client feeds it events (browser online/offline, socket opened/closed, a frame heard,
//! a clock tick) and carries out the actions it returns. Time and jitter are arguments.

use crate::protocol::ErrorCode;

/// Timings of the connection, in milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Send a ping when nothing was heard for this long.
    pub heartbeat_ms: i64,
    /// Treat the connection as dead when nothing was heard for this long.
    pub dead_after_ms: i64,
    /// Give up on an attempt that has not been welcomed after this long: behind a captive
    /// portal or with a bar of signal in a basement, a socket can hang without failing.
    pub connect_timeout_ms: i64,
    /// First retry delay; doubles with each failed attempt.
    pub backoff_base_ms: i64,
    /// Longest retry delay.
    pub backoff_max_ms: i64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            heartbeat_ms: 10_000,
            dead_after_ms: 25_000,
            connect_timeout_ms: 10_000,
            backoff_base_ms: 500,
            backoff_max_ms: 30_000,
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The browser says there is no network.
    Offline,
    /// The last attempt failed; the next starts at `at_ms`.
    WaitingToRetry { at_ms: i64 },
    /// The socket is being opened.
    Connecting,
    /// The socket is open and the hello is sent.
    Handshaking,
    /// The server welcomed us; documents sync.
    Ready,
    /// The server refused the session: the user must sign in again.
    SignedOut,
    /// An admin revoked this device: it may not sync any more.
    DeviceRevoked,
    /// The server speaks no version of ours: the app must update.
    MustUpdate,
}

/// What the interface tells the user. The browser's `navigator.onLine` is only a hint:
/// phones (and Chromium after a service-worker navigation) report online with no route to the
/// server, so a failed attempt means "offline" whatever the browser says, until a welcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Welcomed by the server; records sync.
    Online,
    /// The first attempt since the network came back is under way.
    Connecting,
    /// No connection: the browser says so, or the last attempt failed (retried by itself).
    Offline,
    /// The session ended: the user must sign in again.
    SignedOut,
    /// An admin revoked this device.
    DeviceRevoked,
    /// The server speaks no version of ours.
    MustUpdate,
}

/// Something that happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    BrowserOnline,
    BrowserOffline,
    SocketOpened,
    SocketClosed,
    Welcomed,
    /// Any frame arrived.
    Heard,
    /// A fatal error from the server.
    Refused(ErrorCode),
    /// The user asked to sync now.
    SyncNow,
    Tick,
}

/// Something the client must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    OpenSocket,
    CloseSocket,
    SendHello,
    SendPing {
        nonce: u64,
    },
    /// Send the first message of every document that has something to say.
    SyncAll,
}

/// The connection state machine.
#[derive(Debug, Clone)]
pub struct Connection {
    phase: Phase,
    timing: Timing,
    /// Failed attempts since the last welcome; drives the backoff.
    attempt: u32,
    /// When the current phase's socket was last heard from (or opened).
    last_heard_ms: i64,
    last_ping_ms: i64,
    nonce: u64,
}

impl Connection {
    /// A new connection; `online` is what the browser says now.
    pub fn new(online: bool, now_ms: i64, timing: Timing) -> (Self, Vec<Action>) {
        let mut connection = Self {
            phase: Phase::Offline,
            timing,
            attempt: 0,
            last_heard_ms: now_ms,
            last_ping_ms: now_ms,
            nonce: 0,
        };
        let actions = if online {
            connection.open(now_ms)
        } else {
            Vec::new()
        };
        (connection, actions)
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// What to show the user: an attempt after a failed one is still "offline", so the badge
    /// does not flicker while the phone retries with no route to the server.
    pub fn status(&self) -> Status {
        match self.phase {
            Phase::Ready => Status::Online,
            Phase::Connecting | Phase::Handshaking if self.attempt == 0 => Status::Connecting,
            Phase::Connecting
            | Phase::Handshaking
            | Phase::Offline
            | Phase::WaitingToRetry { .. } => Status::Offline,
            Phase::SignedOut => Status::SignedOut,
            Phase::DeviceRevoked => Status::DeviceRevoked,
            Phase::MustUpdate => Status::MustUpdate,
        }
    }

    /// The delay before retry number `attempt` (1-based), with `jitter` in [0, 1):
    /// between half and all of the capped exponential delay.
    pub fn backoff_ms(timing: &Timing, attempt: u32, jitter: f64) -> i64 {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = timing
            .backoff_base_ms
            .saturating_mul(1 << exponent)
            .min(timing.backoff_max_ms);
        let jitter = jitter.clamp(0.0, 1.0);
        ceiling / 2 + ((ceiling / 2) as f64 * jitter) as i64
    }

    fn open(&mut self, now_ms: i64) -> Vec<Action> {
        self.phase = Phase::Connecting;
        self.last_heard_ms = now_ms;
        vec![Action::OpenSocket]
    }

    fn retry_later(&mut self, now_ms: i64, jitter: f64) {
        self.attempt = self.attempt.saturating_add(1);
        let delay = Self::backoff_ms(&self.timing, self.attempt, jitter);
        self.phase = Phase::WaitingToRetry {
            at_ms: now_ms + delay,
        };
    }

    fn is_stopped(&self) -> bool {
        matches!(
            self.phase,
            Phase::SignedOut | Phase::DeviceRevoked | Phase::MustUpdate
        )
    }

    fn has_socket(&self) -> bool {
        matches!(
            self.phase,
            Phase::Connecting | Phase::Handshaking | Phase::Ready
        )
    }

    /// Handles one event at `now_ms`; `jitter` is a random number in [0, 1).
    pub fn handle(&mut self, event: Event, now_ms: i64, jitter: f64) -> Vec<Action> {
        if self.is_stopped() {
            return Vec::new();
        }
        match event {
            Event::BrowserOnline => match self.phase {
                Phase::Offline | Phase::WaitingToRetry { .. } => {
                    self.attempt = 0;
                    self.open(now_ms)
                }
                _ => Vec::new(),
            },
            Event::BrowserOffline => {
                let had_socket = self.has_socket();
                self.phase = Phase::Offline;
                if had_socket {
                    vec![Action::CloseSocket]
                } else {
                    Vec::new()
                }
            }
            Event::SocketOpened if self.phase == Phase::Connecting => {
                self.phase = Phase::Handshaking;
                self.last_heard_ms = now_ms;
                vec![Action::SendHello]
            }
            Event::Welcomed if self.phase == Phase::Handshaking => {
                self.phase = Phase::Ready;
                self.attempt = 0;
                self.last_heard_ms = now_ms;
                vec![Action::SyncAll]
            }
            Event::Heard => {
                self.last_heard_ms = now_ms;
                Vec::new()
            }
            Event::SocketClosed if self.has_socket() => {
                self.retry_later(now_ms, jitter);
                Vec::new()
            }
            Event::Refused(code) => {
                self.phase = match code {
                    ErrorCode::Unauthorized => Phase::SignedOut,
                    ErrorCode::DeviceRevoked => Phase::DeviceRevoked,
                    ErrorCode::UnsupportedVersion => Phase::MustUpdate,
                    _ => {
                        self.retry_later(now_ms, jitter);
                        self.phase
                    }
                };
                vec![Action::CloseSocket]
            }
            Event::SyncNow => match self.phase {
                Phase::WaitingToRetry { .. } => {
                    self.attempt = 0;
                    self.open(now_ms)
                }
                Phase::Ready => vec![Action::SyncAll],
                _ => Vec::new(),
            },
            Event::Tick => self.tick(now_ms, jitter),
            _ => Vec::new(),
        }
    }

    fn tick(&mut self, now_ms: i64, jitter: f64) -> Vec<Action> {
        match self.phase {
            Phase::WaitingToRetry { at_ms } if now_ms >= at_ms => self.open(now_ms),
            Phase::Connecting | Phase::Handshaking | Phase::Ready => {
                let silent_for = now_ms - self.last_heard_ms;
                let limit = if self.phase == Phase::Ready {
                    self.timing.dead_after_ms
                } else {
                    self.timing.connect_timeout_ms
                };
                if silent_for >= limit {
                    self.retry_later(now_ms, jitter);
                    vec![Action::CloseSocket]
                } else if self.phase == Phase::Ready
                    && silent_for >= self.timing.heartbeat_ms
                    && now_ms - self.last_ping_ms >= self.timing.heartbeat_ms
                {
                    self.last_ping_ms = now_ms;
                    self.nonce += 1;
                    vec![Action::SendPing { nonce: self.nonce }]
                } else {
                    Vec::new()
                }
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(now: i64) -> Connection {
        let (mut c, actions) = Connection::new(true, now, Timing::default());
        assert_eq!(actions, [Action::OpenSocket]);
        assert_eq!(c.handle(Event::SocketOpened, now, 0.5), [Action::SendHello]);
        assert_eq!(c.handle(Event::Welcomed, now, 0.5), [Action::SyncAll]);
        c
    }

    #[test]
    fn a_failed_attempt_shows_offline_whatever_the_browser_says() {
        // The browser claims to be online (it lies after a service-worker navigation).
        let (mut c, actions) = Connection::new(true, 0, Timing::default());
        assert_eq!(actions, [Action::OpenSocket]);
        assert_eq!(c.status(), Status::Connecting);
        assert!(c.handle(Event::SocketClosed, 10, 0.5).is_empty());
        assert_eq!(c.status(), Status::Offline);
        // Retrying does not flicker back to "connecting".
        let Phase::WaitingToRetry { at_ms } = c.phase() else {
            panic!("should wait")
        };
        assert_eq!(c.handle(Event::Tick, at_ms, 0.5), [Action::OpenSocket]);
        assert_eq!(c.status(), Status::Offline);
        c.handle(Event::SocketOpened, at_ms + 1, 0.5);
        assert_eq!(c.status(), Status::Offline);
        c.handle(Event::Welcomed, at_ms + 2, 0.5);
        assert_eq!(c.status(), Status::Online);
    }

    #[test]
    fn an_attempt_that_hangs_is_given_up_after_the_connect_timeout() {
        let timing = Timing::default();
        let (mut c, _) = Connection::new(true, 0, timing);
        assert!(c
            .handle(Event::Tick, timing.connect_timeout_ms - 1, 0.5)
            .is_empty());
        assert_eq!(
            c.handle(Event::Tick, timing.connect_timeout_ms, 0.5),
            [Action::CloseSocket]
        );
        assert_eq!(c.status(), Status::Offline);
    }

    #[test]
    fn starting_offline_opens_nothing_until_online() {
        let (mut c, actions) = Connection::new(false, 0, Timing::default());
        assert!(actions.is_empty());
        assert!(c.handle(Event::Tick, 100_000, 0.5).is_empty());
        assert_eq!(
            c.handle(Event::BrowserOnline, 100_000, 0.5),
            [Action::OpenSocket]
        );
    }

    #[test]
    fn going_offline_closes_an_open_socket() {
        let mut c = ready(0);
        assert_eq!(
            c.handle(Event::BrowserOffline, 1, 0.5),
            [Action::CloseSocket]
        );
        assert_eq!(c.phase(), Phase::Offline);
        assert!(
            c.handle(Event::SocketClosed, 2, 0.5).is_empty(),
            "no retry while offline"
        );
    }

    #[test]
    fn silent_connection_is_pinged_then_dropped_and_retried() {
        let timing = Timing::default();
        let mut c = ready(0);
        assert_eq!(
            c.handle(Event::Tick, timing.heartbeat_ms, 0.5),
            [Action::SendPing { nonce: 1 }]
        );
        assert!(
            c.handle(Event::Tick, timing.heartbeat_ms + 1, 0.5)
                .is_empty(),
            "one ping per interval"
        );
        assert_eq!(
            c.handle(Event::Tick, timing.dead_after_ms, 0.0),
            [Action::CloseSocket]
        );
        assert!(matches!(c.phase(), Phase::WaitingToRetry { .. }));
    }

    #[test]
    fn heard_frames_keep_the_connection_alive() {
        let timing = Timing::default();
        let mut c = ready(0);
        c.handle(Event::Heard, timing.dead_after_ms - 1, 0.5);
        assert!(c.handle(Event::Tick, timing.dead_after_ms, 0.5).is_empty());
        assert_eq!(c.phase(), Phase::Ready);
    }

    #[test]
    fn failed_attempts_back_off_exponentially_up_to_the_cap() {
        let timing = Timing::default();
        let delays: Vec<_> = (1..=10)
            .map(|n| Connection::backoff_ms(&timing, n, 0.999))
            .collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "{delays:?}");
        assert!(delays[9] <= timing.backoff_max_ms);
        assert!(Connection::backoff_ms(&timing, 1, 0.0) >= timing.backoff_base_ms / 2);
    }

    #[test]
    fn closed_socket_retries_after_the_backoff() {
        let mut c = ready(0);
        assert!(c.handle(Event::SocketClosed, 1000, 0.0).is_empty());
        let Phase::WaitingToRetry { at_ms } = c.phase() else {
            panic!("should wait")
        };
        assert!(c.handle(Event::Tick, at_ms - 1, 0.5).is_empty());
        assert_eq!(c.handle(Event::Tick, at_ms, 0.5), [Action::OpenSocket]);
    }

    #[test]
    fn unauthorized_stops_retrying() {
        let mut c = ready(0);
        assert_eq!(
            c.handle(Event::Refused(ErrorCode::Unauthorized), 1, 0.5),
            [Action::CloseSocket]
        );
        assert_eq!(c.phase(), Phase::SignedOut);
        assert!(c.handle(Event::BrowserOnline, 2, 0.5).is_empty());
    }

    #[test]
    fn revoked_device_stops_retrying() {
        let mut c = ready(0);
        assert_eq!(
            c.handle(Event::Refused(ErrorCode::DeviceRevoked), 1, 0.5),
            [Action::CloseSocket]
        );
        assert_eq!(c.phase(), Phase::DeviceRevoked);
        assert!(c.handle(Event::Tick, 60_000, 0.5).is_empty());
        assert!(c.handle(Event::SyncNow, 60_001, 0.5).is_empty());
    }
}
