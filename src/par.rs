//! A small thread pool for walks that are syscall- and I/O-bound (volume sizes).

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` over `items` on a few threads (more threads than cores helps directory walks on a
/// cold cache), results in the order of `items`. One item, or one core, runs on the
/// caller's thread.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = (cores * 2).clamp(1, 16).min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut all: Vec<(usize, R)> = parts.iter_mut().flat_map(std::mem::take).collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u64> = (0..1000).collect();
        let out = par_map(&items, |&i| {
            // Uneven work, so that workers finish out of order.
            let mut spin = 0u64;
            for _ in 0..(i % 7) * 1000 {
                spin = std::hint::black_box(spin + 1);
            }
            i + spin - spin
        });
        assert_eq!(out, items);
    }

    #[test]
    fn empty_and_single_inputs() {
        assert!(par_map(&[] as &[u8], |_| 0).is_empty());
        let here = std::thread::current().id();
        assert_eq!(par_map(&[5], |&x| (x, std::thread::current().id())), vec![(5, here)]);
    }

    #[test]
    fn every_item_is_seen_once() {
        let seen = AtomicUsize::new(0);
        let items = vec![(); 257];
        par_map(&items, |_| seen.fetch_add(1, Ordering::Relaxed));
        assert_eq!(seen.load(Ordering::Relaxed), 257);
    }
}
