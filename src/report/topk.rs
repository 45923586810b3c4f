//! The most frequent items of a stream in bounded memory: the Space-Saving algorithm
//! (Metwally, Agrawal, El Abbadi, "Efficient computation of frequent and top-k elements in data
//! streams", 2005). With `capacity` counters, every item seen more than N / capacity times is
//! kept, and each kept count overestimates the true one by at most its recorded `error`; while
//! fewer distinct items than `capacity` were seen, every count is exact (error 0).

use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone)]
pub struct TopK {
    capacity: usize,
    /// item → (count, error).
    counts: HashMap<String, (u64, u64)>,
    /// (count, item) ordered, so the smallest counter is found in O(log capacity).
    order: BTreeSet<(u64, String)>,
}

/// One item with its count; the true count lies in `count - error ..= count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub item: String,
    pub count: u64,
    pub error: u64,
}

impl TopK {
    pub fn new(capacity: usize) -> TopK {
        TopK {
            capacity: capacity.max(1),
            counts: HashMap::new(),
            order: BTreeSet::new(),
        }
    }

    pub fn add(&mut self, item: &str) {
        if let Some((count, _)) = self.counts.get_mut(item) {
            self.order.remove(&(*count, item.to_string()));
            *count += 1;
            self.order.insert((*count, item.to_string()));
            return;
        }
        if self.counts.len() < self.capacity {
            self.counts.insert(item.to_string(), (1, 0));
            self.order.insert((1, item.to_string()));
            return;
        }
        // Full: the new item takes over the smallest counter, inheriting its count as the
        // bound of its error.
        let Some((min, victim)) = self.order.pop_first() else {
            return;
        };
        self.counts.remove(&victim);
        self.counts.insert(item.to_string(), (min + 1, min));
        self.order.insert((min + 1, item.to_string()));
    }

    /// The `n` largest counts, largest first, ties by item.
    pub fn top(&self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self
            .counts
            .iter()
            .map(|(item, &(count, error))| Counted {
                item: item.clone(),
                count,
                error,
            })
            .collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.item.cmp(&b.item)));
        all.truncate(n);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_below_capacity() {
        let mut t = TopK::new(3);
        for x in ["a", "b", "a", "c", "a", "b"] {
            t.add(x);
        }
        let top = t.top(2);
        assert_eq!(
            top,
            vec![
                Counted {
                    item: "a".into(),
                    count: 3,
                    error: 0
                },
                Counted {
                    item: "b".into(),
                    count: 2,
                    error: 0
                },
            ]
        );
    }

    #[test]
    fn heavy_hitter_survives_a_flood_of_singletons() {
        let mut t = TopK::new(4);
        for i in 0..1000 {
            t.add("heavy");
            t.add(&format!("once-{i}"));
        }
        let top = t.top(1);
        assert_eq!(top[0].item, "heavy");
        // The true count (1000) is within the bound.
        assert!(top[0].count >= 1000 && top[0].count - top[0].error <= 1000);
    }
}
