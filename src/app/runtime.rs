//! Background work of the app, in one place: spawning futures and blocking work on the tokio
//! runtime, counting what is still running (tests and the window wait on it), bringing each
//! result back as an event on the one channel the app drains once per frame, waking the window
//! when something arrived, and the guards that drop stale results ([`Generation`],
//! [`SharedGeneration`], and the workspace epoch every delivery carries).
//!
//! Generic over the event type: a feature gets a [`Spawner`] of its own event type and never
//! learns what the app's event enum looks like, so features do not import the app's core.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How the window is woken (`egui::Context::request_repaint`).
type Repaint = Arc<dyn Fn() + Send + Sync>;

/// What every spawner shares.
struct Core {
    handle: tokio::runtime::Handle,
    running: AtomicUsize,
    epoch: AtomicU64,
    repaint: RwLock<Repaint>,
}

impl Core {
    fn repaint(&self) {
        let repaint = self
            .repaint
            .read()
            .map(|r| Arc::clone(&r))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()));
        repaint();
    }
}

/// Counts a task as running until dropped (finished, aborted or panicked), then wakes the window.
struct Running(Arc<Core>);

impl Running {
    fn start(core: &Arc<Core>) -> Running {
        core.running.fetch_add(1, Ordering::SeqCst);
        Running(Arc::clone(core))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The task's event (if any) was sent before: "nothing running" implies "everything
        // delivered".
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.repaint();
    }
}

/// One delivered event and the workspace epoch its work started in.
pub struct Delivery<E> {
    /// The workspace epoch at spawn time.
    pub epoch: u64,
    /// The event.
    pub event: E,
}

/// The app's side: owns the channel, makes spawners, tells whether work is running.
pub struct Tasks<E> {
    core: Arc<Core>,
    tx: Sender<Delivery<E>>,
    rx: Receiver<Delivery<E>>,
}

impl<E: Send + 'static> Tasks<E> {
    /// Background work on `handle`.
    pub fn new(handle: tokio::runtime::Handle) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        Tasks {
            core: Arc::new(Core {
                handle,
                running: AtomicUsize::new(0),
                epoch: AtomicU64::new(0),
                repaint: RwLock::new(Arc::new(|| {})),
            }),
            tx,
            rx,
        }
    }

    /// A spawner whose events reach the app as `wrap(event)`.
    pub fn spawner<F: Send + 'static>(&self, wrap: fn(F) -> E) -> Spawner<F> {
        let tx = self.tx.clone();
        Spawner {
            core: Arc::clone(&self.core),
            sink: Arc::new(move |epoch, event| {
                // The receiver goes away only when the app closes; nothing is left to update.
                let _ = tx.send(Delivery {
                    epoch,
                    event: wrap(event),
                });
            }),
        }
    }

    /// Sets how background work wakes the window.
    pub fn set_repaint(&self, repaint: impl Fn() + Send + Sync + 'static) {
        if let Ok(mut r) = self.core.repaint.write() {
            *r = Arc::new(repaint);
        }
    }

    /// `true` while spawned work is running.
    pub fn is_busy(&self) -> bool {
        self.core.running.load(Ordering::SeqCst) > 0
    }

    /// The next delivered event, if one is waiting.
    pub fn try_recv(&self) -> Option<Delivery<E>> {
        self.rx.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Delivery<E>> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The current workspace epoch.
    pub fn epoch(&self) -> u64 {
        self.core.epoch.load(Ordering::SeqCst)
    }

    /// Starts a new workspace epoch: results of work started before are stale.
    pub fn next_epoch(&self) -> u64 {
        self.core.epoch.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The runtime background work runs on.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.core.handle
    }
}

/// A feature's handle on background work; its results come back as `E`.
pub struct Spawner<E> {
    core: Arc<Core>,
    sink: Arc<dyn Fn(u64, E) + Send + Sync>,
}

impl<E> Clone for Spawner<E> {
    fn clone(&self) -> Self {
        Spawner {
            core: Arc::clone(&self.core),
            sink: Arc::clone(&self.sink),
        }
    }
}

