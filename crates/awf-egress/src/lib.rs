//! The egress gate.
