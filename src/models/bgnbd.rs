//! BG/NBD (todo)
