//! The reference platform.