impl<E: Send + 'static> Spawner<E> {
    /// Runs `work` on the runtime; its result comes back as an event. The returned handle aborts
    /// it (then no event comes).
    pub fn spawn(
        &self,
        work: impl Future<Output = E> + Send + 'static,
    ) -> tokio::task::AbortHandle {
        let running = Running::start(&self.core);
        let sink = Arc::clone(&self.sink);
        let epoch = self.core.epoch.load(Ordering::SeqCst);
        self.core
            .handle
            .spawn(async move {
                let event = work.await;
                sink(epoch, event);
                drop(running);
            })
            .abort_handle()
    }

    /// Runs blocking `work` (disk, CPU) on the runtime's blocking pool.
    pub fn spawn_blocking(&self, work: impl FnOnce() -> E + Send + 'static) {
        let running = Running::start(&self.core);
        let sink = Arc::clone(&self.sink);
        let epoch = self.core.epoch.load(Ordering::SeqCst);
        self.core.handle.spawn_blocking(move || {
            sink(epoch, work());
            drop(running);
        });
    }

    /// A sender for events a running task sends along the way (progress): they do not end the
    /// task and do not count as work.
    pub fn sender(&self) -> EventSender<E> {
        EventSender {
            core: Arc::clone(&self.core),
            sink: Arc::clone(&self.sink),
            epoch: self.core.epoch.load(Ordering::SeqCst),
        }
    }

    /// Wakes the window after `delay` (to draw something time-based, e.g. a count due later).
    pub fn wake_after(&self, delay: Duration) {
        let core = Arc::clone(&self.core);
        self.core.handle.spawn(async move {
            tokio::time::sleep(delay).await;
            core.repaint();
        });
    }

    /// The runtime, for work whose result does not come back as an event.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        &self.core.handle
    }
}

/// Sends events of a running task (progress) back to the app.
pub struct EventSender<E> {
    core: Arc<Core>,
    sink: Arc<dyn Fn(u64, E) + Send + Sync>,
    epoch: u64,
}

impl<E> Clone for EventSender<E> {
    fn clone(&self) -> Self {
        EventSender {
            core: Arc::clone(&self.core),
            sink: Arc::clone(&self.sink),
            epoch: self.epoch,
        }
    }
}

impl<E> EventSender<E> {
    /// Sends `event` and wakes the window.
    pub fn send(&self, event: E) {
        (self.sink)(self.epoch, event);
        self.core.repaint();
    }
}

/// Which request of a kind is the latest: a result carrying an older [`Ticket`] is dropped.
#[derive(Debug, Default, Clone)]
pub struct Generation(u64);

/// The generation a piece of work was started in.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ticket(u64);

impl Generation {
    /// Starts a new generation: work started before is stale from now on.
    pub fn start(&mut self) -> Ticket {
        self.0 += 1;
        Ticket(self.0)
    }

    /// The current generation (work started now belongs to it).
    pub fn current(&self) -> Ticket {
        Ticket(self.0)
    }

    /// Whether work of `ticket` is still the latest.
    pub fn is_current(&self, ticket: Ticket) -> bool {
        ticket.0 == self.0
    }
}

/// A [`Generation`] that work running on another thread can check while it runs, so superseded
/// work stops early (a large filter or sort).
#[derive(Debug, Default, Clone)]
pub struct SharedGeneration(Arc<AtomicU64>);

impl SharedGeneration {
    /// Starts a new generation.
    pub fn start(&self) -> Ticket {
        Ticket(self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }

    /// Whether work of `ticket` is still the latest.
    pub fn is_current(&self, ticket: Ticket) -> bool {
        self.0.load(Ordering::SeqCst) == ticket.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum AppEvent {
        Number(u32),
    }

    #[test]
    fn results_arrive_before_the_work_counts_as_done_and_aborted_work_sends_nothing() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let tasks: Tasks<AppEvent> = Tasks::new(rt.handle().clone());
        let numbers = tasks.spawner(AppEvent::Number);
        numbers.spawn(async { 7 });
        numbers.spawn_blocking(|| 8);
        let slow = numbers.spawn(async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            9
        });
        slow.abort();
        let mut got = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while tasks.is_busy() {
            assert!(std::time::Instant::now() < deadline, "work did not finish");
            std::thread::sleep(Duration::from_millis(5));
        }
        while let Some(d) = tasks.try_recv() {
            got.push(d.event);
        }
        got.sort_by_key(|AppEvent::Number(n)| *n);
        assert_eq!(got, vec![AppEvent::Number(7), AppEvent::Number(8)]);
    }

    #[test]
    fn deliveries_carry_the_epoch_their_work_started_in() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tasks: Tasks<AppEvent> = Tasks::new(rt.handle().clone());
        let numbers = tasks.spawner(AppEvent::Number);
        let progress = numbers.sender();
        assert_eq!(tasks.next_epoch(), 1);
        progress.send(1);
        numbers.sender().send(2);
        let a = tasks.try_recv().unwrap();
        let b = tasks.try_recv().unwrap();
        assert_eq!((a.epoch, b.epoch), (0, 1));
    }

    #[test]
    fn only_the_latest_generation_is_current() {
        let mut g = Generation::default();
        let first = g.start();
        let second = g.start();
        assert!(!g.is_current(first) && g.is_current(second));
        let shared = SharedGeneration::default();
        let a = shared.start();
        assert!(shared.is_current(a));
        shared.start();
        assert!(!shared.is_current(a));
    }
}
