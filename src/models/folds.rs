//! Seeded k-fold assignment over customers: the same folds for every model of one run.
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Assigns each of `n` rows to one of `k` folds: a seeded shuffle, then round-robin, so fold
/// sizes differ by at most one. The same `(n, k, seed)` always gives the same folds.
pub fn kfold_assignment(n: usize, k: usize, seed: u64) -> Result<Vec<usize>> {
    if k < 2 || k > n {
        return Err(Error::InvalidParameter {
            name: "folds",
            value: k.to_string(),
            reason: format!("needs 2 <= folds <= number of customers ({n})"),
        });
    }
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    order.shuffle(&mut rng);
    let mut fold = vec![0; n];
    for (pos, &row) in order.iter().enumerate() {
        fold[row] = pos % k;
    }
    Ok(fold)
}

/// Row indices of the training and held-out parts of fold `f`.
pub fn split(folds: &[usize], f: usize) -> (Vec<usize>, Vec<usize>) {
    let mut train = Vec::with_capacity(folds.len());
    let mut test = Vec::with_capacity(folds.len() / 2);
    for (i, &g) in folds.iter().enumerate() {
        if g == f {
            test.push(i);
        } else {
            train.push(i);
        }
    }
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_deterministic_and_seed_dependent() {
        let a = kfold_assignment(103, 5, 42).unwrap();
        assert_eq!(a, kfold_assignment(103, 5, 42).unwrap());
        assert_ne!(a, kfold_assignment(103, 5, 43).unwrap());
        let mut sizes = [0usize; 5];
        for &f in &a {
            sizes[f] += 1;
        }
        assert_eq!(sizes.iter().sum::<usize>(), 103);
        assert!(sizes.iter().all(|&s| s == 20 || s == 21), "{sizes:?}");
        let (train, test) = split(&a, 2);
        assert_eq!(train.len() + test.len(), 103);
        assert!(test.iter().all(|&i| a[i] == 2));
        assert!(kfold_assignment(3, 5, 1).is_err());
        assert!(kfold_assignment(10, 1, 1).is_err());
    }
}
