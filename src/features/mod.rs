//! Per-customer feature table at a cutoff instant: RFM, engagement, lifecycle, label.
