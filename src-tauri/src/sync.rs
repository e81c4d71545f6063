//! The one lock helper every module uses (so that none has to import another for it).

use std::sync::{Mutex, MutexGuard};

/// A poisoned lock only means another command panicked mid-way; the data is still usable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
