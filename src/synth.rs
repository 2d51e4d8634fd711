//! Seeded generator of realistic private-domain customer behaviour (orders, events, comments,
//! customers) in the data contract's format.
