//! Text → sentiment score in [-1, 1] and a label, for Chinese and English.
